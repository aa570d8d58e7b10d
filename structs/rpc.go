package structs

import "time"

// The arguments and answers of the calls a client makes to the servers
// over internal RPC ("Endpoints.<Method>", see client.Servers). They are
// here because both sides encode them and neither imports the other.

// NodeRegisterArgs registers a node. The secret is carried beside the
// node, whose JSON leaves it out.
type NodeRegisterArgs struct {
	Node     *Node
	SecretID string
}

// NodeHeartbeatArgs renew a node's liveness.
type NodeHeartbeatArgs struct {
	NodeID string
	Status string
}

// NodeAllocationsArgs ask for a node's allocations once they change past
// MinIndex (or Wait passes).
type NodeAllocationsArgs struct {
	NodeID   string
	MinIndex uint64
	Wait     time.Duration
}

// NodeAllocationsReply is the answer to NodeAllocationsArgs.
type NodeAllocationsReply struct {
	Allocs []*Allocation
	Index  uint64
}

// HeartbeatTTLReply carries the time a node has until its next heartbeat.
type HeartbeatTTLReply struct {
	TTL time.Duration
}
