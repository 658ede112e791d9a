package credential

// Secret.Extra keys for a connection's webhooks. The signing secrets are
// secret; the subscription state sits beside them so that it lives and
// dies with them (an uninstall deletes the subscription, then wipes both).
const (
	// ExtraWebhookSecret is the secret the partner signs webhooks with,
	// and ExtraWebhookSecretPrevious the one it used before a rotation.
	ExtraWebhookSecret         = "webhook_secret"
	ExtraWebhookSecretPrevious = "webhook_secret_previous"
	// ExtraWebhookSubscription is the partner's id of the subscription
	// Accord registered for the connection (webhooks.registration), and
	// ExtraWebhookEvents its event types, comma-separated.
	ExtraWebhookSubscription = "webhook_subscription"
	ExtraWebhookEvents       = "webhook_events"
	// ExtraWebhookSubscriptionPrevious is a subscription replaced by one
	// with more event types, kept until the partner confirms its deletion.
	ExtraWebhookSubscriptionPrevious = "webhook_subscription_previous"
	// ExtraWebhookPending marks a create sent whose answer is not recorded
	// yet: a retry first removes what it may have left at the partner.
	ExtraWebhookPending = "webhook_registration_pending"
)
