package spec

import (
	"strings"
	"time"
)

// ProviderFormat is the value of the `accord` key of a provider manifest.
const ProviderFormat = "provider/v1"

// Provider is the technical description of a partner platform.
type Provider struct {
	Meta       Meta               `yaml:"-" json:"-"`
	Accord     string             `yaml:"accord" jsonschema:"required,enum=provider/v1" jsonschema_description:"format and version of this file"`
	Name       string             `yaml:"name" jsonschema:"required,pattern=^[a-z][a-z0-9_-]*$" jsonschema_description:"machine name, referenced by contracts"`
	Title      string             `yaml:"title" jsonschema_description:"name shown to admins"`
	BaseURL    string             `yaml:"base_url" jsonschema:"required" jsonschema_description:"API root; ${ENV} and ${ENV:-default} are interpolated"`
	APIVersion *APIVersion        `yaml:"api_version" jsonschema_description:"the API version pinned and how deprecation is announced"`
	Auth       Auth               `yaml:"auth" jsonschema:"required"`
	Scopes     []Scope            `yaml:"scopes" jsonschema_description:"permissions, each with a plain-language description for admins"`
	RateLimit  *RateLimit         `yaml:"rate_limit"`
	Pagination *Pagination        `yaml:"pagination"`
	Webhooks   *Webhooks          `yaml:"webhooks"`
	Errors     *Errors            `yaml:"errors"`
	Objects    map[string]*Object `yaml:"objects" jsonschema:"required"`
	// Encoding is the request body encoding of every endpoint that does
	// not choose its own (default json).
	Encoding string `yaml:"encoding" jsonschema:"enum=json,enum=form" jsonschema_description:"request body encoding of every endpoint that sets none: json (default) or form (application/x-www-form-urlencoded, nested objects and lists in brackets: metadata[plan]=pro, items[0][price]=p_1)"`
	// Settings are the non-secret values a tenant gives when connecting
	// (a subdomain, a user's email), referenced as {connection.NAME} in
	// base_url and headers.
	Settings map[string]*ConnectionSetting `yaml:"connection_settings" jsonschema_description:"non-secret values asked for when a tenant connects, referenced as {connection.NAME} in base_url (dns_label settings only, as a whole host label) and in headers"`
	// Headers are sent on every request; values may reference
	// {connection.NAME}.
	Headers map[string]string `yaml:"headers" jsonschema_description:"request headers sent on every call; values may hold {connection.NAME} placeholders"`
	// MaxAnswerWindow is how long after a request the partner may still
	// apply it although its answer never came (it answered past the
	// client's timeout, or the connection broke): Accord settles such
	// writes after it (default 2m).
	MaxAnswerWindow Duration `yaml:"max_answer_window" jsonschema_description:"how long the partner may still apply a request whose answer never came; unanswered writes are settled after it (default 2m)"`
}

// APIVersion pins the partner API version.
type APIVersion struct {
	Meta    Meta   `yaml:"-" json:"-"`
	Version string `yaml:"version" jsonschema:"required" jsonschema_description:"the pinned version, e.g. 2024-06-01 or v1"`
	// Header, when set, carries Version on every request.
	Header string `yaml:"header" jsonschema_description:"request header carrying the pinned version"`
	// DeprecationHeader is the response header announcing deprecation
	// (Sunset or Deprecation); the connector records it when present.
	DeprecationHeader string `yaml:"deprecation_header" jsonschema_description:"response header announcing deprecation, e.g. Sunset or Deprecation"`
}

// Auth kinds.
const (
	AuthAPIKey                  = "api_key"
	AuthBearer                  = "bearer"
	AuthBasic                   = "basic"
	AuthOAuth2Code              = "oauth2_code"
	AuthOAuth2ClientCredentials = "oauth2_client_credentials"
	AuthJWTBearer               = "jwt_bearer"
)

