package pause

import (
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestBinaryIsAStaticELF(t *testing.T) {
	for arch, machine := range map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64} {
		b, err := Binary(arch)
		if err != nil {
			t.Fatal(err)
		}
		f, err := elf.NewFile(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", arch, err)
		}
		if f.Machine != machine || f.Type != elf.ET_EXEC || f.Class != elf.ELFCLASS64 {
			t.Errorf("%s: machine %v type %v class %v", arch, f.Machine, f.Type, f.Class)
		}
		if len(f.Progs) != 1 || f.Progs[0].Type != elf.PT_LOAD || f.Progs[0].Filesz != uint64(len(b)) {
			t.Errorf("%s: program headers %+v", arch, f.Progs)
		}
		if f.Entry != loadAddress+fileHeaderSize+programHeaderSize {
			t.Errorf("%s: entry %#x", arch, f.Entry)
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
				t.Errorf("%s: not static", arch)
			}
		}
	}
	if _, err := Binary("mips"); err == nil || !strings.Contains(err.Error(), "infra_image") {
		t.Errorf("unknown architecture: %v", err)
	}
}

// TestBinarySleeps runs the program on this machine: it must reach its
// system call and sleep there until killed.
func TestBinarySleeps(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the program is a Linux executable")
	}
	b, err := Binary(runtime.GOARCH)
	if err != nil {
		t.Skip(err)
	}
	path := filepath.Join(t.TempDir(), "pause")
	if err := os.WriteFile(path, b, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stat := filepath.Join("/proc", strconv.Itoa(cmd.Process.Pid), "stat")
	deadline := time.Now().Add(10 * time.Second)
	for {
		raw, err := os.ReadFile(stat)
		if err != nil {
			t.Fatal(err)
		}
		// "pid (comm) S ...": S is an interruptible sleep, in the syscall.
		fields := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
		if len(fields) > 0 && fields[0] == "S" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the program never slept: %s", raw)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the program ended by itself: %v", err)
	}
}
