package review

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/accordhq/accord/internal/spec"
)

// Answer is one security or privacy question a marketplace asks, and
// Accord's answer for this pack.
type Answer struct {
	Question string `json:"question"`
	Answer   string `json:"answer"`
}

// Document is a pack's app-review package.
type Document struct {
	Pack        string     `json:"pack"`
	Title       string     `json:"title"`
	Description string     `json:"description,omitempty"`
	PrivacyURL  string     `json:"privacy_url,omitempty"`
	SupportURL  string     `json:"support_url,omitempty"`
	Contracts   []Contract `json:"contracts"`
	Security    []Answer   `json:"security"`
	// Missing lists what the pack should say and does not.
	Missing []string `json:"missing,omitempty"`
}

// DocumentOptions are what the deployment adds to the review.
type DocumentOptions struct {
	Options
	// PublicURL is where Accord is reached (https means TLS terminates at
	// Accord or in front of it).
	PublicURL string
}

// Pack builds the review of pack p with b's providers and contracts.
func Pack(p *spec.Pack, b *spec.Bundle, opts DocumentOptions) Document {
	d := Document{Pack: p.Name, Title: p.Title, Description: strings.TrimSpace(p.Description), PrivacyURL: p.PrivacyURL, SupportURL: p.SupportURL}
	rollout := map[string]string{}
	for _, r := range p.Recommended {
		if r != nil {
			rollout[r.Contract] = r.Rollout
		}
	}
	providers := map[string]bool{}
	for _, name := range p.Contracts {
		c := b.Contracts[name]
		if c == nil {
			d.Missing = append(d.Missing, "contract "+name+" is not in the pack")
			continue
		}
		o := opts.Options
		o.Rollout = rollout[name]
		d.Contracts = append(d.Contracts, Describe(c, b, o))
		for _, pr := range c.Providers {
			providers[pr] = true
		}
	}
	if d.PrivacyURL == "" {
		d.Missing = append(d.Missing, "privacy_url: the pack links no privacy policy")
	}
	if d.SupportURL == "" {
		d.Missing = append(d.Missing, "support_url: the pack links no support page")
	}
	d.Security = securityAnswers(b, slices.Sorted(maps.Keys(providers)), opts)
	return d
}

func securityAnswers(b *spec.Bundle, providers []string, opts DocumentOptions) []Answer {
	var verify, revoke, noRevoke, plain []string
	for _, name := range providers {
		p := b.Provider(name)
		if p == nil {
			continue
		}
		if p.Webhooks != nil {
			verify = append(verify, fmt.Sprintf("%s (%s)", providerTitle(b, name), p.Webhooks.Signature.Scheme))
		}
		if !strings.HasPrefix(p.BaseURL, "https://") {
			plain = append(plain, fmt.Sprintf("%s (%s)", providerTitle(b, name), p.BaseURL))
		}
		if p.Auth.RevokeURL != "" {
			revoke = append(revoke, providerTitle(b, name))
		} else {
			noRevoke = append(noRevoke, providerTitle(b, name))
		}
	}
	tls := "Accord's public URL is not set: put a TLS-terminating proxy in front of it and set public_url to its https address."
	if strings.HasPrefix(opts.PublicURL, "https://") {
		tls = "Inbound traffic is served at " + opts.PublicURL + " over TLS."
	} else if opts.PublicURL != "" {
		tls = "The public URL " + opts.PublicURL + " is not https: terminate TLS in front of Accord before production."
	}
	out := []Answer{
		{"How are credentials stored?", "Encrypted at rest with AES-256-GCM under a per-tenant data key, which is itself encrypted by the deployment's master key (envelope encryption). Secrets never reach logs, errors, metrics or the UI; an API answer never contains one."},
		{"Can keys be rotated?", "Yes: `accord keys rotate` re-wraps every tenant's data key under a new master key without downtime; the retired key is only needed until then. Change-notification endpoint secrets rotate through the API with a grace period in which both sign."},
		{"Is traffic encrypted in transit?", partnerTLS(plain) + " Redirects are never followed, and a dial guard refuses private and loopback addresses. " + tls},
		{"Is there an audit trail?", "Every tenant has a hash-chained audit log: connections made, changed and disconnected, installs with the consent given (who, when, which scopes, which contract version), upgrades, uninstalls and what each removed. It records who and what, never record data."},
	}
	if len(verify) > 0 {
		out = append(out, Answer{"Are inbound webhooks authenticated?", "Each is verified with the provider's signature scheme before anything is stored, and refused with 401 otherwise: " + strings.Join(verify, ", ") + "."})
	}
	del := "Uninstalling stops intake at once (the connection's webhooks are answered 410), cancels queued work, revokes the tokens at the provider"
	if len(revoke) > 0 {
		del += " (RFC 7009: " + strings.Join(revoke, ", ") + ")"
	}
	del += ", deletes the credentials, and after the contract's retention deletes stored events, links and record errors."
	if len(noRevoke) > 0 {
		del += " " + strings.Join(noRevoke, ", ") + " offer no revocation endpoint: their credentials are deleted, and the tenant should also remove the key at the provider."
	}
	out = append(out, Answer{"What happens on uninstall?", del})
	return out
}

