package docker

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/drover-project/drover/client/driver"
	"github.com/drover-project/drover/structs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
)

func podConfig(config map[string]any) *driver.TaskConfig {
	cfg := baseConfig()
	cfg.TaskDir = "/data/alloc/a1/server"
	cfg.DriverConfig = config
	return cfg
}

func TestTaskOptionsApplied(t *testing.T) {
	d := &Driver{}
	cfg := podConfig(map[string]any{
		"image":           "drover-demo:v1",
		"hostname":        "web",
		"work_dir":        "/srv",
		"dns_servers":     []any{"10.0.0.53"},
		"extra_hosts":     []any{"db:10.0.0.9"},
		"cap_drop":        []any{"NET_RAW"},
		"cap_add":         []any{"chown"},
		"shm_size":        float64(1 << 20),
		"ulimit":          []any{map[string]any{"nofile": "1024:2048"}},
		"readonly_rootfs": true,
		"security_opt":    []any{"no-new-privileges"},
		"sysctl":          map[string]any{"net.core.somaxconn": "1024"},
		"init":            true,
		"tty":             true,
		"interactive":     true,
		"logging":         []any{map[string]any{"type": "local", "config": []any{map[string]any{"max-size": "1m"}}}},
		"healthchecks":    []any{map[string]any{"disable": true}},
		"mount": []any{
			map[string]any{"type": "tmpfs", "target": "/scratch", "tmpfs_options": []any{map[string]any{"size": float64(4096)}}},
			map[string]any{"type": "volume", "source": "cache", "target": "/cache"},
			map[string]any{"type": "bind", "source": "local/conf", "target": "/conf", "readonly": true},
		},
		"volumes": []any{"data:/data", "local/x:/x:ro"},
	})
	o, err := d.parseTaskOptions(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cc, hc, err := containerConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	o.apply(cfg, cc, hc)
	if cc.Hostname != "web" || cc.WorkingDir != "/srv" || !cc.Tty || !cc.OpenStdin {
		t.Errorf("config = %+v", cc)
	}
	if cc.Healthcheck == nil || !slices.Equal(cc.Healthcheck.Test, []string{"NONE"}) {
		t.Errorf("healthcheck = %+v", cc.Healthcheck)
	}
	if len(hc.DNS) != 1 || hc.DNS[0].String() != "10.0.0.53" || !slices.Equal(hc.ExtraHosts, []string{"db:10.0.0.9"}) {
		t.Errorf("dns %v, extra hosts %v", hc.DNS, hc.ExtraHosts)
	}
	if hc.ShmSize != 1<<20 || !hc.ReadonlyRootfs || hc.Init == nil || !*hc.Init || hc.Sysctls["net.core.somaxconn"] != "1024" {
		t.Errorf("host config = %+v", hc)
	}
	if len(hc.Ulimits) != 1 || *hc.Ulimits[0] != (container.Ulimit{Name: "nofile", Soft: 1024, Hard: 2048}) {
		t.Errorf("ulimits = %v", hc.Ulimits)
	}
	if hc.LogConfig.Type != "local" || hc.LogConfig.Config["max-size"] != "1m" {
		t.Errorf("log config = %+v", hc.LogConfig)
	}
	want := []mount.Mount{
		{Type: mount.TypeTmpfs, Target: "/scratch", TmpfsOptions: &mount.TmpfsOptions{SizeBytes: 4096}},
		{Type: mount.TypeVolume, Source: "cache", Target: "/cache"},
		{Type: mount.TypeBind, Source: "/data/alloc/a1/server/local/conf", Target: "/conf", ReadOnly: true},
		{Type: mount.TypeVolume, Source: "data", Target: "/data"},
		{Type: mount.TypeBind, Source: "/data/alloc/a1/server/local/x", Target: "/x", ReadOnly: true},
	}
	if len(hc.Mounts) != len(want) {
		t.Fatalf("mounts = %+v", hc.Mounts)
	}
	for i, m := range want {
		got := hc.Mounts[i]
		if got.Type != m.Type || got.Source != m.Source || got.Target != m.Target || got.ReadOnly != m.ReadOnly ||
			(m.TmpfsOptions != nil && (got.TmpfsOptions == nil || got.TmpfsOptions.SizeBytes != m.TmpfsOptions.SizeBytes)) {
			t.Errorf("mount %d = %+v, want %+v", i, got, m)
		}
	}
}

func TestTaskOptionsRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opts   Options
		config map[string]any
		want   string // "" means allowed
	}{
		{"unknown key", Options{}, map[string]any{"privliged": true}, `unknown docker option "privliged"`},
		{"unknown mount key", Options{}, map[string]any{"mount": []any{map[string]any{"target": "/x", "src": "a"}}}, `mount: unknown option "src"`},
		{"privileged", Options{}, map[string]any{"privileged": true}, "privileged containers are not allowed"},
		{"privileged allowed", Options{AllowPrivileged: true}, map[string]any{"privileged": true}, ""},
		{"added capability", Options{}, map[string]any{"cap_add": []any{"NET_ADMIN"}}, "capabilities NET_ADMIN are not allowed"},
		{"cap_add ALL", Options{}, map[string]any{"cap_add": []any{"ALL"}}, "capabilities ALL"},
		{"default capability", Options{}, map[string]any{"cap_add": []any{"CAP_CHOWN"}}, ""},
		{"narrow allow_caps", Options{AllowCaps: []string{"CHOWN"}}, map[string]any{"cap_drop": []any{"ALL"}, "cap_add": []any{"chown"}}, ""},
		{"narrow allow_caps with defaults", Options{AllowCaps: []string{"CHOWN"}}, map[string]any{}, "are not allowed"},
		{"allowed capability", Options{AllowCaps: []string{"NET_ADMIN", "ALL"}}, map[string]any{"cap_add": []any{"NET_ADMIN"}}, ""},
		{"devices", Options{}, map[string]any{"devices": []any{map[string]any{"host_path": "/dev/fuse"}}}, "host devices are not allowed"},
		{"devices allowed", Options{AllowDevices: true}, map[string]any{"devices": []any{map[string]any{"host_path": "/dev/fuse"}}}, ""},
		{"host bind mount", Options{}, map[string]any{"mount": []any{map[string]any{"type": "bind", "source": "/etc", "target": "/e"}}}, "bind mounts of host paths (/etc) are not allowed"},
		{"host volume string", Options{}, map[string]any{"volumes": []any{"/etc:/e"}}, "bind mounts of host paths"},
		{"host bind allowed", Options{VolumesEnabled: true}, map[string]any{"volumes": []any{"/etc:/e:ro"}}, ""},
		{"escaping relative bind", Options{}, map[string]any{"volumes": []any{"../../x:/e"}}, "leaves the task directory"},
		{"bad pull policy", Options{}, map[string]any{"pull_policy": "sometimes"}, "pull_policy must be"},
		{"bad shm_size", Options{}, map[string]any{"shm_size": "lots"}, "shm_size"},
		{"bad dns server", Options{}, map[string]any{"dns_servers": []any{"resolver"}}, "not an IP address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &Driver{opts: tc.opts}
			cfg := podConfig(tc.config)
			_, err := d.parseTaskOptions(cfg)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if !errors.Is(err, driver.ErrInvalidConfig) {
				t.Errorf("error does not wrap ErrInvalidConfig")
			}
		})
	}
}

