package connector

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/accordhq/accord/internal/spec"
)

type request struct {
	op             string // "incident create", for errors
	opKind         string // "create", for metrics
	ep             *spec.Endpoint
	url            *url.URL
	body           []byte
	contentType    string // of body
	auth           Authorizer
	idempotencyKey string
	ifMatch        string
	// redact are secrets the body carries (a generated webhook secret):
	// scrubbed from error messages like the credentials.
	redact []string
}

type response struct {
	status      int
	header      http.Header
	doc         any // decoded JSON body; nil when empty or not JSON
	deprecation string
}

// do sends r and reads the answer. A non-2xx answer or a network failure
// becomes a *PartnerError; a 401 is retried once after a Refresh when the
// Authorizer can refresh.
func (c *Connector) do(ctx context.Context, r request) (*response, error) {
	resp, err := c.attempt(ctx, r)
	var pe *PartnerError
	if errors.As(err, &pe) && pe.Class == spec.ClassAuth && pe.Status == http.StatusUnauthorized {
		if rf, ok := r.auth.(Refresher); ok {
			if rerr := rf.Refresh(ctx); rerr != nil {
				pe.Err = rerr
			} else {
				resp, err = c.attempt(ctx, r)
			}
		}
	}
	outcome := "ok"
	if errors.As(err, &pe) {
		outcome = pe.Class
	} else if err != nil {
		outcome = "error"
	}
	if c.metrics != nil {
		c.metrics.requests.WithLabelValues(c.provider.Name, r.opKind, outcome).Inc()
	}
	return resp, err
}

func (c *Connector) attempt(ctx context.Context, r request) (*response, error) {
	start := time.Now()
	var err error
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	u := *r.url
	if u.Host == c.base.Host {
		// Another host (a partner's next link) was checked by sameOrigin.
		if u.Host, err = c.resolveHost(r.auth); err != nil {
			return nil, settingError(r.op, err)
		}
	}
	req, err := http.NewRequestWithContext(ctx, r.ep.Method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("connector: %s: building request: %w", r.op, err)
	}
	if err := c.setHeaders(req, r.ep, r.auth); err != nil {
		return nil, settingError(r.op, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	if r.body != nil {
		req.Header.Set("Content-Type", r.contentType)
	}
	if v := c.provider.APIVersion; v != nil && v.Header != "" && v.Version != "" {
		req.Header.Set(v.Header, v.Version)
	}
	if r.ep.IfMatch && r.ifMatch != "" {
		req.Header.Set("If-Match", r.ifMatch)
	}
	if r.ep.IdempotencyHeader != "" && r.idempotencyKey != "" {
		req.Header.Set(r.ep.IdempotencyHeader, r.idempotencyKey)
	}
	var secrets []string
	if r.auth != nil {
		before := snapshot(req)
		if err := r.auth.Authorize(ctx, req); err != nil {
			var blocked *AddressBlockedError
			if errors.As(err, &blocked) {
				// The credential's own call (an OAuth refresh) was refused
				// by the same policy: as permanent as refusing this one.
				return nil, &PartnerError{Op: r.op, Class: spec.ClassValidation, Policy: true, Message: blocked.remedy(), Err: err}
			}
			return nil, fmt.Errorf("connector: %s: authorizing: %w", r.op, err)
		}
		secrets = before.added(req)
	}
	secrets = append(secrets, r.redact...)

	hresp, err := c.client.Do(req)
	if err != nil {
		return nil, c.transportError(ctx, r.op, err, secrets)
	}
	defer hresp.Body.Close()
	dep := c.deprecation(hresp.Header)
	c.log.Debug("partner call", "op", r.op, "method", r.ep.Method, "path", r.ep.Path,
		"status", hresp.StatusCode, "duration_ms", time.Since(start).Milliseconds())

	if hresp.StatusCode < 200 || hresp.StatusCode > 299 {
		// Enough of an error body to classify it and read the message; the
		// rest is not worth the memory.
		raw, _ := readLimited(hresp.Body, min(c.cfg.MaxResponseBytes, 64<<10))
		return nil, c.partnerError(r.op, hresp, raw, secrets)
	}
	raw, err := readLimited(hresp.Body, c.cfg.MaxResponseBytes)
	if errors.Is(err, ErrResponseTooLarge) {
		return nil, fmt.Errorf("connector: %s: over %d bytes: %w", r.op, c.cfg.MaxResponseBytes, err)
	}
	if err != nil {
		return nil, c.transportError(ctx, r.op, err, secrets)
	}
	if errorIn2xx(c.provider.Errors, hresp.StatusCode, raw) {
		return nil, c.partnerError(r.op, hresp, raw, secrets)
	}
	doc, err := decodeJSON(hresp.Header.Get("Content-Type"), raw)
	if err != nil {
		return nil, fmt.Errorf("connector: %s: %w", r.op, err)
	}
	return &response{status: hresp.StatusCode, header: hresp.Header, doc: doc, deprecation: dep}, nil
}

// readLimited reads at most limit bytes; a longer body returns what was read
// and ErrResponseTooLarge.
func readLimited(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return b, err
	}
	if int64(len(b)) > limit {
		return b[:limit], ErrResponseTooLarge
	}
	return b, nil
}

// decodeJSON decodes a successful body. An empty body, or one that neither
// claims nor looks to be JSON (a chat webhook's "ok"), is no document.
func decodeJSON(contentType string, raw []byte) (any, error) {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 {
		return nil, nil
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	isJSON := mt == "application/json" || strings.HasSuffix(mt, "+json")
	if !isJSON && trimmed[0] != '{' && trimmed[0] != '[' {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("decoding JSON body: %v: %w", err, ErrBadResponse)
	}
	return doc, nil
}

func (c *Connector) partnerError(op string, resp *http.Response, body []byte, secrets []string) *PartnerError {
	pe := &PartnerError{
		Op:         op,
		Status:     resp.StatusCode,
		Class:      classify(c.provider.Errors, resp.StatusCode, body),
		Message:    partnerMessage(c.provider.Errors, resp.StatusCode, body, secrets),
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), c.cfg.Now()),
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		pe.Message = sanitize("unexpected redirect to " + redact(resp.Header.Get("Location"), secrets))
	}
	return pe
}

