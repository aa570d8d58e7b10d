package client

import (
	"context"
	"time"

	"github.com/drover-project/drover/structs"
)

// Servers is how a client talks to the control plane. In a dev agent the
// agent wires it straight to the local server's endpoints; a remote client
// reaches servers over RPC. Clients always pull: servers never call them.
type Servers interface {
	// RegisterNode creates or updates the node and returns the heartbeat TTL.
	RegisterNode(ctx context.Context, node *structs.Node) (time.Duration, error)
	// Heartbeat renews the node's liveness and returns the next TTL.
	Heartbeat(ctx context.Context, nodeID, status string) (time.Duration, error)
	// NodeAllocations blocks until the node's allocations change past
	// minIndex (or wait passes) and returns them all, with the index to pass
	// next time.
	NodeAllocations(ctx context.Context, nodeID string, minIndex uint64, wait time.Duration) ([]*structs.Allocation, uint64, error)
	// UpdateAllocations reports client status and task states. Only ID,
	// ClientStatus, ClientDescription and TaskStates are read.
	UpdateAllocations(ctx context.Context, allocs []*structs.Allocation) error
	// UpsertServiceRegistrations records the service instances this
	// client runs (or their new health) in the servers' list (services.go).
	UpsertServiceRegistrations(ctx context.Context, regs []*structs.ServiceRegistration) error
	// DeleteServiceRegistrations removes instances this client stopped.
	DeleteServiceRegistrations(ctx context.Context, ids []string) error
}
