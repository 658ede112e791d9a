package spec

import (
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"sort"
	"strings"
)

// Connection setting formats.
const (
	// SettingDNSLabel is one DNS label (acme in acme.zendesk.com): the only
	// format allowed in base_url, so a tenant can choose its own host under
	// the partner's domain and never another one.
	SettingDNSLabel = "dns_label"
	SettingEmail    = "email"
	SettingText     = "text"
)

// ConnectionSetting is a non-secret value a tenant gives when connecting.
type ConnectionSetting struct {
	Meta        Meta   `yaml:"-" json:"-"`
	Description string `yaml:"description" jsonschema:"required" jsonschema_description:"what to enter, in plain language, e.g. Your Zendesk subdomain (acme in acme.zendesk.com)"`
	Format      string `yaml:"format" jsonschema:"enum=dns_label,enum=email,enum=text" jsonschema_description:"dns_label (one host label: letters, digits, -), email, or text (default); values are checked when the connection is made"`
	// Optional settings may be left empty; a placeholder naming an empty
	// one expands to "".
	Optional bool `yaml:"optional" jsonschema_description:"may be left empty (default: required)"`
}

// ErrBadSetting is returned for a connection setting value that is
// missing, unknown or not of its declared format.
var ErrBadSetting = errors.New("spec: bad connection setting")

var (
	dnsLabelPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	// connPlaceholder is {connection.NAME}.
	connPlaceholder = regexp.MustCompile(`\{connection\.([^{}]*)\}`)
)

// CheckValue reports whether v is a valid value of s. A dns_label must be
// exactly one lowercase label, so that substituting it into a host can
// never add a dot, a port, a userinfo or a path.
func (s *ConnectionSetting) CheckValue(v string) error {
	if strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return errors.New("must not contain control characters")
	}
	if len(v) > 256 {
		return errors.New("must be at most 256 characters")
	}
	switch s.Format {
	case SettingDNSLabel:
		if !dnsLabelPattern.MatchString(v) {
			return errors.New("must be one DNS label: lowercase letters, digits and -, at most 63, not starting or ending with -")
		}
	case SettingEmail:
		a, err := mail.ParseAddress(v)
		if err != nil || a.Address != v {
			return errors.New("must be an email address, e.g. oncall@example.com")
		}
	}
	return nil
}

// CheckSettings validates a connection's settings against the manifest:
// every required setting present, none unknown, each of its format. It
// returns the settings to store (dns labels lowercased, empty ones left
// out); errors wrap ErrBadSetting and name the setting, never its value.
func (p *Provider) CheckSettings(in map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(in))
	for name, v := range in {
		s := p.Settings[name]
		if s == nil {
			return nil, fmt.Errorf("%w: %s has no connection setting %q", ErrBadSetting, p.Name, name)
		}
		v = strings.TrimSpace(v)
		if s.Format == SettingDNSLabel {
			v = strings.ToLower(v)
		}
		if v == "" {
			continue
		}
		if err := s.CheckValue(v); err != nil {
			return nil, fmt.Errorf("%w: %s %v", ErrBadSetting, name, err)
		}
		out[name] = v
	}
	for _, name := range sortedKeys(p.Settings) {
		if s := p.Settings[name]; s != nil && !s.Optional && out[name] == "" {
			return nil, fmt.Errorf("%w: %s needs %s (%s)", ErrBadSetting, p.Name, name, s.Description)
		}
	}
	return out, nil
}

