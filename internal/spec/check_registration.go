package spec

import (
	"strings"
)

// registrationPlaceholders are what a create request template may use.
var registrationPlaceholders = []string{"url", "events", "secret"}

// checkRegistration checks webhooks.registration: every mistake here
// would otherwise surface as a failed install.
func checkRegistration(d *decoder, r *Registration) {
	if c := r.Create; c != nil {
		checkEndpointPath(d, c, nil)
		if strings.Contains(c.Path, "{id}") {
			d.errorAt(c.Meta.At("path"), "create path %q must not contain {id}: the subscription has no id before it is created", c.Path)
		}
		if c.IDPath == "" {
			d.errorAt(c.Meta.Pos, "create needs `id_path`: where the subscription id is in the answer (kept to delete the subscription on uninstall)")
		}
		used := map[string]bool{}
		for _, name := range templatePlaceholders(c.Request) {
			used[name] = true
			if !contains(registrationPlaceholders, name) {
				d.errorAt(c.Meta.At("request"), "create request placeholder {%s} is not {url}, {events} or {secret}%s", name, didYouMean(name, registrationPlaceholders))
			}
		}
		if !used["url"] {
			d.errorAt(c.Meta.At("request"), "create needs a `request` template with \"{url}\": the partner must be told where to send webhooks, e.g. request: {url: \"{url}\", events: \"{events}\"}")
		}
		switch r.Secret {
		case SecretGenerated:
			if !used["secret"] {
				d.errorAt(c.Meta.At("request"), "secret generated: the create request must send it, e.g. secret: \"{secret}\"")
			}
		case SecretIssued:
			if used["secret"] {
				d.errorAt(c.Meta.At("request"), "secret issued: the partner makes the secret, so the create request cannot send {secret}; use secret: generated instead")
			}
		}
		checkRegistrationEndpoint(d, "create", c)
	}
	if del := r.Delete; del != nil {
		checkEndpointPath(d, del, nil)
		if !strings.Contains(del.Path, "{id}") {
			d.errorAt(del.Meta.At("path"), "delete path %q must contain {id}: the subscription id create returned", del.Path)
		}
		if del.Request != nil {
			d.errorAt(del.Meta.At("request"), "`request` applies to the create endpoint only")
		}
		checkRegistrationEndpoint(d, "delete", del)
	}
	if l := r.List; l != nil {
		checkEndpointPath(d, l, nil)
		if l.Items == "" {
			d.errorAt(l.Meta.Pos, "list needs `items`: where the list of subscriptions is in the response")
		}
		if l.Request != nil {
			d.errorAt(l.Meta.At("request"), "`request` applies to the create endpoint only")
		}
		checkRegistrationEndpoint(d, "list", l)
	} else if r.Meta.Has("url_path") {
		d.errorAt(r.Meta.At("url_path"), "`url_path` needs a `list` endpoint: it says where a listed subscription's URL is")
	}
	if r.URLPath != "" && (!locationPattern.MatchString(r.URLPath) || strings.HasPrefix(r.URLPath, "header:")) {
		d.errorAt(r.Meta.At("url_path"), "url_path %q must be a JSON path, e.g. url", r.URLPath)
	}
	switch {
	case r.Secret == SecretIssued && r.SecretPath == "":
		d.errorAt(r.Meta.At("secret"), "secret issued needs `secret_path`: where the signing secret is in the create answer, e.g. secret")
	case r.Secret == SecretGenerated && r.SecretPath != "":
		d.errorAt(r.Meta.At("secret_path"), "`secret_path` applies to secret: issued only; a generated secret is Accord's own")
	}
	if r.SecretPath != "" && (!locationPattern.MatchString(r.SecretPath) || strings.HasPrefix(r.SecretPath, "header:")) {
		d.errorAt(r.Meta.At("secret_path"), "secret_path %q must be a JSON path, e.g. secret", r.SecretPath)
	}
}

// checkRegistrationEndpoint refuses the object-endpoint settings that mean
// nothing for a subscription call, rather than ignore them silently.
func checkRegistrationEndpoint(d *decoder, key string, ep *Endpoint) {
	for _, k := range []string{"query", "since", "if_match", "body"} {
		if ep.Meta.Has(k) {
			d.errorAt(ep.Meta.At(k), "`%s` does not apply to a webhook registration's %s endpoint", k, key)
		}
	}
}

// templatePlaceholders lists the {name} placeholders in a request template.
func templatePlaceholders(v any) []string {
	return (&Endpoint{Request: v}).Placeholders()
}
