package command

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/drover-project/drover/api"
	"github.com/drover-project/drover/structs"
)

// NodeStatusCommand is "drover node status": all nodes, or one in detail.
type NodeStatusCommand struct {
	Meta
	verbose bool
	stats   bool // -stats: the machine's use (node_stats.go)
	self    bool // -self: the local agent's node
	allocs  bool // -allocs: count running allocations in the list
}

func (c *NodeStatusCommand) Synopsis() string { return "Show the status of client nodes" }

func (c *NodeStatusCommand) Help() string {
	return helpText(`
Usage: drover node status [options] [node]

  Without a node, list every client node. With a node ID (or a unique
  prefix of one), show the node, its drivers, the resources its
  allocations hold, and its allocations.

Status Options:

  -verbose
    Show full IDs, full times and the nodes' addresses.

  -stats
    With a node, also show what its machine uses: CPU, memory and disk.

  -self
    Show the node of the local agent.

  -allocs
    In the list of nodes, show how many allocations run on each.`, true)
}

func (c *NodeStatusCommand) Run(args []string) int {
	fs := c.flagSet("node status")
	fs.BoolVar(&c.verbose, "verbose", false, "")
	fs.BoolVar(&c.stats, "stats", false, "")
	fs.BoolVar(&c.self, "self", false, "")
	fs.BoolVar(&c.allocs, "allocs", false, "")
	if !c.parseFlags(fs, args) {
		return exitError
	}
	if fs.NArg() > 1 {
		return c.usageError("node status", "This command takes at most one argument: [node]")
	}
	client, err := c.client()
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error initializing client: %v", err))
		return exitError
	}
	if c.self {
		if fs.NArg() > 0 {
			return c.usageError("node status", "-self takes no node argument")
		}
		nodeID, err := resolveNode(client, true, "") // node_drain.go
		if err != nil {
			c.UI.Error(err.Error())
			return exitError
		}
		return c.show(client, nodeID)
	}
	if fs.NArg() == 0 {
		return c.list(client)
	}
	stub, err := client.Nodes().Resolve(fs.Arg(0), nil)
	if err != nil {
		c.UI.Error(resolveError("node", err))
		return exitError
	}
	return c.show(client, stub.ID)
}

// list prints the table of all nodes.
func (c *NodeStatusCommand) list(client *api.Client) int {
	nodes, _, err := client.Nodes().List(nil)
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error listing nodes: %v", err))
		return exitError
	}
	if len(nodes) == 0 {
		c.UI.Output("No nodes registered")
		return exitOK
	}
	slices.SortFunc(nodes, func(a, b *structs.NodeListStub) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	header := []string{"ID", "Node Pool", "DC", "Name", "Class"}
	if c.verbose {
		header = append(header, "Address", "Version")
	}
	header = append(header, "Drain", "Eligibility", "Status")
	if c.allocs {
		header = append(header, "Running Allocs")
	}
	rows := [][]string{header}
	for _, n := range nodes {
		row := []string{shortID(n.ID, c.verbose), n.NodePool, n.Datacenter, n.Name, orNone(n.NodeClass)}
		if c.verbose {
			row = append(row, n.Address, n.Version)
		}
		row = append(row, strconv.FormatBool(n.Drain), n.SchedulingEligibility, n.Status)
		if c.allocs {
			running, err := runningAllocs(client, n.ID)
			if err != nil {
				c.UI.Error(fmt.Sprintf("Error reading allocations of node %q: %v", n.ID, err))
				return exitError
			}
			row = append(row, strconv.Itoa(running))
		}
		rows = append(rows, row)
	}
	c.UI.Output(formatTable(rows))
	return exitOK
}