// Auth says how requests are authenticated.
type Auth struct {
	Meta Meta   `yaml:"-" json:"-"`
	Kind string `yaml:"kind" jsonschema:"required,enum=api_key,enum=bearer,enum=basic,enum=oauth2_code,enum=oauth2_client_credentials,enum=jwt_bearer"`
	// Header carries an api_key (default Authorization when QueryParam is empty).
	Header     string `yaml:"header" jsonschema_description:"api_key: request header (default Authorization)"`
	QueryParam string `yaml:"query_param" jsonschema_description:"api_key: query parameter instead of a header"`
	Prefix     string `yaml:"prefix" jsonschema_description:"api_key: written before the key, e.g. 'Bearer '"`

	AuthorizeURL string `yaml:"authorize_url" jsonschema_description:"oauth2_code: authorization endpoint"`
	TokenURL     string `yaml:"token_url" jsonschema_description:"oauth2_*, jwt_bearer: token endpoint"`
	RevokeURL    string `yaml:"revoke_url" jsonschema_description:"token revocation endpoint, called on uninstall"`
	// PKCE defaults to true; only a partner that rejects it turns it off.
	PKCE            *bool             `yaml:"pkce" jsonschema:"default=true" jsonschema_description:"oauth2_code: use PKCE (default true)"`
	AuthParams      map[string]string `yaml:"auth_params" jsonschema_description:"extra authorize parameters, e.g. admin consent (prompt: consent)"`
	ClientIDEnv     string            `yaml:"client_id_env" jsonschema_description:"environment variable holding the OAuth client id"`
	ClientSecretEnv string            `yaml:"client_secret_env" jsonschema_description:"environment variable holding the OAuth client secret"`
	PrivateKeyEnv   string            `yaml:"private_key_env" jsonschema_description:"jwt_bearer: environment variable holding the signing key (PEM)"`
	Audience        string            `yaml:"audience" jsonschema_description:"jwt_bearer: audience of the signed assertion"`
	// TokenAuthMethod is how Accord authenticates to the token endpoint;
	// empty: found out from the provider (basic, then the form body).
	TokenAuthMethod string `yaml:"token_auth_method" jsonschema:"enum=client_secret_basic,enum=client_secret_post,enum=private_key_jwt" jsonschema_description:"oauth2_*: how the client authenticates at the token endpoint (default: detected, basic first)"`
	// AccountIDField names the token response field that identifies the
	// partner account (e.g. hub_id, team.id): a reconnect to another
	// account is refused unless allowed explicitly.
	AccountIDField string `yaml:"account_id_field" jsonschema_description:"oauth2_code: token response field naming the partner account, e.g. team.id; a reconnect that lands on another account is refused"`
	// Test is the endpoint called by "test connection".
	Test *Endpoint `yaml:"test" jsonschema_description:"endpoint called by 'test connection'"`
}

// AnswerWindow returns MaxAnswerWindow or its default of 2 minutes.
func (p *Provider) AnswerWindow() time.Duration {
	if p.MaxAnswerWindow > 0 {
		return p.MaxAnswerWindow.D()
	}
	return 2 * time.Minute
}

// UsesPKCE reports whether the authorize flow uses PKCE (default true).
func (a *Auth) UsesPKCE() bool { return a.PKCE == nil || *a.PKCE }

// IsOAuth reports whether the connection is made through an OAuth flow.
func (a *Auth) IsOAuth() bool {
	return a.Kind == AuthOAuth2Code || a.Kind == AuthOAuth2ClientCredentials || a.Kind == AuthJWTBearer
}

// Scope is a permission with the sentence admins read before granting it.
type Scope struct {
	Meta        Meta   `yaml:"-" json:"-"`
	Name        string `yaml:"name" jsonschema:"required"`
	Description string `yaml:"description" jsonschema:"required" jsonschema_description:"plain language, e.g. Read tickets"`
	// Optional scopes are asked for, but a grant without them is not
	// missing_scopes.
	Optional bool `yaml:"optional" jsonschema_description:"asked for, but a grant without it still works (the connection is not missing_scopes)"`
}

// RateLimit is the partner's published request budget per connection.
type RateLimit struct {
	Meta              Meta    `yaml:"-" json:"-"`
	RequestsPerSecond float64 `yaml:"requests_per_second" jsonschema:"required"`
	Burst             int     `yaml:"burst" jsonschema_description:"default: requests_per_second rounded up"`
}