func TestJoinedNetworkOptions(t *testing.T) {
	d := &Driver{}
	cfg := podConfig(map[string]any{"hostname": "x"})
	cfg.NetworkMode = "container:abc"
	if _, err := d.parseTaskOptions(cfg); err == nil || !strings.Contains(err.Error(), "hostname cannot be set") {
		t.Fatalf("hostname in a bridge group: %v", err)
	}
	cfg = podConfig(nil)
	cfg.NetworkMode = "container:abc"
	cfg.PortLabels = []string{"http"}
	cfg.Ports = []driver.PortMapping{{Label: "http", HostPort: 23000, ContainerPort: 8080}}
	cfg.DNS = &driver.DNSConfig{Servers: []string{"10.0.0.1"}}
	cfg.Mounts = []driver.Mount{{Type: driver.MountBind, Source: "/data/alloc/a1/alloc", Target: "/alloc"}}
	o, err := d.parseTaskOptions(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cc, hc, err := containerConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	o.apply(cfg, cc, hc)
	if hc.NetworkMode != "container:abc" || hc.PortBindings != nil || cc.ExposedPorts != nil || hc.DNS != nil {
		t.Errorf("joined task: network %q, bindings %v, exposed %v, dns %v", hc.NetworkMode, hc.PortBindings, cc.ExposedPorts, hc.DNS)
	}
	if len(hc.Mounts) != 1 || hc.Mounts[0].Target != "/alloc" || hc.Mounts[0].Type != mount.TypeBind {
		t.Errorf("mounts = %+v", hc.Mounts)
	}
}

func TestDefaultPullPolicy(t *testing.T) {
	for image, want := range map[string]string{
		"redis":                       structs.PullAlways,
		"redis:latest":                structs.PullAlways,
		"localhost:5000/redis":        structs.PullAlways,
		"localhost:5000/redis:7":      structs.PullIfNotPresent,
		"drover-demo:v1":              structs.PullIfNotPresent,
		"redis@sha256:0123456789abcd": structs.PullIfNotPresent,
	} {
		if got := defaultPullPolicy(image); got != want {
			t.Errorf("%s: %s, want %s", image, got, want)
		}
	}
	d := &Driver{}
	cfg := podConfig(map[string]any{"force_pull": true})
	cfg.Image = "x:v1"
	o, err := d.parseTaskOptions(cfg)
	if err != nil || o.pullPolicy != structs.PullAlways {
		t.Errorf("force_pull: %v %v", o, err)
	}
}
