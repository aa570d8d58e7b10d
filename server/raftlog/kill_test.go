package raftlog

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/raft"
)

// TestSIGKILLLosesNoAcknowledgedEntry kills a process that appends as
// fast as it can (with segments rolling over and the head compacted now
// and then) with SIGKILL, at a different point each round, and reopens its
// log: every entry whose StoreLogs had returned is there, intact.
func TestSIGKILLLosesNoAcknowledgedEntry(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	dir := t.TempDir()
	acked := uint64(0)
	for round := 1; round <= 6; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestSIGKILLChild$")
		cmd.Env = append(os.Environ(), "RAFTLOG_KILL_CHILD_DIR="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill it once it has acknowledged a round-dependent number of
		// batches more, so that the kill lands in different places.
		target := acked + uint64(40*round+round*round*7)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			n, err := strconv.ParseUint(strings.TrimPrefix(sc.Text(), "acked "), 10, 64)
			if err != nil {
				t.Fatalf("child said %q", sc.Text())
			}
			acked = n
			if acked >= target {
				break
			}
		}
		cmd.Process.Kill()
		cmd.Wait()
		if acked < target {
			t.Fatalf("round %d: the child stopped at %d before being killed", round, acked)
		}

		s, err := Open(dir, Options{SegmentSize: 16 << 10})
		if err != nil {
			t.Fatalf("round %d: reopen after SIGKILL: %v", round, err)
		}
		first, _ := s.FirstIndex()
		last, _ := s.LastIndex()
		if last < acked {
			t.Fatalf("round %d: the log ends at %d, but %d was acknowledged", round, last, acked)
		}
		for i := first; i <= last; i++ {
			var l raft.Log
			if err := s.GetLog(i, &l); err != nil || !sameLog(&l, entry(i, 1)) {
				t.Fatalf("round %d: entry %d: %v %+v", round, i, err, l)
			}
		}
		s.Close()
	}
}

// TestSIGKILLChild is the process TestSIGKILLLosesNoAcknowledgedEntry
// kills: it appends until killed, printing the last index of every batch
// whose StoreLogs returned.
func TestSIGKILLChild(t *testing.T) {
	dir := os.Getenv("RAFTLOG_KILL_CHILD_DIR")
	if dir == "" {
		t.Skip("run by TestSIGKILLLosesNoAcknowledgedEntry")
	}
	s, err := Open(dir, Options{SegmentSize: 16 << 10})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(1)
	}
	last, _ := s.LastIndex()
	next := last + 1
	if last == 0 {
		next = 1
	}
	w := bufio.NewWriter(os.Stdout)
	for n := uint64(1); ; n++ {
		size := n%7 + 1
		if err := s.StoreLogs(entries(next, next+size-1, 1)); err != nil {
			fmt.Println("store:", err)
			os.Exit(1)
		}
		next += size
		if n%50 == 0 {
			first, _ := s.FirstIndex()
			if err := s.DeleteRange(first, first+size*10); err != nil {
				fmt.Println("delete:", err)
				os.Exit(1)
			}
		}
		fmt.Fprintf(w, "acked %d\n", next-1)
		w.Flush()
	}
}
