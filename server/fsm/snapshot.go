package fsm

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/hashicorp/raft"

	"github.com/drover-project/drover/internal/jsondecode"
	"github.com/drover-project/drover/server/state"
)

// A snapshot is a stream of JSON values, one a line: a header, then one
// record per stored object and per row of the index table. The version
// moves when a change would make an older server misread the stream; new
// record kinds also need a new version, since an older server rejects kinds
// it does not know rather than drop data.
const (
	snapshotFormat  = "drover-fsm-snapshot"
	snapshotVersion = 3 // 2 added JobVersion and SchedulerConfig records; 3 Deployment and ServiceRegistration
)

type snapshotHeader struct {
	Format  string
	Version int
}

// Record kinds.
const (
	kindNode       = "Node"
	kindJob        = "Job"
	kindJobSummary = "JobSummary"
	kindEval       = "Eval"
	kindAlloc      = "Alloc"
	kindIndex      = "Index"
	kindJobVersion = "JobVersion"
	kindSchedCfg   = "SchedulerConfig"
	kindDeployment = "Deployment"
	// kindServiceReg is a service instance clients reported (services.go).
	kindServiceReg = "ServiceRegistration"
)

type recordOut struct {
	Kind  string
	Value any
}

type recordIn struct {
	Kind  string
	Value json.RawMessage
}

type fsmSnapshot struct {
	snap *state.StateSnapshot
}

// Persist writes the snapshot to sink, and cancels the sink on error.
func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	if err := writeSnapshot(sink, s.snap); err != nil {
		return errors.Join(err, sink.Cancel())
	}
	if err := sink.Close(); err != nil {
		return fmt.Errorf("fsm: close snapshot: %w", err)
	}
	return nil
}

// Release has nothing to free: the state snapshot is garbage collected.
func (s *fsmSnapshot) Release() {}

func writeSnapshot(w io.Writer, snap *state.StateSnapshot) error {
	buf := bufio.NewWriter(w)
	enc := json.NewEncoder(buf)
	write := func(kind string, v any) error {
		if err := enc.Encode(recordOut{Kind: kind, Value: v}); err != nil {
			return fmt.Errorf("fsm: write snapshot %s: %w", kind, err)
		}
		return nil
	}
	if err := enc.Encode(snapshotHeader{Format: snapshotFormat, Version: snapshotVersion}); err != nil {
		return fmt.Errorf("fsm: write snapshot header: %w", err)
	}

	nodes, err := snap.Nodes(nil)
	if err != nil {
		return err
	}
	for _, n := range nodes {
		if err := write(kindNode, toNodeWire(n)); err != nil {
			return err
		}
	}
	jobs, err := snap.Jobs(nil)
	if err != nil {
		return err
	}
	for _, j := range jobs {
		if err := write(kindJob, j); err != nil {
			return err
		}
	}
	versions, err := snap.AllJobVersions(nil)
	if err != nil {
		return err
	}
	for _, j := range versions {
		if err := write(kindJobVersion, j); err != nil {
			return err
		}
	}
	deployments, err := snap.Deployments(nil)
	if err != nil {
		return err
	}
	for _, d := range deployments {
		if err := write(kindDeployment, d); err != nil {
			return err
		}
	}
	if cfg, err := snap.StoredSchedulerConfig(); err != nil {
		return err
	} else if cfg != nil {
		if err := write(kindSchedCfg, cfg); err != nil {
			return err
		}
	}
	summaries, err := snap.JobSummaries(nil)
	if err != nil {
		return err
	}
	for _, s := range summaries {
		if err := write(kindJobSummary, s); err != nil {
			return err
		}
	}
	evals, err := snap.Evals(nil)
	if err != nil {
		return err
	}
	for _, e := range evals {
		if err := write(kindEval, e); err != nil {
			return err
		}
	}
	allocs, err := snap.Allocs(nil)
	if err != nil {
		return err
	}
	for _, a := range allocs {
		if err := write(kindAlloc, a); err != nil {
			return err
		}
	}
	if err := writeServiceRegistrations(snap, write); err != nil {
		return err
	}
	indexes, err := snap.Indexes()
	if err != nil {
		return err
	}
	for _, e := range indexes {
		if err := write(kindIndex, e); err != nil {
			return err
		}
	}
	if err := buf.Flush(); err != nil {
		return fmt.Errorf("fsm: write snapshot: %w", err)
	}
	return nil
}

func readSnapshot(r io.Reader, restore *state.StateRestore) error {
	dec := json.NewDecoder(bufio.NewReader(r))
	var header snapshotHeader
	if err := dec.Decode(&header); err != nil {
		return fmt.Errorf("fsm: read snapshot header: %w", err)
	}
	if header.Format != snapshotFormat {
		return fmt.Errorf("fsm: not a drover snapshot (format %q)", header.Format)
	}
	if header.Version < 1 || header.Version > snapshotVersion {
		return fmt.Errorf("fsm: snapshot version %d is not supported (this server reads 1 to %d)", header.Version, snapshotVersion)
	}
	for n := 1; ; n++ {
		var rec recordIn
		err := dec.Decode(&rec)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("fsm: read snapshot record %d: %w", n, err)
		}
		if err := restoreRecord(restore, rec); err != nil {
			return fmt.Errorf("fsm: snapshot record %d (%s): %w", n, rec.Kind, err)
		}
	}
}

func restoreRecord(r *state.StateRestore, rec recordIn) error {
	switch rec.Kind {
	case kindNode:
		w, err := decodeValue[nodeWire](rec.Value)
		if err != nil {
			return err
		}
		if w.node() == nil {
			return errors.New("empty node")
		}
		return r.NodeRestore(w.node())
	case kindJob:
		return restoreValue(rec.Value, r.JobRestore)
	case kindJobSummary:
		return restoreValue(rec.Value, r.JobSummaryRestore)
	case kindJobVersion:
		return restoreValue(rec.Value, r.JobVersionRestore)
	case kindDeployment:
		return restoreValue(rec.Value, r.DeploymentRestore)
	case kindServiceReg:
		return restoreValue(rec.Value, r.ServiceRegistrationRestore)
	case kindSchedCfg:
		return restoreValue(rec.Value, r.SchedulerConfigRestore)
	case kindEval:
		return restoreValue(rec.Value, r.EvalRestore)
	case kindAlloc:
		return restoreValue(rec.Value, r.AllocRestore)
	case kindIndex:
		e, err := decodeValue[state.IndexEntry](rec.Value)
		if err != nil {
			return err
		}
		return r.IndexRestore(e.Table, e.Index)
	}
	return fmt.Errorf("unknown record kind %q", rec.Kind)
}

// restoreValue decodes one object and hands it to the restore.
func restoreValue[T any](raw json.RawMessage, restore func(*T) error) error {
	v, err := decodeValue[T](raw)
	if err != nil {
		return err
	}
	return restore(v)
}

func decodeValue[T any](raw json.RawMessage) (*T, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, errors.New("empty value")
	}
	var v T
	if err := jsondecode.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	if err := rejectNullElements(&v); err != nil {
		return nil, err
	}
	return &v, nil
}
