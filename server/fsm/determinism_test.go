package fsm

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestNoClockRandomOrIDs keeps the replicated state machine deterministic:
// the FSM and the state store (their tests and helpers too, so no test
// hides a dependency) must not read the clock, draw random numbers or make
// IDs. Endpoints fill those in before proposing an entry.
func TestNoClockRandomOrIDs(t *testing.T) {
	files := 0
	for _, dir := range []string{".", filepath.Join("..", "state")} {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
				return err
			}
			if filepath.Base(path) == "determinism_test.go" {
				return nil // it names what it bans
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			files++
			found, err := nondeterminism(path, src)
			if err != nil {
				return err
			}
			for _, v := range found {
				t.Error(v)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if files < 10 {
		t.Fatalf("checked only %d files: is the check looking in the right place?", files)
	}
}

// TestNondeterminismCheckCatches proves the check is not vacuous.
func TestNondeterminismCheckCatches(t *testing.T) {
	src := `package x
import (
	"time"
	clock "time"
	"math/rand"
	crand "crypto/rand"
	"github.com/google/uuid"
)
func f() {
	_ = time.Now()
	_ = clock.Since(clock.Time{})
	_ = rand.Int()
	_, _ = crand.Read(nil)
	_ = uuid.NewString()
	_ = time.Unix(0, 0) // allowed: no clock read
}`
	found, err := nondeterminism("x.go", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`"math/rand"`, `"crypto/rand"`, `"github.com/google/uuid"`, "time.Now", "clock.Since", "uuid.NewString"}
	if len(found) != len(want) {
		t.Fatalf("found %d violations, want %d:\n%s", len(found), len(want), strings.Join(found, "\n"))
	}
	for i, w := range want {
		if !strings.Contains(found[i], w) {
			t.Errorf("violation %d = %q, want it to name %s", i, found[i], w)
		}
	}
}

var (
	bannedImports = map[string]string{
		"math/rand":                    "random numbers",
		"math/rand/v2":                 "random numbers",
		"crypto/rand":                  "random numbers",
		"github.com/google/uuid":       "ID generation",
		"github.com/hashicorp/go-uuid": "ID generation",
	}
	// Functions of package time that read the clock, under any local name.
	clockReads = map[string]bool{"Now": true, "Since": true, "Until": true}
)

// nondeterminism lists the banned imports and calls in one Go file.
func nondeterminism(path string, src []byte) ([]string, error) {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, path, src, 0)
	if err != nil {
		return nil, err
	}
	var found []string
	localNames := map[string]string{} // name in this file -> import path
	for _, imp := range file.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		if why, ok := bannedImports[p]; ok {
			found = append(found, fmt.Sprintf("%s: imports %q (%s)", fset.Position(imp.Pos()), p, why))
		}
		name := filepath.Base(p)
		if imp.Name != nil {
			name = imp.Name.Name
		}
		localNames[name] = p
	}
	ast.Inspect(file, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		pkg, ok := sel.X.(*ast.Ident)
		if !ok {
			return true
		}
		p := localNames[pkg.Name]
		switch {
		case p == "time" && clockReads[sel.Sel.Name]:
			found = append(found, fmt.Sprintf("%s: %s.%s (reads the clock)", fset.Position(sel.Pos()), pkg.Name, sel.Sel.Name))
		case strings.HasSuffix(p, "uuid"):
			found = append(found, fmt.Sprintf("%s: %s.%s (ID generation)", fset.Position(sel.Pos()), pkg.Name, sel.Sel.Name))
		}
		return true
	})
	return found, nil
}
