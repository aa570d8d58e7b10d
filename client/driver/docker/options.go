package docker

import (
	"fmt"
	"slices"
	"strings"
)

// Options are what the client's operator allows jobs to ask of the engine
// (Nomad's docker plugin config: plugin "docker" { config { ... } }). The
// zero value is the secure default: no host paths, no privileged
// containers, no devices, no capabilities beyond Docker's default set.
type Options struct {
	// VolumesEnabled lets jobs bind-mount host paths (mount type "bind"
	// with an absolute source, and volumes = ["/host:/ctr"]).
	VolumesEnabled bool
	// AllowPrivileged lets jobs set privileged = true.
	AllowPrivileged bool
	// AllowCaps is the set of capabilities a task may end up with (after
	// its cap_add and cap_drop); nil means DefaultCaps. "ALL" allows any.
	AllowCaps []string
	// AllowDevices lets jobs pass host devices (config.devices).
	AllowDevices bool
	// InfraImage, when set, is used for the infra container of bridge
	// groups instead of the image the client builds itself.
	InfraImage string
}

// DefaultCaps are the capabilities Docker gives a container by default,
// and what Options.AllowCaps allows when not set.
var DefaultCaps = []string{
	"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
	"NET_BIND_SERVICE", "NET_RAW", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
}

// normalizeCap turns "net_admin" or "CAP_NET_ADMIN" into "NET_ADMIN".
func normalizeCap(c string) string {
	return strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(c)), "CAP_")
}

// checkCaps reports the capabilities the task would have that the client
// does not allow. The task starts from Docker's default set, drops
// cap_drop, then adds cap_add, as the engine does.
func (o Options) checkCaps(add, drop []string) error {
	allowed := o.AllowCaps
	if allowed == nil {
		allowed = DefaultCaps
	}
	allow := map[string]bool{}
	for _, c := range allowed {
		allow[normalizeCap(c)] = true
	}
	if allow["ALL"] {
		return nil
	}
	effective := map[string]bool{}
	for _, c := range DefaultCaps {
		effective[c] = true
	}
	for _, c := range drop {
		if c = normalizeCap(c); c == "ALL" {
			clear(effective)
		} else {
			delete(effective, c)
		}
	}
	var refused []string
	for _, c := range add {
		c = normalizeCap(c)
		if c == "ALL" {
			refused = append(refused, "ALL")
			continue
		}
		effective[c] = true
	}
	for c := range effective {
		if !allow[c] {
			refused = append(refused, c)
		}
	}
	if len(refused) == 0 {
		return nil
	}
	slices.Sort(refused)
	return fmt.Errorf("capabilities %s are not allowed on this client (allow_caps in the docker plugin config)",
		strings.Join(refused, ", "))
}
