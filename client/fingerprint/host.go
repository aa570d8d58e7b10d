// Package fingerprint finds out what this machine offers: CPU, memory,
// disk, operating system, and which drivers work. The results become the
// node's attributes (with Nomad's names, so constraints written for Nomad
// work unchanged) and resources.
package fingerprint

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"github.com/drover-project/drover/structs"
)

// defaultCoreMHz is assumed when /proc/cpuinfo gives no frequency (some VMs).
const defaultCoreMHz = 1000

// Options say where to look.
type Options struct {
	// DataDir is where the client keeps allocations: its free space is the
	// node's disk.
	DataDir string
	// HostIP is the address ports are published on.
	HostIP string
	// Version is drover's version, reported as nomad.version too.
	Version string
	// ProcDir and EtcDir default to /proc and /etc; tests point them at
	// fixtures.
	ProcDir string
	EtcDir  string
}

// Host is what the machine offers.
type Host struct {
	Attributes map[string]string
	Cpu        structs.NodeCpuResources
	Memory     structs.NodeMemoryResources
	Disk       structs.NodeDiskResources
}

// Fingerprint inspects the machine.
func Fingerprint(opts Options) (*Host, error) {
	proc := cmpOr(opts.ProcDir, "/proc")
	etc := cmpOr(opts.EtcDir, "/etc")
	h := &Host{Attributes: map[string]string{}}
	attr := h.Attributes

	cpuinfo, err := os.ReadFile(filepath.Join(proc, "cpuinfo"))
	if err != nil {
		return nil, fmt.Errorf("fingerprint cpu: %w", err)
	}
	cpu := ParseCPUInfo(cpuinfo)
	if cpu.Cores == 0 {
		cpu.Cores = runtime.NumCPU()
	}
	if cpu.MHz == 0 {
		cpu.MHz = defaultCoreMHz
	}
	h.Cpu = structs.NodeCpuResources{CpuShares: int64(cpu.Cores) * int64(cpu.MHz), TotalCpuCores: cpu.Cores}
	attr["cpu.arch"] = runtime.GOARCH
	attr["cpu.numcores"] = strconv.Itoa(cpu.Cores)
	attr["cpu.frequency"] = strconv.Itoa(cpu.MHz)
	attr["cpu.totalcompute"] = strconv.FormatInt(h.Cpu.CpuShares, 10)
	if cpu.Model != "" {
		attr["cpu.modelname"] = cpu.Model
	}

	meminfo, err := os.ReadFile(filepath.Join(proc, "meminfo"))
	if err != nil {
		return nil, fmt.Errorf("fingerprint memory: %w", err)
	}
	memBytes, err := ParseMemInfo(meminfo)
	if err != nil {
		return nil, fmt.Errorf("fingerprint memory: %w", err)
	}
	h.Memory.MemoryMB = memBytes / (1 << 20)
	attr["memory.totalbytes"] = strconv.FormatInt(memBytes, 10)

	free, total, err := DiskSpace(opts.DataDir)
	if err != nil {
		return nil, fmt.Errorf("fingerprint disk: %w", err)
	}
	h.Disk.DiskMB = free / (1 << 20)
	attr["unique.storage.volume"] = opts.DataDir
	attr["unique.storage.bytesfree"] = strconv.FormatInt(free, 10)
	attr["unique.storage.bytestotal"] = strconv.FormatInt(total, 10)

	attr["kernel.name"] = runtime.GOOS
	if release, err := os.ReadFile(filepath.Join(proc, "sys", "kernel", "osrelease")); err == nil {
		attr["kernel.version"] = strings.TrimSpace(string(release))
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("fingerprint kernel: %w", err)
	}
	if osRelease, err := os.ReadFile(filepath.Join(etc, "os-release")); err == nil {
		name, version := ParseOSRelease(osRelease)
		setIf(attr, "os.name", name)
		setIf(attr, "os.version", version)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("fingerprint os: %w", err)
	}

	hostname, err := os.Hostname()
	if err != nil {
		return nil, fmt.Errorf("fingerprint hostname: %w", err)
	}
	attr["unique.hostname"] = hostname
	setIf(attr, "unique.network.ip-address", opts.HostIP)
	setIf(attr, "nomad.version", opts.Version)
	setIf(attr, "drover.version", opts.Version)
	return h, nil
}

// CPUInfo is what /proc/cpuinfo says.
type CPUInfo struct {
	Cores int
	// MHz is the highest "cpu MHz" of any core (0 when none is given).
	MHz   int
	Model string
}

// ParseCPUInfo reads /proc/cpuinfo: one block per logical core.
func ParseCPUInfo(data []byte) CPUInfo {
	var info CPUInfo
	var maxMHz float64
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		switch key {
		case "processor":
			info.Cores++
		case "cpu MHz":
			if mhz, err := strconv.ParseFloat(value, 64); err == nil && mhz > maxMHz {
				maxMHz = mhz
			}
		case "model name":
			info.Model = value
		}
	}
	info.MHz = int(maxMHz)
	return info
}

// ParseMemInfo returns MemTotal from /proc/meminfo, in bytes.
func ParseMemInfo(data []byte) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			break
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("MemTotal %q: %w", rest, err)
		}
		return kb * 1024, nil
	}
	return 0, errors.New("no MemTotal in meminfo")
}

// ParseOSRelease returns ID and VERSION_ID of /etc/os-release ("debian", "12").
func ParseOSRelease(data []byte) (name, version string) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			continue
		}
		value = strings.Trim(value, `"'`)
		switch key {
		case "ID":
			name = value
		case "VERSION_ID":
			version = value
		}
	}
	return name, version
}

// DiskSpace returns the free (for unprivileged users) and total bytes of
// the file system holding dir.
func DiskSpace(dir string) (free, total int64, err error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, 0, fmt.Errorf("statfs %s: %w", dir, err)
	}
	return int64(st.Bavail) * int64(st.Bsize), int64(st.Blocks) * int64(st.Bsize), nil
}

func setIf(m map[string]string, key, value string) {
	if value != "" {
		m[key] = value
	}
}

func cmpOr(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}