func partnerTLS(plain []string) string {
	if len(plain) == 0 {
		return "Partner APIs are called over TLS (every base URL is https)."
	}
	return "Partner APIs are called at the base URLs in their manifests; these are not https by default and must be set to the partners' https URLs in production: " + strings.Join(plain, ", ") + "."
}

// Markdown renders the document for a reviewer.
func (d Document) Markdown() string {
	var s strings.Builder
	fmt.Fprintf(&s, "# %s — app review\n\n", d.Title)
	if d.Description != "" {
		fmt.Fprintf(&s, "%s\n\n", d.Description)
	}
	link := func(label, url string) {
		if url == "" {
			url = "_not provided_"
		}
		fmt.Fprintf(&s, "- %s: %s\n", label, url)
	}
	link("Privacy policy", d.PrivacyURL)
	link("Support", d.SupportURL)
	s.WriteString("\n")
	for _, c := range d.Contracts {
		fmt.Fprintf(&s, "## %s (%s %s)\n\n", c.Title, c.Name, c.Version)
		if c.Rollout != "" {
			fmt.Fprintf(&s, "Rollout stage: %s\n\n", c.Rollout)
		}
		s.WriteString("### What it does\n\n```\n" + strings.TrimRight(c.Explanation, "\n") + "\n```\n\n")
		s.WriteString("### Permissions and why\n\n| Provider | Scope | Description | Used by |\n|---|---|---|---|\n")
		for _, p := range c.Permissions {
			fmt.Fprintf(&s, "| %s | `%s` | %s | %s |\n", p.Provider, p.Scope, cell(p.Description), cell(strings.Join(p.Why, "; ")))
		}
		s.WriteString("\n### Data read\n\n")
		fields(&s, c.Reads)
		s.WriteString("\n### Data written\n\n")
		fields(&s, c.Writes)
		s.WriteString("\n### Data stored by Accord and retention\n\n")
		for _, st := range c.Stored {
			fmt.Fprintf(&s, "- %s — kept: %s.\n", st.What, st.Retention)
		}
		fmt.Fprintf(&s, "\nAfter uninstall, everything above is deleted after %s.\n\n", c.UninstallRetention)
	}
	s.WriteString("## Security and privacy\n\n")
	for _, a := range d.Security {
		fmt.Fprintf(&s, "**%s**\n%s\n\n", a.Question, a.Answer)
	}
	if len(d.Missing) > 0 {
		s.WriteString("## Missing before submission\n\n")
		for _, m := range d.Missing {
			fmt.Fprintf(&s, "- %s\n", m)
		}
		s.WriteString("\n")
	}
	return s.String()
}

func fields(s *strings.Builder, fs []Field) {
	if len(fs) == 0 {
		s.WriteString("None.\n")
		return
	}
	s.WriteString("| Provider | Field | Used by |\n|---|---|---|\n")
	for _, f := range fs {
		fmt.Fprintf(s, "| %s | `%s.%s` | %s |\n", f.Provider, f.Object, f.Field, f.By)
	}
}

func cell(v string) string { return strings.ReplaceAll(v, "|", "\\|") }
