package scheduler

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports keeps the scheduler pure policy: besides the standard
// library it may use only the domain types and the UUID library.
func TestImports(t *testing.T) {
	const self = "github.com/drover-project/drover/server/scheduler"
	allowed := map[string]bool{
		self: true,
		"github.com/drover-project/drover/structs": true,
		"github.com/google/uuid":                   true,
		"github.com/hashicorp/go-version":          true,
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command to list dependencies with")
	}
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", self).CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if !allowed[pkg] {
			t.Errorf("scheduler depends on %s; it may import only structs, google/uuid and the standard library", pkg)
		}
	}
}
