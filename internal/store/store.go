// Package store persists Accord's domain: tenants, connections, installations,
// events, links, record errors and the audit log. One interface, two
// implementations (store/sqlite and store/postgres), one conformance suite
// (store/storetest) run over both.
//
// Every tenant table's keys lead with tenant_id and every method that reads
// tenant data takes the tenant id: isolation is a property of the API, not a
// convention of the callers.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// ErrNotFound is returned when a row asked for by key does not exist (or
// belongs to another tenant, which callers must not be able to tell apart).
var ErrNotFound = errors.New("store: not found")

// ErrConflict is returned when a create collides with an existing key.
var ErrConflict = errors.New("store: already exists")

// ErrStaleLink is returned by UpsertLink when the stored link carries a
// newer version than the one being written: nothing was written, and the
// caller's write lost to a newer one (the fence). Callers branch on it.
var ErrStaleLink = errors.New("store: stale link version")

// Dialect names the SQL dialect behind a Store.
type Dialect string

const (
	DialectSQLite   Dialect = "sqlite"
	DialectPostgres Dialect = "postgres"
)

// Tenant is a customer of the SaaS product.
type Tenant struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

// ConnectionState is the lifecycle state of a Connection.
type ConnectionState string

const (
	ConnectionActive         ConnectionState = "active"
	ConnectionNeedsReconnect ConnectionState = "needs_reconnect"
	ConnectionMissingScopes  ConnectionState = "missing_scopes"
	ConnectionDisconnected   ConnectionState = "disconnected"
)

