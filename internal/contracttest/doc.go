// Package contracttest runs contract tests: a test file's cases send
// webhook events through the real engine path (signature check, ingress,
// dispatcher, engine, connector) on a throwaway SQLite store, against
// partners that are either a mock generated from each provider manifest or
// a tape of exchanges recorded from a sandbox (go-vcr cassettes). Each case
// then compares the requests the partners received and the engine's outcome
// with what the author expected.
//
// Every partner a case talks to is an in-process server on 127.0.0.1: the
// mock itself, or a tape that replays a cassette, or (recording, and
// `accord dryrun --live`) forwards to the sandbox through the connector's
// guarded HTTP client.
package contracttest
