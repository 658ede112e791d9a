package engine

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/spec"
)

func TestRemediation(t *testing.T) {
	t.Parallel()
	retryAt := time.Date(2026, 3, 2, 9, 0, 7, 0, time.FixedZone("CET", 3600))
	for _, tc := range []struct {
		name    string
		class   string
		message string
		want    []string // all must appear
		not     []string
	}{
		{"auth", ClassAuth, "invalid token",
			[]string{"Incidents", "reconnect the account", "resume"}, nil},
		{"permission names the scope", ClassPermission, "missing scope incidents.write",
			[]string{"scope incidents.write was removed", "Reconnect the account and grant it"}, nil},
		{"permission with a quoted scope", ClassPermission, `insufficient scope: "chat:write"`,
			[]string{"scope chat:write was removed"}, nil},
		{"permission without a scope", ClassPermission, "forbidden",
			[]string{"lack of permission", "Reconnect"}, []string{"scope "}},
		{"validation: x is required", ClassValidation, "title is required",
			[]string{"Field title is required or invalid in Incidents", "map it", "default"}, nil},
		{"validation: missing field x", ClassValidation, "missing required field severity",
			[]string{"Field severity"}, nil},
		{"validation: nested field", ClassValidation, "incident.title is invalid",
			[]string{"Field incident.title"}, nil},
		{"validation without a field", ClassValidation, "request rejected",
			[]string{"Incidents rejected the record", "fix the mapping or the source data"}, []string{"Field "}},
		{"a refused lookup points at the manifest, not the mapping", ClassValidation, "lookup (POST /crm/v3/objects/companies/search) answered 400: Invalid input JSON: EOF",
			[]string{"rejected Accord's lookup request, not the record", "provider manifest"}, []string{"fix the mapping"}},
		{"a refused enrichment too", ClassValidation, "enrichment billing.customer (GET /v1/customers/{id}) answered 422: id is invalid",
			[]string{"lookup request"}, []string{"Field id"}},
		{"ambiguous match never guesses", ClassAmbiguousMatch, "lookup found 2 crm.company records with the same billing_customer_id: 1001, 1002",
			[]string{"never guesses", "merge or delete"}, nil},
		{"rate limit says when", ClassRateLimit, "rate limit exceeded",
			[]string{"throttling", "2026-03-02T08:00:07Z"}, nil},
		{"not found", ClassNotFound, "incident not found",
			[]string{"no longer exists in Incidents", "not to recreate"}, nil},
		{"bad data", ClassBadData, "ticket.title: no such field",
			[]string{"could not be mapped"}, nil},
		{"partner down", ClassPartnerDown, "503 service unavailable",
			[]string{"Incidents is failing or unreachable", "retry window"}, nil},
		{"unknown class reads as partner down", "mystery", "?",
			[]string{"failing or unreachable"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := remediation(tc.class, "Incidents", tc.message, retryAt)
			for _, w := range tc.want {
				require.Contains(t, got, w)
			}
			for _, n := range tc.not {
				require.NotContains(t, got, n)
			}
		})
	}
}

func TestRecordClass(t *testing.T) {
	t.Parallel()
	for connectorClass, want := range map[string]string{
		spec.ClassAuth: ClassAuth, spec.ClassPermission: ClassPermission, spec.ClassValidation: ClassValidation,
		spec.ClassRateLimited: ClassRateLimit, spec.ClassNotFound: ClassNotFound, spec.ClassTransient: ClassPartnerDown,
		"": ClassPartnerDown,
	} {
		require.Equal(t, want, recordClass(connectorClass), connectorClass)
	}
}
