package docker

import (
	"context"
	"log/slog"
	"os"
	"testing"

	"github.com/moby/moby/client"
)

// TestRemoveOrphansOnlyOwnUnknown starts three tasks: two by this node's
// driver (one of an allocation the client knows, one it does not) and one
// by another node's driver on the same engine. Only the unknown one of
// this node is removed.
func TestRemoveOrphansOnlyOwnUnknown(t *testing.T) {
	requireDocker(t)
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	mine, err := New(Config{Logger: logger, NodeID: "node-mine"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mine.Close() })
	theirs, err := New(Config{Logger: logger, NodeID: "node-theirs"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { theirs.Close() })

	ctx := context.Background()
	start := func(d *Driver) string {
		cfg, _ := taskConfig(t, d, nil)
		cfg.Ports, cfg.PortLabels = nil, nil
		if _, err := d.StartTask(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		return cfg.AllocID
	}
	known, orphan, other := start(mine), start(mine), start(theirs)

	removed, err := mine.RemoveOrphans(ctx, func(id string) bool { return id == known })
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 1 {
		t.Fatalf("removed %d containers, want 1 (the orphan)", len(removed))
	}
	left := map[string]bool{}
	res, err := mine.cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("label", LabelAllocID)})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Items {
		left[c.Labels[LabelAllocID]] = true
		if c.Labels[LabelAllocID] == known && c.Labels[LabelNodeID] != "node-mine" {
			t.Errorf("container of %s labelled node %q", known, c.Labels[LabelNodeID])
		}
	}
	if !left[known] || !left[other] || left[orphan] {
		t.Errorf("left: known %v, other node's %v, orphan %v; want true, true, false", left[known], left[other], left[orphan])
	}
}
