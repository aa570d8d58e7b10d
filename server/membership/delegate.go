package membership

import (
	"encoding/json"
	"fmt"

	"github.com/hashicorp/memberlist"
)

// Delegates lets another component gossip over the pool instead of
// running a second memberlist. The pool keeps its tags (NodeMeta) and the
// user messages whose first byte is one of its own (1 and 2); every other
// user message goes to Delegate.NotifyMsg, so the component must start its
// messages with bytes of its own (the catalog uses 0xC1 and 0xC2). Its
// broadcasts share each gossip packet with the pool's (the pool's go
// first), and push/pull state (LocalState, MergeRemoteState) is entirely
// its own. Events, when set, hears every join, leave and update the pool
// accepted. The component's member name is the pool's Config.Name.
type Delegates struct {
	Delegate memberlist.Delegate
	Events   memberlist.EventDelegate
}

// delegate receives memberlist's callbacks. They run on memberlist's own
// goroutines, some under its locks, so none of them may block or call back
// into memberlist.
type delegate struct{ p *Pool }

// Message types of the pool's own gossip (the first byte of a user message).
const (
	msgForceLeave  byte = 1
	msgLeaveIntent byte = 2 // followed by the leaving member's name
)

type forceLeaveMsg struct {
	Name  string
	Prune bool
}

func (m forceLeaveMsg) broadcast() memberlist.Broadcast {
	b, _ := json.Marshal(m) // two plain fields: cannot fail
	return &broadcast{name: m.Name, msg: append([]byte{msgForceLeave}, b...)}
}

// broadcast is a force-leave message; a newer one about the same member
// replaces an older one still in the queue.
type broadcast struct {
	name string
	msg  []byte
}

func (b *broadcast) Invalidates(other memberlist.Broadcast) bool {
	o, ok := other.(*broadcast)
	return ok && o.name == b.name
}
func (b *broadcast) Message() []byte { return b.msg }
func (b *broadcast) Finished()       {}

// NodeMeta gossips this member's tags.
func (d *delegate) NodeMeta(limit int) []byte {
	d.p.mu.Lock()
	tags := d.p.tags
	d.p.mu.Unlock()
	b, err := encodeTags(tags, limit)
	if err != nil {
		// SetTags and New check the size, so this is a bug; gossip no tags
		// rather than a truncated, undecodable blob.
		d.p.log.Error("member tags do not fit", "error", err)
		return nil
	}
	return b
}

// NotifyMsg applies a leave announcement or a force-leave another member
// asked for.
func (d *delegate) NotifyMsg(b []byte) {
	if len(b) > 0 && b[0] != msgForceLeave && b[0] != msgLeaveIntent {
		if x := d.extra(); x != nil {
			x.NotifyMsg(b)
		}
		return
	}
	if len(b) > 1 && b[0] == msgLeaveIntent {
		d.p.noteLeaving(string(b[1:]))
		return
	}
	if len(b) == 0 || b[0] != msgForceLeave {
		return
	}
	var m forceLeaveMsg
	if err := json.Unmarshal(b[1:], &m); err != nil {
		d.p.log.Warn("ignoring undecodable gossip message", "error", err)
		return
	}
	changed, err := d.p.applyForceLeave(m.Name, m.Prune)
	if err != nil {
		// Usual when this member still sees the other alive, or never knew it.
		d.p.log.Debug("force-leave from gossip not applied", "member", m.Name, "error", err)
		return
	}
	if !changed {
		return
	}
	// Pass it on, so members the sender could not reach hear it too.
	d.p.broadcasts.QueueBroadcast(m.broadcast())
}

func (d *delegate) GetBroadcasts(overhead, limit int) [][]byte {
	out := d.p.broadcasts.GetBroadcasts(overhead, limit)
	x := d.extra()
	if x == nil {
		return out
	}
	for _, b := range out {
		limit -= overhead + len(b)
	}
	if limit <= overhead {
		return out
	}
	return append(out, x.GetBroadcasts(overhead, limit)...)
}

// LocalState and MergeRemoteState belong to the carried component: the
// pool's own table comes from memberlist's node list.
func (d *delegate) LocalState(join bool) []byte {
	if x := d.extra(); x != nil {
		return x.LocalState(join)
	}
	return nil
}

func (d *delegate) MergeRemoteState(buf []byte, join bool) {
	if x := d.extra(); x != nil {
		x.MergeRemoteState(buf, join)
	}
}

func (d *delegate) extra() memberlist.Delegate {
	if d.p.cfg.Delegates == nil {
		return nil
	}
	return d.p.cfg.Delegates.Delegate
}

func (d *delegate) events() memberlist.EventDelegate {
	if d.p.cfg.Delegates == nil {
		return nil
	}
	return d.p.cfg.Delegates.Events
}

// Events.

func (d *delegate) NotifyJoin(n *memberlist.Node) {
	d.p.record(n, StatusAlive)
	if ev := d.events(); ev != nil {
		ev.NotifyJoin(n)
	}
}

func (d *delegate) NotifyUpdate(n *memberlist.Node) {
	d.p.record(n, StatusAlive)
	if ev := d.events(); ev != nil {
		ev.NotifyUpdate(n)
	}
}

// NotifyLeave comes for a failure and for a leave alike (Node.State is not
// set in events); record tells them apart by the leave announcement.
func (d *delegate) NotifyLeave(n *memberlist.Node) {
	d.p.record(n, StatusFailed)
	if ev := d.events(); ev != nil {
		ev.NotifyLeave(n)
	}
}

// NotifyAlive keeps nodes the pool does not accept (another region, not a
// server) out of this member's view.
func (d *delegate) NotifyAlive(n *memberlist.Node) error { return d.accept(n) }

// NotifyMerge refuses a whole join when the other side holds a node this
// pool does not accept, so two regions never merge by mistake.
func (d *delegate) NotifyMerge(peers []*memberlist.Node) error {
	for _, n := range peers {
		if err := d.accept(n); err != nil {
			return err
		}
	}
	return nil
}

func (d *delegate) accept(n *memberlist.Node) error {
	if d.p.cfg.Accept == nil {
		return nil
	}
	tags, err := decodeTags(n.Meta)
	if err != nil {
		return fmt.Errorf("member %q: %w", n.Name, err)
	}
	return d.p.cfg.Accept(n.Name, tags)
}

func (d *delegate) NotifyConflict(existing, other *memberlist.Node) {
	d.p.log.Error("two members claim the same name", "member", existing.Name,
		"existing_addr", existing.Address(), "other_addr", other.Address())
}
