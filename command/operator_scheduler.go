package command

import (
	"flag"
	"fmt"
	"strconv"

	"github.com/hashicorp/cli"

	"github.com/drover-project/drover/structs"
)

func init() {
	Register("operator scheduler get-config", func(m Meta) cli.Command { return &OperatorSchedulerGetCommand{Meta: m} })
	Register("operator scheduler set-config", func(m Meta) cli.Command { return &OperatorSchedulerSetCommand{Meta: m} })
}

// OperatorSchedulerGetCommand is "drover operator scheduler get-config".
type OperatorSchedulerGetCommand struct {
	Meta
}

func (c *OperatorSchedulerGetCommand) Synopsis() string {
	return "Display the current scheduler configuration"
}

func (c *OperatorSchedulerGetCommand) Help() string {
	return helpText(`
Usage: drover operator scheduler get-config [options]

  Display the cluster's scheduler configuration: the placement algorithm,
  memory oversubscription, and which job types may preempt.

Get Config Options:

  -json
    Print the configuration as JSON.`, true)
}

func (c *OperatorSchedulerGetCommand) Run(args []string) int {
	fs := c.flagSet("operator scheduler get-config")
	asJSON := fs.Bool("json", false, "")
	if !c.parseFlags(fs, args) {
		return exitError
	}
	if fs.NArg() != 0 {
		return c.usageError("operator scheduler get-config", "This command takes no arguments")
	}
	client, err := c.client()
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error initializing client: %v", err))
		return exitError
	}
	resp, err := client.Operator().SchedulerGetConfiguration(nil)
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error querying scheduler configuration: %v", err))
		return exitError
	}
	cfg := resp.SchedulerConfig
	if *asJSON {
		out, err := jsonIndent(cfg)
		if err != nil {
			c.UI.Error(err.Error())
			return exitError
		}
		c.UI.Output(out)
		return exitOK
	}
	c.UI.Output(formatKV([]string{
		"Scheduler Algorithm|" + cfg.SchedulerAlgorithm,
		"Memory Oversubscription|" + strconv.FormatBool(cfg.MemoryOversubscriptionEnabled),
		"Reject Job Registration|" + strconv.FormatBool(cfg.RejectJobRegistration),
		"Pause Eval Broker|" + strconv.FormatBool(cfg.PauseEvalBroker),
		"Preemption System Scheduler|" + strconv.FormatBool(cfg.PreemptionConfig.SystemSchedulerEnabled),
		"Preemption Service Scheduler|" + strconv.FormatBool(cfg.PreemptionConfig.ServiceSchedulerEnabled),
		"Preemption Batch Scheduler|" + strconv.FormatBool(cfg.PreemptionConfig.BatchSchedulerEnabled),
		"Preemption SysBatch Scheduler|" + strconv.FormatBool(cfg.PreemptionConfig.SysBatchSchedulerEnabled),
		"Modify Index|" + strconv.FormatUint(cfg.ModifyIndex, 10),
	}))
	return exitOK
}

// OperatorSchedulerSetCommand is "drover operator scheduler set-config".
type OperatorSchedulerSetCommand struct {
	Meta
}

func (c *OperatorSchedulerSetCommand) Synopsis() string {
	return "Modify the current scheduler configuration"
}

func (c *OperatorSchedulerSetCommand) Help() string {
	return helpText(`
Usage: drover operator scheduler set-config [options]

  Change the cluster's scheduler configuration. Only the options given
  change; the others keep their current values. The configuration is kept
  in Raft and applies to every evaluation scheduled after the change.

Set Config Options:

  -scheduler-algorithm=<binpack|spread>
    binpack fills nodes up, keeping others free for large jobs; spread
    prefers the emptiest nodes, evening out load.

  -memory-oversubscription=<bool>
    Let tasks use memory up to their memory_max; when false, memory_max
    is ignored.

  -preempt-system-scheduler=<bool>
  -preempt-sysbatch-scheduler=<bool>
  -preempt-batch-scheduler=<bool>
  -preempt-service-scheduler=<bool>
    Whether jobs of that type may evict lower-priority allocations to make
    room.

  -reject-job-registration=<bool>
    Refuse new jobs and job updates.

  -check-index=<index>
    Change the configuration only if its modify index is still this one.`, true)
}

