// Package review describes what a contract asks of a tenant, for the
// people who must agree to it: the catalog a tenant installs from (with
// the consent it records) and the document a partner marketplace reviews
// (`accord contract review PACK`). Every statement is derived from the
// contract and provider manifests and from what Accord does with data, so
// the review says what the engine does.
package review
