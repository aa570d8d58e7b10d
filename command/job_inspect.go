package command

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/hashicorp/cli"

	"github.com/drover-project/drover/structs"
)

func init() {
	Register("job inspect", func(m Meta) cli.Command { return &JobInspectCommand{Meta: m} })
}

// JobInspectCommand is "drover job inspect": a job as the servers store it.
type JobInspectCommand struct {
	Meta
}

func (c *JobInspectCommand) Synopsis() string { return "Inspect a submitted job" }

func (c *JobInspectCommand) Help() string {
	return helpText(`
Usage: drover job inspect [options] <job>

  Print the job as the servers store it, as JSON ({"Job": {...}}, the shape
  "PUT /v1/jobs" accepts, so the output can be submitted again).

Inspect Options:

  -version <n>
    Print version n of the job (one of the last 6 kept) instead of the
    current one.`, true)
}

func (c *JobInspectCommand) Run(args []string) int {
	fs := c.flagSet("job inspect")
	versionFlag := fs.String("version", "", "")
	if !c.parseFlags(fs, args) {
		return exitError
	}
	if fs.NArg() != 1 {
		return c.usageError("job inspect", "This command takes one argument: <job>")
	}
	client, err := c.client()
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error initializing client: %v", err))
		return exitError
	}
	stub, err := client.Jobs().Resolve(fs.Arg(0), nil)
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error looking up job: %v", err))
		return exitError
	}
	var job *structs.Job
	if *versionFlag == "" {
		if job, _, err = client.Jobs().Info(stub.ID, nil); err != nil {
			c.UI.Error(fmt.Sprintf("Error inspecting job: %v", err))
			return exitError
		}
	} else {
		want, err := strconv.ParseUint(*versionFlag, 10, 64)
		if err != nil {
			return c.usageError("job inspect", fmt.Sprintf("-version must be a version number, got %q", *versionFlag))
		}
		resp, _, err := client.Jobs().Versions(stub.ID, false, nil)
		if err != nil {
			c.UI.Error(fmt.Sprintf("Error retrieving job versions: %v", err))
			return exitError
		}
		for _, v := range resp.Versions {
			if v.Version == want {
				job = v
			}
		}
		if job == nil {
			c.UI.Error(fmt.Sprintf("Version %d of job %q is not kept", want, stub.ID))
			return exitError
		}
	}
	out, err := jsonIndent(map[string]any{"Job": job})
	if err != nil {
		c.UI.Error(err.Error())
		return exitError
	}
	c.UI.Output(out)
	return exitOK
}

// jsonIndent formats v as indented JSON.
func jsonIndent(v any) (string, error) {
	b, err := json.MarshalIndent(v, "", "    ")
	if err != nil {
		return "", fmt.Errorf("encoding JSON: %w", err)
	}
	return string(b), nil
}
