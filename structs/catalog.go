package structs

import (
	"fmt"
	"maps"
	"slices"
)

// Instance health, as the catalog reports it: passing while every check of
// the instance passes (or it has none), critical otherwise.
const (
	HealthPassing  = CheckPassing
	HealthCritical = CheckCritical
)

// ServiceRegistration is one running instance of a service: where it
// listens and whether it is healthy. The fields up to ModifyIndex are
// Nomad's (GET /v1/service/:name); Meta, Health and Checks are drover's.
type ServiceRegistration struct {
	ID          string
	ServiceName string
	Namespace   string
	NodeID      string
	Datacenter  string
	JobID       string
	AllocID     string
	Tags        []string
	Address     string
	Port        int
	CreateIndex uint64
	ModifyIndex uint64

	Meta map[string]string `json:",omitempty"`
	// Health is HealthPassing or HealthCritical.
	Health string `json:",omitempty"`
	// Checks are the instance's checks and their last statuses.
	Checks []ServiceCheckStatus `json:",omitempty"`
	// Ingress is the service's ingress, carried by each instance so that
	// every node's balancer learns it from the catalog.
	Ingress *ServiceIngress `json:",omitempty"`
}

// ServiceCheckStatus is the status of one check of an instance.
type ServiceCheckStatus struct {
	Name   string
	Status string // CheckPassing, CheckWarning or CheckCritical
}

// Healthy reports whether the instance may receive traffic.
func (r *ServiceRegistration) Healthy() bool {
	return r.Health == HealthPassing
}

// HasTag reports whether the instance carries tag.
func (r *ServiceRegistration) HasTag(tag string) bool {
	return slices.Contains(r.Tags, tag)
}

// Copy returns a deep copy.
func (r *ServiceRegistration) Copy() *ServiceRegistration {
	if r == nil {
		return nil
	}
	c := *r
	c.Tags = slices.Clone(r.Tags)
	c.Meta = maps.Clone(r.Meta)
	c.Checks = slices.Clone(r.Checks)
	if r.Ingress != nil {
		in := *r.Ingress
		c.Ingress = &in
	}
	return &c
}

// Ingress protocols and load-balancing algorithms.
const (
	IngressProtocolTCP  = "tcp"
	IngressProtocolHTTP = "http"

	IngressRoundRobin = "round_robin"
	IngressLeastConn  = "least_conn"
)

// ServiceIngress is drover's `ingress` block of a service: every client
// listens on Port and balances connections (tcp) or requests (http) over
// the service's healthy instances anywhere in the cluster.
type ServiceIngress struct {
	Port      int
	Protocol  string // IngressProtocolTCP (default) or IngressProtocolHTTP
	Algorithm string // IngressRoundRobin (default) or IngressLeastConn
	// ProxyProtocol, for tcp, prefixes each forwarded connection with a
	// PROXY protocol v1 header carrying the client's address.
	ProxyProtocol bool `json:",omitempty"`
}

// Validate checks an ingress block; a nil ingress is valid.
func (in *ServiceIngress) Validate() error {
	if in == nil {
		return nil
	}
	if in.Port < 1 || in.Port > 65535 {
		return fmt.Errorf("ingress: port must be between 1 and 65535, got %d", in.Port)
	}
	switch in.Protocol {
	case "", IngressProtocolTCP, IngressProtocolHTTP:
	default:
		return fmt.Errorf("ingress: protocol must be %q or %q, got %q", IngressProtocolTCP, IngressProtocolHTTP, in.Protocol)
	}
	switch in.Algorithm {
	case "", IngressRoundRobin, IngressLeastConn:
	default:
		return fmt.Errorf("ingress: algorithm must be %q or %q, got %q", IngressRoundRobin, IngressLeastConn, in.Algorithm)
	}
	if in.ProxyProtocol && in.Protocol == IngressProtocolHTTP {
		return fmt.Errorf("ingress: proxy_protocol is for tcp ingresses (http ones send X-Forwarded-For)")
	}
	return nil
}
