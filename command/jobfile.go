package command

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/drover-project/drover/jobspec"
	"github.com/drover-project/drover/structs"
)

// jobFileFlags are the flags of commands that read a job file.
type jobFileFlags struct {
	vars     stringList
	varFiles stringList
}

func (f *jobFileFlags) register(fs *flag.FlagSet) {
	fs.Var(&f.vars, "var", "")
	fs.Var(&f.varFiles, "var-file", "")
}

// jobFileOptionsHelp documents jobFileFlags.
const jobFileOptionsHelp = `  -var 'key=value'
    A value for a variable the job file declares. Repeat for more
    variables. Lists and maps are written in HCL: -var 'dcs=["a","b"]'.

  -var-file=<path>
    A file of 'key = value' lines giving variables. Repeatable; -var wins
    over files, later files over earlier ones.`

// readJobFile parses the job file at path ("-" reads standard input) with
// the variables from the flags and from NOMAD_VAR_<name> in the
// environment.
func (f *jobFileFlags) readJobFile(path string, stdin io.Reader) (*structs.Job, error) {
	var src []byte
	var err error
	if path == "-" {
		src, err = io.ReadAll(stdin)
		path = "<stdin>"
	} else {
		src, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("reading job file: %w", err)
	}
	return jobspec.Parse(path, src, &jobspec.ParseOptions{
		Vars:     f.vars,
		VarFiles: f.varFiles,
		Env:      environment(),
	})
}

// environment returns the process environment as a map.
func environment() map[string]string {
	env := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return env
}
