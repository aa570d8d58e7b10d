package membership

import (
	"encoding/json"
	"fmt"
	"net"
	"strconv"
)

// Tag keys a server gossips about itself. The names follow Nomad's serf
// tags, so `server members -verbose` reads the same.
const (
	TagRole        = "role"
	TagRegion      = "region"
	TagDatacenter  = "dc"
	TagID          = "id"       // the Raft server ID
	TagRPCAddr     = "rpc_addr" // the IP of the RPC and Raft port
	TagPort        = "port"     // the RPC and Raft port
	TagExpect      = "expect"   // bootstrap_expect
	TagBuild       = "build"
	TagRaftVersion = "raft_vsn"
	// TagHTTPAddr is the server's HTTP API ("ip:port"), where client
	// agents send the API requests they cannot answer; absent when unknown.
	TagHTTPAddr = "http_addr"
	// TagRaftState is "existing" once the server holds a Raft configuration
	// and "none" before; servers waiting to bootstrap only bootstrap among
	// servers that have none.
	TagRaftState = "raft_state"
)

// Roles of the members of a region's pool. Clients gossip too, so that
// they find the servers (and carry the service catalog); only servers take
// part in Raft bootstrapping and autopilot, which read ParseServer.
const (
	RoleServer = "server"
	RoleClient = "client"
)

// TagNodeName is a client's node name (its member name is its node ID).
const TagNodeName = "node_name"

// Client is what a client member's tags say about it.
type Client struct {
	Region     string
	Datacenter string
	NodeID     string
	NodeName   string
	Build      string
}

// ClientTags builds the tags a client gossips.
func ClientTags(c Client) map[string]string {
	return map[string]string{
		TagRole:       RoleClient,
		TagRegion:     c.Region,
		TagDatacenter: c.Datacenter,
		TagID:         c.NodeID,
		TagNodeName:   c.NodeName,
		TagBuild:      c.Build,
	}
}

// ParseClient reads a member's tags; ok is false for anything that is not
// a well-formed client.
func ParseClient(tags map[string]string) (Client, bool) {
	if tags[TagRole] != RoleClient || tags[TagID] == "" {
		return Client{}, false
	}
	return Client{
		Region:     tags[TagRegion],
		Datacenter: tags[TagDatacenter],
		NodeID:     tags[TagID],
		NodeName:   tags[TagNodeName],
		Build:      tags[TagBuild],
	}, true
}

// Values of TagRaftState.
const (
	RaftStateNone     = "none"
	RaftStateExisting = "existing"
)

// Server is what a member's tags say about the server behind it.
type Server struct {
	Region     string
	Datacenter string
	ID         string
	// RPCAddr is "ip:port" of the RPC and Raft listener.
	RPCAddr   string
	Expect    int
	Build     string
	RaftState string
	// HTTPAddr is "ip:port" of the HTTP API; empty when not advertised.
	HTTPAddr string
}

// ServerTags builds the tags a server gossips.
func ServerTags(s Server) (map[string]string, error) {
	host, port, err := net.SplitHostPort(s.RPCAddr)
	if err != nil {
		return nil, fmt.Errorf("membership: RPC address %q: %w", s.RPCAddr, err)
	}
	tags := map[string]string{
		TagRole:        RoleServer,
		TagRegion:      s.Region,
		TagDatacenter:  s.Datacenter,
		TagID:          s.ID,
		TagRPCAddr:     host,
		TagPort:        port,
		TagExpect:      strconv.Itoa(s.Expect),
		TagBuild:       s.Build,
		TagRaftVersion: "3",
		TagRaftState:   s.RaftState,
	}
	if s.HTTPAddr != "" {
		tags[TagHTTPAddr] = s.HTTPAddr
	}
	return tags, nil
}

// ParseServer reads a member's tags; ok is false for anything that is not
// a well-formed server.
func ParseServer(tags map[string]string) (Server, bool) {
	if tags[TagRole] != RoleServer || tags[TagID] == "" || tags[TagRPCAddr] == "" || tags[TagPort] == "" {
		return Server{}, false
	}
	expect, err := strconv.Atoi(tags[TagExpect])
	if err != nil {
		return Server{}, false
	}
	return Server{
		Region:     tags[TagRegion],
		Datacenter: tags[TagDatacenter],
		ID:         tags[TagID],
		RPCAddr:    net.JoinHostPort(tags[TagRPCAddr], tags[TagPort]),
		Expect:     expect,
		Build:      tags[TagBuild],
		RaftState:  tags[TagRaftState],
		HTTPAddr:   tags[TagHTTPAddr],
	}, true
}

// encodeTags packs tags into memberlist's node meta, which holds at most
// 512 bytes.
func encodeTags(tags map[string]string, limit int) ([]byte, error) {
	b, err := json.Marshal(tags)
	if err != nil {
		return nil, err
	}
	if len(b) > limit {
		return nil, fmt.Errorf("membership: tags take %d bytes, more than the %d gossip allows", len(b), limit)
	}
	return b, nil
}

func decodeTags(meta []byte) (map[string]string, error) {
	tags := map[string]string{}
	if len(meta) == 0 {
		return tags, nil
	}
	if err := json.Unmarshal(meta, &tags); err != nil {
		return nil, fmt.Errorf("membership: undecodable member tags: %w", err)
	}
	return tags, nil
}
