// Package oauth connects tenants' accounts at partner platforms and keeps
// their credentials usable.
//
// A Manager owns the connection lifecycle:
//
//   - the connect flow (an http.Handler for /connect/…): a short-lived,
//     HMAC-signed connect session created by the host product → the
//     provider's consent page (authorization code with PKCE S256 and a
//     single-use, expiring state) → callback → token exchange → granted
//     scopes compared with the required ones → connection active, or
//     missing_scopes naming each missing permission in plain language;
//   - tokens: refreshed before expiry and once after a 401, serialised per
//     connection within the process and across processes (a row lock), so a
//     provider that rotates refresh tokens never sees two refreshes race;
//   - revocation and drift: invalid_grant, a revoked token or a lost scope
//     moves the connection to needs_reconnect or missing_scopes and returns
//     a NeedsReconnectError, which the engine turns into "pause writes";
//     reconnecting keeps the connection id so paused work resumes;
//   - disconnect: RFC 7009 revocation at the provider, then the secret is
//     wiped.
//
// The protocol itself is golang.org/x/oauth2's (authorization code, PKCE,
// client credentials, JWT bearer); this package only decides when to call it
// and what to store. Secrets live in the credential vault and never reach
// logs, errors, metrics or pages.
package oauth
