package structs

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Service providers. drover answers "nomad" (and an empty provider) from
// its own catalog; "consul" is not supported.
const (
	ServiceProviderNomad = "nomad"
)

// Check types.
const (
	CheckTypeHTTP   = "http"
	CheckTypeTCP    = "tcp"
	CheckTypeScript = "script"
	CheckTypeGRPC   = "grpc"
	// CheckTypeDocker takes the health the image's own HEALTHCHECK reports.
	CheckTypeDocker = "docker"
)

// Check statuses, as Consul and Nomad name them.
const (
	CheckPassing  = "passing"
	CheckWarning  = "warning"
	CheckCritical = "critical"
)

// Minimum check interval and timeout, as Nomad's.
const (
	MinCheckInterval = time.Second
	MinCheckTimeout  = time.Second
)

// Service is a `service` block: a named, discoverable instance of a port of
// the allocation, with the checks that say whether it is healthy.
type Service struct {
	Name        string
	TaskName    string `json:",omitempty"`
	PortLabel   string
	AddressMode string
	Address     string `json:",omitempty"`
	Tags        []string
	CanaryTags  []string `json:",omitempty"`
	Meta        map[string]string
	Provider    string
	OnUpdate    string `json:",omitempty"`
	Checks      []*ServiceCheck
	// Ingress is drover's addition: a port every client balances over the
	// service's healthy instances (see ServiceIngress).
	Ingress *ServiceIngress `json:",omitempty"`
}

// ServiceCheck is a `check` block.
type ServiceCheck struct {
	Name          string
	Type          string
	Command       string   `json:",omitempty"`
	Args          []string `json:",omitempty"`
	Path          string   `json:",omitempty"`
	Method        string   `json:",omitempty"`
	Header        map[string][]string
	Body          string `json:",omitempty"`
	Protocol      string `json:",omitempty"`
	PortLabel     string `json:",omitempty"`
	AddressMode   string `json:",omitempty"`
	Interval      time.Duration
	Timeout       time.Duration
	InitialStatus string `json:",omitempty"`
	TaskName      string `json:",omitempty"`
	GRPCService   string `json:",omitempty"`
	GRPCUseTLS    bool
	TLSSkipVerify bool
	// ExpectedStatus is drover's addition for http checks: the status code
	// that passes (any 2xx when 0).
	ExpectedStatus         int `json:",omitempty"`
	SuccessBeforePassing   int
	FailuresBeforeCritical int
	OnUpdate               string `json:",omitempty"`
	CheckRestart           *CheckRestart
}

// CheckRestart restarts a task whose check stays unhealthy (liveness).
type CheckRestart struct {
	Limit          int
	Grace          time.Duration
	IgnoreWarnings bool
}

// Canonicalize fills a service's defaults: the name Nomad would give it, the
// provider, and each check's port, method and protocol.
func (s *Service) Canonicalize(job, group, task string) {
	if s.Name == "" {
		s.Name = job + "-" + group
		if task != "" {
			s.Name += "-" + task
		}
	}
	if s.Provider == "" {
		s.Provider = ServiceProviderNomad
	}
	if s.AddressMode == "" {
		s.AddressMode = "auto"
	}
	if s.OnUpdate == "" {
		s.OnUpdate = "require_healthy"
	}
	if in := s.Ingress; in != nil {
		if in.Protocol == "" {
			in.Protocol = IngressProtocolTCP
		}
		if in.Algorithm == "" {
			in.Algorithm = IngressRoundRobin
		}
	}
	for _, c := range s.Checks {
		if c.PortLabel == "" && c.Type != CheckTypeScript && c.Type != CheckTypeDocker {
			c.PortLabel = s.PortLabel
		}
		if c.Type == CheckTypeHTTP {
			if c.Method == "" {
				c.Method = "GET"
			}
			if c.Protocol == "" {
				c.Protocol = "http"
			}
		}
		if c.OnUpdate == "" {
			c.OnUpdate = s.OnUpdate
		}
		if c.Name == "" {
			c.Name = fmt.Sprintf("service: %q check", s.Name)
		}
	}
}

