package fsm

import (
	"time"

	"github.com/drover-project/drover/structs"
)

// NodeUpdateDrainRequest starts, changes or ends (nil DrainStrategy) a
// node's drain; Status is what the node's LastDrain records. UpdatedAt is
// set by the endpoint or the drainer: the FSM never reads the clock.
type NodeUpdateDrainRequest struct {
	NodeID        string
	DrainStrategy *structs.DrainStrategy
	MarkEligible  bool
	Status        string
	UpdatedAt     time.Time
	Meta          map[string]string
	Evals         []*structs.Evaluation
}

// NodeUpdateEligibilityRequest marks a node eligible or ineligible.
type NodeUpdateEligibilityRequest struct {
	NodeID      string
	Eligibility string
	Evals       []*structs.Evaluation
}

// NodeDeregisterRequest removes a node (garbage collection).
type NodeDeregisterRequest struct {
	NodeID string
}

// applyNodeDrain applies the node messages of this file.
func (f *FSM) applyNodeDrain(t MessageType, index uint64, body []byte) ([]string, error) {
	store := f.State()
	if t == NodeDeregister {
		req, err := decode[NodeDeregisterRequest](t, body)
		if err != nil {
			return nil, err
		}
		return nil, store.DeleteNode(index, req.NodeID)
	}
	if t == NodeUpdateDrain {
		req, err := decode[NodeUpdateDrainRequest](t, body)
		if err != nil {
			return nil, err
		}
		return evalIDs(req.Evals), store.UpdateNodeDrain(index, req.NodeID, req.DrainStrategy, req.MarkEligible, req.Status, req.UpdatedAt, req.Meta, req.Evals...)
	}
	req, err := decode[NodeUpdateEligibilityRequest](t, body)
	if err != nil {
		return nil, err
	}
	return evalIDs(req.Evals), store.UpdateNodeEligibility(index, req.NodeID, req.Eligibility, req.Evals...)
}