// Connection is a tenant's authenticated account at a provider. Secret is
// opaque here: the credential vault encrypts it before it reaches the store.
type Connection struct {
	TenantID      string
	ID            string // random, unguessable: it appears in /hooks/{id}
	Provider      string // provider manifest name
	State         ConnectionState
	StateReason   string // plain-language reason for a non-active state
	Secret        []byte // ciphertext, never logged
	GrantedScopes []string
	// TokenExpiresAt is when the current access token expires (zero: never
	// or unknown); the refresher schedules itself from it.
	TokenExpiresAt time.Time
	// AccountID is the provider account the grant belongs to (an OIDC
	// subject, a workspace or account id); empty when unknown.
	AccountID string
	// Settings are the non-secret values the tenant gave when connecting
	// (the provider manifest's connection_settings: a subdomain, a user's
	// email), checked by spec.Provider.CheckSettings before they are
	// stored. CreateConnection stores them; updates leave them as they are
	// (a caller that rebuilt the struct cannot wipe them by accident).
	Settings map[string]string
	// Version is the row's version: CreateConnection stores 1 (whatever is
	// given) and every UpdateConnection or SwapConnection adds one. A
	// caller that read a connection can store a change only if nobody else
	// wrote it meanwhile (SwapConnection).
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// InstallationState is the lifecycle state of an Installation.
type InstallationState string

const (
	InstallationSetup       InstallationState = "setup"
	InstallationActive      InstallationState = "active"
	InstallationPaused      InstallationState = "paused"
	InstallationUninstalled InstallationState = "uninstalled"
)

// Installation is a tenant's enabled contract over its connections.
type Installation struct {
	TenantID        string
	ID              string
	Contract        string // contract name
	ContractVersion string
	State           InstallationState
	// Connections maps the contract's provider names to this tenant's
	// connection ids ("helpdesk" → "conn_…").
	Connections map[string]string
	// Config holds other per-tenant settings as JSON.
	Config json.RawMessage
	// Overrides is the JSON of the installation's spec.Overrides (its
	// replaced mapping rows and switched-off triggers); nil: none. The
	// store keeps it as given: callers validate it against the contract.
	Overrides json.RawMessage
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Event is one change notification, stored once per (tenant, connection,
// dedup key).
type Event struct {
	TenantID      string
	ID            string // assigned by the caller (random)
	ConnectionID  string
	DedupKey      string // the partner's event id
	Type          string
	ObjectID      string
	ObjectVersion int64 // monotonic per object; timestamps as Unix nanoseconds
	Payload       json.RawMessage
	ReceivedAt    time.Time
	// State is who owns delivering the event. InsertEvent stores
	// EventPending when it is empty; GetEvent returns it.
	State EventState
	// Outcome is the final result of a done event (values chosen by the
	// engine: applied, stale, filtered, no_installation, failed); empty
	// until the event is done, and possibly empty after.
	Outcome string
}

// EventState is who owns delivering an event. It only moves forward:
// pending → queued → done, or pending → done; a done event stays done.
type EventState string

// Event delivery states.
const (
	// EventPending: the process that received it delivers it in memory;
	// a sweeper hands it to the queue if it lingers (a crash, overload).
	EventPending EventState = "pending"
	// EventQueued: a queued job owns it.
	EventQueued EventState = "queued"
	// EventDone: delivered (or permanently failed with a record error).
	EventDone EventState = "done"
)

// EventRef names one stored event. Outcome is stored only when the event
// is moved to EventDone (and may be empty).
type EventRef struct {
	TenantID string
	ID       string
	Outcome  string
}

// LinkKey identifies a link: one source object, mapped by one installation,
// to one target object kind.
type LinkKey struct {
	TenantID       string
	InstallationID string
	SourceObject   string // e.g. "ticket"
	SourceID       string
	TargetObject   string // e.g. "incident"
	// Action is the contract action that writes the target: one source
	// record may be written by several actions, each its own partner
	// object. Links stored before actions were keyed have "".
	Action string
}

// Link maps a source object to its partner counterpart and carries the
// ordering watermark and the last values written per field.
type Link struct {
	LinkKey
	TargetID string
	// Version is the newest source version applied; an older one is stale.
	Version int64
	// Fields holds the last written value per target field (JSON object):
	// what makes two-way sync loop-free.
	Fields    json.RawMessage
	UpdatedAt time.Time
	// EventID is the event that last wrote the link: a re-run of that event
	// finds its own write and does nothing. Empty for sync writes.
	EventID string
	// EventAt orders writes of equal Version by receipt (Unix nanoseconds
	// of the event's ReceivedAt, microsecond precision): the later-received
	// event wins, and UpsertLink fences on (Version, EventAt).
	EventAt int64
	// ETag is the partner's ETag from the last answer for the target, the
	// If-Match of the next conditional update; empty when it sends none.
	ETag string
	// Uncertain marks a write whose answer never came (a timeout, a crash
	// mid-call): the partner may or may not hold it. UncertainSince is
	// when it was marked. A successful UpsertLink clears both.
	Uncertain      bool
	UncertainSince time.Time
	// SourceDeleted marks a tombstone: the source record was deleted and
	// the action's on_delete applied. The version stays, so an older
	// event arriving late is stale; a newer one (a restored record) writes
	// again and clears it.
	SourceDeleted bool
}

// RecordErrorStatus is the lifecycle of a RecordError.
type RecordErrorStatus string

const (
	RecordErrorOpen     RecordErrorStatus = "open"
	RecordErrorRetrying RecordErrorStatus = "retrying"
	RecordErrorResolved RecordErrorStatus = "resolved"
)

// RecordError is one record that failed, with what to do about it.
type RecordError struct {
	TenantID       string
	ID             string
	InstallationID string
	EventID        string // may be empty (sync jobs)
	Object         string
	SourceID       string
	Class          string // auth, permission, validation, rate_limit, partner_down, bad_data, not_found
	Message        string // the partner's message, secrets removed
	Remediation    string // plain language: what the admin should do
	Status         RecordErrorStatus
	// Job holds what is needed to retry (the job kind and its args as JSON).
	JobKind string
	JobArgs json.RawMessage
	// Sample is the record that failed as JSON, minimised to what the
	// manifest declares and redacted by field type (internal/privacy)
	// before it is stored; nil when there is none.
	Sample    json.RawMessage
	CreatedAt time.Time
	UpdatedAt time.Time
}

// AuditEntry is one row of the tenant's hash-chained audit log. Hash is
// sha256(PrevHash || canonical entry) and is computed by the store.
type AuditEntry struct {
	TenantID  string
	Seq       int64 // per tenant, from 1, assigned by the store
	Actor     string
	Action    string
	Subject   string
	Detail    json.RawMessage
	PrevHash  []byte
	Hash      []byte
	CreatedAt time.Time
}

// DataKey is a tenant's data-encryption key, wrapped (encrypted) by a
// master key. Only the credential vault reads or writes it.
type DataKey struct {
	TenantID    string
	MasterKeyID string // which master key wrapped it
	Wrapped     []byte
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// OAuthState is one pending authorization: created when a connect flow
// starts, consumed once by the callback.
type OAuthState struct {
	State    string // random, unguessable; the lookup key
	TenantID string
	Provider string
	// ConnectionID is set when reconnecting an existing connection.
	ConnectionID string
	// Sealed holds the PKCE verifier and redirect target, encrypted by the
	// vault: opaque here.
	Sealed    []byte
	ExpiresAt time.Time
	CreatedAt time.Time
}

// ConnectSession is a connect or reconnect link handed to a browser: it
// starts at most one flow (consumed when the flow starts) and is deleted
// when the connection it reconnects is disconnected.
type ConnectSession struct {
	TenantID string
	ID       string // random, unguessable; carried in the signed link
	Provider string
	// ConnectionID is set for a reconnect link.
	ConnectionID string
	// AllowAccountChange lets the reconnect land on another provider
	// account than the connection's (an explicit admin choice).
	AllowAccountChange bool
	ExpiresAt          time.Time
	CreatedAt          time.Time
}

// RecordErrorFilter narrows ListRecordErrors. Zero values do not filter.
type RecordErrorFilter struct {
	InstallationID string
	Status         RecordErrorStatus
	Class          string
	Limit          int // default 100
}

// Queries is every operation on tenant data. It is implemented by the Store
// itself (each call its own transaction) and by Tx (all calls in one).
type Queries interface {
	AccessQueries
	HealthQueries
	IngressHealthQueries

	CreateTenant(ctx context.Context, t Tenant) error
	GetTenant(ctx context.Context, id string) (Tenant, error)
	ListTenants(ctx context.Context) ([]Tenant, error)

	CreateConnection(ctx context.Context, c Connection) error
	GetConnection(ctx context.Context, tenantID, id string) (Connection, error)
	// LookupConnection finds a connection by id alone. It is the one lookup
	// without a tenant id: webhook ingress learns the tenant from it.
	LookupConnection(ctx context.Context, id string) (Connection, error)
	ListConnections(ctx context.Context, tenantID string) ([]Connection, error)
	// UpdateConnection writes State, StateReason, Secret, GrantedScopes,
	// TokenExpiresAt and AccountID, adds one to Version and bumps
	// UpdatedAt, whatever the stored Version.
	UpdateConnection(ctx context.Context, c Connection) error
	// SetConnectionSettings replaces a connection's settings whole, adds
	// one to Version and bumps UpdatedAt. An unknown connection is
	// ErrNotFound.
	SetConnectionSettings(ctx context.Context, tenantID, id string, settings map[string]string) error
	// SwapConnection is UpdateConnection only if the stored Version still
	// equals c.Version (compare-and-swap): swapped is false, and nothing
	// written, when another writer got there first. A missing connection
	// is ErrNotFound.
	SwapConnection(ctx context.Context, c Connection) (swapped bool, err error)

	CreateInstallation(ctx context.Context, in Installation) error
	GetInstallation(ctx context.Context, tenantID, id string) (Installation, error)
	ListInstallations(ctx context.Context, tenantID string) ([]Installation, error)
	// ListInstallationsByConnection returns the installations that use the
	// connection under any provider name.
	ListInstallationsByConnection(ctx context.Context, tenantID, connectionID string) ([]Installation, error)
	SetInstallationState(ctx context.Context, tenantID, id string, state InstallationState) error
	// SetInstallationContractVersion pins the installation to another
	// version of its contract (an upgrade or a rollback).
	SetInstallationContractVersion(ctx context.Context, tenantID, id, version string) error
	// SetInstallationOverrides replaces the installation's overrides (nil
	// or empty: none) and bumps UpdatedAt; ErrNotFound when it does not
	// exist for the tenant.
	SetInstallationOverrides(ctx context.Context, tenantID, id string, overrides json.RawMessage) error

	// InsertEvent stores the event unless one with the same (tenant,
	// connection, dedup key) exists; inserted reports which happened.
	InsertEvent(ctx context.Context, e Event) (inserted bool, err error)
	GetEvent(ctx context.Context, tenantID, id string) (Event, error)
	// SetEventsState moves every referenced event (any tenant's: each ref
	// carries its tenant) to state where the move goes forward: pending →
	// queued, pending → done, queued → done. Any other move (done →
	// anything, queued → pending, a state to itself) and unknown refs are
	// skipped without an error: a late sweeper cannot bring a done event
	// back, and a second done keeps the first outcome. Moving to EventDone
	// stores each ref's Outcome. An unknown state is an error.
	SetEventsState(ctx context.Context, refs []EventRef, state EventState) error
	// CountWaitingEvents counts the tenant's events received on any of
	// connectionIDs that are not delivered yet (pending or queued): the
	// writes a paused connection holds back.
	CountWaitingEvents(ctx context.Context, tenantID string, connectionIDs []string) (int, error)
	// ListPendingEvents returns up to limit events still pending that were
	// received before receivedBefore, oldest first, across tenants: for the
	// sweeper (operator maintenance), never for tenant-facing reads.
	ListPendingEvents(ctx context.Context, receivedBefore time.Time, limit int) ([]Event, error)
	// ClaimPendingEvents moves up to limit pending events received before
	// receivedBefore (oldest first, across tenants) to queued in one
	// statement and returns them (State queued): of two claimers, in this
	// process or another, each event goes to exactly one. limit <= 0 means
	// 100; a zero receivedBefore claims nothing.
	ClaimPendingEvents(ctx context.Context, receivedBefore time.Time, limit int) ([]Event, error)
	// DeleteDoneEventsBefore deletes up to limit done events received
	// before before (retention) and returns how many. limit <= 0 means 100:
	// callers loop, so that no transaction grows long.
	DeleteDoneEventsBefore(ctx context.Context, before time.Time, limit int) (int, error)

	GetLink(ctx context.Context, key LinkKey) (Link, error)
	// UpsertLink creates the link at l.LinkKey, or replaces the stored one
	// if its version is not newer than l.Version (equal versions: the last
	// writer wins). When the stored version is newer nothing is written and
	// ErrStaleLink is returned. A successful upsert clears Uncertain;
	// l.Uncertain and l.UncertainSince are ignored.
	UpsertLink(ctx context.Context, l Link) error
	// MarkLinkUncertain records that a write for key was sent but its
	// answer never came, at since. An existing link keeps its target,
	// version and fields and is flagged; a missing one is created flagged,
	// with no target and version 0 (so any real write replaces it). An
	// already uncertain link keeps its first UncertainSince. The flag stays
	// until an UpsertLink succeeds.
	MarkLinkUncertain(ctx context.Context, key LinkKey, since time.Time) error
	// ListUncertainLinks returns up to limit uncertain links marked before
	// before, oldest first, across tenants: for the settlement job
	// (operator maintenance), never for tenant-facing reads. limit <= 0
	// means 100.
	ListUncertainLinks(ctx context.Context, before time.Time, limit int) ([]Link, error)
	// ListLinksByTarget returns an installation's links whose partner
	// object is targetObject (provider.object) targetID, by source and
	// action: the other direction of a two-way sync reads them to find the
	// record a change belongs to, and what Accord last wrote there.
	ListLinksByTarget(ctx context.Context, tenantID, installationID, targetObject, targetID string) ([]Link, error)
	// ListLinksToObject pages through an installation's links to partner
	// objects of one kind (provider.object), ordered by source object,
	// source id and action, after the given key (zero: from the start).
	// Reconciliation reads it to find linked objects a complete listing
	// no longer shows.
	ListLinksToObject(ctx context.Context, tenantID, installationID, targetObject string, after LinkKey, limit int) ([]Link, error)
	// MergeLinks records that partner object targetObject fromID was
	// merged into toID: links to fromID point to toID, and links whose
	// source is that object (sourceObject fromID) are deleted, so no link
	// names the merged-away object. It returns how many were re-pointed
	// and deleted.
	MergeLinks(ctx context.Context, tenantID, installationID, targetObject, sourceObject, fromID, toID string) (repointed, deleted int, err error)

	InsertRecordError(ctx context.Context, e RecordError) error
	GetRecordError(ctx context.Context, tenantID, id string) (RecordError, error)
	ListRecordErrors(ctx context.Context, tenantID string, f RecordErrorFilter) ([]RecordError, error)
	SetRecordErrorStatus(ctx context.Context, tenantID, id string, status RecordErrorStatus) error

	GetDataKey(ctx context.Context, tenantID string) (DataKey, error)
	// PutDataKey creates or replaces the tenant's data key.
	PutDataKey(ctx context.Context, k DataKey) error
	// ListDataKeys pages through every tenant's data key in tenant id
	// order, for master key rotation (operator only).
	ListDataKeys(ctx context.Context, afterTenantID string, limit int) ([]DataKey, error)

	CreateOAuthState(ctx context.Context, s OAuthState) error
	// ConsumeOAuthState deletes the state and returns it; a second call
	// returns ErrNotFound. Expiry is the caller's to check.
	ConsumeOAuthState(ctx context.Context, state string) (OAuthState, error)
	// DeleteExpiredOAuthStates deletes every state that expired before now
	// (retention) and returns how many.
	DeleteExpiredOAuthStates(ctx context.Context, now time.Time) (int, error)
	// DeleteOAuthStatesForConnection deletes the pending authorizations
	// that would reconnect the connection (a disconnect cancels flows in
	// progress) and returns how many.
	DeleteOAuthStatesForConnection(ctx context.Context, tenantID, connectionID string) (int, error)

	// CreateConnectSession stores a connect link; ExpiresAt is required.
	CreateConnectSession(ctx context.Context, s ConnectSession) error
	// ConsumeConnectSession deletes the link and returns it: of any number
	// of callers, one gets it and the others ErrNotFound. Expiry is the
	// caller's to check.
	ConsumeConnectSession(ctx context.Context, tenantID, id string) (ConnectSession, error)
	// DeleteConnectSessionsForConnection deletes the open reconnect links
	// of a connection and returns how many.
	DeleteConnectSessionsForConnection(ctx context.Context, tenantID, connectionID string) (int, error)
	// DeleteExpiredConnectSessions deletes every link that expired before
	// now (retention) and returns how many.
	DeleteExpiredConnectSessions(ctx context.Context, now time.Time) (int, error)

	// AppendAudit assigns Seq, PrevHash and Hash and returns the stored entry.
	AppendAudit(ctx context.Context, e AuditEntry) (AuditEntry, error)
	ListAudit(ctx context.Context, tenantID string, afterSeq int64, limit int) ([]AuditEntry, error)

	// AcquireLease takes the lease named key for holder until now+ttl, now
	// being the store's clock. It succeeds (true) when nobody holds it, the
	// holder already holds it (renewal: the expiry moves to now+ttl), or the
	// previous holder's lease expired; otherwise it returns false and no
	// error. One atomic statement: of racing acquirers exactly one wins,
	// across processes sharing the database. Expiry compares the clocks of
	// the processes involved, so they must be roughly in sync, and ttl must
	// cover the work done under the lease. ttl <= 0 is an error; an unknown
	// tenant is ErrNotFound.
	AcquireLease(ctx context.Context, tenantID, key, holder string, ttl time.Duration) (bool, error)
	// ReleaseLease drops the lease if holder still holds it; otherwise
	// (expired and taken by another, or never held) it does nothing and
	// returns no error.
	ReleaseLease(ctx context.Context, tenantID, key, holder string) error
	// RenewLease moves the lease's expiry to now+ttl (the store's clock) if
	// holder still holds it and it has not expired, and reports whether it
	// did. Unlike AcquireLease it never takes a free or expired lease: a
	// holder that lost its lease learns so here instead of silently taking
	// it back. ttl <= 0 is an error.
	RenewLease(ctx context.Context, tenantID, key, holder string, ttl time.Duration) (bool, error)
	// ReleaseLeasesHeldBy drops every lease holder holds, in every tenant
	// and every process lease (a process shutting down), and returns how
	// many.
	ReleaseLeasesHeldBy(ctx context.Context, holder string) (int, error)
	// DeleteExpiredLeases deletes every lease, tenant or process, that
	// expired before now (retention) and returns how many.
	DeleteExpiredLeases(ctx context.Context, now time.Time) (int, error)

	// AcquireProcessLease is AcquireLease for a lease that belongs to no
	// tenant: a process's own liveness (the queue's heartbeat), not tenant
	// data. Same semantics, same clock.
	AcquireProcessLease(ctx context.Context, key, holder string, ttl time.Duration) (bool, error)
	// ReleaseProcessLease is ReleaseLease for a process lease.
	ReleaseProcessLease(ctx context.Context, key, holder string) error
	// HoldPartner records that provider told tenantID to wait until until
	// (its Retry-After), for every process; an earlier until than the one
	// stored changes nothing. An unknown tenant is ErrNotFound.
	HoldPartner(ctx context.Context, tenantID, provider string, until time.Time) error
	// ListPartnerHolds returns the holds still in force after now, across
	// tenants (each process applies them to its own rate limiter).
	ListPartnerHolds(ctx context.Context, now time.Time) ([]PartnerHold, error)
	// SetPartnerStatus records s if it changes the provider's degraded
	// flag, and reports whether it did: of several processes recording
	// the same transition at once, exactly one sees changed. A provider
	// never recorded counts as not degraded, so recording it healthy
	// changes nothing.
	SetPartnerStatus(ctx context.Context, s PartnerStatus) (changed bool, err error)
	// ListPartnerStatus returns every recorded provider's status, by
	// provider.
	ListPartnerStatus(ctx context.Context) ([]PartnerStatus, error)
	// GetSyncState reads an installation's sync state of one trigger
	// (ErrNotFound before its first run).
	GetSyncState(ctx context.Context, tenantID, installationID, trigger string) (SyncState, error)
	// PutSyncState stores s whole (insert or replace); UpdatedAt is set by
	// the caller.
	PutSyncState(ctx context.Context, s SyncState) error
	// ListSyncStates returns an installation's sync states by trigger.
	ListSyncStates(ctx context.Context, tenantID, installationID string) ([]SyncState, error)
	// PutReconciliation stores an installation's latest reconciliation
	// (replacing the previous one); GetReconciliation reads it
	// (ErrNotFound before the first).
	PutReconciliation(ctx context.Context, r Reconciliation) error
	GetReconciliation(ctx context.Context, tenantID, installationID string) (Reconciliation, error)
	// ListProcessLeases returns the process leases whose key starts with
	// keyPrefix and that have not expired by the store's clock, in key
	// order.
	ListProcessLeases(ctx context.Context, keyPrefix string) ([]ProcessLease, error)

	// DeleteEventsForConnection deletes up to limit of the connection's
	// events, whatever their state (an uninstall's purge), and returns how
	// many. limit <= 0 means 100: callers loop.
	DeleteEventsForConnection(ctx context.Context, tenantID, connectionID string, limit int) (int, error)
	// DeleteLinksForInstallation deletes up to limit of the installation's
	// links and returns how many. limit <= 0 means 100.
	DeleteLinksForInstallation(ctx context.Context, tenantID, installationID string, limit int) (int, error)
	// DeleteRecordErrorsForInstallation deletes up to limit of the
	// installation's record errors and returns how many. limit <= 0 means
	// 100.
	DeleteRecordErrorsForInstallation(ctx context.Context, tenantID, installationID string, limit int) (int, error)
	// DeleteInstallation deletes the installation row (and whatever still
	// refers to it). A missing one is ErrNotFound.
	DeleteInstallation(ctx context.Context, tenantID, id string) error
	// DeleteConnection deletes the connection row (and its events). A
	// missing one is ErrNotFound.
	DeleteConnection(ctx context.Context, tenantID, id string) error

	// CreateUninstall stores u; one per installation (ErrConflict).
	CreateUninstall(ctx context.Context, u Uninstall) error
	GetUninstall(ctx context.Context, tenantID, installationID string) (Uninstall, error)
	// UpdateUninstall writes State, Step, Steps and PurgeAfter and bumps
	// UpdatedAt.
	UpdateUninstall(ctx context.Context, u Uninstall) error

	// CreateNotifyEndpoint stores e (ErrConflict on its id).
	CreateNotifyEndpoint(ctx context.Context, e NotifyEndpoint) error
	GetNotifyEndpoint(ctx context.Context, tenantID, id string) (NotifyEndpoint, error)
	// ListNotifyEndpoints returns the tenant's endpoints, oldest first.
	ListNotifyEndpoints(ctx context.Context, tenantID string) ([]NotifyEndpoint, error)
	// UpdateNotifyEndpoint writes URL, EventTypes, Secret, PreviousSecret
	// and PreviousExpiresAt (a rotation) and bumps UpdatedAt.
	UpdateNotifyEndpoint(ctx context.Context, e NotifyEndpoint) error
	// DeleteNotifyEndpoint deletes the endpoint and its delivery log.
	DeleteNotifyEndpoint(ctx context.Context, tenantID, id string) error
	// InsertNotifyDelivery stores d (State pending when empty).
	InsertNotifyDelivery(ctx context.Context, d NotifyDelivery) error
	GetNotifyDelivery(ctx context.Context, tenantID, id string) (NotifyDelivery, error)
	// UpdateNotifyDelivery writes State, Attempts, LastStatus and LastError
	// and bumps UpdatedAt.
	UpdateNotifyDelivery(ctx context.Context, d NotifyDelivery) error
	// ListNotifyDeliveries returns an endpoint's newest deliveries first.
	// limit <= 0 means 100.
	ListNotifyDeliveries(ctx context.Context, tenantID, endpointID string, limit int) ([]NotifyDelivery, error)
	// ClaimNotifyDeliveries moves up to limit pending deliveries (oldest
	// first, across tenants: for the relay) to queued in one statement and
	// returns them: of two claimers each delivery goes to exactly one.
	// limit <= 0 means 100.
	ClaimNotifyDeliveries(ctx context.Context, limit int) ([]NotifyDelivery, error)
}

// SyncState is where an installation's sync of one schedule trigger
// stands. A run lists the partner's objects changed since Watermark page by
// page; each page's events and the state after it commit together, so a
// crash resumes at Cursor and never skips or repeats a page.
type SyncState struct {
	TenantID       string
	InstallationID string
	Trigger        string
	// Running is true while a run is under way (between its first and
	// last page); Cursor is then the next page to read ("" : the first).
	Running bool
	Cursor  string
	// RunSince is the version the run under way lists from, kept so a
	// resumed run asks the partner the same question.
	RunSince int64
	// RunMax is the newest version the run under way has seen.
	RunMax int64
	// RunStartedAt, RunRecords and RunEvents describe the run under way,
	// or the last one: objects listed, and changes among them stored as
	// events.
	RunStartedAt time.Time
	RunRecords   int64
	RunEvents    int64
	// Watermark is the newest version seen by the last complete run: the
	// next run lists from it. HasWatermark is false before the first
	// complete run (the backfill).
	Watermark    int64
	HasWatermark bool
	// Runs counts complete runs.
	Runs            int64
	LastCompletedAt time.Time
	// LastError is why the last page failed ("" after a good page).
	LastError string
	// NextRunAt is when the next run is due.
	NextRunAt time.Time
	UpdatedAt time.Time
}

// Reconciliation is the latest full compare of an installation's partner
// objects with what Accord wrote; Report is its JSON (internal/syncer).
type Reconciliation struct {
	TenantID       string
	InstallationID string
	StartedAt      time.Time
	FinishedAt     time.Time // zero while it runs
	Report         json.RawMessage
}

// PartnerStatus is whether a provider was last recorded degraded, across
// tenants (the partner-status monitor's transition record).
type PartnerStatus struct {
	Provider string
	Degraded bool
	// Reason is the monitor's reason ("errors", "latency"); empty when
	// not degraded.
	Reason    string
	ChangedAt time.Time
}

// PartnerHold is a partner's Retry-After for one tenant.
type PartnerHold struct {
	TenantID string
	Provider string
	Until    time.Time
}

// ProcessLease is a lease held by a process rather than for a tenant's
// object: it says the process is alive while it keeps renewing it.
type ProcessLease struct {
	Key       string
	Holder    string
	ExpiresAt time.Time
}

// Tx is a write transaction. Its Queries see and make changes inside it.
type Tx interface {
	Queries
	// LockConnection reads the connection and holds a lock on it until the
	// transaction ends (PostgreSQL: SELECT … FOR UPDATE; SQLite: the single
	// writer already serialises write transactions).
	LockConnection(ctx context.Context, tenantID, id string) (Connection, error)
	// Driver returns the underlying transaction (*sql.Tx for SQLite,
	// pgx.Tx for PostgreSQL) so the queue can insert jobs in it.
	Driver() any
}

// Store is the persistence of one Accord deployment.
type Store interface {
	Queries
	// InTx runs fn in one write transaction, committed when fn returns nil
	// and rolled back otherwise. Keep fn short: on SQLite it holds the
	// single writer.
	InTx(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
	// Migrate applies Accord's own migrations (River's are the queue's).
	Migrate(ctx context.Context) error
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	Dialect() Dialect
	// Driver returns the handle the queue is built on: *sql.DB (the
	// writer) for SQLite, *pgxpool.Pool for PostgreSQL.
	Driver() any
	Close() error
}
