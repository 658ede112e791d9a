// Package app builds one Accord process from its configuration and runs it:
// it opens the store, applies migrations, builds the queue and the HTTP
// surface, starts them in order and stops them in reverse on a signal,
// finishing in-flight requests and jobs first.
package app
