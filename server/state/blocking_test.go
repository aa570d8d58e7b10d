package state

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hashicorp/go-memdb"

	"github.com/drover-project/drover/server/state/statetest"
	"github.com/drover-project/drover/structs"
)

// jobQuery is a blocking query for job "web", as an endpoint would write it.
func jobQuery(got **structs.Job) QueryFunc {
	return func(ws memdb.WatchSet, s *StateStore) (uint64, error) {
		j, err := s.JobByID(ws, structs.DefaultNamespace, "web")
		if err != nil {
			return 0, err
		}
		*got = j
		return s.Index(TableJobs)
	}
}

func TestBlockingQueryWakesOnWrite(t *testing.T) {
	s := newStore(t)
	must(t, s.UpsertJob(10, statetest.Job("web")))

	done := make(chan error, 1)
	ran := make(chan struct{}, 10)
	var got *structs.Job
	query := jobQuery(&got)
	counted := func(ws memdb.WatchSet, s *StateStore) (uint64, error) {
		ran <- struct{}{}
		return query(ws, s)
	}
	go func() { done <- s.BlockingQuery(context.Background(), 10, time.Minute, counted) }()
	<-ran

	// A write to another table does not wake it; a write to the job does.
	must(t, s.UpsertNode(11, statetest.Node("n1")))
	changed := statetest.Job("web")
	changed.Priority = 70
	must(t, s.UpsertJob(12, changed))
	select {
	case err := <-done:
		must(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("blocking query did not wake on the write")
	}
	if runs := 1 + len(ran); runs != 2 {
		t.Fatalf("query ran %d times, want 2 (once, then once after the job changed)", runs)
	}
	if got.Priority != 70 || got.ModifyIndex != 12 {
		t.Fatalf("answer = priority %d index %d", got.Priority, got.ModifyIndex)
	}
}

func TestBlockingQueryAnswersAtOnce(t *testing.T) {
	s := newStore(t)
	must(t, s.UpsertJob(10, statetest.Job("web")))
	var got *structs.Job
	for _, minIndex := range []uint64{0, 9} {
		got = nil
		must(t, s.BlockingQuery(context.Background(), minIndex, time.Minute, jobQuery(&got)))
		if got == nil {
			t.Fatalf("min index %d: no answer", minIndex)
		}
	}
}

func TestBlockingQueryTimesOutWithTheLastAnswer(t *testing.T) {
	s := newStore(t)
	must(t, s.UpsertJob(10, statetest.Job("web")))
	var got *structs.Job
	must(t, s.BlockingQuery(context.Background(), 10, 20*time.Millisecond, jobQuery(&got)))
	if got == nil || got.ModifyIndex != 10 {
		t.Fatalf("answer after timeout = %+v", got)
	}
}

func TestBlockingQueryStopsWithItsContext(t *testing.T) {
	s := newStore(t)
	must(t, s.UpsertJob(10, statetest.Job("web")))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var got *structs.Job
	go func() { done <- s.BlockingQuery(ctx, 10, time.Minute, jobQuery(&got)) }()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("blocking query ignored its context")
	}
}

func TestBlockingQueryMovesToTheRestoredStore(t *testing.T) {
	old := newStore(t)
	must(t, old.UpsertJob(10, statetest.Job("web")))

	done := make(chan error, 1)
	var got *structs.Job
	go func() { done <- old.BlockingQuery(context.Background(), 10, time.Minute, jobQuery(&got)) }()

	restored := newStore(t)
	r := restored.Restore()
	job := mustJob(t, old, "web")
	job.ModifyIndex = 50
	must(t, r.JobRestore(job))
	must(t, r.IndexRestore(TableJobs, 50))
	r.Commit()
	old.Abandon(restored)

	select {
	case err := <-done:
		must(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("blocking query did not wake on abandon")
	}
	if got == nil || got.ModifyIndex != 50 {
		t.Fatalf("answer = %+v, want the restored job", got)
	}
}

func TestBlockingQueryOnAnAbandonedStoreWithoutReplacement(t *testing.T) {
	s := newStore(t)
	must(t, s.UpsertJob(10, statetest.Job("web")))
	s.Abandon(nil)
	var got *structs.Job
	if err := s.BlockingQuery(context.Background(), 10, time.Minute, jobQuery(&got)); !errors.Is(err, ErrAbandoned) {
		t.Fatalf("err = %v, want ErrAbandoned", err)
	}
}
