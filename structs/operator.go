package structs

// RaftConfiguration is the answer of GET /v1/operator/raft/configuration,
// in Nomad's shape.
type RaftConfiguration struct {
	Servers []*RaftServer
	// Index is the Raft index the configuration was read at.
	Index uint64
}

// RaftServer is one server of the Raft configuration.
type RaftServer struct {
	// ID is the server's Raft ID.
	ID string
	// Node is the server's name ("(unknown)" when it did not answer).
	Node string
	// Address is its RPC and Raft address.
	Address string
	Leader  bool
	// Voter says whether it votes (a non-voter only replicates).
	Voter bool
	// RaftProtocol is the Raft protocol version it speaks.
	RaftProtocol string
}
