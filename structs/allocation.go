package structs

import (
	"maps"
	"slices"
	"time"
)

// Desired statuses: what the servers want of an allocation.
const (
	AllocDesiredStatusRun   = "run"
	AllocDesiredStatusStop  = "stop"
	AllocDesiredStatusEvict = "evict"
)

// Client statuses: what the client reports of an allocation.
const (
	AllocClientStatusPending  = "pending"
	AllocClientStatusRunning  = "running"
	AllocClientStatusComplete = "complete"
	AllocClientStatusFailed   = "failed"
	AllocClientStatusLost     = "lost"
	AllocClientStatusUnknown  = "unknown"
)

// Allocation is one placed instance of a task group on a node.
type Allocation struct {
	ID        string
	Namespace string
	EvalID    string
	// Name is "<job>.<group>[<index>]".
	Name      string
	NodeID    string
	NodeName  string
	JobID     string
	Job       *Job
	TaskGroup string

	AllocatedResources *AllocatedResources

	DesiredStatus      string
	DesiredDescription string
	ClientStatus       string
	ClientDescription  string
	TaskStates         map[string]*TaskState

	// DesiredTransition says what else the servers want (alloc stop
	// marks it to migrate).
	DesiredTransition DesiredTransition

	// Metrics explains how the node was chosen.
	Metrics *AllocMetric

	PreviousAllocation string `json:",omitempty"`
	NextAllocation     string `json:",omitempty"`

	// PreemptedAllocations are the allocations evicted to make room for
	// this one; PreemptedByAllocation is the one this was evicted for.
	PreemptedAllocations  []string `json:",omitempty"`
	PreemptedByAllocation string   `json:",omitempty"`

	// RescheduleTracker lists the reschedules that led to this allocation
	// (see reschedule.go).
	RescheduleTracker *RescheduleTracker `json:",omitempty"`

	// DeploymentID is the deployment that placed this allocation, and
	// DeploymentStatus its health there, as the client reports it (see
	// deployment.go).
	DeploymentID     string                 `json:",omitempty"`
	DeploymentStatus *AllocDeploymentStatus `json:",omitempty"`

	CreateIndex      uint64
	ModifyIndex      uint64
	AllocModifyIndex uint64
	CreateTime       int64
	ModifyTime       int64
}

// AllocatedResources is what the scheduler reserved on the node.
type AllocatedResources struct {
	Tasks  map[string]*AllocatedTaskResources
	Shared AllocatedSharedResources
}

// AllocatedTaskResources is one task's share.
type AllocatedTaskResources struct {
	Cpu    AllocatedCpuResources
	Memory AllocatedMemoryResources
}

// AllocatedCpuResources is CPU in MHz (used as shares).
type AllocatedCpuResources struct {
	CpuShares int64
}

// AllocatedMemoryResources is memory in MiB.
type AllocatedMemoryResources struct {
	MemoryMB    int64
	MemoryMaxMB int64
}

// AllocatedSharedResources is what the whole group shares: its network and ports.
type AllocatedSharedResources struct {
	Networks []*NetworkResource
	Ports    []AllocatedPortMapping
	DiskMB   int64
}

// AllocatedPortMapping is one port as placed: host port Value on HostIP
// forwards to To inside the group.
type AllocatedPortMapping struct {
	Label  string
	Value  int
	To     int
	HostIP string
}

// Copy returns a deep copy (the Job pointer is shared: jobs stored in the
// state store are never mutated).
func (a *Allocation) Copy() *Allocation {
	if a == nil {
		return nil
	}
	c := *a
	c.AllocatedResources = a.AllocatedResources.Copy()
	if a.TaskStates != nil {
		c.TaskStates = make(map[string]*TaskState, len(a.TaskStates))
		for k, v := range a.TaskStates {
			c.TaskStates[k] = v.Copy()
		}
	}
	c.Metrics = a.Metrics.Copy()
	c.DesiredTransition = a.DesiredTransition.Copy()
	c.PreemptedAllocations = slices.Clone(a.PreemptedAllocations)
	c.RescheduleTracker = a.RescheduleTracker.Copy()
	c.DeploymentStatus = a.DeploymentStatus.Copy()
	return &c
}

