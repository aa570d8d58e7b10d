// Package state is the client's memory across restarts: which allocations
// it runs and, for each task, the driver handle and the last task state. A
// restarted client reads it to re-attach to running containers instead of
// starting them again. It is a bbolt file in the data directory.
package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/drover-project/drover/client/driver"
	"github.com/drover-project/drover/structs"
)

// Layout: allocs/<alloc_id>/{alloc, tasks/<task>/{handle, state}}.
var (
	allocsBucket = []byte("allocs")
	tasksBucket  = []byte("tasks")
	allocKey     = []byte("alloc")
	handleKey    = []byte("handle")
	stateKey     = []byte("state")
)

// DB is the client's state file.
type DB struct {
	bolt *bolt.DB
}

// Open opens (or creates) the state file at path. It fails after a few
// seconds if another process holds the file.
func Open(path string) (*DB, error) {
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("client state: open %s: %w", path, err)
	}
	err = b.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(allocsBucket)
		return err
	})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("client state: %w", err), b.Close())
	}
	return &DB{bolt: b}, nil
}

// Close closes the file.
func (db *DB) Close() error { return db.bolt.Close() }

// PutAllocation records an allocation the client runs.
func (db *DB) PutAllocation(a *structs.Allocation) error {
	return db.update(a.ID, func(b *bolt.Bucket) error { return putJSON(b, allocKey, a) })
}

// Allocations returns every recorded allocation.
func (db *DB) Allocations() ([]*structs.Allocation, error) {
	var out []*structs.Allocation
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(allocsBucket).ForEachBucket(func(id []byte) error {
			raw := tx.Bucket(allocsBucket).Bucket(id).Get(allocKey)
			if raw == nil {
				return nil // tasks recorded before the alloc itself: skip
			}
			var a structs.Allocation
			if err := json.Unmarshal(raw, &a); err != nil {
				return fmt.Errorf("alloc %s: %w", id, err)
			}
			out = append(out, &a)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("client state: %w", err)
	}
	return out, nil
}

// DeleteAllocation forgets an allocation and its tasks.
func (db *DB) DeleteAllocation(allocID string) error {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		err := tx.Bucket(allocsBucket).DeleteBucket([]byte(allocID))
		if errors.Is(err, bolt.ErrBucketNotFound) {
			return nil
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("client state: delete alloc %s: %w", allocID, err)
	}
	return nil
}

// PutTaskHandle records the driver handle of a running task; nil forgets it.
func (db *DB) PutTaskHandle(allocID, task string, h *driver.TaskHandle) error {
	return db.updateTask(allocID, task, func(b *bolt.Bucket) error {
		if h == nil {
			return b.Delete(handleKey)
		}
		return putJSON(b, handleKey, h)
	})
}

// PutTaskState records a task's state (events, restarts).
func (db *DB) PutTaskState(allocID, task string, s *structs.TaskState) error {
	return db.updateTask(allocID, task, func(b *bolt.Bucket) error { return putJSON(b, stateKey, s) })
}

// TaskRecord is what is remembered of one task; either field may be nil.
type TaskRecord struct {
	Handle *driver.TaskHandle
	State  *structs.TaskState
}

// Tasks returns the recorded tasks of an allocation, by name.
func (db *DB) Tasks(allocID string) (map[string]*TaskRecord, error) {
	out := map[string]*TaskRecord{}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		ab := tx.Bucket(allocsBucket).Bucket([]byte(allocID))
		if ab == nil {
			return nil
		}
		tb := ab.Bucket(tasksBucket)
		if tb == nil {
			return nil
		}
		return tb.ForEachBucket(func(name []byte) error {
			b := tb.Bucket(name)
			rec := &TaskRecord{}
			if raw := b.Get(handleKey); raw != nil {
				rec.Handle = &driver.TaskHandle{}
				if err := json.Unmarshal(raw, rec.Handle); err != nil {
					return fmt.Errorf("task %s handle: %w", name, err)
				}
			}
			if raw := b.Get(stateKey); raw != nil {
				rec.State = &structs.TaskState{}
				if err := json.Unmarshal(raw, rec.State); err != nil {
					return fmt.Errorf("task %s state: %w", name, err)
				}
			}
			out[string(name)] = rec
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("client state: alloc %s: %w", allocID, err)
	}
	return out, nil
}

// update runs fn on the allocation's bucket, creating it.
func (db *DB) update(allocID string, fn func(b *bolt.Bucket) error) error {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b, err := tx.Bucket(allocsBucket).CreateBucketIfNotExists([]byte(allocID))
		if err != nil {
			return err
		}
		return fn(b)
	})
	if err != nil {
		return fmt.Errorf("client state: alloc %s: %w", allocID, err)
	}
	return nil
}

// updateTask runs fn on the task's bucket, creating it.
func (db *DB) updateTask(allocID, task string, fn func(b *bolt.Bucket) error) error {
	return db.update(allocID, func(ab *bolt.Bucket) error {
		tb, err := ab.CreateBucketIfNotExists(tasksBucket)
		if err != nil {
			return err
		}
		b, err := tb.CreateBucketIfNotExists([]byte(task))
		if err != nil {
			return err
		}
		return fn(b)
	})
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, raw)
}
