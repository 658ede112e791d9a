package spec

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

var namePattern = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)

var placeholderPattern = regexp.MustCompile(`\{([^{}]*)\}`)

// checkProvider validates what the decoder cannot: cross-field rules and
// references inside one manifest.
func checkProvider(d *decoder, p *Provider) {
	if p.Name != "" && !namePattern.MatchString(p.Name) {
		d.errorAt(p.Meta.At("name"), "name %q must be lowercase letters, digits, - or _, starting with a letter", p.Name)
	}
	if p.BaseURL != "" {
		// A {connection.NAME} label is checked by checkBaseURLSettings; here
		// it stands for any label.
		u, err := url.Parse(connPlaceholder.ReplaceAllString(ExpandEnv(p.BaseURL, func(string) (string, bool) { return "", false }), "tenant"))
		if !strings.Contains(p.BaseURL, "${") && (err != nil || u.Scheme == "" || u.Host == "") {
			d.errorAt(p.Meta.At("base_url"), "base_url %q must be an absolute http(s) URL", p.BaseURL)
		} else if err == nil && u.Scheme != "" && u.Scheme != "http" && u.Scheme != "https" {
			d.errorAt(p.Meta.At("base_url"), "base_url must use http or https, got %q", u.Scheme)
		}
		if err := checkInterpolation(p.BaseURL); err != nil {
			d.errorAt(p.Meta.At("base_url"), "base_url: %v", err)
		}
	}
	checkAuth(d, &p.Auth)
	checkSettings(d, p)
	seen := map[string]bool{}
	for _, s := range p.Scopes {
		if seen[s.Name] {
			d.errorAt(s.Meta.At("name"), "scope %q is listed twice", s.Name)
		}
		seen[s.Name] = true
	}
	if r := p.RateLimit; r != nil {
		if r.RequestsPerSecond <= 0 {
			d.errorAt(r.Meta.At("requests_per_second"), "requests_per_second must be greater than 0")
		}
		if r.Burst < 0 {
			d.errorAt(r.Meta.At("burst"), "burst must not be negative")
		}
	}
	if pg := p.Pagination; pg != nil {
		if pg.Style != PageLink && pg.Param == "" {
			d.errorAt(pg.Meta.Pos, "%s pagination needs `param`: the request parameter carrying the %s", pg.Style, pg.Style)
		}
		if pg.Style == PageCursor && pg.Next == "" {
			d.errorAt(pg.Meta.Pos, "cursor pagination needs `next`: where the next cursor is in the response")
		}
		if pg.Style == PageAfterID && pg.HasMore == "" {
			d.errorAt(pg.Meta.Pos, "after_id pagination needs `has_more`: where the response says another page follows, e.g. has_more")
		}
	}
	for _, name := range sortedKeys(p.Objects) {
		o := p.Objects[name]
		if o == nil {
			d.errorf(nil, "object %s is empty", name)
			continue
		}
		o.Name = name
		checkObject(d, p, o)
	}
	if w := p.Webhooks; w != nil {
		checkWebhooks(d, p, w)
	}
}

func checkAuth(d *decoder, a *Auth) {
	need := func(key, val string) {
		if val == "" {
			d.errorAt(a.Meta.Pos, "auth kind %s needs `%s`", a.Kind, key)
		}
	}
	switch a.Kind {
	case AuthAPIKey:
		if a.Header != "" && a.QueryParam != "" {
			d.errorAt(a.Meta.At("query_param"), "api_key goes in a header or a query parameter, not both")
		}
	case AuthOAuth2Code:
		need("authorize_url", a.AuthorizeURL)
		need("token_url", a.TokenURL)
	case AuthOAuth2ClientCredentials, AuthJWTBearer:
		need("token_url", a.TokenURL)
	}
	if !a.IsOAuth() {
		for _, k := range []string{"authorize_url", "token_url", "pkce", "auth_params", "token_auth_method", "account_id_field"} {
			if a.Meta.Has(k) {
				d.errorAt(a.Meta.At(k), "`%s` only applies to OAuth kinds, not %s", k, a.Kind)
			}
		}
	}
	for _, k := range []string{"authorize_url", "token_url", "revoke_url"} {
		var v string
		switch k {
		case "authorize_url":
			v = a.AuthorizeURL
		case "token_url":
			v = a.TokenURL
		default:
			v = a.RevokeURL
		}
		if v == "" || strings.Contains(v, "${") {
			continue
		}
		if u, err := url.Parse(v); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			d.errorAt(a.Meta.At(k), "%s %q must be an absolute http(s) URL", k, v)
		}
	}
	if a.TokenAuthMethod == "private_key_jwt" && a.PrivateKeyEnv == "" {
		d.errorAt(a.Meta.At("token_auth_method"), "token_auth_method private_key_jwt needs `private_key_env` naming the variable that holds the signing key (PEM)")
	}
	if a.Test != nil {
		checkEndpointPath(d, a.Test, nil)
	}
}