// Copy returns a deep copy.
func (r *AllocatedResources) Copy() *AllocatedResources {
	if r == nil {
		return nil
	}
	c := *r
	if r.Tasks != nil {
		c.Tasks = make(map[string]*AllocatedTaskResources, len(r.Tasks))
		for k, v := range r.Tasks {
			t := *v
			c.Tasks[k] = &t
		}
	}
	c.Shared.Ports = slices.Clone(r.Shared.Ports)
	if r.Shared.Networks != nil {
		c.Shared.Networks = make([]*NetworkResource, len(r.Shared.Networks))
		for i, n := range r.Shared.Networks {
			c.Shared.Networks[i] = n.Copy()
		}
	}
	return &c
}

// Terminal reports whether the allocation will not run again: the servers
// asked it to stop, or the client says it ended.
func (a *Allocation) Terminal() bool {
	return a.ServerTerminal() || a.ClientTerminal()
}

// ServerTerminal reports whether the servers want the allocation stopped.
func (a *Allocation) ServerTerminal() bool {
	return a.DesiredStatus == AllocDesiredStatusStop || a.DesiredStatus == AllocDesiredStatusEvict
}

// ClientTerminal reports whether the client says the allocation ended.
func (a *Allocation) ClientTerminal() bool {
	switch a.ClientStatus {
	case AllocClientStatusComplete, AllocClientStatusFailed, AllocClientStatusLost:
		return true
	}
	return false
}

// Index returns the allocation's index within its group, parsed from its
// name ("job.group[3]" → 3), or -1.
func (a *Allocation) Index() int {
	open := -1
	for i := len(a.Name) - 1; i >= 0; i-- {
		if a.Name[i] == '[' {
			open = i
			break
		}
	}
	if open < 0 || open+1 >= len(a.Name)-1 || a.Name[len(a.Name)-1] != ']' {
		return -1
	}
	n := 0
	for _, ch := range a.Name[open+1 : len(a.Name)-1] {
		if ch < '0' || ch > '9' {
			return -1
		}
		n = n*10 + int(ch-'0')
	}
	return n
}

// Stub is the short form used by allocation lists.
func (a *Allocation) Stub() *AllocListStub {
	s := &AllocListStub{
		ID:                 a.ID,
		EvalID:             a.EvalID,
		Name:               a.Name,
		Namespace:          a.Namespace,
		NodeID:             a.NodeID,
		NodeName:           a.NodeName,
		JobID:              a.JobID,
		TaskGroup:          a.TaskGroup,
		DesiredStatus:      a.DesiredStatus,
		DesiredDescription: a.DesiredDescription,
		ClientStatus:       a.ClientStatus,
		ClientDescription:  a.ClientDescription,
		CreateIndex:        a.CreateIndex,
		ModifyIndex:        a.ModifyIndex,
		CreateTime:         a.CreateTime,
		ModifyTime:         a.ModifyTime,
		DeploymentStatus:   a.DeploymentStatus.Copy(),
	}
	if a.Job != nil {
		s.JobType = a.Job.Type
		s.JobVersion = a.Job.Version
	}
	if a.TaskStates != nil {
		s.TaskStates = make(map[string]*TaskState, len(a.TaskStates))
		for k, v := range a.TaskStates {
			s.TaskStates[k] = v.Copy()
		}
	}
	return s
}

// AllocListStub is one row of an allocation list.
type AllocListStub struct {
	ID                 string
	EvalID             string
	Name               string
	Namespace          string
	NodeID             string
	NodeName           string
	JobID              string
	JobType            string
	JobVersion         uint64
	TaskGroup          string
	DesiredStatus      string
	DesiredDescription string
	ClientStatus       string
	ClientDescription  string
	TaskStates         map[string]*TaskState
	DeploymentStatus   *AllocDeploymentStatus `json:",omitempty"`
	CreateIndex        uint64
	ModifyIndex        uint64
	CreateTime         int64
	ModifyTime         int64
}

// Task states.
const (
	TaskStatePending = "pending"
	TaskStateRunning = "running"
	TaskStateDead    = "dead"
)

