package fingerprint

import (
	"context"
	"testing"
	"time"

	"github.com/drover-project/drover/client/driver"
	"github.com/drover-project/drover/client/driver/mock"
	"github.com/drover-project/drover/structs"
)

func TestFingerprintFixtures(t *testing.T) {
	h, err := Fingerprint(Options{
		DataDir: t.TempDir(), HostIP: "10.1.2.3", Version: "0.1.0",
		ProcDir: "testdata/proc", EtcDir: "testdata/etc",
	})
	if err != nil {
		t.Fatal(err)
	}
	if h.Cpu.TotalCpuCores != 2 || h.Cpu.CpuShares != 6200 {
		t.Errorf("cpu = %+v, want 2 cores × 3100 MHz", h.Cpu)
	}
	if h.Memory.MemoryMB != 16000 {
		t.Errorf("memory = %d MiB", h.Memory.MemoryMB)
	}
	if h.Disk.DiskMB <= 0 {
		t.Errorf("disk = %d MiB", h.Disk.DiskMB)
	}
	want := map[string]string{
		"kernel.name":               "linux",
		"kernel.version":            "6.1.0-test",
		"os.name":                   "debian",
		"os.version":                "12",
		"cpu.numcores":              "2",
		"cpu.totalcompute":          "6200",
		"cpu.frequency":             "3100",
		"cpu.modelname":             "Test CPU",
		"memory.totalbytes":         "16777216000",
		"unique.network.ip-address": "10.1.2.3",
		"nomad.version":             "0.1.0",
		"drover.version":            "0.1.0",
	}
	for k, v := range want {
		if h.Attributes[k] != v {
			t.Errorf("%s = %q, want %q", k, h.Attributes[k], v)
		}
	}
	for _, k := range []string{"cpu.arch", "unique.hostname", "unique.storage.bytesfree"} {
		if h.Attributes[k] == "" {
			t.Errorf("%s is missing", k)
		}
	}
}

func TestFingerprintThisMachine(t *testing.T) {
	h, err := Fingerprint(Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if h.Cpu.CpuShares <= 0 || h.Memory.MemoryMB <= 0 || h.Attributes["kernel.version"] == "" {
		t.Errorf("host = %+v", h)
	}
}

func TestCPUInfoWithoutFrequency(t *testing.T) {
	info := ParseCPUInfo([]byte("processor : 0\nprocessor : 1\nprocessor : 2\n"))
	if info.Cores != 3 || info.MHz != 0 {
		t.Errorf("info = %+v", info)
	}
}

func TestMemInfoWithoutTotal(t *testing.T) {
	if _, err := ParseMemInfo([]byte("MemFree: 10 kB\n")); err == nil {
		t.Error("want an error")
	}
}

func TestDrivers(t *testing.T) {
	d := mock.New()
	drivers := map[string]driver.Driver{mock.Name: d}
	now := time.Unix(5, 0)
	healthy := Drivers(context.Background(), drivers, now)
	if info := healthy["mock"]; !info.Detected || !info.Healthy || !info.UpdateTime.Equal(now) {
		t.Fatalf("info = %+v", info)
	}
	attrs := DriverAttributes(healthy)
	if attrs["driver.mock"] != "1" || attrs["driver.mock.version"] != "1" {
		t.Errorf("attributes = %v", attrs)
	}
	if DriversChanged(healthy, Drivers(context.Background(), drivers, now.Add(time.Second))) {
		t.Error("a new timestamp is not a change")
	}
	d.SetHealthy(false)
	sick := Drivers(context.Background(), drivers, now)
	if !DriversChanged(healthy, sick) {
		t.Error("health change not seen")
	}
	if _, ok := DriverAttributes(sick)["driver.mock"]; ok {
		t.Error("unhealthy driver still advertised")
	}
	if !DriversChanged(healthy, map[string]*structs.DriverInfo{}) {
		t.Error("removed driver not seen")
	}
}