func checkObject(d *decoder, p *Provider, o *Object) {
	fieldNames := sortedKeys(o.Fields)
	if o.Fields[o.IDField()] == nil && len(o.Fields) > 0 {
		d.errorAt(o.Meta.At("id"), "%s has no field %s to use as its id%s", o.Name, o.IDField(), didYouMean(o.IDField(), fieldNames))
	}
	if o.Version != "" {
		if f := o.Fields[o.Version]; f == nil {
			d.errorAt(o.Meta.At("version"), "%s has no field %s%s", o.Name, o.Version, didYouMean(o.Version, fieldNames))
		} else if f.Type != TypeInt && f.Type != TypeTimestamp {
			d.errorAt(o.Meta.At("version"), "version field %s must be int or timestamp, not %s", o.Version, f.Type)
		}
	}
	if o.MergedIDs != "" {
		if f := o.Fields[o.MergedIDs]; f == nil {
			d.errorAt(o.Meta.At("merged_ids"), "%s has no field %s%s", o.Name, o.MergedIDs, didYouMean(o.MergedIDs, fieldNames))
		} else if f.Type != TypeString && f.Type != TypeList {
			d.errorAt(o.Meta.At("merged_ids"), "merged_ids field %s must be a string (ids separated by ; or ,) or a list, not %s", o.MergedIDs, f.Type)
		}
	}
	if o.UpdatedAt != "" {
		if f := o.Fields[o.UpdatedAt]; f == nil {
			d.errorAt(o.Meta.At("updated_at"), "%s has no field %s%s", o.Name, o.UpdatedAt, didYouMean(o.UpdatedAt, fieldNames))
		} else if f.Type != TypeTimestamp && f.Type != TypeInt {
			d.errorAt(o.Meta.At("updated_at"), "updated_at field %s must be a timestamp or an int (Unix seconds), not %s", o.UpdatedAt, f.Type)
		}
	}
	checkFields(d, o.Fields)
	e := o.Endpoints
	for _, ep := range []struct {
		key   string
		ep    *Endpoint
		needs string
	}{
		{"list", e.List, ""}, {"get", e.Get, "id"}, {"create", e.Create, ""},
		{"update", e.Update, "id"}, {"delete", e.Delete, "id"}, {"find_by_external_id", e.FindByExternalID, "external_id"},
		{"find", e.Find, ""},
	} {
		if ep.ep == nil {
			continue
		}
		checkEndpointPath(d, ep.ep, o)
		if ep.needs != "" && !strings.Contains(ep.ep.Path, "{"+ep.needs+"}") {
			d.errorAt(ep.ep.Meta.At("path"), "%s path %q must contain {%s}", ep.key, ep.ep.Path, ep.needs)
		}
		if ep.key == "find" {
			for _, name := range ep.ep.Placeholders() {
				if o.Fields[name] == nil {
					d.errorAt(ep.ep.Meta.Pos, "find placeholder {%s} is not a field of %s%s", name, o.Name, didYouMean(name, fieldNames))
				}
			}
		} else if len(ep.ep.Query) > 0 || ep.ep.Request != nil {
			d.errorAt(ep.ep.Meta.Pos, "`query` and `request` only apply to a find endpoint")
		}
		if ep.ep.IfMatch && ep.key != "update" {
			d.errorAt(ep.ep.Meta.At("if_match"), "`if_match` applies to the update endpoint only (it makes updates conditional on the partner's ETag)")
		}
		if ep.key == "update" && ep.ep.IfMatch && e.Get == nil {
			d.errorAt(ep.ep.Meta.At("if_match"), "`if_match` needs a `get` endpoint: after a 412 Accord reads the object's current ETag and writes the newest state on it")
		}
		if ep.ep.Since != "" && ep.key != "list" {
			d.errorAt(ep.ep.Meta.At("since"), "`since` applies to the list endpoint only (it asks for changes at or after a version)")
		}
		if ep.key == "list" && ep.ep.Since != "" && o.Version == "" {
			d.errorAt(ep.ep.Meta.At("since"), "`since` needs the object's `version` field: its value is what is sent")
		}
		if (ep.key == "list" || ep.key == "find_by_external_id" || ep.key == "find") && ep.ep.Items == "" {
			d.errorAt(ep.ep.Meta.Pos, "%s needs `items`: where the list is in the response", ep.key)
		}
	}
}

