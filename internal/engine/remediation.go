package engine

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/accordhq/accord/internal/spec"
)

// Record error classes, as an admin reads them.
const (
	ClassAuth        = "auth"
	ClassPermission  = "permission"
	ClassValidation  = "validation"
	ClassRateLimit   = "rate_limit"
	ClassPartnerDown = "partner_down"
	ClassBadData     = "bad_data"
	ClassNotFound    = "not_found"
	// ClassPolicy: Accord's outbound address policy refused the call (a
	// partner URL on loopback or a private network); the message names
	// the setting.
	ClassPolicy = "outbound_policy"
)

// recordClass maps a connector error class to the record error class.
func recordClass(connectorClass string) string {
	switch connectorClass {
	case spec.ClassAuth:
		return ClassAuth
	case spec.ClassPermission:
		return ClassPermission
	case spec.ClassValidation:
		return ClassValidation
	case spec.ClassRateLimited:
		return ClassRateLimit
	case spec.ClassNotFound:
		return ClassNotFound
	default:
		return ClassPartnerDown
	}
}

// A partner's "x is required" or "missing x" names the field to map.
var requiredField = regexp.MustCompile(`(?i)(?:^|\W)([A-Za-z_][\w.]*) (?:is|are) (?:required|missing|invalid)|missing (?:required )?(?:field |parameter )?([A-Za-z_][\w.]*)`)

// missingScope finds the scope named in a partner's permission message.
var missingScope = regexp.MustCompile(`(?i)scopes?\s*[:=]?\s*["']?([A-Za-z0-9_][A-Za-z0-9_.:/-]*)`)

// remediation says, in plain language, what the admin should do about a
// failed record.
func remediation(class, provider, partnerMessage string, retryAt time.Time) string {
	switch class {
	case ClassAuth:
		return fmt.Sprintf("Accord can no longer sign in to %s: reconnect the account. Writes are paused and resume after reconnecting.", provider)
	case ClassPermission:
		if m := missingScope.FindStringSubmatch(partnerMessage); m != nil {
			return fmt.Sprintf("%s refused the write: scope %s was removed. Reconnect the account and grant it; paused writes then resume.", provider, m[1])
		}
		return fmt.Sprintf("%s refused the write for lack of permission. Reconnect the account with the permissions the integration asks for; paused writes then resume.", provider)
	case ClassAmbiguousMatch:
		return fmt.Sprintf("Several %s records match this one (listed in the message), and Accord never guesses which to write: merge or delete the extra ones in %s (or make the contract's match_on stricter), then retry.", provider, provider)
	case ClassValidation:
		if strings.HasPrefix(partnerMessage, "lookup") || strings.HasPrefix(partnerMessage, "enrichment") {
			return fmt.Sprintf("%s rejected Accord's lookup request, not the record: check the endpoint named in the message in the provider manifest (its path, query and request template), then retry.", provider)
		}
		if m := requiredField.FindStringSubmatch(partnerMessage); m != nil {
			field := m[1]
			if field == "" {
				field = m[2]
			}
			return fmt.Sprintf("Field %s is required or invalid in %s: map it in the contract or set a default, then retry.", field, provider)
		}
		return fmt.Sprintf("%s rejected the record: fix the mapping or the source data, then retry.", provider)
	case ClassRateLimit:
		if retryAt.IsZero() {
			// Filed when the retry window ran out: Accord has stopped.
			return fmt.Sprintf("%s kept throttling requests until the contract's retry window ran out, so Accord stopped retrying. Lower the volume or ask the partner for a higher limit, then retry.", provider)
		}
		return fmt.Sprintf("%s is throttling requests; Accord is retrying at %s. No action needed unless this persists.", provider, retryAt.UTC().Format(time.RFC3339))
	case ClassNotFound:
		return fmt.Sprintf("The linked object no longer exists in %s and the contract says not to recreate it: recreate it there or remove the link, then retry.", provider)
	case ClassBadData:
		return "The source record could not be mapped: fix the source data or the mapping, then retry."
	case ClassPolicy:
		return fmt.Sprintf("Accord refused to call %s: %s Nothing was sent; fix the setting or the provider's URL, then retry.", provider, partnerMessage)
	default:
		return fmt.Sprintf("%s is failing or unreachable; Accord retried until the contract's retry window ran out. Check the partner's status, then retry.", provider)
	}
}
