package credential

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/accordhq/accord/internal/store"
)

// ErrDecrypt is returned when a sealed value or a wrapped key does not
// open: it was tampered with, truncated, sealed for another tenant, or
// sealed with a data key that no longer exists. The error never says which,
// and never carries the ciphertext.
var ErrDecrypt = errors.New("credential: cannot decrypt")

// sealVersion1 is AES-256-GCM, 12-byte random nonce, tenant-bound AAD.
const sealVersion1 byte = 1

const dataKeySize = 32

// DataKeyCreator is an optional store capability: an insert that fails with
// store.ErrConflict when the tenant already has a data key. With it, two
// processes creating the first key of a tenant at once cannot overwrite each
// other's key (which would make whatever the loser sealed unreadable).
// Without it the vault checks and writes inside one transaction that first
// appends to the tenant's audit chain, which every store serialises per
// tenant.
type DataKeyCreator interface {
	CreateDataKey(ctx context.Context, k store.DataKey) error
}

// Config configures a Vault. The zero value is usable.
type Config struct {
	// CacheSize bounds the number of unwrapped data keys kept in memory
	// (least recently used evicted first). Default 10,000.
	CacheSize int
	// RotatePageSize is how many data keys RotateMaster reads per page.
	// Default 100.
	RotatePageSize int
	// Logger receives key lifecycle events (never key material). Default:
	// discard.
	Logger *slog.Logger
	// Now is the clock stamped on data keys. Default time.Now.
	Now func() time.Time
}

func (c *Config) withDefaults() Config {
	out := Config{}
	if c != nil {
		out = *c
	}
	if out.CacheSize <= 0 {
		out.CacheSize = 10_000
	}
	if out.RotatePageSize <= 0 {
		out.RotatePageSize = 100
	}
	if out.Logger == nil {
		out.Logger = slog.New(slog.DiscardHandler)
	}
	if out.Now == nil {
		out.Now = time.Now
	}
	return out
}

// Vault seals and opens tenant secrets with per-tenant data keys. It is
// safe for concurrent use.
type Vault struct {
	st    store.Store
	cfg   Config
	mu    sync.RWMutex
	kms   KMS
	cache *keyCache
	group singleflight.Group
}

// NewVault returns a vault storing wrapped data keys in st and wrapping
// them with kms.
func NewVault(st store.Store, kms KMS, cfg *Config) (*Vault, error) {
	if st == nil || kms == nil {
		return nil, errors.New("credential: NewVault needs a store and a KMS")
	}
	c := cfg.withDefaults()
	return &Vault{st: st, kms: kms, cfg: c, cache: newKeyCache(c.CacheSize)}, nil
}

func (v *Vault) currentKMS() KMS {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.kms
}

// Seal encrypts plaintext for tenantID, creating the tenant's data key on
// first use.
func (v *Vault) Seal(ctx context.Context, tenantID string, plaintext []byte) ([]byte, error) {
	aead, err := v.tenantAEAD(ctx, tenantID, true)
	if err != nil {
		return nil, err
	}
	ns := aead.NonceSize()
	out := make([]byte, 1+ns, 1+ns+len(plaintext)+aead.Overhead())
	out[0] = sealVersion1
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("credential: nonce: %w", err)
	}
	return aead.Seal(out, out[1:], plaintext, sealAAD(tenantID)), nil
}

// Open decrypts a value sealed by Seal for the same tenant. Anything else
// (another tenant's value, a modified byte, an unknown version) returns an
// error wrapping ErrDecrypt.
func (v *Vault) Open(ctx context.Context, tenantID string, sealed []byte) ([]byte, error) {
	if len(sealed) == 0 || sealed[0] != sealVersion1 {
		return nil, fmt.Errorf("credential: unknown sealed format: %w", ErrDecrypt)
	}
	aead, err := v.tenantAEAD(ctx, tenantID, false)
	if err != nil {
		return nil, err
	}
	ns := aead.NonceSize()
	if len(sealed) < 1+ns+aead.Overhead() {
		return nil, fmt.Errorf("credential: truncated: %w", ErrDecrypt)
	}
	pt, err := aead.Open(nil, sealed[1:1+ns], sealed[1+ns:], sealAAD(tenantID))
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}

