// Package connection owns the lifecycle of tenants' connections: it is the
// one writer of a connection's state, for every auth kind.
//
// Each transition (created, needs_reconnect, missing_scopes, resumed,
// reconnected, disconnected, a refreshed credential that changes the state)
// is one function of Lifecycle that locks the row, writes it and its audit
// entry in one transaction, and calls Config.OnChange after the commit (the
// engine wakes the work paused on the connection there). Other packages
// ask it; none writes a connection row itself.
//
// What is stored is decided elsewhere: the OAuth flows (internal/oauth)
// obtain and seal credentials, the engine decides that a refused write
// pauses the connection. Whether a failure means "reconnect" is part of
// the connector's Authorizer contract (connector.ErrNeedsReconnect), so
// the engine needs neither this package's callers nor the OAuth flows to
// tell.
package connection
