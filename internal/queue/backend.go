package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
	"riverqueue.com/riverui"
	"riverqueue.com/riverui/uiendpoints"
)

// backend is everything Queue needs from River, without River's
// transaction type parameter: riverBackend[*sql.Tx] serves SQLite and
// riverBackend[pgx.Tx] PostgreSQL.
type backend interface {
	insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	insertTx(ctx context.Context, tx any, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	insertMany(ctx context.Context, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)
	insertManyTx(ctx context.Context, tx any, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)
	deleteWaitingTx(ctx context.Context, tx any, ids []int64) (int, error)
	start(ctx context.Context) error
	stop(ctx context.Context) error
	stopAndCancel(ctx context.Context) error
	subscribe(kinds []river.EventKind) (<-chan *river.Event, func())
	subscribeSized(size int, kinds []river.EventKind) (<-chan *river.Event, func())
	clientID() string
	jobGet(ctx context.Context, id int64) (*rivertype.JobRow, error)
	jobCancel(ctx context.Context, id int64) (*rivertype.JobRow, error)
	jobRetry(ctx context.Context, id int64) (*rivertype.JobRow, error)
	jobList(ctx context.Context, params *river.JobListParams) (*river.JobListResult, error)
	rescue(ctx context.Context, jobs []*rivertype.JobRow, reason string) error
	uiEndpoints() uiendpoints.Bundle
	countByState(ctx context.Context, state rivertype.JobState) (int, error)
	ping(ctx context.Context) error
	migrate(ctx context.Context, logger *slog.Logger) error
}

type riverBackend[TTx any] struct {
	client *river.Client[TTx]
	driver riverdriver.Driver[TTx]
	schema string
}

func newRiverBackend[TTx any](driver riverdriver.Driver[TTx], cfg *river.Config) (*riverBackend[TTx], error) {
	client, err := river.NewClient(driver, cfg)
	if err != nil {
		return nil, fmt.Errorf("queue: creating river client: %w", err)
	}
	return &riverBackend[TTx]{client: client, driver: driver, schema: cfg.Schema}, nil
}

// tx unwraps a store transaction's driver handle.
func (b *riverBackend[TTx]) tx(tx any) (TTx, error) {
	t, ok := tx.(TTx)
	if !ok {
		var zero TTx
		return zero, fmt.Errorf("%w: got %T, want %s", ErrWrongTx, tx, reflect.TypeFor[TTx]())
	}
	return t, nil
}

func (b *riverBackend[TTx]) insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	return b.client.Insert(ctx, args, opts)
}

func (b *riverBackend[TTx]) insertTx(ctx context.Context, tx any, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	t, err := b.tx(tx)
	if err != nil {
		return nil, err
	}
	return b.client.InsertTx(ctx, t, args, opts)
}

func (b *riverBackend[TTx]) insertMany(ctx context.Context, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error) {
	return b.client.InsertMany(ctx, params)
}

func (b *riverBackend[TTx]) insertManyTx(ctx context.Context, tx any, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error) {
	t, err := b.tx(tx)
	if err != nil {
		return nil, err
	}
	return b.client.InsertManyTx(ctx, t, params)
}

func (b *riverBackend[TTx]) deleteWaitingTx(ctx context.Context, tx any, ids []int64) (int, error) {
	t, err := b.tx(tx)
	if err != nil {
		return 0, err
	}
	params := river.NewJobDeleteManyParams().IDs(ids...).First(len(ids)).
		States(rivertype.JobStateAvailable, rivertype.JobStateScheduled, rivertype.JobStateRetryable)
	res, err := b.client.JobDeleteManyTx(ctx, t, params)
	if err != nil {
		return 0, err
	}
	return len(res.Jobs), nil
}

func (b *riverBackend[TTx]) start(ctx context.Context) error { return b.client.Start(ctx) }
func (b *riverBackend[TTx]) stop(ctx context.Context) error  { return b.client.Stop(ctx) }
func (b *riverBackend[TTx]) stopAndCancel(ctx context.Context) error {
	return b.client.StopAndCancel(ctx)
}

func (b *riverBackend[TTx]) subscribe(kinds []river.EventKind) (<-chan *river.Event, func()) {
	return b.client.Subscribe(kinds...)
}

func (b *riverBackend[TTx]) subscribeSized(size int, kinds []river.EventKind) (<-chan *river.Event, func()) {
	return b.client.SubscribeConfig(&river.SubscribeConfig{ChanSize: size, Kinds: kinds})
}

func (b *riverBackend[TTx]) clientID() string { return b.client.ID() }

func (b *riverBackend[TTx]) jobGet(ctx context.Context, id int64) (*rivertype.JobRow, error) {
	return b.client.JobGet(ctx, id)
}

func (b *riverBackend[TTx]) jobCancel(ctx context.Context, id int64) (*rivertype.JobRow, error) {
	return b.client.JobCancel(ctx, id)
}

func (b *riverBackend[TTx]) jobRetry(ctx context.Context, id int64) (*rivertype.JobRow, error) {
	return b.client.JobRetry(ctx, id)
}

func (b *riverBackend[TTx]) jobList(ctx context.Context, params *river.JobListParams) (*river.JobListResult, error) {
	return b.client.JobList(ctx, params)
}

func (b *riverBackend[TTx]) countByState(ctx context.Context, state rivertype.JobState) (int, error) {
	return b.driver.GetExecutor().JobCountByState(ctx, &riverdriver.JobCountByStateParams{Schema: b.schema, State: state})
}

func (b *riverBackend[TTx]) ping(ctx context.Context) error {
	return b.driver.GetExecutor().Ping(ctx)
}

func (b *riverBackend[TTx]) migrate(ctx context.Context, logger *slog.Logger) error {
	m, err := rivermigrate.New(b.driver, &rivermigrate.Config{Logger: logger, Schema: b.schema})
	if err != nil {
		return err
	}
	_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	return err
}

// notFound maps River's not-found to ours.
func notFound(err error) error {
	if errors.Is(err, rivertype.ErrNotFound) {
		return ErrJobNotFound
	}
	return err
}

// rescue makes running jobs available now (retryable with no delay once
// their attempts are spent would be River's choice; these were cut short,
// not failed, so they keep their attempt budget), recording why.
func (b *riverBackend[TTx]) rescue(ctx context.Context, jobs []*rivertype.JobRow, reason string) error {
	now := time.Now().UTC()
	p := &riverdriver.JobRescueManyParams{Schema: b.schema, StuckHorizon: now}
	for _, j := range jobs {
		msg, err := json.Marshal(rivertype.AttemptError{At: now, Attempt: j.Attempt, Error: reason})
		if err != nil {
			return err
		}
		state := rivertype.JobStateAvailable
		if j.Attempt >= j.MaxAttempts {
			state = rivertype.JobStateDiscarded
		}
		var finalized *time.Time
		if state == rivertype.JobStateDiscarded {
			finalized = &now
		}
		p.ID = append(p.ID, j.ID)
		p.Error = append(p.Error, msg)
		p.FinalizedAt = append(p.FinalizedAt, finalized)
		p.ScheduledAt = append(p.ScheduledAt, now)
		p.State = append(p.State, string(state))
	}
	_, err := b.driver.GetExecutor().JobRescueMany(ctx, p)
	return err
}

// uiEndpoints is River UI's API over this client.
func (b *riverBackend[TTx]) uiEndpoints() uiendpoints.Bundle {
	return riverui.NewEndpoints(b.client, nil)
}
