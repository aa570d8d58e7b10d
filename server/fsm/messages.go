package fsm

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/drover-project/drover/internal/jsondecode"
	"github.com/drover-project/drover/server/state"
	"github.com/drover-project/drover/structs"
)

// MessageType is the first byte of every raft log entry; the rest is the
// request as JSON. JSON on purpose: task configs hold JSON-shaped values
// (float64, []any, map[string]any) that must read the same after a replay.
//
// The numbers are written into logs and snapshots that outlive any binary:
// only ever append new types, never renumber or reuse one.
type MessageType uint8

const (
	JobRegister       MessageType = 0 // JobRegisterRequest
	JobDeregister     MessageType = 1 // JobDeregisterRequest
	EvalUpdate        MessageType = 2 // EvalUpdateRequest
	AllocClientUpdate MessageType = 3 // AllocClientUpdateRequest
	ApplyPlanResults  MessageType = 4 // ApplyPlanResultsRequest
	NodeRegister      MessageType = 5 // NodeRegisterRequest
	NodeUpdateStatus  MessageType = 6 // NodeUpdateStatusRequest
	EvalDelete        MessageType = 7 // EvalDeleteRequest

	AllocUpdateDesiredTransition MessageType = 8  // AllocUpdateDesiredTransitionRequest
	SchedulerConfigSet           MessageType = 9  // SchedulerConfigSetRequest
	JobStability                 MessageType = 10 // JobStabilityRequest

	NodeUpdateDrain       MessageType = 11 // NodeUpdateDrainRequest (node_drain.go)
	NodeUpdateEligibility MessageType = 12 // NodeUpdateEligibilityRequest (node_drain.go)
	NodeDeregister        MessageType = 13 // NodeDeregisterRequest (node_drain.go)

	// Service registrations (server/state/services.go).
	ServiceRegistrationUpsert MessageType = 20 // ServiceRegistrationUpsertRequest
	ServiceRegistrationDelete MessageType = 21 // ServiceRegistrationDeleteRequest

	// Deployments (deployments.go).
	DeploymentStatusUpdate MessageType = 15 // DeploymentStatusUpdateRequest
	DeploymentPromote      MessageType = 16 // DeploymentPromoteRequest
)

var messageTypeNames = map[MessageType]string{
	JobRegister:       "JobRegister",
	JobDeregister:     "JobDeregister",
	EvalUpdate:        "EvalUpdate",
	AllocClientUpdate: "AllocClientUpdate",
	ApplyPlanResults:  "ApplyPlanResults",
	NodeRegister:      "NodeRegister",
	NodeUpdateStatus:  "NodeUpdateStatus",
	EvalDelete:        "EvalDelete",

	AllocUpdateDesiredTransition: "AllocUpdateDesiredTransition",
	SchedulerConfigSet:           "SchedulerConfigSet",
	JobStability:                 "JobStability",

	NodeUpdateDrain:       "NodeUpdateDrain",
	NodeUpdateEligibility: "NodeUpdateEligibility",
	NodeDeregister:        "NodeDeregister",

	ServiceRegistrationUpsert: "ServiceRegistrationUpsert",
	ServiceRegistrationDelete: "ServiceRegistrationDelete",

	DeploymentStatusUpdate: "DeploymentStatusUpdate",
	DeploymentPromote:      "DeploymentPromote",
}

func (t MessageType) String() string {
	if name, ok := messageTypeNames[t]; ok {
		return name
	}
	return fmt.Sprintf("MessageType(%d)", uint8(t))
}

// JobRegisterRequest registers a job (or a new version) together with the
// evaluation that schedules it, in one entry.
type JobRegisterRequest struct {
	Job  *structs.Job
	Eval *structs.Evaluation
}

// JobDeregisterRequest stops a job (a new version with Stop set) or, with
// Purge, deletes it. Eval schedules the stop of its allocations.
type JobDeregisterRequest struct {
	Namespace string
	JobID     string
	Purge     bool
	Eval      *structs.Evaluation
}

