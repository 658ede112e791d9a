// Package oauth connects tenants' accounts at partner platforms and keeps
// their credentials usable.
//
// A Manager runs the OAuth side of the connection lifecycle; every state
// change it makes goes through internal/connection, the one writer of
// connection state (row and audit entry in one transaction, hooks after
// commit):
//
//   - the connect flow (an http.Handler for /connect/…): a short-lived,
//     HMAC-signed, single-use connect session created by the host product
//     (consumed when the flow starts, cancelled by a disconnect) → the
//     provider's consent page (authorization code with PKCE S256 and a
//     single-use, expiring state) → callback → token exchange → granted
//     scopes compared with the required ones → connection active, or
//     missing_scopes naming each missing permission in plain language;
//   - tokens: refreshed before expiry and once after a 401, one refresh per
//     connection at a time within the process (a keyed mutex) and across
//     processes (the store's lease, and a compare-and-swap on the row's
//     version; a process that loses re-reads instead of refreshing), so a
//     provider that rotates refresh tokens never sees a token twice;
//   - revocation and drift: invalid_grant, a revoked token or a lost scope
//     moves the connection to needs_reconnect or missing_scopes and returns
//     a NeedsReconnectError (connector.ErrNeedsReconnect), which the engine
//     turns into "pause writes"; Accord's own client refused
//     (invalid_client) or the token endpoint failing is an operator alert
//     with a backoff, and the error matches connector.ErrAuthUnavailable:
//     retried, never a pause;
//   - recovery in place for every kind (Reconnect, reconnect sessions),
//     keeping the connection id so paused work resumes; a reconnect that
//     signs in as another provider account is refused unless allowed;
//   - disconnect: RFC 7009 revocation at the provider, then the secret is
//     wiped.
//
// The protocol itself is golang.org/x/oauth2's (authorization code, PKCE,
// client credentials, JWT bearer); this package only decides when to call it
// and what to store. Secrets live in the credential vault and never reach
// logs, errors, metrics or pages.
package oauth