// Pagination styles.
const (
	PageCursor = "cursor"
	PagePage   = "page"
	PageOffset = "offset"
	PageLink   = "link"
	// PageAfterID: the last item's id is the cursor (Stripe's
	// starting_after); pages continue while has_more is true.
	PageAfterID = "after_id"
)

// Pagination describes how list endpoints page.
type Pagination struct {
	Meta  Meta   `yaml:"-" json:"-"`
	Style string `yaml:"style" jsonschema:"required,enum=cursor,enum=page,enum=offset,enum=link,enum=after_id"`
	// Param is the request parameter carrying the cursor, page number or offset.
	Param      string `yaml:"param" jsonschema_description:"request parameter carrying the cursor, page or offset"`
	LimitParam string `yaml:"limit_param" jsonschema_description:"request parameter for the page size"`
	Limit      int    `yaml:"limit" jsonschema_description:"page size to ask for"`
	// Next is the JSON path of the next cursor in the response (cursor style).
	Next string `yaml:"next" jsonschema_description:"cursor: JSON path of the next cursor in the response; empty or missing means last page"`
	// HasMore is the JSON path of the boolean saying another page follows
	// (after_id style, Stripe's has_more).
	HasMore string `yaml:"has_more" jsonschema_description:"after_id: JSON path of the boolean saying another page follows, e.g. has_more"`
}

// Signature schemes.
const (
	SigStandardWebhooks = "standard-webhooks"
	SigStripe           = "stripe"
	SigGitHub           = "github"
	SigSlack            = "slack"
	SigShopify          = "shopify"
	SigHubSpot          = "hubspot"
	SigIntercom         = "intercom"
	SigZendesk          = "zendesk"
	SigHMAC             = "hmac"
)

// Webhooks describes the partner's change notifications.
type Webhooks struct {
	Meta      Meta      `yaml:"-" json:"-"`
	Signature Signature `yaml:"signature" jsonschema:"required"`
	// MaxBody defaults to 1MiB; larger bodies are rejected with 413.
	MaxBody ByteSize `yaml:"max_body" jsonschema_description:"largest accepted body (default 1MiB)"`
	// Locations: a JSON path in the body (data.id) or header:Name.
	EventID       string `yaml:"event_id" jsonschema:"required" jsonschema_description:"where the event id is: body JSON path (id) or header:Name"`
	EventType     string `yaml:"event_type" jsonschema:"required" jsonschema_description:"where the event type is"`
	ObjectID      string `yaml:"object_id" jsonschema:"required" jsonschema_description:"where the changed object's id is"`
	ObjectVersion string `yaml:"object_version" jsonschema_description:"where the object's version is (ordering)"`
	VersionKind   string `yaml:"version_kind" jsonschema:"enum=int,enum=timestamp" jsonschema_description:"int or timestamp (default int)"`
	// Object is the JSON path of the changed object in the body (data).
	Object string                `yaml:"object" jsonschema_description:"JSON path of the changed object in the body, e.g. data"`
	Events map[string]*EventType `yaml:"events" jsonschema:"required" jsonschema_description:"known event types and the object each carries"`
	// Batch, when set, is where the body carries a list of events (HubSpot
	// signs one POST holding up to 100): "." for a body that is the list
	// itself, else a JSON path. Every body location above is then read
	// relative to one element, and each element is stored as its own
	// event with its own dedup key.
	Batch string `yaml:"batch" jsonschema_description:"JSON path of the array of events in the body, . when the body is the array itself (HubSpot); the other body locations are then relative to each element"`
	// MaxBatch bounds the events in one batched body (default 100, at
	// most MaxBatchLimit); a larger batch is refused with 413.
	MaxBatch int `yaml:"max_batch" jsonschema:"minimum=1,maximum=1000" jsonschema_description:"batch: most events accepted in one body (default 100, at most 1000); a larger batch is answered 413"`
	// Registration, when set, lets Accord subscribe each connection to
	// these webhooks through the partner's API at install, and delete the
	// subscription at uninstall; without it an admin registers the hook
	// URL and secret by hand.
	Registration *Registration `yaml:"registration" jsonschema_description:"how Accord subscribes a connection to these webhooks through the partner's API (at install) and unsubscribes it (at uninstall)"`
	// ManualSecret, without registration, says who makes the signing
	// secret when an admin registers the hook URL at the partner by hand:
	// the partner issues it (the admin pastes it into Accord, the default)
	// or the partner accepts one chosen for it (GitHub's "Secret" field),
	// and Accord generates it at connect and shows it once.
	ManualSecret string `yaml:"manual_secret" jsonschema:"enum=generated,enum=issued" jsonschema_description:"without registration: issued (default: the partner issues the signing secret and the admin gives it to Accord) or generated (Accord generates it when the connection is created and shows it once, with the hook URL, for the admin to paste at the partner)"`
}

