package http_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/drover-project/drover/api"
)

// TestAllocExecRepeatedKeepsOutputAndExitCode runs many short execs over
// the websocket, as `drover alloc exec` does with stdin at its end (input
// closed at once): every one delivers its output, then its exit code. The
// loop is bounded in count and time.
func TestAllocExecRepeatedKeepsOutputAndExitCode(t *testing.T) {
	_, _, client := newOpsEnv(t)
	const runs = 300
	deadline := time.Now().Add(60 * time.Second)
	n := 0
	for ; n < runs && time.Now().Before(deadline); n++ {
		var out, errOut strings.Builder
		cmd, wantCode, wantOut, wantErr := []string{"echo", "ok"}, 0, "ok\n", ""
		if n%2 == 1 {
			cmd, wantCode, wantOut, wantErr = []string{"fail"}, 3, "", "it failed\n"
		}
		code, err := client.Allocations().Exec(context.Background(), "a1",
			&api.ExecRequest{Task: "app", Command: cmd, Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut})
		if err != nil || code != wantCode || out.String() != wantOut || errOut.String() != wantErr {
			t.Fatalf("exec %d (%v): code %d, err %v, stdout %q, stderr %q", n, cmd, code, err, out.String(), errOut.String())
		}
	}
	if n < runs/3 {
		t.Fatalf("only %d of %d execs ran within the time bound", n, runs)
	}
}
