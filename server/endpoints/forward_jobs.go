package endpoints

import (
	"context"

	"github.com/drover-project/drover/structs"
)

// Forwarding of the job version, scaling, stability and scheduler
// configuration endpoints: each is answered by the leader, so a follower's
// older state never decides a revert, a scale or a compare-and-set.

// JobVersionsArgs are JobVersions' arguments.
type JobVersionsArgs struct {
	Query *structs.QueryOptions
	JobID string
	Diffs bool
}

// JobRevertArgs are JobRevert's arguments.
type JobRevertArgs struct {
	Namespace string
	Request   *structs.JobRevertRequest
}

// JobScaleArgs are JobScale's arguments.
type JobScaleArgs struct {
	Namespace string
	JobID     string
	Request   *structs.ScalingRequest
}

// JobStabilityArgs are JobStability's arguments.
type JobStabilityArgs struct {
	Namespace string
	Request   *structs.JobStabilityRequest
}

// SchedulerSetConfigArgs are SchedulerSetConfig's arguments.
type SchedulerSetConfigArgs struct {
	Config   *structs.SchedulerConfiguration
	CAS      bool
	CASIndex uint64
}

// SchedulerSetConfigReply is SchedulerSetConfig's answer.
type SchedulerSetConfigReply struct {
	Updated bool
	Index   uint64
}

// registerReply wraps a registration's answer with its index.
func registerReply(r *structs.JobRegisterResponse, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return &IndexedReply[structs.JobRegisterResponse]{Value: r, Index: r.Index}, nil
}

func init() {
	rpcMethods["JobVersions"] = withArgs(func(ctx context.Context, e *Endpoints, a *JobVersionsArgs) (any, error) {
		v, meta, err := e.JobVersions(ctx, a.Query, a.JobID, a.Diffs)
		return &ReadReply[*structs.JobVersionsResponse]{Value: v, Meta: meta}, err
	})
	rpcMethods["JobRevert"] = withArgs(func(ctx context.Context, e *Endpoints, a *JobRevertArgs) (any, error) {
		return registerReply(e.JobRevert(ctx, a.Namespace, a.Request))
	})
	rpcMethods["JobScale"] = withArgs(func(ctx context.Context, e *Endpoints, a *JobScaleArgs) (any, error) {
		return registerReply(e.JobScale(ctx, a.Namespace, a.JobID, a.Request))
	})
	rpcMethods["JobStability"] = withArgs(func(ctx context.Context, e *Endpoints, a *JobStabilityArgs) (any, error) {
		return e.JobStability(ctx, a.Namespace, a.Request)
	})
	rpcMethods["SchedulerGetConfig"] = read(func(e *Endpoints, ctx context.Context, a *ReadArgs) (*structs.SchedulerConfiguration, structs.QueryMeta, error) {
		return e.SchedulerGetConfig(ctx, a.Query)
	})
	rpcMethods["SchedulerSetConfig"] = withArgs(func(ctx context.Context, e *Endpoints, a *SchedulerSetConfigArgs) (any, error) {
		updated, index, err := e.SchedulerSetConfig(ctx, a.Config, a.CAS, a.CASIndex)
		return &SchedulerSetConfigReply{Updated: updated, Index: index}, err
	})
}

// forwardRegister forwards a call whose answer is a registration's.
func (e *Endpoints) forwardRegister(ctx context.Context, method string, args any) (*structs.JobRegisterResponse, bool, error) {
	var fwd IndexedReply[structs.JobRegisterResponse]
	ok, err := e.forward(ctx, method, false, args, &fwd)
	if !ok || err != nil {
		return nil, ok, err
	}
	fwd.Value.Index = fwd.Index
	return fwd.Value, true, nil
}