func (c *OperatorSchedulerSetCommand) Run(args []string) int {
	fs := c.flagSet("operator scheduler set-config")
	algo := fs.String("scheduler-algorithm", "", "")
	memOver := fs.Bool("memory-oversubscription", false, "")
	preSystem := fs.Bool("preempt-system-scheduler", false, "")
	preSysBatch := fs.Bool("preempt-sysbatch-scheduler", false, "")
	preBatch := fs.Bool("preempt-batch-scheduler", false, "")
	preService := fs.Bool("preempt-service-scheduler", false, "")
	reject := fs.Bool("reject-job-registration", false, "")
	pause := fs.Bool("pause-eval-broker", false, "")
	checkIndex := fs.Uint64("check-index", 0, "")
	if !c.parseFlags(fs, args) {
		return exitError
	}
	if fs.NArg() != 0 {
		return c.usageError("operator scheduler set-config", "This command takes no arguments")
	}
	client, err := c.client()
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error initializing client: %v", err))
		return exitError
	}
	current, err := client.Operator().SchedulerGetConfiguration(nil)
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error querying scheduler configuration: %v", err))
		return exitError
	}
	cfg := current.SchedulerConfig.Copy()
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["scheduler-algorithm"] {
		cfg.SchedulerAlgorithm = *algo
	}
	for name, dst := range map[string]struct {
		from *bool
		to   *bool
	}{
		"memory-oversubscription":    {memOver, &cfg.MemoryOversubscriptionEnabled},
		"preempt-system-scheduler":   {preSystem, &cfg.PreemptionConfig.SystemSchedulerEnabled},
		"preempt-sysbatch-scheduler": {preSysBatch, &cfg.PreemptionConfig.SysBatchSchedulerEnabled},
		"preempt-batch-scheduler":    {preBatch, &cfg.PreemptionConfig.BatchSchedulerEnabled},
		"preempt-service-scheduler":  {preService, &cfg.PreemptionConfig.ServiceSchedulerEnabled},
		"reject-job-registration":    {reject, &cfg.RejectJobRegistration},
		"pause-eval-broker":          {pause, &cfg.PauseEvalBroker},
	} {
		if set[name] {
			*dst.to = *dst.from
		}
	}
	var resp *structs.SchedulerSetConfigurationResponse
	if set["check-index"] {
		resp, err = client.Operator().SchedulerCASConfiguration(cfg, *checkIndex)
	} else {
		resp, err = client.Operator().SchedulerSetConfiguration(cfg)
	}
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error setting scheduler configuration: %v", err))
		return exitError
	}
	if !resp.Updated {
		c.UI.Error(fmt.Sprintf("Scheduler configuration not updated: its modify index is no longer %d", *checkIndex))
		return exitError
	}
	c.UI.Output("Scheduler configuration updated!")
	return exitOK
}

func init() {
	Register("operator scheduler", func(Meta) cli.Command { return &OperatorSchedulerCommand{} })
}

// OperatorSchedulerCommand is "drover operator scheduler".
type OperatorSchedulerCommand struct{}

func (c *OperatorSchedulerCommand) Synopsis() string {
	return "Display and change the scheduler configuration"
}
func (c *OperatorSchedulerCommand) Help() string {
	return helpText(`
Usage: drover operator scheduler <subcommand> [options]

  Display and change the cluster-wide scheduler configuration: the
  placement algorithm (binpack or spread), memory oversubscription and
  preemption per job type.

    $ drover operator scheduler get-config
    $ drover operator scheduler set-config -scheduler-algorithm=spread`, false)
}
func (c *OperatorSchedulerCommand) Run([]string) int { return cli.RunResultHelp }