// TaskState is the client's view of one task of an allocation.
type TaskState struct {
	State       string
	Failed      bool
	Restarts    uint64
	LastRestart time.Time
	StartedAt   time.Time
	FinishedAt  time.Time
	Events      []*TaskEvent
}

// Copy returns a deep copy.
func (s *TaskState) Copy() *TaskState {
	if s == nil {
		return nil
	}
	c := *s
	if s.Events != nil {
		c.Events = make([]*TaskEvent, len(s.Events))
		for i, e := range s.Events {
			c.Events[i] = e.Copy()
		}
	}
	return &c
}

// Task event types, as Nomad names them.
const (
	TaskReceived         = "Received"
	TaskSetup            = "Task Setup"
	TaskDriverFailure    = "Driver Failure"
	TaskDownloadingImage = "Downloading Image"
	TaskStarted          = "Started"
	TaskTerminated       = "Terminated"
	TaskRestarting       = "Restarting"
	TaskNotRestarting    = "Not Restarting"
	TaskKilling          = "Killing"
	TaskKilled           = "Killed"
	TaskSetupFailure     = "Setup Failure"
)

// MaxTaskEvents is how many events a task state keeps (oldest dropped first).
const MaxTaskEvents = 10

// TaskEvent is one thing that happened to a task.
type TaskEvent struct {
	Type           string
	Time           int64 // Unix nanoseconds
	Message        string
	DisplayMessage string
	Details        map[string]string
	ExitCode       int
	Signal         int
	RestartReason  string `json:",omitempty"`
	StartDelay     int64  `json:",omitempty"`
	KillTimeout    time.Duration
	FailsTask      bool
	DriverError    string `json:",omitempty"`
}

// Copy returns a copy.
func (e *TaskEvent) Copy() *TaskEvent {
	if e == nil {
		return nil
	}
	c := *e
	c.Details = maps.Clone(e.Details)
	return &c
}

// AllocMetric records how the scheduler chose (or failed to choose) a node,
// with counts per reason so a user can see why nothing fits.
type AllocMetric struct {
	NodesEvaluated     int
	NodesFiltered      int
	NodesInPool        int
	NodesAvailable     map[string]int
	ClassFiltered      map[string]int
	ConstraintFiltered map[string]int
	NodesExhausted     int
	ClassExhausted     map[string]int
	DimensionExhausted map[string]int
	QuotaExhausted     []string
	Scores             map[string]float64
	AllocationTime     time.Duration
	CoalescedFailures  int
}

// Copy returns a deep copy.
func (m *AllocMetric) Copy() *AllocMetric {
	if m == nil {
		return nil
	}
	c := *m
	c.NodesAvailable = maps.Clone(m.NodesAvailable)
	c.ClassFiltered = maps.Clone(m.ClassFiltered)
	c.ConstraintFiltered = maps.Clone(m.ConstraintFiltered)
	c.ClassExhausted = maps.Clone(m.ClassExhausted)
	c.DimensionExhausted = maps.Clone(m.DimensionExhausted)
	c.QuotaExhausted = slices.Clone(m.QuotaExhausted)
	c.Scores = maps.Clone(m.Scores)
	return &c
}

// ExhaustedNode records that a node lacked the given resource dimension.
func (m *AllocMetric) ExhaustedNode(class, dimension string) {
	m.NodesExhausted++
	if m.ClassExhausted == nil {
		m.ClassExhausted = map[string]int{}
	}
	if class != "" {
		m.ClassExhausted[class]++
	}
	if m.DimensionExhausted == nil {
		m.DimensionExhausted = map[string]int{}
	}
	m.DimensionExhausted[dimension]++
}

// FilterNode records that a node was filtered out for the given reason.
func (m *AllocMetric) FilterNode(class, reason string) {
	m.NodesFiltered++
	if class != "" {
		if m.ClassFiltered == nil {
			m.ClassFiltered = map[string]int{}
		}
		m.ClassFiltered[class]++
	}
	if m.ConstraintFiltered == nil {
		m.ConstraintFiltered = map[string]int{}
	}
	m.ConstraintFiltered[reason]++
}
