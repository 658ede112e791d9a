package signature

import (
	"errors"
	"fmt"
	"hash"
	"net/http"
	"strings"
	"time"
)

// genericHMAC is the configurable scheme for partners without a named one:
// a header holding prefix+encoded HMAC of a payload built from a template.
type genericHMAC struct {
	header, prefix, tsHeader, idHeader string
	enc                                encoding
	newHash                            func() hash.Hash
	payload                            []templatePart
	tolerance                          time.Duration
	usesTimestamp, usesID, usesRequest bool
}

const hmacName = "hmac"

// RequestSigner is implemented by schemes whose signature covers more than
// the body, such as hmac with {method} or {url} in its template; Sign fails
// for those and SignRequest must be used instead.
type RequestSigner interface {
	// SignRequest sets the signature headers on r.Header (allocating it if
	// nil), signing r.Method, r.URL and r.Body.
	SignRequest(r *Request, secret []byte, now time.Time, id string) error
}

var _ RequestSigner = (*genericHMAC)(nil)

// templatePart is a literal or, when field is set, a placeholder.
type templatePart struct {
	literal string
	field   string
}

var templateFields = map[string]bool{"body": true, "timestamp": true, "id": true, "method": true, "url": true}

func parseTemplate(t string) ([]templatePart, error) {
	var parts []templatePart
	for t != "" {
		open := strings.IndexByte(t, '{')
		if open < 0 {
			parts = append(parts, templatePart{literal: t})
			break
		}
		if open > 0 {
			parts = append(parts, templatePart{literal: t[:open]})
		}
		end := strings.IndexByte(t[open:], '}')
		if end < 0 {
			return nil, fmt.Errorf("payload template: unclosed {")
		}
		name := t[open+1 : open+end]
		if !templateFields[name] {
			return nil, fmt.Errorf("payload template: unknown placeholder {%s} (want body, timestamp, id, method or url)", name)
		}
		parts = append(parts, templatePart{field: name})
		t = t[open+end+1:]
	}
	return parts, nil
}

func init() {
	Register(hmacName, newGenericHMAC)
}

func newGenericHMAC(o Options) (Scheme, error) {
	enc, err := encodingFor(o.Encoding)
	if err != nil {
		return nil, err
	}
	h, err := hashFunc(o.Hash)
	if err != nil {
		return nil, err
	}
	parts, err := parseTemplate(orDefault(o.Payload, "{body}"))
	if err != nil {
		return nil, err
	}
	s := &genericHMAC{
		header: orDefault(o.Header, "X-Signature"), prefix: o.Prefix,
		tsHeader: o.TimestampHeader, idHeader: o.IDHeader,
		enc: enc, newHash: h, payload: parts, tolerance: o.tolerance(),
	}
	for _, p := range parts {
		switch p.field {
		case "timestamp":
			s.usesTimestamp = true
			if s.tsHeader == "" {
				return nil, errors.New("payload template uses {timestamp} but timestamp_header is not set")
			}
		case "id":
			s.usesID = true
			if s.idHeader == "" {
				return nil, errors.New("payload template uses {id} but id_header is not set")
			}
		case "method", "url":
			s.usesRequest = true
		}
	}
	return s, nil
}

func (s *genericHMAC) build(r *Request, ts, id string) [][]byte {
	out := make([][]byte, 0, len(s.payload))
	for _, p := range s.payload {
		switch p.field {
		case "":
			out = append(out, []byte(p.literal))
		case "body":
			out = append(out, r.Body)
		case "timestamp":
			out = append(out, []byte(ts))
		case "id":
			out = append(out, []byte(id))
		case "method":
			out = append(out, []byte(r.Method))
		case "url":
			out = append(out, []byte(r.URL))
		}
	}
	return out
}

// parseHMACHeader collects every prefixed signature from all values of the
// header, separated by spaces or commas, so a sender may send several during
// a rotation. Entries without the prefix or with a bad encoding are skipped.
func (s *genericHMAC) parseHeader(values []string) [][]byte {
	var out [][]byte
	for _, v := range values {
		for _, entry := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
			enc, ok := strings.CutPrefix(entry, s.prefix)
			if !ok {
				continue
			}
			if mac, err := s.enc.decode(enc); err == nil {
				out = append(out, mac)
			}
		}
	}
	return out
}

// SignsDelivery: true when the payload template has {timestamp} or {id}.
func (s *genericHMAC) SignsDelivery() bool { return s.usesTimestamp || s.usesID }

func (s *genericHMAC) Verify(r *Request, secrets [][]byte, now time.Time) error {
	values := r.Header.Values(s.header)
	if strings.TrimSpace(strings.Join(values, "")) == "" {
		return verifyError(ErrNoSignature, hmacName, "no %s header", s.header)
	}
	var ts, id string
	if s.usesTimestamp {
		ts = r.Header.Get(s.tsHeader)
		if err := checkTimestamp(hmacName, ts, now, s.tolerance); err != nil {
			return err
		}
	}
	if s.idHeader != "" {
		id = r.Header.Get(s.idHeader)
	}
	macs := s.parseHeader(values)
	if len(macs) == 0 {
		return verifyError(ErrBadSignature, hmacName, "%s holds no well-formed signature", s.header)
	}
	if len(secrets) == 0 {
		return noSecrets(hmacName)
	}
	if !anyMatch(s.newHash, secrets, macs, s.build(r, ts, id)...) {
		return verifyError(ErrBadSignature, hmacName, "no signature matches")
	}
	return nil
}

func (s *genericHMAC) Sign(body, secret []byte, now time.Time, id string) (http.Header, error) {
	if s.usesRequest {
		return nil, errors.New("hmac: payload template signs {method} or {url}: use SignRequest")
	}
	r := &Request{Body: body, Header: http.Header{}}
	if err := s.SignRequest(r, secret, now, id); err != nil {
		return nil, err
	}
	return r.Header, nil
}

func (s *genericHMAC) SignRequest(r *Request, secret []byte, now time.Time, id string) error {
	if r.Header == nil {
		r.Header = http.Header{}
	}
	ts := unixString(now)
	if s.usesTimestamp {
		r.Header.Set(s.tsHeader, ts)
	}
	if s.idHeader != "" {
		r.Header.Set(s.idHeader, id)
	}
	mac := computeMAC(s.newHash, secret, s.build(r, ts, id)...)
	r.Header.Set(s.header, s.prefix+s.enc.encode(mac))
	return nil
}
