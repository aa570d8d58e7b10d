package structs

// JobVersionsResponse answers GET /v1/job/:id/versions: the kept versions,
// newest first, and with ?diffs=true, Diffs[i] from version i+1 to i.
type JobVersionsResponse struct {
	Versions []*Job
	Diffs    []*JobDiff
}

// JobRevertRequest is the body of PUT /v1/job/:id/revert: submit an
// earlier version again, as a new version. EnforcePriorVersion, when set,
// refuses the revert unless the current version is that one.
type JobRevertRequest struct {
	JobID               string
	JobVersion          uint64
	EnforcePriorVersion *uint64
}

// ScalingRequest is the body of POST /v1/job/:id/scale. Target names the
// group ("Group"); Count is its new count.
type ScalingRequest struct {
	Count          *int64
	Target         map[string]string
	Message        string
	Error          bool
	Meta           map[string]any
	PolicyOverride bool
}

// Scaling targets, as Nomad's.
const (
	ScalingTargetNamespace = "Namespace"
	ScalingTargetJob       = "Job"
	ScalingTargetGroup     = "Group"
)

// JobStabilityRequest is the body of PUT /v1/job/:id/stable.
type JobStabilityRequest struct {
	JobID      string
	JobVersion uint64
	Stable     bool
}

// JobStabilityResponse answers it.
type JobStabilityResponse struct {
	Index uint64
}
