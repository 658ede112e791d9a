package credential

import (
	"context"
	"errors"
)

// ErrUnknownKey is returned by a KMS asked to unwrap with a key id it does
// not hold (for example a data key wrapped by a master key that was retired
// before a rotation finished).
var ErrUnknownKey = errors.New("credential: unknown master key id")

// KMS wraps and unwraps data keys with a master key it never reveals.
//
// Implementations must be safe for concurrent use.
type KMS interface {
	// Wrap encrypts a data key with the current master key and returns the
	// wrapped key and the id of the master key that wrapped it (stored next
	// to the wrapped key so Unwrap can pick the right master key later).
	Wrap(ctx context.Context, dataKey []byte) (wrapped []byte, keyID string, err error)
	// Unwrap decrypts a data key wrapped by the master key keyID. It returns
	// ErrUnknownKey when it does not hold keyID, and an error wrapping
	// ErrDecrypt when the wrapped key was tampered with.
	Unwrap(ctx context.Context, wrapped []byte, keyID string) ([]byte, error)
}

// rotatingKMS wraps with the new master key and unwraps with whichever of
// the new and old KMS holds the key id: data keys are re-wrapped one by one
// during a rotation, so both kinds exist side by side until it ends.
type rotatingKMS struct {
	next, prev KMS
}

var _ KMS = rotatingKMS{}

func (r rotatingKMS) Wrap(ctx context.Context, dataKey []byte) ([]byte, string, error) {
	return r.next.Wrap(ctx, dataKey)
}

func (r rotatingKMS) Unwrap(ctx context.Context, wrapped []byte, keyID string) ([]byte, error) {
	dk, err := r.next.Unwrap(ctx, wrapped, keyID)
	if errors.Is(err, ErrUnknownKey) {
		return r.prev.Unwrap(ctx, wrapped, keyID)
	}
	return dk, err
}
