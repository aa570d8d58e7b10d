package command

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/hashicorp/cli"

	"github.com/drover-project/drover/api"
)

// Meta is what every command shares: where it writes, the clock, and the
// general flags that say how to reach the API.
type Meta struct {
	UI cli.Ui
	// Stdin is read for job files given as "-"; UI.Ask reads its own.
	Stdin io.Reader
	// Stdout receives raw output, such as log bytes, that must not gain newlines.
	Stdout io.Writer
	// Stderr receives raw diagnostics, such as an agent's own log lines.
	Stderr io.Writer
	// Now is the clock used for "5m ago" columns.
	Now func() time.Time
	// Context ends waiting commands, which also end on an interrupt.
	Context context.Context

	address   string
	region    string
	namespace string
}

// flagSet returns a flag set with the general flags, which reports parse
// errors to the caller instead of printing them.
func (m *Meta) flagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&m.address, "address", "", "")
	fs.StringVar(&m.region, "region", "", "")
	fs.StringVar(&m.namespace, "namespace", "", "")
	return fs
}

// parseFlags parses args and, on a mistake, says what was wrong and where
// help is; ok is false then.
func (m *Meta) parseFlags(fs *flag.FlagSet, args []string) bool {
	if err := fs.Parse(args); err != nil {
		m.UI.Error(fmt.Sprintf("Error parsing flags: %v", err))
		m.UI.Error(fmt.Sprintf("For additional help try 'drover %s -h'", fs.Name()))
		return false
	}
	return true
}

// usageError says the arguments were wrong and where help is.
func (m *Meta) usageError(command, msg string) int {
	m.UI.Error(msg)
	m.UI.Error(fmt.Sprintf("For additional help try 'drover %s -h'", command))
	return 1
}

// client makes an API client from the general flags.
func (m *Meta) client() (*api.Client, error) {
	return api.NewClient(&api.Config{Address: m.address, Region: m.region, Namespace: m.namespace})
}

// ctx is the context commands wait under.
func (m *Meta) ctx() context.Context {
	if m.Context == nil {
		return context.Background()
	}
	return m.Context
}

// now reads the clock.
func (m *Meta) now() time.Time {
	if m.Now == nil {
		return time.Now()
	}
	return m.Now()
}

// interruptible returns a context that also ends on Ctrl-C. Only commands
// that wait use it: while it is active an interrupt no longer kills the
// process, so a command that ignored the context could not be stopped.
func interruptible(parent context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(parent, os.Interrupt)
}

// generalOptionsHelp documents the flags every command that talks to an agent takes.
const generalOptionsHelp = `General Options:

  -address=<addr>
    The address of the drover agent's HTTP API. Overrides the DROVER_ADDR
    environment variable if set. Default = ` + api.DefaultAddress + `

  -region=<region>
    The region of the servers to forward the request to. Defaults to the
    agent's own region.

  -namespace=<namespace>
    The namespace of the request. Defaults to "default".`

// helpText trims a command's help and appends the general options.
func helpText(text string, general bool) string {
	text = strings.TrimSpace(text)
	if general {
		text += "\n\n" + generalOptionsHelp
	}
	return text
}

// stringList is a repeatable string flag, like -var.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ", ") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }
