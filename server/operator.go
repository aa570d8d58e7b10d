package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/raft"

	"github.com/drover-project/drover/internal/rpc"
	"github.com/drover-project/drover/internal/snapshotfile"
	"github.com/drover-project/drover/server/fsm"
	"github.com/drover-project/drover/structs"
)

// raftProtocol is the Raft protocol version servers speak (raft's 3: IDs
// distinct from addresses).
const raftProtocol = 3

// peerInfoTimeout bounds asking a peer its name for list-peers: a dead peer
// shows as "(unknown)" instead of holding the answer up.
const peerInfoTimeout = time.Second

func (s *Server) info() *ServerInfo {
	return &ServerInfo{
		ID:           string(s.raftID()),
		Name:         s.cfg.NodeName,
		Region:       s.cfg.Region,
		Datacenter:   s.cfg.Datacenter,
		RaftProtocol: raftProtocol,
	}
}

// raftID is this server's ID in the Raft configuration.
func (s *Server) raftID() raft.ServerID { return s.localID }

func (s *Server) raftServers() []raft.Server {
	f := s.raft.GetConfiguration()
	if f.Error() != nil {
		return nil
	}
	return f.Configuration().Servers
}

// RaftConfiguration lists the servers of the Raft configuration as this
// server knows it, with their names asked of each (in parallel).
func (s *Server) RaftConfiguration(ctx context.Context) (*structs.RaftConfiguration, error) {
	f := s.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, fmt.Errorf("read raft configuration: %w", err)
	}
	leader, _ := s.raft.LeaderWithID()
	servers := f.Configuration().Servers
	// raft does not tell the configuration's own index outside its main
	// loop; the applied index is the point the answer reflects.
	out := &structs.RaftConfiguration{Index: s.raft.AppliedIndex(), Servers: make([]*structs.RaftServer, len(servers))}
	var wg sync.WaitGroup
	for i, srv := range servers {
		out.Servers[i] = &structs.RaftServer{
			ID:           string(srv.ID),
			Node:         "(unknown)",
			Address:      string(srv.Address),
			Leader:       srv.Address == leader,
			Voter:        srv.Suffrage == raft.Voter,
			RaftProtocol: strconv.Itoa(raftProtocol),
		}
		if string(srv.Address) == s.RPCAddr() {
			out.Servers[i].Node = s.cfg.NodeName
			continue
		}
		wg.Add(1)
		go func(rs *structs.RaftServer) {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, peerInfoTimeout)
			defer cancel()
			var info ServerInfo
			if err := s.rpcPool.Call(cctx, rs.Address, "Operator.ServerInfo", nil, &info); err == nil && info.Name != "" {
				rs.Node = info.Name
			}
		}(out.Servers[i])
	}
	wg.Wait()
	return out, nil
}

// RemoveRaftPeer removes a server, named by address or by ID, from the Raft
// configuration: the way to recover from a server that is gone for good.
func (s *Server) RemoveRaftPeer(ctx context.Context, address, id string) error {
	if (address == "") == (id == "") {
		return structs.BadRequest(errors.New("name exactly one peer to remove, by address or by id"))
	}
	if ok, err := s.forwardOperator(ctx, "Operator.RemovePeer", &removePeerArgs{Address: address, ID: id}, nil); ok {
		return err
	}
	var target *raft.Server
	for _, srv := range s.raftServers() {
		if (address != "" && string(srv.Address) == address) || (id != "" && string(srv.ID) == id) {
			target = &srv
			break
		}
	}
	if target == nil {
		if address != "" {
			return structs.NotFound(fmt.Errorf("no raft peer has address %q", address))
		}
		return structs.NotFound(fmt.Errorf("no raft peer has id %q", id))
	}
	if err := s.raft.RemoveServer(target.ID, 0, 0).Error(); err != nil {
		return fmt.Errorf("remove raft peer %s (%s): %w", target.ID, target.Address, err)
	}
	s.log.Info("removed raft peer", "id", target.ID, "address", target.Address)
	return nil
}