// EvalUpdateRequest creates or updates evaluations.
type EvalUpdateRequest struct {
	Evals []*structs.Evaluation
}

// AllocClientUpdateRequest carries what clients report of their
// allocations (see state.StateStore.UpdateAllocsFromClient), and
// evaluations made because of it (for example to reschedule a failure).
type AllocClientUpdateRequest struct {
	Allocs []*structs.Allocation
	Evals  []*structs.Evaluation
}

// ApplyPlanResultsRequest is the plan applier's commit; see the state
// package, where it is defined because it is UpsertPlanResults' input.
type ApplyPlanResultsRequest = state.ApplyPlanResultsRequest

// NodeRegisterRequest registers or replaces a node. Evals (for example for
// system jobs) commit with it. Node.SecretID, which structs.Node keeps out
// of JSON so that the API never shows it, is carried in the log.
type NodeRegisterRequest struct {
	Node  *structs.Node
	Evals []*structs.Evaluation
}

// NodeUpdateStatusRequest records a node's new status. UpdatedAt is Unix
// nanoseconds, set by the endpoint: the FSM never reads the clock. Evals
// (for the jobs of a node that went down) commit with it.
type NodeUpdateStatusRequest struct {
	NodeID    string
	Status    string
	UpdatedAt int64
	Evals     []*structs.Evaluation
}

// AllocUpdateDesiredTransitionRequest marks allocations (alloc stop: to
// migrate) and commits the evaluations that act on it.
type AllocUpdateDesiredTransitionRequest struct {
	Allocs map[string]*structs.DesiredTransition
	Evals  []*structs.Evaluation
}

// JobStabilityRequest marks a kept version of a job stable or not.
type JobStabilityRequest struct {
	Namespace  string
	JobID      string
	JobVersion uint64
	Stable     bool
}

// SchedulerConfigSetRequest replaces the scheduler configuration; with CAS,
// only if its ModifyIndex is still Index.
type SchedulerConfigSetRequest struct {
	Config *structs.SchedulerConfiguration
	CAS    bool
	Index  uint64
}

// EvalDeleteRequest garbage-collects evaluations and allocations by ID.
type EvalDeleteRequest struct {
	Evals  []string
	Allocs []string
}

// nodeRegisterWire is NodeRegisterRequest as logged, with the secret.
type nodeRegisterWire struct {
	Node  *nodeWire
	Evals []*structs.Evaluation
}

// MarshalJSON logs the node with its SecretID.
func (r NodeRegisterRequest) MarshalJSON() ([]byte, error) {
	return json.Marshal(nodeRegisterWire{Node: toNodeWire(r.Node), Evals: r.Evals})
}

// UnmarshalJSON reads the node with its SecretID.
func (r *NodeRegisterRequest) UnmarshalJSON(data []byte) error {
	var w nodeRegisterWire
	if err := jsondecode.Unmarshal(data, &w); err != nil {
		return err
	}
	r.Node, r.Evals = w.Node.node(), w.Evals
	return nil
}

// nodeWire is a node as the FSM writes it, in logs and snapshots: the
// node's JSON plus its SecretID.
type nodeWire struct {
	*structs.Node
	SecretID string
}

func toNodeWire(n *structs.Node) *nodeWire {
	if n == nil {
		return nil
	}
	return &nodeWire{Node: n, SecretID: n.SecretID}
}

func (w *nodeWire) node() *structs.Node {
	if w == nil || w.Node == nil {
		return nil
	}
	w.Node.SecretID = w.SecretID
	return w.Node
}

// Encode builds a log entry: the type byte, then req as JSON (the same
// bytes as json.Marshal, written straight after the type byte).
func Encode(t MessageType, req any) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte(byte(t))
	if err := json.NewEncoder(&buf).Encode(req); err != nil {
		return nil, fmt.Errorf("fsm: encode %s: %w", t, err)
	}
	// Encoder.Encode ends the value with a newline that Marshal does not.
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}
