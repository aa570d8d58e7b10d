package docker

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/docker/go-units"
	"github.com/drover-project/drover/client/driver"
	"github.com/drover-project/drover/structs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
)

// taskOptions are the docker config keys beyond image, command, args,
// entrypoint, ports and labels (which the task runner reads into the
// TaskConfig), decoded from TaskConfig.DriverConfig.
type taskOptions struct {
	hostname       string
	workDir        string
	dnsServers     []string
	dnsSearches    []string
	dnsOptions     []string
	extraHosts     []string
	capAdd         []string
	capDrop        []string
	privileged     bool
	devices        []container.DeviceMapping
	shmSize        int64
	ulimits        []*container.Ulimit
	readonlyRootfs bool
	securityOpt    []string
	sysctl         map[string]string
	init           bool
	tty            bool
	interactive    bool
	auth           *registryAuth
	logType        string
	logConfig      map[string]string
	pullPolicy     string
	pullTimeout    time.Duration
	noHealthcheck  bool
	mounts         []mount.Mount
}

type registryAuth struct {
	Username, Password, Email, ServerAddress string
}

// defaultPullTimeout is Nomad's image_pull_timeout default.
const defaultPullTimeout = 5 * time.Minute

// parseTaskOptions decodes and checks the task's driver config against
// what this client allows. Every problem is reported, joined; each wraps
// driver.ErrInvalidConfig.
func (d *Driver) parseTaskOptions(cfg *driver.TaskConfig) (*taskOptions, error) {
	r := &configReader{m: cfg.DriverConfig, errs: structs.ValidateDockerConfig(cfg.DriverConfig)}
	o := &taskOptions{
		hostname:       r.str("hostname"),
		workDir:        r.str("work_dir"),
		dnsServers:     r.list("dns_servers"),
		dnsSearches:    r.list("dns_search_domains"),
		dnsOptions:     r.list("dns_options"),
		extraHosts:     r.list("extra_hosts"),
		capAdd:         r.list("cap_add"),
		capDrop:        r.list("cap_drop"),
		privileged:     r.boolean("privileged"),
		readonlyRootfs: r.boolean("readonly_rootfs"),
		securityOpt:    r.list("security_opt"),
		sysctl:         r.strMap("sysctl"),
		init:           r.boolean("init"),
		tty:            r.boolean("tty"),
		interactive:    r.boolean("interactive"),
		pullPolicy:     r.str("pull_policy"),
		pullTimeout:    defaultPullTimeout,
	}
	if s := r.str("shm_size"); s != "" {
		n, err := units.RAMInBytes(s)
		if err != nil || n < 0 {
			r.fail("shm_size: %q is not a size in bytes", s)
		}
		o.shmSize = n
	}
	if s := r.str("image_pull_timeout"); s != "" {
		t, err := time.ParseDuration(s)
		if err != nil || t <= 0 {
			r.fail("image_pull_timeout: %q is not a positive duration", s)
		} else {
			o.pullTimeout = t
		}
	}
	if r.boolean("force_pull") {
		o.pullPolicy = structs.PullAlways
	}
	if o.pullPolicy == "" {
		o.pullPolicy = defaultPullPolicy(cfg.Image)
	}
	for name, v := range r.strMap("ulimit") {
		soft, hard, ok := strings.Cut(v, ":")
		if !ok {
			hard = soft
		}
		s, err1 := strconv.ParseInt(soft, 10, 64)
		h, err2 := strconv.ParseInt(hard, 10, 64)
		if err1 != nil || err2 != nil {
			r.fail("ulimit %s: %q is not SOFT or SOFT:HARD", name, v)
			continue
		}
		o.ulimits = append(o.ulimits, &container.Ulimit{Name: name, Soft: s, Hard: h})
	}
	slices.SortFunc(o.ulimits, func(a, b *container.Ulimit) int { return strings.Compare(a.Name, b.Name) })
	for _, m := range r.blocks("devices") {
		br := &configReader{m: m, prefix: "devices: "}
		dev := container.DeviceMapping{
			PathOnHost:        br.str("host_path"),
			PathInContainer:   br.str("container_path"),
			CgroupPermissions: br.str("cgroup_permissions"),
		}
		if dev.PathOnHost == "" {
			br.fail("host_path is required")
		}
		if dev.PathInContainer == "" {
			dev.PathInContainer = dev.PathOnHost
		}
		if dev.CgroupPermissions == "" {
			dev.CgroupPermissions = "rwm"
		}
		o.devices = append(o.devices, dev)
		r.errs = append(r.errs, br.errs...)
	}
	for _, m := range r.blocks("auth") {
		br := &configReader{m: m, prefix: "auth: "}
		o.auth = &registryAuth{Username: br.str("username"), Password: br.str("password"),
			Email: br.str("email"), ServerAddress: br.str("server_address")}
		r.errs = append(r.errs, br.errs...)
	}
	for _, m := range r.blocks("logging") {
		br := &configReader{m: m, prefix: "logging: "}
		o.logType = br.str("type")
		if o.logType == "" {
			o.logType = br.str("driver") // Nomad's older name
		}
		o.logConfig = br.strMap("config")
		r.errs = append(r.errs, br.errs...)
	}
	for _, m := range r.blocks("healthchecks") {
		br := &configReader{m: m, prefix: "healthchecks: "}
		o.noHealthcheck = br.boolean("disable")
		r.errs = append(r.errs, br.errs...)
	}
	for _, m := range r.blocks("mount") {
		mt, errs := d.parseMount(m, cfg.TaskDir)
		r.errs = append(r.errs, errs...)
		if mt != nil {
			o.mounts = append(o.mounts, *mt)
		}
	}
	for i, v := range r.list("volumes") {
		mt, err := d.parseVolume(v, cfg.TaskDir)
		if err != nil {
			r.fail("volumes[%d]: %v", i, err)
			continue
		}
		o.mounts = append(o.mounts, *mt)
	}
	r.errs = append(r.errs, d.checkAllowed(cfg, o)...)
	if len(r.errs) == 0 {
		return o, nil
	}
	return nil, fmt.Errorf("%w: %w", driver.ErrInvalidConfig, errors.Join(r.errs...))
}

