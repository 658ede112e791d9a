package engine

import "github.com/accordhq/accord/internal/store"

// writeRequests is how many partner requests one run of a write makes,
// charged to the tenant's rate limit before it starts: the partner counts
// requests, and a create preceded by its lookup is two. (The limiter used
// to be charged once per write, so a drain at the manifest's rate sent
// the partner twice it.) What cannot be known beforehand — a 412 answered
// with a read and a second update, a lookup's further pages — is not
// charged.
func writeRequests(in applyInput, link store.Link, linked bool) int {
	a := in.action
	n := 1 // the create or the update
	if linked {
		if a.watched && in.contract.OnConflict != "" && !link.Uncertain {
			n++ // the read that settles conflicts
		}
		return n
	}
	if a.target.Endpoints.Find != nil && len(a.action.MatchOn) > 0 || a.target.Endpoints.FindByExternalID != nil {
		n++ // the lookup before a create
	}
	return n
}