// show prints one node in detail.
func (c *NodeStatusCommand) show(client *api.Client, nodeID string) int {
	node, _, err := client.Nodes().Info(nodeID, nil)
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error reading node %q: %v", nodeID, err))
		return exitError
	}
	allocs, _, err := client.Nodes().Allocations(nodeID, nil)
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error reading allocations of node %q: %v", nodeID, err))
		return exitError
	}
	var healthy []string
	for _, name := range sortedKeys(node.Drivers) {
		if node.DriverHealthy(name) {
			healthy = append(healthy, name)
		}
	}
	c.UI.Output(formatKV([]string{
		"ID|" + shortID(node.ID, c.verbose),
		"Name|" + node.Name,
		"Node Pool|" + node.NodePool,
		"Class|" + orNone(node.NodeClass),
		"DC|" + node.Datacenter,
		"Address|" + orNone(node.HTTPAddr),
		"Drain|" + strconv.FormatBool(node.Drain),
		"Eligibility|" + node.SchedulingEligibility,
		"Status|" + node.Status,
		"Drivers|" + orNone(strings.Join(healthy, ",")),
	}))

	if len(node.Drivers) > 0 {
		rows := [][]string{{"Driver", "Detected", "Healthy", "Message"}}
		for _, name := range sortedKeys(node.Drivers) {
			d := node.Drivers[name]
			rows = append(rows, []string{name, strconv.FormatBool(d.Detected), strconv.FormatBool(d.Healthy), orNone(d.HealthDescription)})
		}
		c.UI.Output("\nDrivers")
		c.UI.Output(formatTable(rows))
	}
	if len(node.HostVolumes) > 0 {
		c.UI.Output("\nHost Volumes")
		c.UI.Output(formatHostVolumes(node.HostVolumes))
	}

	if node.DrainStrategy != nil {
		c.UI.Output("\nDrain Strategy")
		c.UI.Output(formatDrainStrategy(node.DrainStrategy, c.now()))
	}
	if node.NodeResources != nil {
		c.UI.Output("\nAllocated Resources")
		c.UI.Output(formatAllocated(node, allocs))
		if util := allocUtilization(client, allocs); util != "" {
			c.UI.Output("\nAllocation Resource Utilization")
			c.UI.Output(util)
		}
	}
	if c.stats {
		if err := c.showHostStats(client, node); err != nil {
			c.UI.Error(fmt.Sprintf("Error reading the stats of node %q: %v", nodeID, err))
			return exitError
		}
	}

	c.UI.Output("\nAllocations")
	if len(allocs) == 0 {
		c.UI.Output("No allocations placed")
		return exitOK
	}
	stubs := make([]*structs.AllocListStub, len(allocs))
	for i, a := range allocs {
		stubs[i] = a.Stub()
	}
	c.UI.Output(formatAllocTable(stubs, c.now(), c.verbose, "Job ID"))
	return exitOK
}

// formatAllocated shows what the node's running allocations hold of what
// it offers (less what it reserves).
func formatAllocated(node *structs.Node, allocs []*structs.Allocation) string {
	var cpu, mem, disk int64
	for _, a := range allocs {
		if a.Terminal() || a.AllocatedResources == nil {
			continue
		}
		for _, t := range a.AllocatedResources.Tasks {
			cpu += t.Cpu.CpuShares
			mem += t.Memory.MemoryMB
		}
		disk += a.AllocatedResources.Shared.DiskMB
	}
	totalCPU := node.NodeResources.Cpu.CpuShares
	totalMem := node.NodeResources.Memory.MemoryMB
	totalDisk := node.NodeResources.Disk.DiskMB
	if r := node.ReservedResources; r != nil {
		totalCPU -= r.Cpu.CpuShares
		totalMem -= r.Memory.MemoryMB
		totalDisk -= r.Disk.DiskMB
	}
	return formatTable([][]string{
		{"CPU", "Memory", "Disk"},
		{fmt.Sprintf("%d/%d MHz", cpu, totalCPU), formatMiB(mem) + "/" + formatMiB(totalMem), formatMiB(disk) + "/" + formatMiB(totalDisk)},
	})
}
