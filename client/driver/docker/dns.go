package docker

import (
	"github.com/drover-project/drover/client/driver"
)

// SetDefaultDNS makes containers started from now on, whose task and
// group network set no dns, use dns: the client's DNS server on the Docker
// bridge, so that tasks resolve NAME.service.drover. It is set once that
// server listens (after the fingerprint found the bridge's address), hence
// not an Option. nil stops it.
func (d *Driver) SetDefaultDNS(dns *driver.DNSConfig) { d.defaultDNS.Store(dns) }

// withDefaultDNS returns cfg with the default resolver when neither the
// task (dns_* options) nor its group set one and it has a network of its own.
func (d *Driver) withDefaultDNS(cfg *driver.TaskConfig, o *taskOptions) *driver.TaskConfig {
	dns := d.defaultDNS.Load()
	if dns == nil || cfg.DNS != nil || len(o.dnsServers)+len(o.dnsSearches)+len(o.dnsOptions) > 0 ||
		isJoined(cfg.NetworkMode) || cfg.NetworkMode == driver.NetworkModeNone {
		return cfg
	}
	c := *cfg
	c.DNS = dns
	return &c
}

// groupWithDefaultDNS is withDefaultDNS for a bridge group's network.
func (d *Driver) groupWithDefaultDNS(spec *driver.GroupNetworkSpec) *driver.GroupNetworkSpec {
	dns := d.defaultDNS.Load()
	if dns == nil || spec.DNS != nil {
		return spec
	}
	s := *spec
	s.DNS = dns
	return &s
}
