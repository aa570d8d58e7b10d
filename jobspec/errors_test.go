package jobspec

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

var update = flag.Bool("update", false, "rewrite testdata/invalid/*.err from the parser's output")

// TestInvalidFiles parses each testdata/invalid/NAME.hcl and compares the
// whole error message, positions included, with NAME.err. The .err files
// were written with -update and then checked by hand against the .hcl.
func TestInvalidFiles(t *testing.T) {
	paths, err := filepath.Glob("testdata/invalid/*.hcl")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no invalid files: %v", err)
	}
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".hcl")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			// The file name is given without its directory, as in the
			// messages a user sees for "drover job run job.hcl".
			_, err = Parse(name+".hcl", src, nil)
			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("got %v, want an *Error", err)
			}
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(path, ".hcl") + ".err"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Fatalf("got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestErrorFormat(t *testing.T) {
	subject := hcl.Range{Filename: "job.hcl", Start: hcl.Pos{Line: 12, Column: 5, Byte: 200}}
	earlier := hcl.Range{Filename: "job.hcl", Start: hcl.Pos{Line: 2, Column: 3, Byte: 10}}
	err := diagnosticsError(hcl.Diagnostics{
		{Severity: hcl.DiagError, Summary: "No position", Detail: "Given on the\ncommand line."},
		{Severity: hcl.DiagWarning, Summary: "A warning", Subject: &earlier},
		{Severity: hcl.DiagError, Summary: "Unsupported argument", Detail: `An argument named "foo" is not expected here.`, Subject: &subject},
		{Severity: hcl.DiagError, Summary: "Earlier", Subject: &earlier},
	})
	want := "job.hcl:2:3: Earlier\n" +
		`job.hcl:12:5: Unsupported argument; An argument named "foo" is not expected here.` + "\n" +
		"No position; Given on the command line."
	if err == nil || err.Error() != want {
		t.Fatalf("got:\n%v\nwant:\n%s", err, want)
	}
	if diagnosticsError(hcl.Diagnostics{{Severity: hcl.DiagWarning, Summary: "only a warning"}}) != nil {
		t.Fatal("warnings alone must not be an error")
	}
}
