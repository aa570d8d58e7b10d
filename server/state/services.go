package state

import (
	"fmt"
	"sort"

	"github.com/hashicorp/go-memdb"

	"github.com/drover-project/drover/structs"
)

// TableServiceRegistrations holds the service instances clients report:
// the servers' authoritative list, for the API. Clients keep their own
// gossip-fed catalog for DNS and load balancing.
const TableServiceRegistrations = "service_registrations"

const (
	indexServiceName = "service_name"
	indexAllocID     = "alloc_id"
)

func serviceRegistrationsSchema() *memdb.TableSchema {
	return &memdb.TableSchema{Name: TableServiceRegistrations, Indexes: map[string]*memdb.IndexSchema{
		indexID:          byID(),
		indexServiceName: {Name: indexServiceName, Indexer: namespacedID("ServiceName")},
		indexNode:        {Name: indexNode, Indexer: &memdb.StringFieldIndex{Field: "NodeID"}},
		indexAllocID:     {Name: indexAllocID, Indexer: &memdb.StringFieldIndex{Field: "AllocID"}},
	}}
}

// UpsertServiceRegistrations adds or replaces instances, keeping each one's
// CreateIndex. An instance whose allocation is unknown or has ended, or
// whose node is down, is dropped: a late report cannot bring it back.
func (s *StateStore) UpsertServiceRegistrations(index uint64, regs []*structs.ServiceRegistration) error {
	return s.write(index, func(w *writer) error {
		for _, r := range regs {
			if r == nil {
				return fmt.Errorf("state: nil service registration")
			}
			if err := requireIDs("service registration", "ID", r.ID, "ServiceName", r.ServiceName, "AllocID", r.AllocID, "NodeID", r.NodeID); err != nil {
				return err
			}
			live, err := w.registrationLive(r)
			if err != nil {
				return err
			}
			if !live {
				continue
			}
			c := r.Copy()
			c.CreateIndex, c.ModifyIndex = w.index, w.index
			existing, err := get[*structs.ServiceRegistration](w, TableServiceRegistrations, c.ID)
			if err != nil {
				return err
			}
			if existing != nil {
				c.CreateIndex = existing.CreateIndex
			}
			if err := w.insert(TableServiceRegistrations, c); err != nil {
				return err
			}
		}
		return nil
	})
}

// DeleteServiceRegistrations removes instances by ID; unknown IDs are
// skipped, since a client may repeat a deregistration.
func (s *StateStore) DeleteServiceRegistrations(index uint64, ids []string) error {
	return s.write(index, func(w *writer) error {
		for _, id := range ids {
			existing, err := get[*structs.ServiceRegistration](w, TableServiceRegistrations, id)
			if err != nil {
				return err
			}
			if existing == nil {
				continue
			}
			if err := w.delete(TableServiceRegistrations, existing); err != nil {
				return err
			}
		}
		return nil
	})
}

// registrationLive reports whether an instance's allocation still runs
// (it exists and has not ended) on a node that is not down.
func (w *writer) registrationLive(r *structs.ServiceRegistration) (bool, error) {
	alloc, err := get[*structs.Allocation](w, TableAllocs, r.AllocID)
	if err != nil || alloc == nil || alloc.ClientTerminal() {
		return false, err
	}
	node, err := get[*structs.Node](w, TableNodes, r.NodeID)
	if err != nil {
		return false, err
	}
	return node == nil || node.Status != structs.NodeStatusDown, nil
}

// pruneServiceRegistrations removes the instances of allocations that
// ended or were garbage collected, and of nodes that went down. finish
// calls it when allocations or nodes were written, so every path that
// stops an allocation or downs a node cleans the table the same way.
func (w *writer) pruneServiceRegistrations() error {
	if !w.tables[TableAllocs] && !w.tables[TableNodes] {
		return nil
	}
	var failed error
	err := w.deleteRegistrations(func(r *structs.ServiceRegistration) bool {
		live, err := w.registrationLive(r)
		if err != nil {
			failed = err
		}
		return err == nil && !live
	})
	if failed != nil {
		return failed
	}
	return err
}

// deleteRegistrations deletes the instances matching drop, in ID order.
func (w *writer) deleteRegistrations(drop func(*structs.ServiceRegistration) bool) error {
	iter, err := w.txn.Get(TableServiceRegistrations, indexID)
	if err != nil {
		return fmt.Errorf("state: list %s: %w", TableServiceRegistrations, err)
	}
	var doomed []*structs.ServiceRegistration
	for raw := iter.Next(); raw != nil; raw = iter.Next() {
		if r := raw.(*structs.ServiceRegistration); drop(r) {
			doomed = append(doomed, r)
		}
	}
	for _, r := range doomed {
		if err := w.delete(TableServiceRegistrations, r); err != nil {
			return err
		}
	}
	return nil
}

// ServiceRegistrations returns every instance, by ID.
func (r *Reader) ServiceRegistrations(ws memdb.WatchSet) ([]*structs.ServiceRegistration, error) {
	return listAll(r, ws, TableServiceRegistrations, indexID, (*structs.ServiceRegistration).Copy)
}

// ServiceRegistrationsByName returns the instances of one service in a
// namespace, by ID.
func (r *Reader) ServiceRegistrationsByName(ws memdb.WatchSet, namespace, name string) ([]*structs.ServiceRegistration, error) {
	out, err := listAll(r, ws, TableServiceRegistrations, indexServiceName, (*structs.ServiceRegistration).Copy, namespace, name)
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// ServiceRegistrationByID returns one instance, or nil.
func (r *Reader) ServiceRegistrationByID(ws memdb.WatchSet, id string) (*structs.ServiceRegistration, error) {
	return first(r, ws, TableServiceRegistrations, indexID, (*structs.ServiceRegistration).Copy, id)
}

// ServiceRegistrationsByNode returns the instances a node reported.
func (r *Reader) ServiceRegistrationsByNode(ws memdb.WatchSet, nodeID string) ([]*structs.ServiceRegistration, error) {
	return listAll(r, ws, TableServiceRegistrations, indexNode, (*structs.ServiceRegistration).Copy, nodeID)
}

// ServiceRegistrationRestore restores an instance from a snapshot.
func (r *StateRestore) ServiceRegistrationRestore(reg *structs.ServiceRegistration) error {
	return r.insert(TableServiceRegistrations, reg.Copy())
}