// GeneratesManualSecret reports whether Accord makes the signing secret
// of a hook an admin registers by hand (no registration, manual_secret:
// generated).
func (w *Webhooks) GeneratesManualSecret() bool {
	return w != nil && w.Registration == nil && w.ManualSecret == SecretGenerated
}

// Registration secret modes.
const (
	// SecretGenerated: Accord generates the signing secret and sends it
	// in the create request ("{secret}" in its request template).
	SecretGenerated = "generated"
	// SecretIssued: the partner issues the signing secret in its answer
	// to the create request (at secret_path).
	SecretIssued = "issued"
)

// Registration describes the partner's webhook subscription API. The
// create request is a JSON template: a string that is exactly "{url}",
// "{events}" or "{secret}" takes the hook URL, the list of event types the
// installations need, or the generated secret.
type Registration struct {
	Meta   Meta      `yaml:"-" json:"-"`
	Create *Endpoint `yaml:"create" jsonschema:"required" jsonschema_description:"creates a subscription: request is a JSON template with {url}, {events} and (secret: generated) {secret}; id_path is where the subscription id is in the answer"`
	Delete *Endpoint `yaml:"delete" jsonschema:"required" jsonschema_description:"deletes a subscription: path with {id}; a 404 counts as already deleted"`
	// List finds a subscription whose create answer was lost (a crash, a
	// timeout), so a retried install adopts it instead of adding another.
	List *Endpoint `yaml:"list" jsonschema_description:"lists subscriptions (items: where the list is), so a retried install finds the one an unanswered create made instead of creating a second"`
	// URLPath is where a listed subscription's URL is (default url).
	URLPath    string `yaml:"url_path" jsonschema_description:"list: JSON path of each subscription's URL (default url)"`
	Secret     string `yaml:"secret" jsonschema:"required,enum=generated,enum=issued" jsonschema_description:"generated: Accord makes the signing secret and sends it as {secret}; issued: the partner returns it at secret_path"`
	SecretPath string `yaml:"secret_path" jsonschema_description:"secret issued: JSON path of the signing secret in the create answer, e.g. secret"`
}

// ListURLPath returns URLPath or its default, url.
func (r *Registration) ListURLPath() string {
	if r.URLPath == "" {
		return "url"
	}
	return r.URLPath
}

// Batch limits.
const (
	// DefaultMaxBatch is what HubSpot sends at most in one request.
	DefaultMaxBatch = 100
	// MaxBatchLimit bounds max_batch: every event of a body commits in one
	// transaction, which must stay short (SQLite has one writer).
	MaxBatchLimit = 1000
)

// Batched reports whether a body carries a list of events.
func (w *Webhooks) Batched() bool { return w.Batch != "" }

// EffectiveMaxBatch returns MaxBatch or its default.
func (w *Webhooks) EffectiveMaxBatch() int {
	if w.MaxBatch <= 0 {
		return DefaultMaxBatch
	}
	return w.MaxBatch
}

// EffectiveMaxBody returns MaxBody or its default of 1MiB.
func (w *Webhooks) EffectiveMaxBody() int64 {
	if w.MaxBody <= 0 {
		return 1 << 20
	}
	return int64(w.MaxBody)
}

