package serversclient

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestSetServersKeepsTheServerInUse(t *testing.T) {
	s := NewDiscovered()
	s.wait = 10 * time.Millisecond
	defer s.Close()
	if _, err := s.Heartbeat(context.Background(), "node", "ready"); !errors.Is(err, ErrNoServers) {
		t.Fatalf("call without servers: %v, want ErrNoServers", err)
	}
	s.SetServers([]string{"a:1", "b:1", "c:1"})
	s.use("b:1")
	s.SetServers([]string{"c:1", "b:1", "d:1"})
	if got, want := s.List(), []string{"b:1", "d:1", "c:1"}; !slices.Equal(got, want) {
		t.Fatalf("List() = %v, want %v", got, want)
	}
	s.SetServers(nil)
	if got := s.List(); len(got) != 3 {
		t.Fatalf("an empty list replaced the servers: %v", got)
	}
}