type removePeerArgs struct {
	Address string
	ID      string
}

// TransferLeadership hands leadership to the server with the given ID, or,
// with "", to the most up-to-date follower.
func (s *Server) TransferLeadership(ctx context.Context, id string) error {
	if ok, err := s.forwardOperator(ctx, "Operator.TransferLeadership", id, nil); ok {
		return err
	}
	voters := 0
	for _, srv := range s.raftServers() {
		if srv.Suffrage == raft.Voter {
			voters++
		}
	}
	if voters < 2 {
		return structs.BadRequest(errors.New("this cluster has no other voting server to hand leadership to"))
	}
	var f raft.Future
	if id == "" {
		f = s.raft.LeadershipTransfer()
	} else {
		var addr raft.ServerAddress
		for _, srv := range s.raftServers() {
			if string(srv.ID) == id {
				addr = srv.Address
			}
		}
		if addr == "" {
			return structs.NotFound(fmt.Errorf("no raft peer has id %q", id))
		}
		if raft.ServerID(id) == s.raftID() {
			return structs.BadRequest(fmt.Errorf("server %s already leads the cluster", id))
		}
		f = s.raft.LeadershipTransferToServer(raft.ServerID(id), addr)
	}
	if err := f.Error(); err != nil {
		return fmt.Errorf("transfer leadership: %w", err)
	}
	return nil
}

