package jobspec

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary job files and variable files to Parse. Whatever
// the input, Parse must not panic, must return either a job or an *Error,
// and a job it returns must survive JSON encoding, Copy and Canonicalize.
func FuzzParse(f *testing.F) {
	var seeds []string
	for _, pattern := range []string{"../examples/*.hcl", "testdata/valid/*.hcl", "testdata/invalid/*.hcl"} {
		paths, _ := filepath.Glob(pattern)
		seeds = append(seeds, paths...)
	}
	for _, path := range seeds {
		src, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src, "")
	}
	f.Add([]byte(varsJob), "image = \"x\"\ndcs = [\"a\"]\n")
	f.Add([]byte(`job "x" { meta { a = "${attr.x}${var.y}" } }`), `y = 1`)
	f.Add([]byte(`locals { a = [for s in range(3) : "${s}${NOMAD_X}"] }`+"\n"+`job "x" {}`), "")

	f.Fuzz(func(t *testing.T, src []byte, varContent string) {
		if len(src) > 16<<10 || len(varContent) > 4<<10 {
			return // big inputs only slow the search down
		}
		job, err := Parse("fuzz.hcl", src, &ParseOptions{VarContent: varContent})
		if err != nil {
			var perr *Error
			if !errors.As(err, &perr) || err.Error() == "" || job != nil {
				t.Fatalf("want a nil job and a non-empty *Error, got %v and %T %q", job, err, err)
			}
			return
		}
		if job == nil {
			t.Fatal("nil job without an error")
		}
		if _, err := json.Marshal(job); err != nil {
			t.Fatalf("job does not encode as JSON: %v", err)
		}
		c := job.Copy()
		c.Canonicalize()
		_ = c.Validate() // may fail; must not panic
	})
}