// transportError turns a failure to get an answer into an error: the SSRF
// guard's refusal and the caller's cancellation as they are, everything else
// (timeout, refused, reset, EOF, TLS, DNS) as a transient *PartnerError.
func (c *Connector) transportError(ctx context.Context, op string, err error, secrets []string) error {
	// url.Error carries the URL, and the URL may carry an API key.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var blocked *AddressBlockedError
	if errors.As(err, &blocked) {
		return &PartnerError{Op: op, Class: spec.ClassValidation, Policy: true, Message: blocked.remedy(), Err: blocked}
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		return fmt.Errorf("connector: %s: %w", op, ctx.Err())
	}
	return &PartnerError{Op: op, Class: spec.ClassTransient, Message: sanitize(redact(describeNetError(err), secrets)), Err: err}
}

func describeNetError(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout: the partner did not answer in time"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed before a complete response"
	default:
		return err.Error()
	}
}

// deprecation reads the partner's deprecation announcement: the manifest's
// deprecation_header, else the standard Deprecation (RFC 9745) and Sunset
// (RFC 8594) headers.
func (c *Connector) deprecation(h http.Header) string {
	names := []string{"Deprecation", "Sunset"}
	if v := c.provider.APIVersion; v != nil && v.DeprecationHeader != "" {
		names = []string{v.DeprecationHeader}
	}
	for _, n := range names {
		v := h.Get(n)
		if v == "" {
			continue
		}
		v = sanitize(v)
		if c.metrics != nil {
			c.metrics.deprecation.WithLabelValues(c.provider.Name).Inc()
		}
		if c.warned.CompareAndSwap(false, true) {
			version := ""
			if c.provider.APIVersion != nil {
				version = c.provider.APIVersion.Version
			}
			c.log.Warn("partner announces deprecation of the pinned API version", "api_version", version, "header", n, "value", v)
		}
		return v
	}
	return ""
}
