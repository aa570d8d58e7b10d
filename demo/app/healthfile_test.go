package main

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

func TestHealthFileTurnsTheInstanceUnhealthyAndBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "health")
	ts, _ := newTestServer(t, map[string]string{"HEALTH_FILE": path})
	status := func() int {
		t.Helper()
		resp, err := http.Get(ts.URL + "/health")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, step := range []struct {
		content string // "" removes the file
		want    int
	}{
		{"", http.StatusOK}, {"fail\n", http.StatusInternalServerError}, {"ok\n", http.StatusOK},
	} {
		if step.content == "" {
			os.Remove(path)
		} else if err := os.WriteFile(path, []byte(step.content), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := status(); got != step.want {
			t.Errorf("file %q: status %d, want %d", step.content, got, step.want)
		}
	}
}