// SealSecret encodes and seals a Secret.
func (v *Vault) SealSecret(ctx context.Context, tenantID string, s Secret) ([]byte, error) {
	b, err := s.encode()
	if err != nil {
		return nil, fmt.Errorf("credential: encoding secret: %w", err)
	}
	return v.Seal(ctx, tenantID, b)
}

// OpenSecret opens a value sealed by SealSecret. An empty input yields the
// zero Secret (a connection that has none, e.g. after disconnect).
func (v *Vault) OpenSecret(ctx context.Context, tenantID string, sealed []byte) (Secret, error) {
	if len(sealed) == 0 {
		return Secret{}, nil
	}
	b, err := v.Open(ctx, tenantID, sealed)
	if err != nil {
		return Secret{}, err
	}
	return decodeSecret(b)
}

// RotateMaster re-wraps every tenant's data key with next and makes next
// the vault's wrapping KMS. Sealed values are untouched (their data keys do
// not change), so the rotation is fast and the engine keeps running: cached
// keys keep working, and until the rotation ends this vault unwraps with
// both the previous KMS and next. A data key already wrapped by next's
// master key is skipped, so an interrupted rotation can simply be run
// again. It returns how many data keys it re-wrapped.
//
// Other processes must be able to unwrap with both master keys for the
// duration (configure their LocalKMS with the new key as a retired key, or
// point them at the same cloud KMS).
func (v *Vault) RotateMaster(ctx context.Context, next KMS) (int, error) {
	v.mu.Lock()
	prev := v.kms
	v.kms = rotatingKMS{next: next, prev: prev}
	unwrapper := v.kms
	v.mu.Unlock()

	rewrapped := 0
	after := ""
	for {
		page, err := v.st.ListDataKeys(ctx, after, v.cfg.RotatePageSize)
		if err != nil {
			return rewrapped, fmt.Errorf("rotating master key: listing data keys: %w", err)
		}
		for _, k := range page {
			after = k.TenantID
			dk, err := unwrapper.Unwrap(ctx, k.Wrapped, k.MasterKeyID)
			if err != nil {
				return rewrapped, fmt.Errorf("rotating master key: tenant %s: %w", k.TenantID, err)
			}
			wrapped, id, err := next.Wrap(ctx, dk)
			clear(dk)
			if err != nil {
				return rewrapped, fmt.Errorf("rotating master key: tenant %s: %w", k.TenantID, err)
			}
			if id == k.MasterKeyID {
				continue
			}
			k.Wrapped, k.MasterKeyID, k.UpdatedAt = wrapped, id, v.cfg.Now()
			if err := v.st.PutDataKey(ctx, k); err != nil {
				return rewrapped, fmt.Errorf("rotating master key: tenant %s: %w", k.TenantID, err)
			}
			rewrapped++
		}
		if len(page) < v.cfg.RotatePageSize {
			break
		}
	}
	v.cfg.Logger.InfoContext(ctx, "master key rotated", "rewrapped", rewrapped)
	return rewrapped, nil
}

// tenantAEAD returns the tenant's cipher, loading (and with create, making)
// its data key. Concurrent callers for one tenant share one load.
func (v *Vault) tenantAEAD(ctx context.Context, tenantID string, create bool) (cipher.AEAD, error) {
	if tenantID == "" {
		return nil, errors.New("credential: empty tenant id")
	}
	if aead, ok := v.cache.get(tenantID); ok {
		return aead, nil
	}
	key := tenantID
	if create {
		// Open must never create a key, so readers and creators fly apart.
		key = "create\x00" + tenantID
	}
	res, err, _ := v.group.Do(key, func() (any, error) {
		if aead, ok := v.cache.get(tenantID); ok {
			return aead, nil
		}
		aead, err := v.loadAEAD(ctx, tenantID, create)
		if err != nil {
			return nil, err
		}
		v.cache.put(tenantID, aead)
		return aead, nil
	})
	if err != nil {
		return nil, err
	}
	return res.(cipher.AEAD), nil
}

