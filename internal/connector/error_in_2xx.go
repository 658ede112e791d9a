package connector

import (
	"bytes"

	"github.com/accordhq/accord/internal/spec"
)

// errorIn2xx reports whether a 2xx answer is a failure by the manifest's
// own rules: a rule whose status list covers this 2xx status and whose
// body_contains text is in the body. Slack answers failures with 200 and
// {"ok": false, "error": "channel_not_found"}; without this the connector
// would take that for a success and the record would be linked to a
// message that was never posted. A rule without body_contains never turns
// a 2xx into an error.
func errorIn2xx(errs *spec.Errors, status int, body []byte) bool {
	if errs == nil {
		return false
	}
	for _, r := range errs.Rules {
		if r.BodyContains != "" && r.Status.Match(status) && bytes.Contains(body, []byte(r.BodyContains)) {
			return true
		}
	}
	return false
}