// Signature describes how webhook bodies are signed.
type Signature struct {
	Meta     Meta   `yaml:"-" json:"-"`
	Scheme   string `yaml:"scheme" jsonschema:"required,enum=standard-webhooks,enum=stripe,enum=github,enum=slack,enum=shopify,enum=hubspot,enum=intercom,enum=zendesk,enum=hmac"`
	Header   string `yaml:"header" jsonschema_description:"header carrying the signature (scheme default when empty)"`
	Prefix   string `yaml:"prefix" jsonschema_description:"text before the signature, e.g. sha256= or v1,"`
	Encoding string `yaml:"encoding" jsonschema:"enum=hex,enum=base64" jsonschema_description:"hex or base64 (scheme default when empty)"`
	// Payload is the signed string for hmac, with {body}, {timestamp} and
	// {header:Name} placeholders; default {body}.
	Payload         string `yaml:"payload" jsonschema_description:"hmac: signed payload template, e.g. {timestamp}.{body} (default {body})"`
	TimestampHeader string `yaml:"timestamp_header" jsonschema_description:"hmac: header carrying the timestamp"`
	// Tolerance bounds the age of a signed timestamp (default 5m).
	Tolerance Duration `yaml:"tolerance" jsonschema_description:"largest accepted clock difference (default 5m)"`
}

// EffectiveTolerance returns Tolerance or its default of five minutes.
func (s *Signature) EffectiveTolerance() Duration {
	if s.Tolerance <= 0 {
		return Duration(5 * 60 * 1e9)
	}
	return s.Tolerance
}

// EventType is one kind of webhook event.
type EventType struct {
	Meta        Meta   `yaml:"-" json:"-"`
	Object      string `yaml:"object" jsonschema:"required" jsonschema_description:"the object this event carries"`
	Description string `yaml:"description"`
	// Deletes marks an event that reports its object deleted at the
	// partner (the payload still names it): actions apply their on_delete.
	Deletes bool `yaml:"deletes" jsonschema_description:"the event reports that its object was deleted (its payload still carries the object's id and version); actions triggered by it apply their on_delete"`
	// ObjectID and ObjectVersion override the webhook-level locations for
	// this event type: a subscription event may carry its object elsewhere
	// than a customer event.
	ObjectID      string `yaml:"object_id" jsonschema_description:"where this event's object id is (default: webhooks.object_id)"`
	ObjectVersion string `yaml:"object_version" jsonschema_description:"where this event's object version is (default: webhooks.object_version)"`
}

// ObjectIDPath returns where the object id of an event of type et is.
func (w *Webhooks) ObjectIDPath(et *EventType) string {
	if et != nil && et.ObjectID != "" {
		return et.ObjectID
	}
	return w.ObjectID
}

// ObjectVersionPath returns where the object version of an event of type
// et is ("" when unversioned: receipt order).
func (w *Webhooks) ObjectVersionPath(et *EventType) string {
	if et != nil && et.ObjectVersion != "" {
		return et.ObjectVersion
	}
	return w.ObjectVersion
}

// Error classes.
const (
	ClassAuth        = "auth"
	ClassPermission  = "permission"
	ClassValidation  = "validation"
	ClassRateLimited = "rate_limited"
	ClassTransient   = "transient"
	ClassNotFound    = "not_found"
)

// Errors classifies the partner's error responses.
type Errors struct {
	Meta Meta `yaml:"-" json:"-"`
	// Message is the JSON path of the partner's error message (error.message).
	Message string      `yaml:"message" jsonschema_description:"JSON path of the partner's error message"`
	Rules   []ErrorRule `yaml:"rules"`
}

// ErrorRule maps responses to an error class; rules are tried in order.
type ErrorRule struct {
	Meta   Meta       `yaml:"-" json:"-"`
	Status StatusList `yaml:"status" jsonschema:"required"`
	// BodyContains narrows the rule to bodies containing this text.
	BodyContains string `yaml:"body_contains"`
	Class        string `yaml:"class" jsonschema:"required,enum=auth,enum=permission,enum=validation,enum=rate_limited,enum=transient,enum=not_found"`
}