// Validate checks a service; portLabels are the group's declared ports.
func (s *Service) Validate(portLabels map[string]bool) error {
	var errs []error
	add := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("service %q: "+format, append([]any{s.Name}, args...)...))
	}
	if s.Provider != ServiceProviderNomad {
		add("provider %q is not supported (drover's own catalog is %q)", s.Provider, ServiceProviderNomad)
	}
	if s.PortLabel != "" && !portLabels[s.PortLabel] && !isNumeric(s.PortLabel) {
		add("port %q is not declared in the group's network block", s.PortLabel)
	}
	switch s.OnUpdate {
	case "require_healthy", "ignore_warnings", "ignore":
	default:
		add("on_update must be require_healthy, ignore_warnings or ignore, got %q", s.OnUpdate)
	}
	for _, c := range s.Checks {
		if err := c.Validate(portLabels); err != nil {
			errs = append(errs, fmt.Errorf("service %q: %w", s.Name, err))
		}
	}
	if err := s.Ingress.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("service %q: %w", s.Name, err))
	}
	return errors.Join(errs...)
}

// Validate checks one check.
func (c *ServiceCheck) Validate(portLabels map[string]bool) error {
	var errs []error
	add := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("check %q: "+format, append([]any{c.Name}, args...)...))
	}
	switch c.Type {
	case CheckTypeHTTP:
		if c.Path == "" {
			add("http checks need a path")
		}
	case CheckTypeTCP, CheckTypeGRPC:
	case CheckTypeScript:
		if c.Command == "" {
			add("script checks need a command")
		}
	case CheckTypeDocker:
	default:
		add("type must be http, tcp, script, grpc or docker, got %q", c.Type)
	}
	if c.Type != CheckTypeDocker {
		if c.Interval < MinCheckInterval {
			add("interval must be at least %s, got %s", MinCheckInterval, c.Interval)
		}
		if c.Timeout < MinCheckTimeout {
			add("timeout must be at least %s, got %s", MinCheckTimeout, c.Timeout)
		}
	}
	if c.Type == CheckTypeHTTP || c.Type == CheckTypeTCP || c.Type == CheckTypeGRPC {
		if c.PortLabel == "" {
			add("needs a port (on the check or its service)")
		} else if !portLabels[c.PortLabel] && !isNumeric(c.PortLabel) {
			add("port %q is not declared in the group's network block", c.PortLabel)
		}
	}
	switch c.InitialStatus {
	case "", CheckPassing, CheckWarning, CheckCritical:
	default:
		add("initial_status must be passing, warning or critical, got %q", c.InitialStatus)
	}
	if r := c.CheckRestart; r != nil && (r.Limit < 0 || r.Grace < 0) {
		add("check_restart: limit and grace must not be negative")
	}
	return errors.Join(errs...)
}

func isNumeric(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Copy returns a deep copy.
func (s *Service) Copy() *Service {
	if s == nil {
		return nil
	}
	c := *s
	c.Tags = slices.Clone(s.Tags)
	c.CanaryTags = slices.Clone(s.CanaryTags)
	c.Meta = maps.Clone(s.Meta)
	if s.Ingress != nil {
		in := *s.Ingress
		c.Ingress = &in
	}
	if s.Checks != nil {
		c.Checks = make([]*ServiceCheck, len(s.Checks))
		for i, chk := range s.Checks {
			c.Checks[i] = chk.Copy()
		}
	}
	return &c
}

// Copy returns a deep copy.
func (c *ServiceCheck) Copy() *ServiceCheck {
	if c == nil {
		return nil
	}
	out := *c
	out.Args = slices.Clone(c.Args)
	if c.Header != nil {
		out.Header = make(map[string][]string, len(c.Header))
		for k, v := range c.Header {
			out.Header[k] = slices.Clone(v)
		}
	}
	if c.CheckRestart != nil {
		r := *c.CheckRestart
		out.CheckRestart = &r
	}
	return &out
}

func copyServices(in []*Service) []*Service {
	if in == nil {
		return nil
	}
	out := make([]*Service, len(in))
	for i, s := range in {
		out[i] = s.Copy()
	}
	return out
}
