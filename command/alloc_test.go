package command

import (
	"strings"
	"testing"
	"time"

	"github.com/drover-project/drover/agent/http/backendtest"
	"github.com/drover-project/drover/structs"
)

// allocFixture is an allocation of a one-task group with events and logs,
// and one of a two-task group.
func allocFixture(e *testEnv) {
	one := job("web", "app")
	two := job("pair", "front", "back")
	events := []*structs.TaskEvent{
		{Type: structs.TaskReceived, Time: unix(testNow.Add(-3 * time.Minute))},
		{Type: structs.TaskDriverFailure, Time: unix(testNow.Add(-2 * time.Minute)), DriverError: "image app:9 not found"},
		{Type: structs.TaskStarted, Time: unix(testNow.Add(-time.Minute))},
	}
	e.server.Allocs = []*structs.Allocation{
		{
			ID: allocA, EvalID: evalID, Name: "web.web[0]", NodeID: nodeID, NodeName: "n1", JobID: "web", Job: one, TaskGroup: "web",
			DesiredStatus: "run", ClientStatus: "running", ClientDescription: "Tasks are running",
			CreateTime: unix(testNow.Add(-5 * time.Minute)), ModifyTime: unix(testNow.Add(-time.Minute)),
			TaskStates: map[string]*structs.TaskState{"app": {State: "running", Events: events}},
			AllocatedResources: &structs.AllocatedResources{
				Tasks:  map[string]*structs.AllocatedTaskResources{"app": {Cpu: structs.AllocatedCpuResources{CpuShares: 100}, Memory: structs.AllocatedMemoryResources{MemoryMB: 300}}},
				Shared: structs.AllocatedSharedResources{Ports: []structs.AllocatedPortMapping{{Label: "http", Value: 23456, To: 8080, HostIP: "10.0.0.5"}}},
			},
		},
		{ID: allocB, JobID: "pair", Job: two, TaskGroup: "web", NodeID: nodeID, DesiredStatus: "run", ClientStatus: "pending"},
	}
	e.client.Logs[backendtest.LogKey(allocA, "app", "stdout")] = backendtest.NewLogBuffer("one\ntwo\nthree\nfour\n")
	e.client.Logs[backendtest.LogKey(allocA, "app", "stderr")] = backendtest.NewLogBuffer("warning\n")
	e.client.Logs[backendtest.LogKey(allocB, "back", "stdout")] = backendtest.NewLogBuffer("back here\n")
	for _, b := range e.client.Logs {
		b.Finish() // followers end at the end of what is there
	}
}

func TestAllocStatus(t *testing.T) {
	e := newTestEnv(t)
	allocFixture(e)
	r := runCLI(t, "", "alloc", "status", "8ba")
	r.want(t, 0,
		"ID                  = 8ba85cef\n",
		"Name                = web.web[0]\n",
		"Node ID             = 171a583b\n",
		"Client Description  = Tasks are running\n",
		"Desired Description = <none>\n",
		"Created             = 5m ago\n",
		"Allocation Addresses:\nLabel  Address\nhttp   10.0.0.5:23456 -> 8080\n",
		"Task \"app\" is \"running\"\nTask Resources:\nCPU      Memory\n100 MHz  300 MiB\n",
		"Recent Events:\nTime",
	)
	// Newest first, in Nomad's words.
	started := "Started         Task started by client"
	failure := "Driver Failure  image app:9 not found"
	received := "Received        Task received by client"
	if !inOrder(r.stdout, started, failure, received) {
		t.Fatalf("events out of order or missing:\n%s", r.stdout)
	}
	runCLI(t, "", "alloc", "status", "-verbose", "8ba").want(t, 0, "ID                  = "+allocA)
	runCLI(t, "", "alloc", "status", "8b").want(t, 1, `Prefix "8b" matched multiple allocations`)
	runCLI(t, "", "alloc", "status", "ff").want(t, 1, `No allocation(s) with prefix or id "ff" found`)
}

// inOrder reports whether every part appears in s, each after the one before.
func inOrder(s string, parts ...string) bool {
	for _, p := range parts {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return true
}

func TestAllocLogs(t *testing.T) {
	e := newTestEnv(t)
	allocFixture(e)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"8ba"}, "one\ntwo\nthree\nfour\n"},              // the only task
		{[]string{"8ba", "app"}, "one\ntwo\nthree\nfour\n"},       // named
		{[]string{"-task=app", "8ba"}, "one\ntwo\nthree\nfour\n"}, // by flag
		{[]string{"-stderr", "8ba"}, "warning\n"},                 // stderr
		{[]string{"-tail", "-n", "2", "8ba"}, "three\nfour\n"},    // last lines
		{[]string{"-tail", "8ba"}, "one\ntwo\nthree\nfour\n"},     // fewer than 10
		{[]string{"-tail", "-c", "5", "8ba"}, "four\n"},           // last bytes
		{[]string{"-f", "8ba"}, "one\ntwo\nthree\nfour\n"},        // follow to the end
		{[]string{"-f", "-tail", "-n", "1", "8ba"}, "four\n"},     // tail, then follow
		{[]string{"8bf", "back"}, "back here\n"},                  // a task of several
	}
	for _, c := range cases {
		r := runCLI(t, "", append([]string{"alloc", "logs"}, c.args...)...)
		r.want(t, 0)
		if r.stdout != c.want {
			t.Errorf("alloc logs %v printed %q, want %q", c.args, r.stdout, c.want)
		}
	}
	runCLI(t, "", "alloc", "logs", "8bf").want(t, 1, "Allocation \"8bf00d00\" is running the following tasks:\n  * back\n  * front\n\nPlease specify the task.")
	runCLI(t, "", "alloc", "logs", "8ba", "db").want(t, 1, `Allocation "8ba85cef" has no task "db"`)
	runCLI(t, "", "alloc", "logs", "8bf", "front").want(t, 1, "Error reading logs", "404")
}

func TestAllocLogsFollowsNewOutput(t *testing.T) {
	e := newTestEnv(t)
	allocFixture(e)
	buf := backendtest.NewLogBuffer("start\n")
	e.client.Logs[backendtest.LogKey(allocA, "app", "stdout")] = buf

	done := make(chan result)
	go func() { done <- runCLI(t, "", "alloc", "logs", "-f", "-tail", "-n", "1", "8ba") }()
	waitUntil(t, "the command to follow the log", func() bool { return buf.Waiting() > 0 })
	buf.Write([]byte("more\n"))
	buf.Finish()
	r := <-done
	if r.code != 0 || r.stdout != "start\nmore\n" {
		t.Fatalf("followed %q (exit %d, stderr %q)", r.stdout, r.code, r.stderr)
	}
}

// waitUntil polls cond until it holds or a deadline passes.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
