package structs

// ServerMembers is the answer of GET /v1/agent/members: the servers of the
// region as the answering server's gossip sees them, in Nomad's shape.
type ServerMembers struct {
	ServerName   string
	ServerRegion string
	ServerDC     string
	Members      []*AgentMember
}

// AgentMember is one server in the gossip pool.
type AgentMember struct {
	// Name is "node.region".
	Name string
	// Addr and Port are where the member gossips.
	Addr string
	Port uint16
	// Tags are what the member gossips about itself: role, region, dc, id
	// (its Raft ID), rpc_addr and port (its RPC and Raft listener), expect
	// (bootstrap_expect), build, raft_vsn and raft_state.
	Tags map[string]string
	// Status is "alive", "failed" or "left".
	Status      string
	ProtocolMin uint8
	ProtocolMax uint8
	ProtocolCur uint8
	DelegateMin uint8
	DelegateMax uint8
	DelegateCur uint8

	// drover's additions, from the answering server's Raft state: whether
	// the member leads, and its place in the Raft configuration ("voter",
	// "nonvoter" or "none").
	Leader    bool
	RaftState string
}

// AgentJoinResponse is the answer of PUT /v1/agent/join, as Nomad's.
type AgentJoinResponse struct {
	NumJoined int    `json:"num_joined"`
	Error     string `json:"error"`
}
