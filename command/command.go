// Package command is drover's command line: one file per command, all of
// them talking to an agent through the api package.
package command

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/cli"

	"github.com/drover-project/drover/internal/version"
)

// Factory makes a command from the shared Meta (its UI, standard streams,
// clock and interrupt context).
type Factory func(m Meta) cli.Command

var (
	registeredMu sync.Mutex
	registered   = map[string]Factory{}
)

// Register adds a command that is not in this file's list, such as "agent":
//
//	func init() {
//		Register("agent", func(m Meta) cli.Command { return &AgentCommand{Stdout: m.Stdout, Stderr: m.Stderr} })
//	}
//
// Call it before Run. Names may have spaces for subcommands ("operator raft").
func Register(name string, f Factory) {
	registeredMu.Lock()
	defer registeredMu.Unlock()
	registered[name] = f
}

// Run runs the command line args (without the program name) and returns
// the exit code.
func Run(args []string) int {
	ui := &cli.BasicUi{Reader: os.Stdin, Writer: os.Stdout, ErrorWriter: os.Stderr}
	meta := Meta{UI: ui, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Now: time.Now, Context: context.Background()}
	return run(args, meta, os.Stdout, os.Stderr)
}

// run runs args with meta as every command's starting point. Help goes to
// stdout, usage mistakes to stderr.
func run(args []string, meta Meta, stdout, stderr io.Writer) int {
	// "drover help job run" is "drover job run -h".
	if len(args) > 0 && args[0] == "help" {
		args = append(slices.Clone(args[1:]), "-h")
	}
	c := &cli.CLI{
		Name:        "drover",
		Version:     version.String(),
		Args:        args,
		Commands:    commands(meta),
		HelpFunc:    cli.BasicHelpFunc("drover"),
		HelpWriter:  stdout,
		ErrorWriter: stderr,
	}
	code, err := c.Run()
	if err != nil {
		fmt.Fprintf(stderr, "Error executing CLI: %v\n", err)
		return 1
	}
	return code
}

// commands lists every command; each gets its own copy of meta, since
// parsing its flags fills it in.
func commands(meta Meta) map[string]cli.CommandFactory {
	with := func(make func(Meta) cli.Command) cli.CommandFactory {
		return func() (cli.Command, error) { return make(meta), nil }
	}
	cmds := map[string]cli.CommandFactory{
		"job":          with(func(m Meta) cli.Command { return &JobCommand{} }),
		"job run":      with(func(m Meta) cli.Command { return &JobRunCommand{Meta: m} }),
		"job status":   with(func(m Meta) cli.Command { return &JobStatusCommand{Meta: m} }),
		"job stop":     with(func(m Meta) cli.Command { return &JobStopCommand{Meta: m} }),
		"job validate": with(func(m Meta) cli.Command { return &JobValidateCommand{Meta: m} }),
		"alloc":        with(func(m Meta) cli.Command { return &AllocCommand{} }),
		"alloc status": with(func(m Meta) cli.Command { return &AllocStatusCommand{Meta: m} }),
		"alloc logs":   with(func(m Meta) cli.Command { return &AllocLogsCommand{Meta: m} }),
		"node":         with(func(m Meta) cli.Command { return &NodeCommand{} }),
		"node status":  with(func(m Meta) cli.Command { return &NodeStatusCommand{Meta: m} }),
		"version":      with(func(m Meta) cli.Command { return &VersionCommand{Meta: m} }),
	}
	registeredMu.Lock()
	defer registeredMu.Unlock()
	for name, f := range registered {
		cmds[name] = func() (cli.Command, error) { return f(meta), nil }
	}
	return cmds
}

// JobCommand is "drover job".
type JobCommand struct{}

func (c *JobCommand) Synopsis() string { return "Submit, inspect and stop jobs" }
func (c *JobCommand) Help() string {
	return helpText(`
Usage: drover job <subcommand> [options] [args]

  Work with jobs: run a job file, see how its allocations are doing, stop it.

    $ drover job plan web.hcl
    $ drover job run web.hcl
    $ drover job status web
    $ drover job stop web`, false)
}
func (c *JobCommand) Run([]string) int { return cli.RunResultHelp }

// AllocCommand is "drover alloc".
type AllocCommand struct{}

func (c *AllocCommand) Synopsis() string { return "Inspect and operate allocations" }
func (c *AllocCommand) Help() string {
	return helpText(`
Usage: drover alloc <subcommand> [options] [args]

  Work with allocations, the placed instances of a job's groups.

    $ drover alloc status 8ba85cef
    $ drover alloc logs -f 8ba85cef web
    $ drover alloc exec -task web 8ba85cef /app echo hello
    $ drover alloc restart 8ba85cef
    $ drover alloc fs 8ba85cef alloc/logs`, false)
}
func (c *AllocCommand) Run([]string) int { return cli.RunResultHelp }

// NodeCommand is "drover node".
type NodeCommand struct{}

func (c *NodeCommand) Synopsis() string {
	return "Inspect client nodes, drain them and set their eligibility"
}
func (c *NodeCommand) Help() string {
	return helpText(`
Usage: drover node <subcommand> [options] [args]

  Work with the client nodes that run allocations.

    $ drover node status
    $ drover node status 171a583b
    $ drover node drain -enable -deadline 30m 171a583b
    $ drover node eligibility -enable 171a583b`, false)
}
func (c *NodeCommand) Run([]string) int { return cli.RunResultHelp }

// VersionCommand is "drover version".
type VersionCommand struct{ Meta }

func (c *VersionCommand) Synopsis() string { return "Print the drover version" }
func (c *VersionCommand) Help() string {
	return helpText(`
Usage: drover version

  Print the version of this drover binary.`, false)
}
func (c *VersionCommand) Run([]string) int {
	c.UI.Output(version.String())
	return 0
}
