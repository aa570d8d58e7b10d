package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSubcommands(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	cases := []struct {
		args     []string
		code     int
		stdout   string
		inStderr string
	}{
		{[]string{"echo", "hello", "world"}, 0, "hello world\n", ""},
		{[]string{"exit", "3"}, 3, "", ""},
		{[]string{"exit", "x"}, 2, "", "exit:"},
		{[]string{"write", file, "some", "text"}, 0, "", ""},
		{[]string{"cat", file}, 0, "some text\n", ""},
		{[]string{"cat", file + ".missing"}, 1, "", "no such file"},
		{[]string{"sleep", "1ms"}, 0, "", ""},
		{[]string{"frobnicate"}, 2, "", "unknown subcommand"},
	}
	for _, c := range cases {
		var out, errOut strings.Builder
		code := subcommand(c.args, &out, &errOut)
		if code != c.code || out.String() != c.stdout || !strings.Contains(errOut.String(), c.inStderr) {
			t.Errorf("%v: code %d, stdout %q, stderr %q; want %d, %q, stderr containing %q",
				c.args, code, out.String(), errOut.String(), c.code, c.stdout, c.inStderr)
		}
	}
	if _, err := os.Stat(file); err != nil {
		t.Error(err)
	}
}
