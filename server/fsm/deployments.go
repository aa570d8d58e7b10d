package fsm

import (
	"github.com/drover-project/drover/server/state"
	"github.com/drover-project/drover/structs"
)

// DeploymentStatusUpdateRequest changes a deployment's status (fail,
// pause, resume, success), with the job of an automatic revert and the
// evaluation that acts on it.
type DeploymentStatusUpdateRequest struct {
	Update *structs.DeploymentStatusUpdate
	Job    *structs.Job        `json:",omitempty"`
	Eval   *structs.Evaluation `json:",omitempty"`
}

// DeploymentPromoteRequest promotes canaries, with the evaluation that
// places the rest.
type DeploymentPromoteRequest struct {
	Promote *structs.DeploymentPromoteRequest
	Eval    *structs.Evaluation `json:",omitempty"`
}

func applyDeployment(store *state.StateStore, t MessageType, index uint64, body []byte) ([]string, error) {
	switch t {
	case DeploymentStatusUpdate:
		req, err := decode[DeploymentStatusUpdateRequest](t, body)
		if err != nil {
			return nil, err
		}
		return evalIDs(optional(req.Eval)), store.UpdateDeploymentStatus(index, req.Update, req.Job, req.Eval)
	default: // DeploymentPromote
		req, err := decode[DeploymentPromoteRequest](t, body)
		if err != nil {
			return nil, err
		}
		return evalIDs(optional(req.Eval)), store.PromoteDeployment(index, req.Promote, req.Eval)
	}
}
