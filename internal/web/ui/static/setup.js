// Live checking on the setup wizard's fields step. After a pause in
// typing, the form is posted as its "Check and update the preview" button
// posts it (same server-side checks, same CSRF token), and the preview,
// the messages and the signed state are replaced from the answer. Without
// script, the button does the same in a page load.
(function () {
  "use strict";
  var form = document.getElementById("fields-form");
  if (!form || !window.fetch || !window.DOMParser) {
    return;
  }
  var timer = null;
  var seq = 0;
  function swap(doc, id) {
    var now = document.getElementById(id);
    var next = doc.getElementById(id);
    if (now && next) {
      now.replaceWith(next);
    }
  }
  function check() {
    var data = new FormData(form);
    data.set("action", "goto:3");
    var mine = ++seq;
    // form.action would be the buttons named "action": read the attribute.
    fetch(form.getAttribute("action"), { method: "POST", body: new URLSearchParams(data), credentials: "same-origin" })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        if (mine !== seq) {
          return; // a newer check is on its way
        }
        var doc = new DOMParser().parseFromString(html, "text/html");
        swap(doc, "live-status");
        swap(doc, "preview");
        form.querySelectorAll("[data-msg]").forEach(function (el) { swap(doc, el.id); });
        form.querySelectorAll("[name^='ov:']").forEach(function (el) {
          var next = doc.getElementById(el.id);
          if (next && next.getAttribute("aria-invalid") === "true") {
            el.setAttribute("aria-invalid", "true");
          } else {
            el.removeAttribute("aria-invalid");
          }
        });
        var w = doc.querySelector("#fields-form input[name=w]");
        if (w) {
          form.querySelector("input[name=w]").value = w.value;
        }
      })
      .catch(function () { /* the button still works */ });
  }
  function later(ms) {
    return function () {
      clearTimeout(timer);
      timer = setTimeout(check, ms);
    };
  }
  form.addEventListener("input", later(500));
  form.addEventListener("change", later(150));
})();