func checkFields(d *decoder, fields map[string]*Field) {
	for _, name := range sortedKeys(fields) {
		f := fields[name]
		if f == nil {
			continue
		}
		for _, v := range f.Enum {
			if _, err := ConvertValue(f.Type, v); err != nil {
				d.errorAt(f.Meta.At("enum"), "%s: enum value %v is not a %s", name, v, f.Type)
				break
			}
		}
		if f.PII != "" && (f.Type == TypeObject || f.Type == TypeList) {
			d.errorAt(f.Meta.At("pii"), "%s: pii applies to a value, not to a whole %s: mark the fields inside it", name, f.Type)
		}
		if len(f.Fields) > 0 && f.Type != TypeObject {
			d.errorAt(f.Meta.At("fields"), "%s: only object fields have nested fields, this one is %s", name, f.Type)
		}
		checkFields(d, f.Fields)
		if f.Items != nil {
			if f.Type != TypeList {
				d.errorAt(f.Meta.At("items"), "%s: only list fields have `items`, this one is %s", name, f.Type)
			}
			checkFields(d, map[string]*Field{name + "[]": f.Items})
		}
	}
}

// checkEndpointPath checks the template's placeholders; o is nil for the
// auth test endpoint, which takes none.
func checkEndpointPath(d *decoder, ep *Endpoint, o *Object) {
	if !strings.HasPrefix(ep.Path, "/") {
		d.errorAt(ep.Meta.At("path"), "path %q must start with /", ep.Path)
	}
	for _, m := range placeholderPattern.FindAllStringSubmatch(ep.Path, -1) {
		name := m[1]
		if name == "id" || name == "external_id" {
			continue
		}
		if o == nil || o.Fields[name] == nil {
			var cands []string
			if o != nil {
				cands = sortedKeys(o.Fields)
			}
			d.errorAt(ep.Meta.At("path"), "path placeholder {%s} is not {id}, {external_id} or a field%s", name, didYouMean(name, cands))
		}
	}
}

var locationPattern = regexp.MustCompile(`^(header:[A-Za-z0-9-]+|[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*)$`)

func checkWebhooks(d *decoder, p *Provider, w *Webhooks) {
	for _, k := range []struct{ key, val string }{
		{"event_id", w.EventID}, {"event_type", w.EventType}, {"object_id", w.ObjectID}, {"object_version", w.ObjectVersion}, {"object", w.Object},
	} {
		if k.val != "" && !locationPattern.MatchString(k.val) {
			d.errorAt(w.Meta.At(k.key), "%s %q must be a JSON path (data.id) or header:Name", k.key, k.val)
		}
	}
	checkBatch(d, w)
	if w.ManualSecret != "" && w.Registration != nil {
		d.errorAt(w.Meta.At("manual_secret"), "manual_secret is for webhooks an admin registers by hand; with registration, registration.secret says who makes the secret: remove manual_secret")
	}
	if w.Signature.Scheme == SigHMAC && w.Signature.Header == "" {
		d.errorAt(w.Signature.Meta.Pos, "hmac signatures need `header`: where the signature is")
	}
	if w.Signature.Scheme != SigHMAC && w.Signature.Scheme != "" {
		// The named schemes fix these themselves; accepting them would
		// suggest a setting that is silently ignored.
		for _, key := range []string{"prefix", "encoding", "payload", "timestamp_header"} {
			if w.Signature.Meta.Has(key) {
				d.errorAt(w.Signature.Meta.At(key), "%s is fixed by the %s scheme: remove it (only the hmac scheme takes prefix, encoding, payload and timestamp_header)", key, w.Signature.Scheme)
			}
		}
	}
	if w.Registration != nil {
		checkRegistration(d, w.Registration)
	}
	objs := sortedKeys(p.Objects)
	warned := map[string]bool{}
	for _, name := range sortedKeys(w.Events) {
		ev := w.Events[name]
		if ev == nil {
			continue
		}
		if p.Objects[ev.Object] == nil {
			d.errorAt(ev.Meta.At("object"), "event %s carries object %s, which %s does not declare%s", name, ev.Object, p.Name, didYouMean(ev.Object, objs))
		} else if o := p.Objects[ev.Object]; len(o.Fields) == 0 && !warned[ev.Object] {
			warned[ev.Object] = true
			d.warnAt(o.Meta.Pos, "object %s declares no fields: webhook events carrying it are stored whole, not minimised; declare the fields contracts use", ev.Object)
		}
		for _, k := range []struct{ key, val string }{{"object_id", ev.ObjectID}, {"object_version", ev.ObjectVersion}} {
			if k.val != "" && !locationPattern.MatchString(k.val) {
				d.errorAt(ev.Meta.At(k.key), "%s %q must be a JSON path (data.id) or header:Name", k.key, k.val)
			}
		}
	}
}