// checkAllowed refuses what this client does not allow, and options that
// cannot go with the task's network.
func (d *Driver) checkAllowed(cfg *driver.TaskConfig, o *taskOptions) []error {
	var errs []error
	if o.privileged && !d.opts.AllowPrivileged {
		errs = append(errs, errors.New("privileged containers are not allowed on this client (allow_privileged in the docker plugin config)"))
	}
	if len(o.devices) > 0 && !d.opts.AllowDevices {
		errs = append(errs, errors.New("host devices are not allowed on this client (allow_devices in the docker plugin config)"))
	}
	if !o.privileged || !d.opts.AllowPrivileged {
		if err := d.opts.checkCaps(o.capAdd, o.capDrop); err != nil {
			errs = append(errs, err)
		}
	}
	if isJoined(cfg.NetworkMode) {
		// The engine refuses these on a container that joins another's
		// network: they belong to the group network.
		for key, set := range map[string]bool{
			"hostname": o.hostname != "", "dns_servers": len(o.dnsServers) > 0,
			"dns_search_domains": len(o.dnsSearches) > 0, "dns_options": len(o.dnsOptions) > 0,
			"extra_hosts": len(o.extraHosts) > 0,
		} {
			if set {
				errs = append(errs, fmt.Errorf("%s cannot be set on a task of a bridge-mode group; use the group network's dns block", key))
			}
		}
	}
	for _, s := range o.dnsServers {
		if _, err := netip.ParseAddr(s); err != nil {
			errs = append(errs, fmt.Errorf("dns_servers: %q is not an IP address", s))
		}
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errs
}

// defaultPullPolicy follows Kubernetes: an image without a tag, or tagged
// latest, may change under the same name and is always pulled; any other
// tag (or a digest) is pulled only when not present.
func defaultPullPolicy(image string) string {
	if strings.Contains(image, "@") {
		return structs.PullIfNotPresent
	}
	name := image[strings.LastIndex(image, "/")+1:]
	_, tag, ok := strings.Cut(name, ":")
	if !ok || tag == "latest" {
		return structs.PullAlways
	}
	return structs.PullIfNotPresent
}

// parseMount decodes one mount block.
func (d *Driver) parseMount(m map[string]any, taskDir string) (*mount.Mount, []error) {
	r := &configReader{m: m, prefix: "mount: "}
	mt := &mount.Mount{
		Type:     mount.Type(r.str("type")),
		Target:   r.str("target"),
		Source:   r.str("source"),
		ReadOnly: r.boolean("readonly"),
	}
	if mt.Type == "" {
		mt.Type = mount.TypeVolume // Nomad's default
	}
	if !filepath.IsAbs(mt.Target) {
		r.fail("target %q must be an absolute path", mt.Target)
	}
	switch mt.Type {
	case mount.TypeBind:
		src, err := d.bindSource(mt.Source, taskDir)
		if err != nil {
			r.fail("%v", err)
		}
		mt.Source = src
		for _, b := range r.blocks("bind_options") {
			br := &configReader{m: b, prefix: "mount: bind_options: "}
			if p := br.str("propagation"); p != "" {
				mt.BindOptions = &mount.BindOptions{Propagation: mount.Propagation(p)}
			}
			r.errs = append(r.errs, br.errs...)
		}
	case mount.TypeVolume:
		if strings.ContainsAny(mt.Source, `/\`) {
			r.fail("volume source %q must be a volume name, not a path", mt.Source)
		}
		for _, b := range r.blocks("volume_options") {
			br := &configReader{m: b, prefix: "mount: volume_options: "}
			mt.VolumeOptions = &mount.VolumeOptions{NoCopy: br.boolean("no_copy"), Labels: br.strMap("labels")}
			r.errs = append(r.errs, br.errs...)
		}
	case mount.TypeTmpfs:
		if mt.Source != "" {
			r.fail("a tmpfs mount takes no source")
		}
		for _, b := range r.blocks("tmpfs_options") {
			br := &configReader{m: b, prefix: "mount: tmpfs_options: "}
			opts := &mount.TmpfsOptions{}
			if s := br.str("size"); s != "" {
				n, err := units.RAMInBytes(s)
				if err != nil {
					br.fail("size: %q is not a size in bytes", s)
				}
				opts.SizeBytes = n
			}
			if s := br.str("mode"); s != "" {
				mode, err := strconv.ParseUint(s, 8, 32)
				if err != nil {
					br.fail("mode: %q is not an octal mode", s)
				}
				opts.Mode = os.FileMode(mode)
			}
			mt.TmpfsOptions = opts
			r.errs = append(r.errs, br.errs...)
		}
	default:
		r.fail("type must be \"bind\", \"volume\" or \"tmpfs\", got %q", mt.Type)
	}
	return mt, r.errs
}

// parseVolume decodes one "source:target[:ro]" entry of `volumes`. A
// source that is a path is a bind mount; a bare name is a Docker volume.
func (d *Driver) parseVolume(v, taskDir string) (*mount.Mount, error) {
	parts := strings.Split(v, ":")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || !filepath.IsAbs(parts[1]) {
		return nil, fmt.Errorf("%q is not SOURCE:/TARGET[:ro|rw]", v)
	}
	mt := &mount.Mount{Type: mount.TypeBind, Source: parts[0], Target: parts[1]}
	if len(parts) == 3 {
		switch parts[2] {
		case "ro":
			mt.ReadOnly = true
		case "rw":
		default:
			return nil, fmt.Errorf("%q: mode must be ro or rw", v)
		}
	}
	if !strings.ContainsAny(mt.Source, `/\`) && mt.Source != "." && mt.Source != ".." {
		mt.Type = mount.TypeVolume
		return mt, nil
	}
	src, err := d.bindSource(mt.Source, taskDir)
	if err != nil {
		return nil, err
	}
	mt.Source = src
	return mt, nil
}

// bindSource resolves a bind mount's source. A relative path is inside the
// task's directory and always allowed (as in Nomad); an absolute host path
// needs volumes enabled on the client.
func (d *Driver) bindSource(src, taskDir string) (string, error) {
	if src == "" {
		return "", errors.New("a bind mount needs a source")
	}
	if filepath.IsAbs(src) {
		if !d.opts.VolumesEnabled {
			return "", fmt.Errorf("bind mounts of host paths (%s) are not allowed on this client (volumes { enabled = true } in the docker plugin config)", src)
		}
		return src, nil
	}
	if taskDir == "" {
		return "", fmt.Errorf("relative source %q needs a task directory", src)
	}
	p := filepath.Join(taskDir, src)
	if p != taskDir && !strings.HasPrefix(p, taskDir+string(filepath.Separator)) {
		if !d.opts.VolumesEnabled {
			return "", fmt.Errorf("relative source %q leaves the task directory", src)
		}
	}
	return p, nil
}

// apply writes the options and the client's mounts and network into the
// container config.
func (o *taskOptions) apply(cfg *driver.TaskConfig, cc *container.Config, hc *container.HostConfig) {
	cc.Hostname = o.hostname
	cc.WorkingDir = o.workDir
	cc.Tty = o.tty
	cc.OpenStdin = o.interactive
	if o.noHealthcheck {
		cc.Healthcheck = &container.HealthConfig{Test: []string{"NONE"}}
	}
	hc.CapAdd = o.capAdd
	hc.CapDrop = o.capDrop
	hc.Privileged = o.privileged
	hc.Devices = o.devices
	hc.ShmSize = o.shmSize
	hc.Ulimits = o.ulimits
	hc.ReadonlyRootfs = o.readonlyRootfs
	hc.SecurityOpt = o.securityOpt
	hc.Sysctls = o.sysctl
	if o.init {
		hc.Init = &o.init
	}
	if o.logType != "" {
		hc.LogConfig = container.LogConfig{Type: o.logType, Config: maps.Clone(o.logConfig)}
	}
	hc.ExtraHosts = o.extraHosts
	dns := cfg.DNS
	if len(o.dnsServers)+len(o.dnsSearches)+len(o.dnsOptions) > 0 {
		dns = &driver.DNSConfig{Servers: o.dnsServers, Searches: o.dnsSearches, Options: o.dnsOptions}
	}
	if dns != nil && !isJoined(cfg.NetworkMode) {
		applyDNS(dns, hc)
	}
	switch {
	case isJoined(cfg.NetworkMode), cfg.NetworkMode == driver.NetworkModeNone:
		// The group network publishes the ports; the engine refuses them here.
		hc.NetworkMode = container.NetworkMode(cfg.NetworkMode)
		cc.ExposedPorts, hc.PortBindings = nil, nil
	}
	for _, m := range cfg.Mounts {
		hc.Mounts = append(hc.Mounts, mount.Mount{
			Type: mount.Type(m.Type), Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly,
		})
	}
	hc.Mounts = append(hc.Mounts, o.mounts...)
}

// applyDNS sets a container's resolver; addresses were checked earlier.
func applyDNS(dns *driver.DNSConfig, hc *container.HostConfig) {
	hc.DNS = nil
	for _, s := range dns.Servers {
		if ip, err := netip.ParseAddr(s); err == nil {
			hc.DNS = append(hc.DNS, ip)
		}
	}
	hc.DNSSearch = dns.Searches
	hc.DNSOptions = dns.Options
}
