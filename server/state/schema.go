package state

import (
	"fmt"

	"github.com/hashicorp/go-memdb"
)

// Table names. They are also the keys of the index table, which records the
// raft index of the last write to each table.
const (
	TableJobs        = "jobs"
	TableJobSummary  = "job_summary"
	TableEvals       = "evals"
	TableAllocs      = "allocs"
	TableNodes       = "nodes"
	TableIndex       = "index"
	indexID          = "id"
	indexJob         = "job"
	indexNode        = "node"
	indexEval        = "eval"
	prefixSuffix     = "_prefix"
	indexIDPrefix    = indexID + prefixSuffix
	indexTableColumn = "Table"
)

// IndexEntry is one row of the index table: the raft index of the last write
// to Table.
type IndexEntry struct {
	Table string
	Index uint64
}

// namespacedID indexes objects by Namespace then the given ID field, so a
// prefix search within one namespace is possible.
func namespacedID(idField string) memdb.Indexer {
	return &memdb.CompoundIndex{
		Indexes: []memdb.Indexer{
			&memdb.StringFieldIndex{Field: "Namespace"},
			&memdb.StringFieldIndex{Field: idField},
		},
	}
}

func byID() *memdb.IndexSchema {
	return &memdb.IndexSchema{Name: indexID, Unique: true, Indexer: &memdb.StringFieldIndex{Field: "ID"}}
}

// schema returns the tables of the state store. Every table is keyed by ID;
// secondary indexes serve the lookups the scheduler and the API make.
func schema() *memdb.DBSchema {
	return &memdb.DBSchema{Tables: map[string]*memdb.TableSchema{
		TableJobs: {Name: TableJobs, Indexes: map[string]*memdb.IndexSchema{
			indexID: {Name: indexID, Unique: true, Indexer: namespacedID("ID")},
		}},
		TableJobSummary: {Name: TableJobSummary, Indexes: map[string]*memdb.IndexSchema{
			indexID: {Name: indexID, Unique: true, Indexer: namespacedID("JobID")},
		}},
		TableEvals: {Name: TableEvals, Indexes: map[string]*memdb.IndexSchema{
			indexID:  byID(),
			indexJob: {Name: indexJob, Indexer: namespacedID("JobID")},
		}},
		TableAllocs: {Name: TableAllocs, Indexes: map[string]*memdb.IndexSchema{
			indexID:  byID(),
			indexJob: {Name: indexJob, Indexer: namespacedID("JobID")},
			// An allocation always has a node and an eval once placed; the
			// indexes allow them missing so a malformed one is still stored
			// and visible rather than failing a whole plan.
			indexNode: {Name: indexNode, AllowMissing: true, Indexer: &memdb.StringFieldIndex{Field: "NodeID"}},
			indexEval: {Name: indexEval, AllowMissing: true, Indexer: &memdb.StringFieldIndex{Field: "EvalID"}},
		}},
		TableNodes: {Name: TableNodes, Indexes: map[string]*memdb.IndexSchema{
			indexID: byID(),
		}},
		TableJobVersions:     jobVersionsSchema(),
		TableDeployments:     deploymentsSchema(),
		TableSchedulerConfig: schedulerConfigSchema(),
		// Service instances clients report (services.go).
		TableServiceRegistrations: serviceRegistrationsSchema(),
		TableIndex: {Name: TableIndex, Indexes: map[string]*memdb.IndexSchema{
			indexID: {Name: indexID, Unique: true, Indexer: &memdb.StringFieldIndex{Field: indexTableColumn}},
		}},
	}}
}

// newDB creates an empty database with the schema.
func newDB() (*memdb.MemDB, error) {
	db, err := memdb.NewMemDB(schema())
	if err != nil {
		return nil, fmt.Errorf("state: schema: %w", err)
	}
	return db, nil
}