// Field types.
const (
	TypeString    = "string"
	TypeInt       = "int"
	TypeFloat     = "float"
	TypeBool      = "bool"
	TypeTimestamp = "timestamp"
	TypeObject    = "object"
	TypeList      = "list"
)

// Object is a partner resource.
type Object struct {
	Meta        Meta   `yaml:"-" json:"-"`
	Name        string `yaml:"-" json:"-"` // the key under objects
	Description string `yaml:"description"`
	// ID is the field holding the object's id (default id).
	ID string `yaml:"id" jsonschema_description:"field holding the id (default id)"`
	// Version is the field that orders changes: an int that increases or an
	// updated_at timestamp.
	Version string `yaml:"version" jsonschema_description:"field that orders changes (int or timestamp)"`
	// MergedIDs is the field listing the ids of objects merged into this
	// one (HubSpot's hs_merged_object_ids, separated by ';' or ','): links
	// to those objects move to this one.
	MergedIDs string            `yaml:"merged_ids" jsonschema_description:"field listing the ids of objects merged into this one (e.g. hs_merged_object_ids, separated by ; or ,): Accord moves its links to them onto this object"`
	UpdatedAt string            `yaml:"updated_at" jsonschema_description:"field with the last change time (timestamp, or int Unix seconds): a sync's first run reads back no further than the contract's boundaries.backfill by it"`
	Fields    map[string]*Field `yaml:"fields" jsonschema:"required"`
	Endpoints Endpoints         `yaml:"endpoints"`
}

// IDField returns the id field name (default id).
func (o *Object) IDField() string {
	if o.ID == "" {
		return "id"
	}
	return o.ID
}

// Field is one field of an object.
type Field struct {
	Meta        Meta              `yaml:"-" json:"-"`
	Type        string            `yaml:"type" jsonschema:"required,enum=string,enum=int,enum=float,enum=bool,enum=timestamp,enum=object,enum=list"`
	Enum        []any             `yaml:"enum" jsonschema_description:"the only values allowed"`
	Required    bool              `yaml:"required" jsonschema_description:"the partner rejects writes without it"`
	ReadOnly    bool              `yaml:"read_only" jsonschema_description:"set by the partner, never written"`
	Description string            `yaml:"description"`
	Fields      map[string]*Field `yaml:"fields" jsonschema_description:"object: nested fields"`
	// Items is the schema of a list's elements: its fields are typed (and
	// converted) inside expressions the same way as top-level fields.
	Items *Field `yaml:"items" jsonschema_description:"list: the schema of each element"`
	// PII says what personal or secret data the field holds, so a sample
	// of the record kept with a record error is redacted by what the
	// value is rather than by its name (docs/data-handling.md).
	PII string `yaml:"pii" jsonschema:"enum=email,enum=phone,enum=secret,enum=personal" jsonschema_description:"personal or secret data the field holds: email (masked to a***@domain), phone (last two digits kept), secret or personal (replaced whole) in the samples record errors keep"`
}

// PII kinds (Field.PII).
const (
	PIIEmail    = "email"
	PIIPhone    = "phone"
	PIISecret   = "secret"
	PIIPersonal = "personal"
)

// Lookup resolves a dotted path below the object. It returns nil when a
// segment is not declared; below an object field without declared fields,
// any path resolves to a dynamic field.
func (o *Object) Lookup(path string) *Field {
	fields := o.Fields
	var f *Field
	for _, seg := range strings.Split(path, ".") {
		if f != nil && f.Type == TypeObject && len(f.Fields) == 0 {
			return &Field{Type: TypeObject}
		}
		if fields == nil {
			return nil
		}
		f = fields[seg]
		if f == nil {
			return nil
		}
		fields = f.Fields
	}
	return f
}

// Endpoints are the operations a connector can call on an object.
type Endpoints struct {
	Meta             Meta      `yaml:"-" json:"-"`
	List             *Endpoint `yaml:"list"`
	Get              *Endpoint `yaml:"get"`
	Create           *Endpoint `yaml:"create"`
	Update           *Endpoint `yaml:"update"`
	Delete           *Endpoint `yaml:"delete"`
	FindByExternalID *Endpoint `yaml:"find_by_external_id"`
	// Find is a search for existing targets by mapped fields (an action's
	// match_on), e.g. POST /crm/v3/objects/companies/search with a JSON
	// filter: {field} placeholders in path, query and request take the
	// mapped document's values.
	Find *Endpoint `yaml:"find" jsonschema_description:"search for existing records by mapped fields (see an action's match_on); {field} placeholders in path, query and request are filled from the mapped document"`
}

