package row

import (
	"context"

	"github.com/accordhq/accord/internal/store"
)

// InTx runs fn in one transaction of inTx (a Store's InTx method) and
// returns fn's result: for the Store methods that must not run outside a
// transaction even when the caller did not open one.
func InTx[T any](ctx context.Context, inTx func(context.Context, func(context.Context, store.Tx) error) error,
	fn func(ctx context.Context, tx store.Tx) (T, error)) (T, error) {
	var out T
	err := inTx(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		out, err = fn(ctx, tx)
		return err
	})
	return out, err
}