func (v *Vault) loadAEAD(ctx context.Context, tenantID string, create bool) (cipher.AEAD, error) {
	k, err := v.st.GetDataKey(ctx, tenantID)
	switch {
	case err == nil:
		return v.unwrapAEAD(ctx, k)
	case !errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("credential: loading data key: %w", err)
	case !create:
		return nil, fmt.Errorf("credential: tenant has no data key: %w", ErrDecrypt)
	}

	dk := make([]byte, dataKeySize)
	if _, err := rand.Read(dk); err != nil {
		return nil, fmt.Errorf("credential: generating data key: %w", err)
	}
	defer clear(dk)
	wrapped, keyID, err := v.currentKMS().Wrap(ctx, dk)
	if err != nil {
		return nil, fmt.Errorf("credential: wrapping data key: %w", err)
	}
	now := v.cfg.Now()
	nk := store.DataKey{TenantID: tenantID, MasterKeyID: keyID, Wrapped: wrapped, CreatedAt: now, UpdatedAt: now}

	stored, err := v.createDataKey(ctx, nk)
	if err != nil {
		return nil, err
	}
	if stored.MasterKeyID != nk.MasterKeyID || string(stored.Wrapped) != string(nk.Wrapped) {
		// Another process created the tenant's key first: use theirs.
		return v.unwrapAEAD(ctx, stored)
	}
	v.cfg.Logger.InfoContext(ctx, "data key created", "tenant_id", tenantID, "master_key_id", keyID)
	return newGCM(dk)
}

// createDataKey stores nk unless the tenant already has a key, and returns
// the key that is stored afterwards.
func (v *Vault) createDataKey(ctx context.Context, nk store.DataKey) (store.DataKey, error) {
	if c, ok := v.st.(DataKeyCreator); ok {
		err := c.CreateDataKey(ctx, nk)
		if errors.Is(err, store.ErrConflict) {
			k, err := v.st.GetDataKey(ctx, nk.TenantID)
			if err != nil {
				return store.DataKey{}, fmt.Errorf("credential: loading data key: %w", err)
			}
			return k, nil
		}
		if err != nil {
			return store.DataKey{}, fmt.Errorf("credential: storing data key: %w", err)
		}
		return nk, nil
	}
	stored := nk
	err := v.st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		// AppendAudit serialises writers per tenant (it locks the tenant's
		// chain), so two processes creating the tenant's first key queue
		// here, and the second then sees the first one's key.
		detail, _ := json.Marshal(map[string]string{"master_key_id": nk.MasterKeyID})
		if _, err := tx.AppendAudit(ctx, store.AuditEntry{
			TenantID: nk.TenantID, Actor: "accord", Action: "vault.data_key_created", Subject: nk.TenantID, Detail: detail,
		}); err != nil {
			return err
		}
		k, err := tx.GetDataKey(ctx, nk.TenantID)
		if err == nil {
			stored = k
			return errKeyExists // roll back the audit entry: nothing was created
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return tx.PutDataKey(ctx, nk)
	})
	if err != nil && !errors.Is(err, errKeyExists) {
		return store.DataKey{}, fmt.Errorf("credential: storing data key: %w", err)
	}
	return stored, nil
}

var errKeyExists = errors.New("credential: data key exists")

func (v *Vault) unwrapAEAD(ctx context.Context, k store.DataKey) (cipher.AEAD, error) {
	dk, err := v.currentKMS().Unwrap(ctx, k.Wrapped, k.MasterKeyID)
	if err != nil {
		return nil, fmt.Errorf("credential: unwrapping data key: %w", err)
	}
	defer clear(dk)
	if len(dk) != dataKeySize {
		return nil, fmt.Errorf("credential: data key has wrong size: %w", ErrDecrypt)
	}
	return newGCM(dk)
}

// sealAAD binds a sealed value to its tenant and format version.
func sealAAD(tenantID string) []byte { return []byte("accord/secret/v1/" + tenantID) }