// Endpoint is one HTTP operation.
type Endpoint struct {
	Meta   Meta   `yaml:"-" json:"-"`
	Method string `yaml:"method" jsonschema:"required,enum=GET,enum=POST,enum=PUT,enum=PATCH,enum=DELETE"`
	// Path is a template: {id} is the object id, {external_id} the source
	// id for find_by_external_id, and any other {name} is taken from the
	// mapped document's top-level field of that name (and removed from the
	// body). A query string may follow.
	Path string `yaml:"path" jsonschema:"required" jsonschema_description:"path template, e.g. /v1/incidents/{id}"`
	// Body is the key the request document is wrapped in ({"incident": …}).
	Body string `yaml:"body" jsonschema_description:"key wrapping the request body, e.g. incident"`
	// Item is the JSON path of the object in a single-object response.
	Item string `yaml:"item" jsonschema_description:"JSON path of the object in the response (empty: the whole body)"`
	// Items is the JSON path of the array in a list response.
	Items string `yaml:"items" jsonschema_description:"JSON path of the list in the response, e.g. tickets; . when the response is the list itself (GitHub)"`
	// IDPath is the JSON path of the created object's id in the response.
	IDPath string `yaml:"id_path" jsonschema_description:"JSON path of the id in the response, e.g. incident.id"`
	// IdempotencyHeader names the header carrying the idempotency key.
	IdempotencyHeader string `yaml:"idempotency_header" jsonschema_description:"header carrying the idempotency key, e.g. Idempotency-Key"`
	// IfMatch makes updates conditional: the ETag of the partner's last
	// answer for the object is sent as If-Match, so a write based on an
	// older state (one that arrives late) is refused with 412 instead of
	// overwriting newer data.
	IfMatch bool `yaml:"if_match" jsonschema_description:"update: send the ETag of the last answer as If-Match, so the partner refuses (412) a write based on an older state"`
	// Query adds request parameters; values may hold {field} placeholders.
	Query map[string]string `yaml:"query" jsonschema_description:"find: request parameters, values may hold {field} placeholders"`
	// Request is a JSON body template (find): a string that is exactly
	// "{field}" takes the field's value with its type, other strings have
	// their placeholders replaced as text.
	Request any `yaml:"request" jsonschema_description:"find: JSON request body template; \"{field}\" takes the mapped field's value"`
	// Since is the list parameter that asks only for changes at or after a
	// version (in the version field's own units: the number, or RFC 3339
	// for a timestamp). Without it a sync lists everything and skips
	// what it has seen.
	Since string `yaml:"since" jsonschema_description:"list: request parameter asking only for objects changed at or after a version, e.g. updated_since (sent in the version field's units)"`
	// Encoding overrides the provider's request body encoding.
	Encoding string `yaml:"encoding" jsonschema:"enum=json,enum=form" jsonschema_description:"request body encoding: json or form (default: the provider's encoding, else json)"`
	// Headers are sent on this endpoint's requests, over the provider's.
	Headers map[string]string `yaml:"headers" jsonschema_description:"request headers for this endpoint (over the provider's); values may hold {connection.NAME} placeholders, e.g. From: \"{connection.from_email}\""`
}

// Request body encodings.
const (
	EncodingJSON = "json"
	// EncodingForm is application/x-www-form-urlencoded with objects and
	// lists nested in brackets, the way Stripe and Rails read them.
	EncodingForm = "form"
)

// BodyEncoding returns the encoding of ep's request body: its own, else
// the provider's, else json.
func (p *Provider) BodyEncoding(ep *Endpoint) string {
	switch {
	case ep != nil && ep.Encoding != "":
		return ep.Encoding
	case p.Encoding != "":
		return p.Encoding
	}
	return EncodingJSON
}
