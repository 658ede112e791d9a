package ui

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed templates/*.html
var templateFS embed.FS

// templates holds one parsed template set per page: the layout plus the
// page's own file, so pages cannot clash over block names.
type templates struct {
	pages map[string]*template.Template
}

func parseTemplates(funcs template.FuncMap) (*templates, error) {
	// The layout and the partials (_*.html) are in every page's set.
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/_*.html")
	if err != nil {
		return nil, fmt.Errorf("ui: parsing layout: %w", err)
	}
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	t := &templates{pages: map[string]*template.Template{}}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if name == "layout" || strings.HasPrefix(name, "_") {
			continue
		}
		set, err := template.Must(layout.Clone()).ParseFS(templateFS, f)
		if err != nil {
			return nil, fmt.Errorf("ui: parsing %s: %w", f, err)
		}
		t.pages[name] = set
	}
	return t, nil
}

// pageData is what every page template receives: the request's view
// (who, CSRF token, tenant) and the page's own data.
type pageData struct {
	V *view
	P any
}

// render executes page into a buffer and writes it with status: a
// template error becomes a clean 500, never half a page.
func (u *UI) render(w http.ResponseWriter, r *http.Request, status int, page string, v *view, data any) {
	set, ok := u.pages.pages[page]
	var buf bytes.Buffer
	if !ok {
		u.deps.Logger.ErrorContext(r.Context(), "ui: unknown page", "page", page)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if err := set.ExecuteTemplate(&buf, "layout", pageData{V: v, P: data}); err != nil {
		u.deps.Logger.ErrorContext(r.Context(), "ui: rendering page failed", "page", page, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
