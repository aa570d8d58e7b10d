package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/drover-project/drover/e2e/cluster"
)

// startProfiles asks each agent for a CPU profile as long as a row (less a
// margin, so the profile covers only the load) and returns a function that
// waits for them and saves each as DIR/NAME.cpu.pprof.
func startProfiles(t cluster.T, dir string, d time.Duration, agents ...*cluster.Agent) (wait func()) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("%v", err)
	}
	seconds := max(1, int((d-time.Second)/time.Second))
	var wg sync.WaitGroup
	for _, a := range agents {
		wg.Go(func() {
			path := filepath.Join(dir, a.Name+".cpu.pprof")
			if err := saveProfile(a.HTTP+fmt.Sprintf("/debug/pprof/profile?seconds=%d", seconds), path); err != nil {
				t.Logf("profile of %s: %v", a.Name, err)
			}
		})
	}
	return wg.Wait
}

func saveProfile(url, path string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