var batchPattern = regexp.MustCompile(`^(\.|[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*)$`)

// checkBatch checks the batch keys: in a batched body every element is its
// own event, so what tells events apart must come from the element, not
// from a header the whole request shares.
func checkBatch(d *decoder, w *Webhooks) {
	if w.Batch == "" {
		if w.Meta.Has("max_batch") {
			d.errorAt(w.Meta.At("max_batch"), "max_batch applies only to batched bodies: set batch (the JSON path of the events, . for a bare array) or remove max_batch")
		}
		return
	}
	if !batchPattern.MatchString(w.Batch) {
		d.errorAt(w.Meta.At("batch"), "batch %q must be a JSON path to the array of events (events, data.items) or . when the body is the array itself", w.Batch)
	}
	if w.MaxBatch < 0 || w.MaxBatch > MaxBatchLimit {
		d.errorAt(w.Meta.At("max_batch"), "max_batch %d must be between 1 and %d", w.MaxBatch, MaxBatchLimit)
	}
	for _, k := range []struct{ key, val string }{{"event_id", w.EventID}, {"object_id", w.ObjectID}, {"object_version", w.ObjectVersion}} {
		if strings.HasPrefix(k.val, "header:") {
			d.errorAt(w.Meta.At(k.key), "%s %s: in a batched body each event has its own, so it must be a JSON path inside an element (e.g. eventId), not a header", k.key, k.val)
		}
	}
	for _, name := range sortedKeys(w.Events) {
		ev := w.Events[name]
		if ev == nil {
			continue
		}
		for _, k := range []struct{ key, val string }{{"object_id", ev.ObjectID}, {"object_version", ev.ObjectVersion}} {
			if strings.HasPrefix(k.val, "header:") {
				d.errorAt(ev.Meta.At(k.key), "%s %s: in a batched body each event has its own, so it must be a JSON path inside an element, not a header", k.key, k.val)
			}
		}
	}
}

var interpPattern = regexp.MustCompile(`\$\{([^}]*)\}`)

func checkInterpolation(s string) error {
	for _, m := range interpPattern.FindAllStringSubmatch(s, -1) {
		name, _, _ := strings.Cut(m[1], ":-")
		if !regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`).MatchString(name) {
			return fmt.Errorf("bad variable ${%s}: write ${NAME} or ${NAME:-default}", m[1])
		}
	}
	return nil
}

// ExpandEnv replaces ${NAME} and ${NAME:-default} using lookup (os.LookupEnv
// in production). An unset variable without default expands to "".
func ExpandEnv(s string, lookup func(string) (string, bool)) string {
	return interpPattern.ReplaceAllStringFunc(s, func(m string) string {
		inner := m[2 : len(m)-1]
		name, def, hasDef := strings.Cut(inner, ":-")
		if v, ok := lookup(name); ok && (v != "" || !hasDef) {
			return v
		}
		return def
	})
}

// ResolvedBaseURL returns BaseURL with environment variables expanded.
func (p *Provider) ResolvedBaseURL(lookup func(string) (string, bool)) string {
	return ExpandEnv(p.BaseURL, lookup)
}
