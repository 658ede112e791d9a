// Package registration subscribes a connection to its partner's webhooks
// through the partner's API (a provider's webhooks.registration), and
// deletes the subscription again.
//
// Register runs at install, before the installation is stored: an
// installation never exists with webhooks that were not set up. It asks
// the partner to send the event types the installation's contracts
// trigger on to {public_url}/hooks/{connection_id}, with a signing secret
// Accord generates (secret: generated) or the partner issues (secret:
// issued), sealed in the vault as the connection's webhook secret. The
// subscription id and its events are kept beside the secret.
//
// Idempotent: a connection already subscribed to the events is left
// alone; a create is marked pending in the vault before it is sent, so a
// retry after a lost answer first deletes what the partner may have made
// (found through the registration's list endpoint) instead of adding a
// second subscription. A connection whose webhook secret an admin gave by
// hand (the hook URL pasted at the partner) is never registered: Accord
// would double every delivery.
//
// Deregister runs in the uninstall job before tokens are revoked; a 404
// from the partner counts as already deleted.
//
// Disconnect is an admin's disconnect: Deregister, then the tokens are
// revoked and the secret wiped. A partner that cannot be reached does not
// hold the disconnect up: the connection is disconnected at once, keeps its
// credential, and a job (KindDisconnect) queued in the same transaction
// deletes the subscription and then ends the connection when the partner
// answers. A reconnect subscribes the connection again (KindResubscribe,
// queued by the app when a connection becomes active).
package registration
