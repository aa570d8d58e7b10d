package structs

import (
	"fmt"
	"maps"
	"slices"
)

// The keys of the docker driver's `config` block that drover implements.
// A job naming any other key is refused, at submit time (Task.Validate,
// and with its position by jobspec) and again by the client at task setup,
// so a misspelt option never silently does nothing.
//
// Nested blocks map to the keys they accept; nil means a free-form map
// (labels, sysctl, ulimit, logging.config).
var DockerConfigKeys = map[string]map[string]bool{
	"image": nil, "command": nil, "args": nil, "entrypoint": nil, "ports": nil,
	"labels": nil, "work_dir": nil, "hostname": nil, "dns_servers": nil,
	"dns_search_domains": nil, "dns_options": nil, "extra_hosts": nil,
	"cap_add": nil, "cap_drop": nil, "privileged": nil, "shm_size": nil,
	"ulimit": nil, "readonly_rootfs": nil, "security_opt": nil, "sysctl": nil,
	"init": nil, "tty": nil, "interactive": nil, "force_pull": nil,
	"image_pull_timeout": nil, "pull_policy": nil, "volumes": nil,
	"devices":      keySet("host_path", "container_path", "cgroup_permissions"),
	"auth":         keySet("username", "password", "email", "server_address"),
	"logging":      keySet("type", "driver", "config"),
	"healthchecks": keySet("disable"),
	"mount": keySet("type", "target", "source", "readonly",
		"bind_options", "tmpfs_options", "volume_options"),
}

// Image pull policies (the docker config's pull_policy).
const (
	PullAlways       = "always"
	PullIfNotPresent = "if_not_present"
	PullNever        = "never"
)

func keySet(keys ...string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}

// ValidateDockerConfig checks that a docker task's config names only keys
// drover knows, at the top level and inside the blocks whose keys are
// fixed, and that pull_policy is one of the three policies.
func ValidateDockerConfig(config map[string]any) []error {
	var errs []error
	for _, key := range slices.Sorted(maps.Keys(config)) {
		sub, known := DockerConfigKeys[key]
		if !known {
			errs = append(errs, fmt.Errorf("config: unknown docker option %q", key))
			continue
		}
		if sub == nil {
			continue
		}
		for _, m := range configBlocks(config[key]) {
			for _, k := range slices.Sorted(maps.Keys(m)) {
				if !sub[k] {
					errs = append(errs, fmt.Errorf("config: %s: unknown option %q", key, k))
				}
			}
		}
	}
	if p, ok := config["pull_policy"]; ok {
		switch p {
		case PullAlways, PullIfNotPresent, PullNever:
		default:
			errs = append(errs, fmt.Errorf("config: pull_policy must be %q, %q or %q, got %v",
				PullAlways, PullIfNotPresent, PullNever, p))
		}
	}
	return errs
}

// configBlocks returns the maps of a config value written as a block
// (a list of maps), a list of objects, or one object.
func configBlocks(v any) []map[string]any {
	switch v := v.(type) {
	case map[string]any:
		return []map[string]any{v}
	case []map[string]any:
		return v
	case []any:
		var out []map[string]any
		for _, item := range v {
			if m, ok := item.(map[string]any); ok {
				out = append(out, m)
			}
		}
		return out
	}
	return nil
}
