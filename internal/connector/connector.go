package connector

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/accordhq/accord/internal/spec"
)

// Connector calls one partner API as its provider manifest describes it. It
// is safe for concurrent use; build one per provider and share it across
// tenants.
type Connector struct {
	provider *spec.Provider
	base     *url.URL
	// hostTmpl is the base URL's host when it holds {connection.NAME}
	// labels: base then has a placeholder host, replaced per request.
	hostTmpl string
	cfg      Config
	client   *http.Client
	limiter  *Limiter
	metrics  *connectorMetrics
	log      *slog.Logger
	warned   atomic.Bool
}

// New builds the connector for p. The manifest's base_url is interpolated
// with Config.LookupEnv and must be an absolute http(s) URL.
func New(p *spec.Provider, cfg *Config) (*Connector, error) {
	if p == nil {
		return nil, errors.New("connector: nil provider")
	}
	c := cfg.withDefaults()
	hostTmpl, resolved := hostTemplate(p.ResolvedBaseURL(c.LookupEnv))
	base, err := url.Parse(resolved)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		// The template, not the interpolated value: the environment may
		// hold things that do not belong in an error.
		return nil, fmt.Errorf("connector: provider %s: base_url %q: %w", p.Name, p.BaseURL, ErrBadBaseURL)
	}
	base.Path = strings.TrimSuffix(base.Path, "/")
	base.RawPath = strings.TrimSuffix(base.RawPath, "/")

	m, err := newConnectorMetrics(c.Registerer)
	if err != nil {
		return nil, err
	}
	lc := LimiterConfig{}
	if c.Limiter != nil {
		lc = *c.Limiter
	}
	if lc.Now == nil {
		lc.Now = c.Now
	}
	if lc.Registerer == nil {
		lc.Registerer = c.Registerer
	}
	lim, err := NewLimiter(p, &lc)
	if err != nil {
		return nil, err
	}
	return &Connector{
		provider: p,
		base:     base,
		hostTmpl: hostTmpl,
		cfg:      c,
		client:   newHTTPClient(&c),
		limiter:  lim,
		metrics:  m,
		log:      c.Logger.With("provider", p.Name),
	}, nil
}

// NewHTTPClient returns the outbound HTTP client every partner call goes
// through, for callers that speak a protocol the Connector does not (the
// OAuth token, refresh and revocation requests, handed to
// golang.org/x/oauth2 through its oauth2.HTTPClient context key). Only
// cfg's Timeout, DialTimeout, AllowLoopback and AllowPrivate matter.
//
// It dials through the address guard (loopback only with AllowLoopback;
// link-local never; private networks only with AllowPrivate), uses no proxy,
// and follows no redirect: a 3xx is returned as the response, so a partner
// cannot bounce a credential or a re-posted token request to another host.
// It attaches no credentials: the caller sets them on the one request it
// builds, never in a RoundTripper that would apply them to every hop.
func NewHTTPClient(cfg *Config) *http.Client {
	c := cfg.withDefaults()
	return newHTTPClient(&c)
}

func newHTTPClient(c *Config) *http.Client {
	guard := dialGuard{allowLoopback: c.AllowLoopback, allowPrivate: c.AllowPrivate}
	dialer := &net.Dialer{
		Timeout:   c.DialTimeout,
		KeepAlive: 30 * time.Second,
		Control: func(network, address string, rc syscall.RawConn) error {
			return guard.control(network, address, rc)
		},
	}
	tr := &http.Transport{
		// No proxy: a proxy would dial for us and bypass the guard.
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   64, // one partner host, many workers
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   c.Timeout,
		// Redirects are not followed: a 302 would turn a create into a GET,
		// a 307 would re-post a token request elsewhere, and any hop to
		// another host would carry what the first request carried. An API
		// that moved is a manifest to fix, not to guess.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Provider returns the manifest the connector was built from.
func (c *Connector) Provider() *spec.Provider { return c.provider }

// Limiter returns the per-tenant rate limiter for this provider.
func (c *Connector) Limiter() *Limiter { return c.limiter }

// Close releases idle connections.
func (c *Connector) Close() { c.client.CloseIdleConnections() }

// url joins the base URL and an expanded (already escaped) path with its
// query, and sets extra parameters.
func (c *Connector) url(op, path string, extra url.Values) (*url.URL, error) {
	p, q, _ := strings.Cut(path, "?")
	root := *c.base
	root.RawQuery, root.Fragment, root.RawFragment = "", "", ""
	u, err := url.Parse(root.String() + p)
	if err != nil {
		return nil, fmt.Errorf("connector: %s: path %q: %w", op, p, err)
	}
	query := c.base.Query()
	parsed, err := url.ParseQuery(q)
	if err != nil {
		return nil, fmt.Errorf("connector: %s: query %q: %w", op, q, err)
	}
	for k, vs := range parsed {
		query[k] = append(query[k], vs...)
	}
	for k, vs := range extra {
		query[k] = vs
	}
	u.RawQuery = query.Encode()
	return u, nil
}
