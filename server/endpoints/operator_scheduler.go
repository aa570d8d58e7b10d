package endpoints

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/go-memdb"

	"github.com/drover-project/drover/server/fsm"
	"github.com/drover-project/drover/server/state"
	"github.com/drover-project/drover/structs"
)

// SchedulerGetConfig returns the cluster's scheduler configuration (the
// defaults when nobody set one).
func (e *Endpoints) SchedulerGetConfig(ctx context.Context, q *structs.QueryOptions) (*structs.SchedulerConfiguration, structs.QueryMeta, error) {
	if out, meta, ok, err := forwardRead[*structs.SchedulerConfiguration](ctx, e, "SchedulerGetConfig", ReadArgs{Query: q}); ok {
		return out, meta, err
	}
	var out *structs.SchedulerConfiguration
	meta, err := e.query(ctx, q, func(ws memdb.WatchSet, s *state.StateStore) (uint64, error) {
		cfg, err := s.SchedulerConfig(ws)
		if err != nil {
			return 0, err
		}
		out = cfg
		return tableIndex(s, state.TableSchedulerConfig)
	})
	return out, meta, err
}

// SchedulerSetConfig replaces the scheduler configuration through Raft.
// With cas, only if its modify index is still casIndex; updated is false
// when it was not.
func (e *Endpoints) SchedulerSetConfig(ctx context.Context, cfg *structs.SchedulerConfiguration, cas bool, casIndex uint64) (updated bool, index uint64, err error) {
	var fwd SchedulerSetConfigReply
	if ok, err := e.forward(ctx, "SchedulerSetConfig", false, &SchedulerSetConfigArgs{Config: cfg, CAS: cas, CASIndex: casIndex}, &fwd); ok {
		return fwd.Updated, fwd.Index, err
	}
	if cfg == nil {
		return false, 0, structs.BadRequest(errors.New("missing scheduler configuration"))
	}
	c := cfg.Copy()
	c.Canonicalize()
	if err := c.Validate(); err != nil {
		return false, 0, structs.BadRequest(err)
	}
	index, err = e.d.Apply(fsm.SchedulerConfigSet, &fsm.SchedulerConfigSetRequest{Config: c, CAS: cas, Index: casIndex})
	if errors.Is(err, state.ErrCASMismatch) {
		return false, index, nil
	}
	if err != nil {
		return false, 0, err
	}
	return true, index, nil
}

// registrationAllowed refuses job registrations while the scheduler
// configuration cfg rejects them.
func registrationAllowed(cfg *structs.SchedulerConfiguration) error {
	if cfg.RejectJobRegistration {
		return structs.BadRequest(errors.New("job registration, dispatch, and scale are disabled by the scheduler configuration"))
	}
	return nil
}

// schedulingWarnings tells the submitter about settings the cluster's
// scheduler configuration cfg makes ineffective, as Nomad's registration
// does.
func schedulingWarnings(cfg *structs.SchedulerConfiguration, job *structs.Job) string {
	if cfg.MemoryOversubscriptionEnabled {
		return ""
	}
	var warnings []string
	for _, tg := range job.TaskGroups {
		for _, t := range tg.Tasks {
			if t.Resources != nil && t.Resources.MemoryMaxMB > 0 {
				warnings = append(warnings, fmt.Sprintf("Memory oversubscription is not enabled; Task \"%s.%s\" memory_max value will be ignored. Update the Scheduler Configuration to allow oversubscription.", tg.Name, t.Name))
			}
		}
	}
	return strings.Join(warnings, "\n")
}
