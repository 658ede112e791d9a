package signature

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"time"
)

// github implements GitHub's "X-Hub-Signature-256: sha256=<hex>" over the
// body. GitHub signs no timestamp, so this scheme cannot reject a replay on
// its own: the ingress dedups on X-GitHub-Delivery instead.
type github struct{ header string }

const githubName = "github"

func init() {
	Register(githubName, func(o Options) (Scheme, error) {
		return &github{header: orDefault(o.Header, "X-Hub-Signature-256")}, nil
	})
}

// SignsDelivery: only the body is signed; X-GitHub-Delivery is not.
func (s *github) SignsDelivery() bool { return false }

func (s *github) Verify(r *Request, secrets [][]byte, _ time.Time) error {
	header := strings.TrimSpace(r.Header.Get(s.header))
	if header == "" {
		return verifyError(ErrNoSignature, githubName, "no %s header", s.header)
	}
	mac, err := parseGitHubHeader(header)
	if err != nil {
		return verifyError(ErrBadSignature, githubName, "%s is not sha256=<hex>", s.header)
	}
	if len(secrets) == 0 {
		return noSecrets(githubName)
	}
	if !anyMatch(sha256.New, secrets, [][]byte{mac}, r.Body) {
		return verifyError(ErrBadSignature, githubName, "signature does not match")
	}
	return nil
}

func parseGitHubHeader(h string) ([]byte, error) {
	hexMAC, ok := strings.CutPrefix(h, "sha256=")
	if !ok {
		return nil, ErrBadSignature
	}
	return hex.DecodeString(hexMAC)
}

func (s *github) Sign(body, secret []byte, _ time.Time, id string) (http.Header, error) {
	h := http.Header{}
	h.Set(s.header, "sha256="+hex.EncodeToString(computeMAC(sha256.New, secret, body)))
	if id != "" {
		h.Set("X-GitHub-Delivery", id)
	}
	return h, nil
}