// ExpandSettings replaces {connection.NAME} in s with the connection's
// settings, each value checked again against its format (a stored value
// is not trusted to have been checked). A setting the manifest does not
// declare, or a required one without a value, is an error.
func (p *Provider) ExpandSettings(s string, settings map[string]string) (string, error) {
	var firstErr error
	out := connPlaceholder.ReplaceAllStringFunc(s, func(m string) string {
		name := m[len("{connection.") : len(m)-1]
		decl := p.Settings[name]
		v := settings[name]
		var err error
		switch {
		case decl == nil:
			err = fmt.Errorf("%w: %s has no connection setting %q", ErrBadSetting, p.Name, name)
		case v == "" && !decl.Optional:
			err = fmt.Errorf("%w: the connection has no %s (%s)", ErrBadSetting, name, decl.Description)
		case v != "":
			if cerr := decl.CheckValue(v); cerr != nil {
				err = fmt.Errorf("%w: %s %v", ErrBadSetting, name, cerr)
			}
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return v
	})
	if firstErr != nil {
		return "", firstErr
	}
	return out, nil
}

// UsesSettings reports whether s holds a {connection.NAME} placeholder.
func UsesSettings(s string) bool { return connPlaceholder.MatchString(s) }

// reservedHeaders are set by the connector itself: a manifest header of
// that name would be overwritten, or would corrupt the request.
var reservedHeaders = []string{"Host", "Content-Length", "Content-Type", "Transfer-Encoding", "Connection", "Authorization", "Idempotency-Key", "If-Match"}

func checkSettings(d *decoder, p *Provider) {
	for _, name := range sortedKeys(p.Settings) {
		if s := p.Settings[name]; s != nil && !namePattern.MatchString(name) {
			d.errorAt(s.Meta.Pos, "connection setting %q must be lowercase letters, digits, - or _, starting with a letter", name)
		}
	}
	checkBaseURLSettings(d, p)
	checkHeaders(d, p, p.Headers, p.Meta)
	for _, oname := range sortedKeys(p.Objects) {
		o := p.Objects[oname]
		if o == nil {
			continue
		}
		for _, ep := range []*Endpoint{o.Endpoints.List, o.Endpoints.Get, o.Endpoints.Create, o.Endpoints.Update, o.Endpoints.Delete, o.Endpoints.FindByExternalID, o.Endpoints.Find} {
			if ep != nil {
				checkHeaders(d, p, ep.Headers, ep.Meta)
			}
		}
	}
}

// checkBaseURLSettings allows {connection.NAME} in base_url only as a whole
// label of the host, naming a dns_label setting, followed by at least two
// fixed labels ({connection.shop}.myshopify.com): the tenant picks a host
// under the partner's domain, never the domain.
func checkBaseURLSettings(d *decoder, p *Provider) {
	if !UsesSettings(p.BaseURL) {
		return
	}
	at := p.Meta.At("base_url")
	_, rest, ok := strings.Cut(p.BaseURL, "://")
	host, path, _ := strings.Cut(rest, "/")
	if !ok || UsesSettings(path) {
		d.errorAt(at, "base_url: {connection.NAME} may only stand for a label of the host, e.g. https://{connection.subdomain}.zendesk.com")
		return
	}
	// The placeholder's own dot must not split labels.
	labels := strings.Split(strings.ReplaceAll(host, "{connection.", "{connection:"), ".")
	for i, l := range labels {
		if !strings.Contains(l, "{connection:") {
			continue
		}
		l = strings.Replace(l, "{connection:", "{connection.", 1)
		m := connPlaceholder.FindStringSubmatch(l)
		if m == nil || m[0] != l {
			d.errorAt(at, "base_url: %q must be a whole host label {connection.NAME}", l)
			continue
		}
		fixed := 0
		for _, after := range labels[i+1:] {
			if !strings.Contains(after, "{") && !strings.Contains(after, "$") {
				fixed++
			}
		}
		if fixed < 2 {
			d.errorAt(at, "base_url: {connection.%s} must be followed by the partner's own domain (at least two fixed labels, e.g. .zendesk.com), so a tenant cannot choose the host", m[1])
		}
		s := p.Settings[m[1]]
		switch {
		case s == nil:
			d.errorAt(at, "base_url: {connection.%s} is not a connection setting%s", m[1], didYouMean(m[1], sortedKeys(p.Settings)))
		case s.Format != SettingDNSLabel:
			d.errorAt(at, "base_url: connection setting %s must have format dns_label to stand in the host", m[1])
		case s.Optional:
			d.errorAt(at, "base_url: connection setting %s cannot be optional: the host needs it", m[1])
		}
	}
}

func checkHeaders(d *decoder, p *Provider, headers map[string]string, meta Meta) {
	names := make([]string, 0, len(headers))
	for n := range headers {
		names = append(names, n)
	}
	sort.Strings(names)
	authHeader := p.Auth.Header
	for _, n := range names {
		at := meta.At("headers")
		for _, r := range reservedHeaders {
			if strings.EqualFold(n, r) || (authHeader != "" && strings.EqualFold(n, authHeader)) {
				d.errorAt(at, "header %s is set by Accord itself (auth, body, idempotency or conditional requests): remove it", n)
				break
			}
		}
		for _, m := range connPlaceholder.FindAllStringSubmatch(headers[n], -1) {
			if p.Settings[m[1]] == nil {
				d.errorAt(at, "header %s: {connection.%s} is not a connection setting%s", n, m[1], didYouMean(m[1], sortedKeys(p.Settings)))
			}
		}
	}
}
