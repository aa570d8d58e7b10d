package deptest

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/drover-project/drover"

type pkg struct {
	ImportPath string
	Imports    []string
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-e", "-json", module+"/...")
	cmd.Dir = "../.."
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(out)
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("go list: %v", err)
	}
	return pkgs
}

// rule says which of the module's packages a package may import directly;
// checking direct imports of every package is enough for the transitive rule.
type rule struct {
	name    string
	applies func(path string) bool
	allowed func(dep string) bool
}

func under(prefixes ...string) func(string) bool {
	return func(path string) bool {
		for _, p := range prefixes {
			if path == module+"/"+p || strings.HasPrefix(path, module+"/"+p+"/") {
				return true
			}
		}
		return false
	}
}

func not(f func(string) bool) func(string) bool { return func(s string) bool { return !f(s) } }

var rules = []rule{
	{"structs is a leaf", under("structs"), under("structs")},
	{"api uses structs only", under("api"), under("api", "structs")},
	{"jobspec uses structs only", under("jobspec"), under("jobspec", "structs")},
	{"the scheduler is pure policy", under("server/scheduler"), under("server/scheduler", "structs")},
	{"server never imports client, api, command or agent", under("server"), not(under("client", "api", "command", "agent"))},
	{"client never imports server, api, command or agent", under("client"), not(under("server", "api", "command", "agent"))},
	{"internal is shared by both sides", under("internal"), not(under("server", "client", "api", "command", "agent"))},
	{"command talks through api", under("command"), not(under("server", "client"))},
}

func TestImportRules(t *testing.T) {
	for _, p := range listPackages(t) {
		for _, r := range rules {
			if !r.applies(p.ImportPath) {
				continue
			}
			for _, dep := range p.Imports {
				if !strings.HasPrefix(dep, module+"/") {
					continue
				}
				if !r.allowed(dep) {
					t.Errorf("%s: %s imports %s", r.name, strings.TrimPrefix(p.ImportPath, module+"/"), strings.TrimPrefix(dep, module+"/"))
				}
			}
		}
	}
}
