// Package agent runs one drover process: a server, a client, or both, and
// the HTTP API in front of them.
package agent

import (
	"fmt"
	"os"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Default ports, as the documentation gives them.
const (
	DefaultHTTPPort = 4746
	DefaultRPCPort  = 4747
	DefaultSerfPort = 4748
)

// Config is the agent's configuration: defaults, then each -config file in
// order, then flags.
type Config struct {
	Dev        bool
	Name       string
	DataDir    string
	BindAddr   string
	Datacenter string
	Region     string
	LogLevel   string
	Ports      Ports
	Server     ServerConfig
	Client     ClientConfig
}

// Ports the agent listens on. -1 means "not set" while merging; 0 asks the
// OS for a free port (for tests).
type Ports struct {
	HTTP int
	RPC  int
	Serf int
}

// ServerConfig is the `server` block.
type ServerConfig struct {
	Enabled         bool
	BootstrapExpect int
}

// ClientConfig is the `client` block.
type ClientConfig struct {
	Enabled   bool
	NodeClass string
	NodePool  string
	Meta      map[string]string
}

// DefaultConfig is what an agent runs with before files and flags.
func DefaultConfig() *Config {
	return &Config{
		BindAddr:   "127.0.0.1",
		Datacenter: "dc1",
		Region:     "global",
		LogLevel:   "info",
		Ports:      Ports{HTTP: DefaultHTTPPort, RPC: DefaultRPCPort, Serf: DefaultSerfPort},
	}
}

// fileConfig is the HCL shape of a config file. Pointers tell "not set"
// from a zero value, so a later file only overrides what it names.
type fileConfig struct {
	Name       *string     `hcl:"name,optional"`
	DataDir    *string     `hcl:"data_dir,optional"`
	BindAddr   *string     `hcl:"bind_addr,optional"`
	Datacenter *string     `hcl:"datacenter,optional"`
	Region     *string     `hcl:"region,optional"`
	LogLevel   *string     `hcl:"log_level,optional"`
	Ports      *filePorts  `hcl:"ports,block"`
	Server     *fileServer `hcl:"server,block"`
	Client     *fileClient `hcl:"client,block"`
}

type filePorts struct {
	HTTP *int `hcl:"http,optional"`
	RPC  *int `hcl:"rpc,optional"`
	Serf *int `hcl:"serf,optional"`
}

type fileServer struct {
	Enabled         *bool `hcl:"enabled,optional"`
	BootstrapExpect *int  `hcl:"bootstrap_expect,optional"`
}

type fileClient struct {
	Enabled   *bool             `hcl:"enabled,optional"`
	NodeClass *string           `hcl:"node_class,optional"`
	NodePool  *string           `hcl:"node_pool,optional"`
	Meta      map[string]string `hcl:"meta,optional"`
}

// LoadConfigFile merges one HCL config file into c. Errors name the file,
// line and column.
func (c *Config) LoadConfigFile(path string) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read config: %w", err)
	}
	return c.loadConfig(path, src)
}

func (c *Config) loadConfig(filename string, src []byte) error {
	file, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		return diagError(diags)
	}
	var fc fileConfig
	if diags := gohcl.DecodeBody(file.Body, nil, &fc); diags.HasErrors() {
		return diagError(diags)
	}
	set(&c.Name, fc.Name)
	set(&c.DataDir, fc.DataDir)
	set(&c.BindAddr, fc.BindAddr)
	set(&c.Datacenter, fc.Datacenter)
	set(&c.Region, fc.Region)
	set(&c.LogLevel, fc.LogLevel)
	if p := fc.Ports; p != nil {
		set(&c.Ports.HTTP, p.HTTP)
		set(&c.Ports.RPC, p.RPC)
		set(&c.Ports.Serf, p.Serf)
	}
	if s := fc.Server; s != nil {
		set(&c.Server.Enabled, s.Enabled)
		set(&c.Server.BootstrapExpect, s.BootstrapExpect)
	}
	if cl := fc.Client; cl != nil {
		set(&c.Client.Enabled, cl.Enabled)
		set(&c.Client.NodeClass, cl.NodeClass)
		set(&c.Client.NodePool, cl.NodePool)
		if cl.Meta != nil {
			c.Client.Meta = cl.Meta
		}
	}
	return nil
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// diagError formats diagnostics as "file:line:col: summary; detail", one per line.
func diagError(diags hcl.Diagnostics) error {
	var lines []string
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		msg := d.Summary
		if d.Detail != "" {
			msg += "; " + d.Detail
		}
		if d.Subject != nil {
			msg = fmt.Sprintf("%s:%d:%d: %s", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column, msg)
		}
		lines = append(lines, msg)
	}
	return fmt.Errorf("%s", strings.Join(lines, "\n"))
}

// Validate checks the merged configuration.
func (c *Config) Validate() error {
	if !c.Server.Enabled && !c.Client.Enabled {
		return fmt.Errorf("agent must run a server, a client, or both (use -dev, -server or -client)")
	}
	for name, p := range map[string]int{"http": c.Ports.HTTP, "rpc": c.Ports.RPC, "serf": c.Ports.Serf} {
		if p < 0 || p > 65535 {
			return fmt.Errorf("ports.%s: %d is not a port number", name, p)
		}
	}
	if c.Server.Enabled && c.Server.BootstrapExpect > 1 {
		return fmt.Errorf("server.bootstrap_expect = %d: multi-server clusters are not supported yet; use 1", c.Server.BootstrapExpect)
	}
	if c.DataDir == "" && !c.Dev {
		return fmt.Errorf("data_dir (-data-dir) is required outside -dev mode")
	}
	return nil
}
