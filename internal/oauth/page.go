package oauth

import (
	"bytes"
	"html/template"
	"net/http"
)

// One small page for every outcome of the connect flow. Parsed once;
// rendered to a buffer first so a template error never sends half a page.
var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem">
<h1>{{.Title}}</h1>
<p>{{.Message}}</p>
{{if .Missing}}<p>Missing permissions:</p><ul>{{range .Missing}}<li>{{.Description}} <code>{{.Name}}</code></li>{{end}}</ul>{{end}}
{{if .ReturnURL}}<p><a href="{{.ReturnURL}}">Return to the application</a></p>{{end}}
</body></html>
`))

type pageData struct {
	Title     string
	Message   string
	Missing   []Scope
	ReturnURL string
}

func renderPage(w http.ResponseWriter, status int, d pageData) {
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, d); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
