package queue_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/riverqueue/river"

	"github.com/accordhq/accord/internal/queue"
	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/sqlite"
)

type greetArgs struct {
	Name string `json:"name"`
}

func (greetArgs) Kind() string { return "greet" }

// A worker process: register a kind, build the Queue over the store, and
// enqueue a job in the same transaction as the rows that caused it.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "accord-queue-example")
	defer os.RemoveAll(dir)
	quiet := slog.New(slog.DiscardHandler)
	st, err := sqlite.Open(ctx, filepath.Join(dir, "accord.db"), &sqlite.Config{Logger: quiet})
	if err != nil {
		panic(err)
	}
	defer st.Close()

	done := make(chan struct{})
	reg := queue.NewRegistry()
	if err := queue.AddWorker(reg, river.WorkFunc(func(ctx context.Context, job *river.Job[greetArgs]) error {
		fmt.Println("hello,", job.Args.Name)
		close(done)
		return nil
	})); err != nil {
		panic(err)
	}

	q, err := queue.New(st, reg, &queue.Config{Workers: true, Logger: quiet})
	if err != nil {
		panic(err)
	}
	if err := st.Migrate(ctx); err != nil {
		panic(err)
	}
	if err := q.Migrate(ctx); err != nil {
		panic(err)
	}
	if err := q.Start(ctx); err != nil {
		panic(err)
	}
	defer q.Stop(ctx)

	err = st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreateTenant(ctx, store.Tenant{ID: "t1", Name: "Acme"}); err != nil {
			return err
		}
		_, err := q.InsertTx(ctx, tx, greetArgs{Name: "Acme"}, nil)
		return err
	})
	if err != nil {
		panic(err)
	}
	<-done
	// Output: hello, Acme
}
