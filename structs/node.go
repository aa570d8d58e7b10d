package structs

import (
	"maps"
	"time"
)

// Node statuses.
const (
	NodeStatusInit  = "initializing"
	NodeStatusReady = "ready"
	NodeStatusDown  = "down"
)

// Scheduling eligibility.
const (
	NodeSchedulingEligible   = "eligible"
	NodeSchedulingIneligible = "ineligible"
)

// Node is a client machine that runs allocations.
type Node struct {
	ID         string
	SecretID   string `json:"-"`
	Datacenter string
	Name       string
	HTTPAddr   string
	// Attributes are fingerprinted facts with Nomad's names
	// ("kernel.name", "cpu.numcores", "driver.docker", ...).
	Attributes            map[string]string
	NodeResources         *NodeResources
	ReservedResources     *NodeReservedResources
	Drivers               map[string]*DriverInfo
	HostVolumes           map[string]*ClientHostVolumeConfig `json:",omitempty"`
	Meta                  map[string]string
	NodeClass             string
	ComputedClass         string // see ComputeClass; filled in when the node registers
	NodePool              string
	Status                string
	StatusDescription     string
	StatusUpdatedAt       int64
	SchedulingEligibility string
	Drain                 bool
	// DrainStrategy is the drain in progress (node_drain.go), nil when
	// none; LastDrain records the latest one.
	DrainStrategy *DrainStrategy `json:",omitempty"`
	LastDrain     *DrainMetadata `json:",omitempty"`

	CreateIndex uint64
	ModifyIndex uint64
}

// NodeResources is what a node offers.
type NodeResources struct {
	Cpu            NodeCpuResources
	Memory         NodeMemoryResources
	Disk           NodeDiskResources
	Networks       []*NetworkResource
	MinDynamicPort int
	MaxDynamicPort int
}

// NodeCpuResources is total CPU in MHz and cores.
type NodeCpuResources struct {
	CpuShares     int64
	TotalCpuCores int
}

// NodeMemoryResources is total memory in MiB.
type NodeMemoryResources struct {
	MemoryMB int64
}

// NodeDiskResources is free disk in MiB.
type NodeDiskResources struct {
	DiskMB int64
}

// NodeReservedResources is held back for the OS and the agent.
type NodeReservedResources struct {
	Cpu    NodeCpuResources
	Memory NodeMemoryResources
	Disk   NodeDiskResources
}

// DriverInfo is a driver's health on a node.
type DriverInfo struct {
	Attributes        map[string]string
	Detected          bool
	Healthy           bool
	HealthDescription string
	UpdateTime        time.Time
}

// Default dynamic port range, as Nomad's.
const (
	DefaultMinDynamicPort = 20000
	DefaultMaxDynamicPort = 32000
)

// Ready reports whether the node may receive new allocations.
func (n *Node) Ready() bool {
	return n.Status == NodeStatusReady && !n.Drain && n.SchedulingEligibility != NodeSchedulingIneligible
}

// Copy returns a deep copy.
func (n *Node) Copy() *Node {
	if n == nil {
		return nil
	}
	c := *n
	c.Attributes = maps.Clone(n.Attributes)
	c.Meta = maps.Clone(n.Meta)
	if n.NodeResources != nil {
		r := *n.NodeResources
		r.Networks = nil
		for _, nw := range n.NodeResources.Networks {
			r.Networks = append(r.Networks, nw.Copy())
		}
		c.NodeResources = &r
	}
	if n.ReservedResources != nil {
		r := *n.ReservedResources
		c.ReservedResources = &r
	}
	if n.Drivers != nil {
		c.Drivers = make(map[string]*DriverInfo, len(n.Drivers))
		for k, v := range n.Drivers {
			d := *v
			d.Attributes = maps.Clone(v.Attributes)
			c.Drivers[k] = &d
		}
	}
	c.HostVolumes = CopyHostVolumes(n.HostVolumes)
	c.DrainStrategy = n.DrainStrategy.Copy()
	if n.LastDrain != nil {
		d := *n.LastDrain
		d.Meta = maps.Clone(n.LastDrain.Meta)
		c.LastDrain = &d
	}
	return &c
}

// Stub is the short form used by node lists.
func (n *Node) Stub() *NodeListStub {
	s := &NodeListStub{
		Address:               n.Attributes["unique.network.ip-address"],
		ID:                    n.ID,
		Datacenter:            n.Datacenter,
		Name:                  n.Name,
		NodeClass:             n.NodeClass,
		NodePool:              n.NodePool,
		Version:               n.Attributes["nomad.version"],
		Drain:                 n.Drain,
		SchedulingEligibility: n.SchedulingEligibility,
		Status:                n.Status,
		StatusDescription:     n.StatusDescription,
		CreateIndex:           n.CreateIndex,
		ModifyIndex:           n.ModifyIndex,
	}
	if n.Drivers != nil {
		s.Drivers = make(map[string]*DriverInfo, len(n.Drivers))
		for k, v := range n.Drivers {
			d := *v
			d.Attributes = maps.Clone(v.Attributes)
			s.Drivers[k] = &d
		}
	}
	return s
}

// NodeListStub is one row of GET /v1/nodes.
type NodeListStub struct {
	Address               string
	ID                    string
	Datacenter            string
	Name                  string
	NodeClass             string
	NodePool              string
	Version               string
	Drain                 bool
	SchedulingEligibility string
	Status                string
	StatusDescription     string
	Drivers               map[string]*DriverInfo
	CreateIndex           uint64
	ModifyIndex           uint64
}

// HostIP returns the address the node's ports are published on.
func (n *Node) HostIP() string {
	if n.NodeResources != nil {
		for _, nw := range n.NodeResources.Networks {
			if nw.IP != "" {
				return nw.IP
			}
		}
	}
	if ip := n.Attributes["unique.network.ip-address"]; ip != "" {
		return ip
	}
	return "127.0.0.1"
}

// DriverHealthy reports whether the named driver is detected and healthy.
func (n *Node) DriverHealthy(name string) bool {
	d, ok := n.Drivers[name]
	return ok && d.Detected && d.Healthy
}
