package command

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/drover-project/drover/api"
	"github.com/drover-project/drover/structs"
)

// Exit codes of commands that follow an evaluation, as Nomad's.
const (
	exitOK               = 0
	exitError            = 1
	exitPlacementFailure = 2
)

// monitorWait is how long one blocking query for the evaluation waits.
const monitorWait = 5 * time.Minute

// monitor follows an evaluation until it is finished and tells the user
// what it did: the allocations it placed, and why any could not be placed.
type monitor struct {
	meta    *Meta
	client  *api.Client
	verbose bool
}

// run follows evalID (and the evaluations it hands over to) and returns
// the exit code: 0 when everything was placed, 2 when something could not
// be, 1 on errors.
func (m *monitor) run(ctx context.Context, evalID string) int {
	ui := m.meta.UI
	for evalID != "" {
		ui.Output(fmt.Sprintf("==> Monitoring evaluation %q", shortID(evalID, m.verbose)))
		eval, err := m.waitTerminal(ctx, evalID)
		if ctx.Err() != nil {
			return exitError // interrupted: the user knows, and the job stays submitted
		}
		if err != nil {
			ui.Error(fmt.Sprintf("Error reading evaluation %q: %v", evalID, err))
			return exitError
		}
		if err := m.reportAllocations(ctx, eval); err != nil {
			ui.Error(fmt.Sprintf("Error reading allocations of evaluation %q: %v", evalID, err))
			return exitError
		}
		if eval.NextEval != "" && eval.Status == structs.EvalStatusComplete {
			ui.Output(fmt.Sprintf("    Evaluation %q handed over to evaluation %q", shortID(eval.ID, m.verbose), shortID(eval.NextEval, m.verbose)))
			evalID = eval.NextEval
			continue
		}
		return m.finish(eval)
	}
	return exitOK
}

// waitTerminal reads the evaluation with blocking queries until it is
// finished, reporting each change of status.
func (m *monitor) waitTerminal(ctx context.Context, evalID string) (*structs.Evaluation, error) {
	var index uint64
	status := ""
	backoff := 100 * time.Millisecond
	for {
		q := (&api.QueryOptions{WaitIndex: index, WaitTime: monitorWait}).WithContext(ctx)
		eval, meta, err := m.client.Evaluations().Info(evalID, q)
		if err != nil {
			return nil, err
		}
		switch {
		case status == "":
			m.meta.UI.Output(fmt.Sprintf("    Evaluation triggered by job %q", eval.JobID))
		case eval.Status != status:
			m.meta.UI.Output(fmt.Sprintf("    Evaluation status changed: %q -> %q", status, eval.Status))
		}
		status = eval.Status
		if eval.Terminal() {
			return eval, nil
		}
		if meta.LastIndex > index {
			index, backoff = meta.LastIndex, 100*time.Millisecond
			continue
		}
		// The agent answered without anything changing (it may not block):
		// ask again a little later rather than at once.
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

// reportAllocations lists what the evaluation placed or changed.
func (m *monitor) reportAllocations(ctx context.Context, eval *structs.Evaluation) error {
	allocs, _, err := m.client.Evaluations().Allocations(eval.ID, (&api.QueryOptions{}).WithContext(ctx))
	if err != nil {
		return err
	}
	slices.SortFunc(allocs, func(a, b *structs.AllocListStub) int {
		return cmp.Or(cmp.Compare(a.TaskGroup, b.TaskGroup), cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	for _, a := range allocs {
		verb := "created"
		if a.CreateIndex < eval.CreateIndex {
			verb = "modified"
		}
		m.meta.UI.Output(fmt.Sprintf("    Allocation %q %s: node %q, group %q",
			shortID(a.ID, m.verbose), verb, shortID(a.NodeID, m.verbose), a.TaskGroup))
	}
	return nil
}

// finish reports how the evaluation ended and returns the exit code.
func (m *monitor) finish(eval *structs.Evaluation) int {
	ui := m.meta.UI
	id := shortID(eval.ID, m.verbose)
	if eval.Status == structs.EvalStatusFailed {
		ui.Output(fmt.Sprintf("==> Evaluation %q finished with status %q: %s", id, eval.Status, orNone(eval.StatusDescription)))
		return exitPlacementFailure
	}
	if len(eval.FailedTGAllocs) == 0 {
		ui.Output(fmt.Sprintf("==> Evaluation %q finished with status %q", id, eval.Status))
		return exitOK
	}
	ui.Output(fmt.Sprintf("==> Evaluation %q finished with status %q but failed to place all allocations:", id, eval.Status))
	ui.Output(formatPlacementFailures(eval.FailedTGAllocs, "    "))
	if eval.BlockedEval != "" {
		ui.Output(fmt.Sprintf("    Evaluation %q waiting for additional capacity to place remainder", shortID(eval.BlockedEval, m.verbose)))
	}
	return exitPlacementFailure
}

// formatPlacementFailures explains, group by group, why allocations could
// not be placed.
func formatPlacementFailures(failed map[string]*structs.AllocMetric, indent string) string {
	var lines []string
	for _, group := range sortedKeys(failed) {
		metric := failed[group]
		n := metric.CoalescedFailures + 1
		plural := "s"
		if n == 1 {
			plural = ""
		}
		lines = append(lines, fmt.Sprintf("%sTask Group %q (failed to place %d allocation%s):", indent, group, n, plural))
		for _, reason := range placementReasons(metric) {
			lines = append(lines, indent+"  * "+reason)
		}
	}
	return strings.Join(lines, "\n")
}

// placementReasons turns a metric's counts into sentences, in Nomad's words.
func placementReasons(m *structs.AllocMetric) []string {
	var out []string
	if m.NodesEvaluated == 0 {
		out = append(out, "No nodes were eligible for evaluation")
	}
	for _, dc := range sortedKeys(m.NodesAvailable) {
		if m.NodesAvailable[dc] == 0 {
			out = append(out, fmt.Sprintf("No nodes are available in datacenter %q", dc))
		}
	}
	for _, class := range sortedKeys(m.ClassFiltered) {
		out = append(out, fmt.Sprintf("Class %q: %d nodes excluded by filter", class, m.ClassFiltered[class]))
	}
	for _, c := range sortedKeys(m.ConstraintFiltered) {
		out = append(out, fmt.Sprintf("Constraint %q: %d nodes excluded by filter", c, m.ConstraintFiltered[c]))
	}
	if m.NodesExhausted > 0 {
		out = append(out, fmt.Sprintf("Resources exhausted on %d nodes", m.NodesExhausted))
	}
	for _, class := range sortedKeys(m.ClassExhausted) {
		out = append(out, fmt.Sprintf("Class %q exhausted on %d nodes", class, m.ClassExhausted[class]))
	}
	for _, dim := range sortedKeys(m.DimensionExhausted) {
		out = append(out, fmt.Sprintf("Dimension %q exhausted on %d nodes", dim, m.DimensionExhausted[dim]))
	}
	for _, quota := range m.QuotaExhausted {
		out = append(out, fmt.Sprintf("Quota limit hit %q", quota))
	}
	return out
}
