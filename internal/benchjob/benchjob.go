// Package benchjob is the registration-only job: one docker task, the
// smallest useful registration. bench/cluster registers it against a
// cluster without clients, so its evaluation stays blocked and each
// registration exercises the write path and nothing else; the benchmarks
// of that path (agent/http, server/endpoints, server/fsm, server/state) and
// the e2e cluster tests use the same job, so their figures stay comparable.
package benchjob

import (
	"fmt"
	"sync"
	"time"

	"github.com/drover-project/drover/jobspec"
	"github.com/drover-project/drover/structs"
)

// HCL is the job's source.
const HCL = `
job "bench" {
  datacenters = ["*"]
  group "g" {
    task "t" {
      driver = "docker"
      config { image = "drover-demo:v1" }
      resources {
        cpu    = 50
        memory = 32
      }
    }
  }
}
`

var (
	parseOnce sync.Once
	template  *structs.Job
	parseErr  error
)

// New returns the job, parsed from HCL, with ID and Name set to id. Each
// call returns a copy of its own: the source is parsed once.
func New(id string) (*structs.Job, error) {
	parseOnce.Do(func() {
		template, parseErr = jobspec.Parse("bench.hcl", []byte(HCL), nil)
	})
	if parseErr != nil {
		return nil, fmt.Errorf("parse the registration-only job: %w", parseErr)
	}
	job := template.Copy()
	job.ID, job.Name = id, id
	return job, nil
}

// Registration returns job number i and its evaluation as the register
// endpoint proposes them to Raft: the job canonicalized, with a submit
// time, and a pending evaluation. IDs and times follow from i alone, so
// runs of a benchmark build the same input.
func Registration(i int) (*structs.Job, *structs.Evaluation, error) {
	job, err := New(fmt.Sprintf("bench-%07d", i))
	if err != nil {
		return nil, nil, err
	}
	job.Canonicalize()
	at := time.Unix(1_700_000_000, int64(i)).UTC()
	job.SubmitTime = at.UnixNano()
	eval := &structs.Evaluation{
		ID: fmt.Sprintf("00000000-0000-0000-0000-%012d", i), Namespace: job.Namespace, Priority: job.Priority,
		Type: job.Type, TriggeredBy: structs.EvalTriggerJobRegister, JobID: job.ID,
		Status: structs.EvalStatusPending, CreateTime: at.UnixNano(), ModifyTime: at.UnixNano(),
	}
	return job, eval, nil
}