// SnapshotSave writes an archive (see internal/snapshotfile) of the
// cluster state to w. It is taken on the leader unless stale allows this
// server's own state. It returns the Raft index of the state.
func (s *Server) SnapshotSave(ctx context.Context, w io.Writer, stale bool) (uint64, error) {
	if !stale && !s.IsLeader() {
		if forwardedOperator(ctx) {
			return 0, fmt.Errorf("%w: a request forwarded to this server found it is no longer the leader", structs.ErrNoLeader)
		}
		leader, err := s.waitForLeader(ctx)
		if err != nil {
			return 0, err
		}
		if leader != "" {
			return s.forwardSnapshotSave(ctx, leader, w)
		}
	}
	f := s.raft.Snapshot()
	if err := f.Error(); err != nil {
		if errors.Is(err, raft.ErrNothingNewToSnapshot) {
			return 0, structs.BadRequest(errors.New("nothing to snapshot yet: the cluster has not stored any state"))
		}
		return 0, fmt.Errorf("take snapshot: %w", err)
	}
	rmeta, rc, err := f.Open()
	if err != nil {
		return 0, fmt.Errorf("open snapshot: %w", err)
	}
	defer rc.Close()

	// Spool the state to a file: the archive's metadata (size, checksum,
	// counts) comes before the state, so it is read twice.
	tmp, err := os.CreateTemp("", "drover-snapshot-*")
	if err != nil {
		return 0, fmt.Errorf("snapshot: spool: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	size, sum, err := snapshotfile.Checksum(io.TeeReader(rc, tmp))
	if err != nil {
		return 0, fmt.Errorf("snapshot: read state: %w", err)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	counts, err := fsm.CountRecords(tmp)
	if err != nil {
		return 0, err
	}
	tables := make(map[string]snapshotfile.TableStats, len(counts))
	for kind, st := range counts {
		tables[kind] = snapshotfile.TableStats{Count: st.Count, Size: st.Size}
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	meta := snapshotfile.Meta{
		ID: rmeta.ID, Index: rmeta.Index, Term: rmeta.Term,
		Size: size, SHA256: sum, Tables: tables, CreatedAt: time.Now().UTC(),
	}
	if err := snapshotfile.Write(w, meta, tmp); err != nil {
		return 0, err
	}
	return rmeta.Index, nil
}

// forwardSnapshotSave streams the leader's archive to w, reading its index
// from the metadata on the way.
func (s *Server) forwardSnapshotSave(ctx context.Context, leader string, w io.Writer) (uint64, error) {
	rc, err := s.rpcPool.CallStream(ctx, leader, "Operator.SnapshotSave", nil)
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	// Every byte read to parse the metadata also goes to w, in order.
	tee := io.TeeReader(rc, w)
	ar, err := snapshotfile.Open(tee)
	if err != nil {
		return 0, err
	}
	if _, err := io.Copy(w, rc); err != nil {
		return 0, fmt.Errorf("snapshot from the leader: %w", err)
	}
	return ar.Meta.Index, nil
}

// SnapshotRestore replaces the cluster state with an archive's. It runs on
// the leader (raft.Restore), which then sends the state to every follower;
// the leader-only parts restart from the restored state.
func (s *Server) SnapshotRestore(ctx context.Context, r io.Reader) error {
	ar, err := snapshotfile.Open(r)
	if err != nil {
		return structs.BadRequest(err)
	}
	tmp, err := os.CreateTemp("", "drover-restore-*")
	if err != nil {
		return fmt.Errorf("restore: spool: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	// Check the whole state before Raft sees any of it.
	if err := ar.CopyState(tmp); err != nil {
		return structs.BadRequest(err)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if !s.IsLeader() {
		if forwardedOperator(ctx) {
			return fmt.Errorf("%w: a request forwarded to this server found it is no longer the leader", structs.ErrNoLeader)
		}
		leader, err := s.waitForLeader(ctx)
		if err != nil {
			return err
		}
		if leader != "" {
			// The state streams to the leader, which checks it again.
			return s.rpcPool.CallWithBody(ctx, leader, "Operator.SnapshotRestore", &ar.Meta, tmp, nil)
		}
	}
	return s.restoreState(ar.Meta, tmp)
}

// restoreForwarded restores a state a follower checked and streamed here.
// It is spooled and checked again before Raft sees it: raft.Restore reads
// its input on Raft's main loop, which must not wait on the network.
func (s *Server) restoreForwarded(meta snapshotfile.Meta, body io.Reader) error {
	tmp, err := os.CreateTemp("", "drover-restore-*")
	if err != nil {
		return fmt.Errorf("restore: spool: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	size, sum, err := snapshotfile.Checksum(io.TeeReader(body, tmp))
	if err != nil {
		return fmt.Errorf("restore: receive state: %w", err)
	}
	if size != meta.Size || sum != meta.SHA256 {
		return structs.BadRequest(fmt.Errorf("restore: the state arrived damaged (%d bytes, checksum %s; want %d, %s)", size, sum, meta.Size, meta.SHA256))
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return err
	}
	return s.restoreState(meta, tmp)
}

func (s *Server) restoreState(meta snapshotfile.Meta, state io.Reader) error {
	rmeta := &raft.SnapshotMeta{Version: raft.SnapshotVersionMax, ID: meta.ID, Index: meta.Index, Term: meta.Term, Size: meta.Size}
	if err := s.raft.Restore(rmeta, state, time.Minute); err != nil {
		return fmt.Errorf("restore snapshot: %w", err)
	}
	// The broker and timers hold what the old state had: start them again
	// from the restored one.
	s.revokeLeadership()
	if err := s.establishLeadership(); err != nil {
		return fmt.Errorf("restore snapshot: restart leader duties: %w", err)
	}
	s.log.Info("restored snapshot", "index", meta.Index, "term", meta.Term)
	return nil
}

// forwardOperator sends a leader-only operator call to the leader, and
// reports whether it did.
func (s *Server) forwardOperator(ctx context.Context, method string, args, reply any) (bool, error) {
	if s.IsLeader() {
		return false, nil
	}
	if forwardedOperator(ctx) {
		return true, fmt.Errorf("%w: a request forwarded to this server found it is no longer the leader", structs.ErrNoLeader)
	}
	deadline := time.Now().Add(operatorLeaderWait)
	for {
		leader, err := s.waitForLeader(ctx)
		if err != nil || leader == "" {
			return err != nil, err // no error and no address: this server leads now
		}
		err = s.rpcPool.Call(ctx, leader, method, args, reply)
		// As the endpoints' forward: "no leader" from the other side (it
		// stepped down, or this server's view of the leader was behind)
		// and a call never sent mean nothing was done, so the next leader
		// is asked, within the same wait.
		retry := errors.Is(err, structs.ErrNoLeader) || errors.Is(err, rpc.ErrNotSent)
		if !retry || time.Now().After(deadline) {
			return true, err
		}
		select {
		case <-ctx.Done():
			return true, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// operatorLeaderWait is how long an operator call waits for a leader, as
// the endpoints' requests do.
const operatorLeaderWait = 5 * time.Second

// waitForLeader returns the leader's address once one is known, "" when
// this server became the leader meanwhile, or ErrNoLeader after the wait.
func (s *Server) waitForLeader(ctx context.Context) (string, error) {
	deadline := time.Now().Add(operatorLeaderWait)
	for {
		if s.IsLeader() {
			return "", nil
		}
		if leader := s.Leader(); leader != "" {
			return leader, nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("%w: none was elected within %s", structs.ErrNoLeader, operatorLeaderWait)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

type operatorForwardedKey struct{}

func forwardedOperator(ctx context.Context) bool {
	v, _ := ctx.Value(operatorForwardedKey{}).(bool)
	return v
}

// serveOperatorCall answers the leader-only operator calls other servers
// forward here.
func (s *Server) serveOperatorCall(ctx context.Context, method string, args rpc.Args) (any, error) {
	ctx = context.WithValue(ctx, operatorForwardedKey{}, true)
	switch method {
	case "Operator.RemovePeer":
		var a removePeerArgs
		if err := args.Decode(&a); err != nil {
			return nil, err
		}
		return nil, s.RemoveRaftPeer(ctx, a.Address, a.ID)
	case "Operator.ForceLeave":
		var a forceLeaveArgs
		if err := args.Decode(&a); err != nil {
			return nil, err
		}
		return nil, s.forceLeaveOnLeader(ctx, &a)
	case "Operator.TransferLeadership":
		var id string
		if err := args.Decode(&id); err != nil {
			return nil, err
		}
		return nil, s.TransferLeadership(ctx, id)
	case "Operator.SnapshotSave":
		if !s.IsLeader() {
			return nil, fmt.Errorf("%w: a request forwarded to this server found it is no longer the leader", structs.ErrNoLeader)
		}
		// The call's own (forwarded) context, so that a server that loses
		// leadership meanwhile fails instead of forwarding again.
		return rpc.StreamFunc(func(_ context.Context, w io.Writer) error {
			_, err := s.SnapshotSave(ctx, w, false)
			return err
		}), nil
	case "Operator.SnapshotRestore":
		var meta snapshotfile.Meta
		if err := args.Decode(&meta); err != nil {
			return nil, err
		}
		if args.Body() == nil {
			return nil, structs.BadRequest(errors.New("a snapshot restore needs the state as the call's body"))
		}
		if !s.IsLeader() {
			return nil, fmt.Errorf("%w: a request forwarded to this server found it is no longer the leader", structs.ErrNoLeader)
		}
		return nil, s.restoreForwarded(meta, args.Body())
	}
	return nil, structs.BadRequest(fmt.Errorf("unknown RPC method %q", method))
}

// applyRaftSnapshotConfig sets the snapshot threshold, interval and trailing
// logs the configuration names.
func (s *Server) applyRaftSnapshotConfig(rc *raft.Config) {
	if s.cfg.RaftSnapshotThreshold > 0 {
		rc.SnapshotThreshold = s.cfg.RaftSnapshotThreshold
	}
	if s.cfg.RaftSnapshotInterval > 0 {
		rc.SnapshotInterval = s.cfg.RaftSnapshotInterval
	}
	if s.cfg.RaftTrailingLogs > 0 {
		rc.TrailingLogs = s.cfg.RaftTrailingLogs
	}
}
