package state

import (
	"errors"
	"fmt"

	"github.com/hashicorp/go-memdb"

	"github.com/drover-project/drover/structs"
)

// TableSchedulerConfig holds the one cluster-wide scheduler configuration.
const TableSchedulerConfig = "scheduler_config"

// ErrCASMismatch is a check-and-set write whose index was not current.
var ErrCASMismatch = errors.New("check-and-set index does not match the current configuration")

const schedulerConfigID = "scheduler"

// schedulerConfigRow stores the configuration under a fixed key.
type schedulerConfigRow struct {
	ID     string
	Config *structs.SchedulerConfiguration
}

func schedulerConfigSchema() *memdb.TableSchema {
	return &memdb.TableSchema{Name: TableSchedulerConfig, Indexes: map[string]*memdb.IndexSchema{indexID: byID()}}
}

// SchedulerConfig returns the scheduler configuration: what was set, or
// the defaults (with indexes 0) when nothing was.
func (r *Reader) SchedulerConfig(ws memdb.WatchSet) (*structs.SchedulerConfiguration, error) {
	row, err := first(r, ws, TableSchedulerConfig, indexID, func(r *schedulerConfigRow) *schedulerConfigRow { return r }, schedulerConfigID)
	if err != nil {
		return nil, err
	}
	if row == nil {
		return structs.DefaultSchedulerConfiguration(), nil
	}
	return row.Config.Copy(), nil
}

// SchedulerSetConfig replaces the configuration. With cas, only when the
// current configuration's ModifyIndex is casIndex (0: never set), else it
// returns ErrCASMismatch and writes nothing.
func (s *StateStore) SchedulerSetConfig(index uint64, cfg *structs.SchedulerConfiguration, cas bool, casIndex uint64) error {
	if cfg == nil {
		return fmt.Errorf("state: nil scheduler configuration")
	}
	return s.write(index, func(w *writer) error {
		existing, err := get[*schedulerConfigRow](w, TableSchedulerConfig, schedulerConfigID)
		if err != nil {
			return err
		}
		var current uint64
		c := cfg.Copy()
		c.CreateIndex = index
		if existing != nil {
			current = existing.Config.ModifyIndex
			c.CreateIndex = existing.Config.CreateIndex
		}
		if cas && current != casIndex {
			return fmt.Errorf("%w (index %d, current %d)", ErrCASMismatch, casIndex, current)
		}
		c.ModifyIndex = index
		return w.insert(TableSchedulerConfig, &schedulerConfigRow{ID: schedulerConfigID, Config: c})
	})
}

// SchedulerConfigRestore restores the configuration from a snapshot.
func (r *StateRestore) SchedulerConfigRestore(cfg *structs.SchedulerConfiguration) error {
	return r.insert(TableSchedulerConfig, &schedulerConfigRow{ID: schedulerConfigID, Config: cfg.Copy()})
}

// StoredSchedulerConfig returns the configuration if one was set, for
// snapshots (which leave the defaults out).
func (r *Reader) StoredSchedulerConfig() (*structs.SchedulerConfiguration, error) {
	row, err := first(r, nil, TableSchedulerConfig, indexID, func(r *schedulerConfigRow) *schedulerConfigRow { return r }, schedulerConfigID)
	if err != nil || row == nil {
		return nil, err
	}
	return row.Config.Copy(), nil
}
