package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// ErrAuditChainBroken is matched (errors.Is) by every AuditChainError.
var ErrAuditChainBroken = errors.New("store: audit chain broken")

// AuditChainError says at which entry an audit chain stops verifying, and why.
type AuditChainError struct {
	TenantID string
	Seq      int64
	Reason   string
}

func (e *AuditChainError) Error() string {
	return fmt.Sprintf("store: audit chain broken at tenant %q seq %d: %s", e.TenantID, e.Seq, e.Reason)
}

// Is lets callers test with errors.Is(err, ErrAuditChainBroken).
func (e *AuditChainError) Is(target error) bool { return target == ErrAuditChainBroken }

// auditHashVersion is hashed first so a future change of the encoding cannot
// produce a hash that collides with one made by this version.
const auditHashVersion = "accord-audit-v1"

// AuditHash returns sha256(prev || canonical(e)). The canonical encoding is
// length-prefixed (so no two field splits encode alike) and uses CreatedAt as
// UTC Unix microseconds, the precision both databases keep: an entry hashes
// the same before it is stored and after it is read back.
//
// Stores call it from AppendAudit; it ignores e.PrevHash and e.Hash.
func AuditHash(prev []byte, e AuditEntry) []byte {
	h := sha256.New()
	h.Write(prev)
	var buf bytes.Buffer
	writeField := func(b []byte) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		buf.Write(n[:])
		buf.Write(b)
	}
	writeInt := func(v int64) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(v))
		writeField(n[:])
	}
	writeField([]byte(auditHashVersion))
	writeField([]byte(e.TenantID))
	writeInt(e.Seq)
	writeField([]byte(e.Actor))
	writeField([]byte(e.Action))
	writeField([]byte(e.Subject))
	writeField(e.Detail)
	writeInt(AuditTime(e.CreatedAt).UnixMicro())
	h.Write(buf.Bytes())
	return h.Sum(nil)
}

// AuditTime normalises a timestamp the way stores keep it: UTC, truncated to
// the microsecond.
func AuditTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// VerifyAuditChain checks entries, one tenant's audit log in Seq order as
// ListAudit returns it: Seq has no gaps, every PrevHash is the previous
// entry's Hash (and empty for Seq 1), and every Hash matches its content. A
// page that starts after Seq 1 is checked from its first entry on, trusting
// that entry's PrevHash. It returns nil or an *AuditChainError.
func VerifyAuditChain(entries []AuditEntry) error {
	for i, e := range entries {
		fail := func(reason string) error {
			return &AuditChainError{TenantID: e.TenantID, Seq: e.Seq, Reason: reason}
		}
		if i == 0 {
			if e.Seq < 1 {
				return fail("seq must start at 1")
			}
			if e.Seq == 1 && len(e.PrevHash) != 0 {
				return fail("first entry has a previous hash")
			}
		} else {
			prev := entries[i-1]
			if e.TenantID != prev.TenantID {
				return fail("entries of two tenants in one chain")
			}
			if e.Seq != prev.Seq+1 {
				return fail(fmt.Sprintf("seq follows %d", prev.Seq))
			}
			if !bytes.Equal(e.PrevHash, prev.Hash) {
				return fail("previous hash does not match the previous entry")
			}
		}
		if !bytes.Equal(e.Hash, AuditHash(e.PrevHash, e)) {
			return fail("hash does not match the entry's content")
		}
	}
	return nil
}
