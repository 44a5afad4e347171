package state

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
)

// Replica counts.
const (
	// DefaultReplicas is how many copies UseReplicas(ctx, 0) keeps of
	// every stream where the cluster has that many JetStream servers or
	// more; a smaller cluster keeps one copy on each of its servers.
	DefaultReplicas = 3
	// MaxReplicas is the most copies JetStream keeps of a stream.
	MaxReplicas = 5
)

// ClusterInfo describes where an external store keeps its state: the NATS
// cluster, its JetStream servers, and the copies of each of muster's
// streams.
type ClusterInfo struct {
	// Name is the NATS cluster's name; empty for a server outside a
	// cluster.
	Name string
	// Servers are the client URLs the connection knows, sorted: those it
	// was given and those the servers announced.
	Servers []string
	// JetStreamServers is how many JetStream servers UseReplicas found,
	// counting up to the replicas it looked for (at most DefaultReplicas
	// when detecting); 0 from Cluster, which does not count them.
	JetStreamServers int
	// Peers are the names of the JetStream servers that hold a copy of one
	// of muster's streams, sorted.
	Peers []string
	// Replicas is how many copies the store keeps of every stream it
	// creates or raises; 0 when UseReplicas was not called (the server's
	// default: one).
	Replicas int
	// Streams are muster's streams that exist, sorted by name.
	Streams []StreamReplicas
}

// StreamReplicas tells where the copies of one stream are.
type StreamReplicas struct {
	// Name is the JetStream stream's name ("KV_jobs", "OBJ_documents",
	// "events").
	Name string
	// Replicas is how many copies the stream's configuration asks for.
	Replicas int
	// Leader is the name of the server that leads the stream's copies;
	// empty while they elect one.
	Leader string
	// Current is how many copies are up to date: the leader's and those
	// of the replicas that are current with it.
	Current int
	// Peers are the servers that hold a copy, the leader first.
	Peers []string
}

// UseReplicas makes the store keep n copies of every bucket, of the
// document store and of the events stream, on an external NATS JetStream
// cluster: it creates those that do not exist yet with n replicas and
// raises those that have fewer, now rather than at their first use, and
// returns what it left.
//
// n == 0 detects: DefaultReplicas where the cluster has that many
// JetStream servers, else as many as it has (1 on a single server). An n
// larger than the cluster's JetStream servers is refused.
//
// UseReplicas never lowers a stream's replicas: a stream kept with more
// copies than n keeps them (ClusterInfo.String says which), since one
// control plane started with a lower number must not take copies from the
// state that others share. Lower them with the nats CLI
// (`nats stream edit NAME --replicas N`) if that is what is meant.
func (s *Store) UseReplicas(ctx context.Context, n int) (ClusterInfo, error) {
	if n < 0 || n > MaxReplicas {
		return ClusterInfo{}, fmt.Errorf("replicas %d: want 0 (as many as the cluster has JetStream servers, up to %d) to %d", n, DefaultReplicas, MaxReplicas)
	}
	look := n
	if n == 0 {
		look = DefaultReplicas
	}
	have, err := s.awaitJetStreamServers(ctx, look)
	if err != nil {
		return ClusterInfo{}, err
	}
	if n == 0 {
		n = have
	} else if have < n {
		return ClusterInfo{}, fmt.Errorf("%d replicas asked, but the NATS %s has only %d JetStream server%s: ask for at most %d, or add servers",
			n, s.clusterName(), have, plural(have), have)
	}
	s.mu.Lock()
	s.replicas = n
	s.mu.Unlock()
	if err := s.raiseAll(ctx, n); err != nil {
		return ClusterInfo{}, err
	}
	info, err := s.Cluster(ctx)
	info.JetStreamServers = have
	return info, err
}

// clusterName names the cluster the connection is in, for messages.
func (s *Store) clusterName() string {
	if name := s.nc.ConnectedClusterName(); name != "" {
		return fmt.Sprintf("cluster %q", name)
	}
	return "server at " + s.nc.ConnectedUrl()
}

// serversWait is how long awaitJetStreamServers waits for servers the
// client knows of to count as JetStream servers.
const serversWait = 10 * time.Second

// awaitJetStreamServers counts the JetStream servers up to most, as
// countJetStreamServers does, and counts again for up to serversWait while
// the client knows of more servers than it counted: a cluster that is
// starting (or a server that is joining it) takes a while before
// JetStream places copies on every server, and a count made too early
// would keep the state with fewer copies than the cluster can hold.
func (s *Store) awaitJetStreamServers(ctx context.Context, most int) (int, error) {
	wctx, cancel := context.WithTimeout(ctx, serversWait)
	defer cancel()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		have, err := s.countJetStreamServers(ctx, most)
		if err != nil || have >= min(most, len(s.nc.Servers())) {
			return have, err
		}
		select {
		case <-wctx.Done():
			if ctx.Err() != nil {
				return have, ctx.Err()
			}
			s.log().Warn("fewer JetStream servers than NATS servers", "jetstream", have, "servers", s.nc.Servers())
			return have, nil
		case <-tick.C:
		}
	}
}

// countJetStreamServers returns how many JetStream servers the cluster
// has, counting up to most.
//
// A client outside the system account cannot list the JetStream peers
// (the server lists them to the system account only), and the URLs the
// servers announce count servers without JetStream, leave out those that
// do not advertise, and include servers of other clusters through
// gateways. What JetStream itself answers is what matters: it places a
// stream with R replicas only when R servers of the cluster can hold one.
// So the count is the most replicas, from most down, of a small probe
// stream that JetStream agrees to create; the probe is deleted at once.
func (s *Store) countJetStreamServers(ctx context.Context, most int) (int, error) {
	for r := most; r > 1; r-- {
		ok, err := s.probe(ctx, r)
		if err != nil || ok {
			return r, err
		}
	}
	// One copy is what any JetStream server keeps; Connect made sure it
	// has JetStream.
	return 1, nil
}

// probe reports whether JetStream creates a stream with r replicas. It
// is false for too few servers; an error is any other failure.
func (s *Store) probe(ctx context.Context, r int) (bool, error) {
	name := "muster_probe_" + nuid.Next()
	_, err := s.js.CreateStream(ctx, jetstream.StreamConfig{
		Name:        name,
		Description: "muster: counts JetStream servers; deleted at once",
		Subjects:    []string{"muster.probe." + name},
		Storage:     jetstream.MemoryStorage,
		Replicas:    r,
		MaxMsgs:     1,
	})
	var apiErr *jetstream.APIError
	switch {
	case err == nil:
		// The probe is gone even when ctx ended meanwhile.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := s.js.DeleteStream(dctx, name); err != nil {
			return true, fmt.Errorf("delete the probe stream %s: %w", name, err)
		}
		return true, nil
	case errors.As(err, &apiErr) && tooFewServers(apiErr.ErrorCode):
		return false, nil
	default:
		return false, fmt.Errorf("count the JetStream servers of the NATS %s: %w", s.clusterName(), err)
	}
}

// JetStream error codes of a stream that has more replicas than the
// servers can hold.
const (
	errCodeNoPeers               jetstream.ErrorCode = 10005 // no suitable peers for placement
	errCodeInsufficientResources jetstream.ErrorCode = 10023
	errCodeReplicasNotSupported  jetstream.ErrorCode = 10074 // a server outside a cluster
)

func tooFewServers(code jetstream.ErrorCode) bool {
	return code == errCodeNoPeers || code == errCodeInsufficientResources || code == errCodeReplicasNotSupported
}

// raiseAll creates every stream of the store that does not exist yet and
// raises to n the replicas of those that have fewer.
func (s *Store) raiseAll(ctx context.Context, n int) error {
	for _, b := range kvBuckets() {
		if _, err := s.kv(ctx, b); err != nil {
			return err
		}
	}
	if _, err := s.documents(ctx); err != nil {
		return err
	}
	if _, err := s.events(ctx); err != nil {
		return err
	}
	for _, name := range s.streamNames() {
		if _, err := s.raise(ctx, name, n); err != nil {
			return err
		}
	}
	// The buckets' handles are bound again: they read the stream's
	// configuration (AllowDirect) when bound.
	s.mu.Lock()
	s.kvs = make(map[string]jetstream.KeyValue)
	s.mu.Unlock()
	s.awaitCopies(ctx, s.streamNames(), n)
	return nil
}

// copiesWait is how long raiseAll waits for the copies of the streams it
// created or raised to be placed and catch up.
const copiesWait = 15 * time.Second

// awaitCopies waits, up to copiesWait, until each stream of names has n
// copies placed and up to date but for those on servers that are offline:
// JetStream answers a create or a raise before every copy is in place. (A
// server down when a control plane starts does not hold it up.)
// Copies still catching up after that are no error: they go on catching up,
// and Cluster shows how far they are.
func (s *Store) awaitCopies(ctx context.Context, names []string, n int) {
	if len(names) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, copiesWait)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for len(names) > 0 {
		st, err := s.js.Stream(ctx, names[0])
		if err == nil && settled(st.CachedInfo(), n) {
			names = names[1:]
			continue
		}
		select {
		case <-ctx.Done():
			s.log().Warn("stream copies still catching up", "streams", names, "replicas", n)
			return
		case <-tick.C:
		}
	}
}

// raise sets the replicas of the stream called name to n if it has fewer,
// and says whether it did.
// It changes nothing else of the stream's configuration: it sends back the
// configuration the server has, where rebuilding it from a KeyValueConfig
// or ObjectStoreConfig would reset the fields set on the stream itself.
func (s *Store) raise(ctx context.Context, name string, n int) (bool, error) {
	st, err := s.js.Stream(ctx, name)
	if err != nil {
		return false, fmt.Errorf("read stream %s: %w", name, err)
	}
	cfg := st.CachedInfo().Config
	// A replicated bucket answers its gets from the stream's leader, not
	// from any copy (AllowDirect): a copy may lag, and a read-modify-write
	// of a value just written, by this process or by another, must read
	// that value, never the one before it.
	leaderReads := strings.HasPrefix(name, "KV_") && max(n, cfg.Replicas) > 1 && cfg.AllowDirect
	if cfg.Replicas >= n && !leaderReads {
		return false, nil
	}
	was := cfg.Replicas
	cfg.Replicas = max(n, cfg.Replicas)
	if leaderReads {
		cfg.AllowDirect = false
	}
	if _, err := s.js.UpdateStream(ctx, cfg); err != nil {
		return false, fmt.Errorf("raise stream %s from %d to %d replicas: %w", name, was, n, err)
	}
	if was < cfg.Replicas {
		s.log().Info("raised stream replicas", "stream", name, "from", was, "to", n)
	}
	return was < cfg.Replicas, nil
}

// settled reports whether the stream of si has n copies placed, each up
// to date or on a server that is offline.
func settled(si *jetstream.StreamInfo, n int) bool {
	c := si.Cluster
	if c == nil || n <= 1 {
		return true
	}
	if c.Leader == "" || 1+len(c.Replicas) < n {
		return false
	}
	for _, p := range c.Replicas {
		if !p.Current && !p.Offline {
			return false
		}
	}
	return true
}

// createOrUpdateStream creates the stream of cfg or updates it to cfg
// where it differs, keeping its replicas where it has more than cfg asks
// for. A stream another control plane created meanwhile is taken as it
// is found: an update racing that creation can go unanswered (two control
// planes starting at once on a new cluster both waited for one).
func (s *Store) createOrUpdateStream(ctx context.Context, cfg jetstream.StreamConfig) (jetstream.Stream, error) {
	return opening(ctx, func(ctx context.Context) (jetstream.Stream, error) { return s.createOrUpdateStreamOnce(ctx, cfg) })
}

// createOrUpdateStreamOnce is one try of createOrUpdateStream.
func (s *Store) createOrUpdateStreamOnce(ctx context.Context, cfg jetstream.StreamConfig) (jetstream.Stream, error) {
	st, err := s.js.Stream(ctx, cfg.Name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		st, err = s.js.CreateStream(ctx, cfg)
		if !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			return st, err
		}
		st, err = s.js.Stream(ctx, cfg.Name)
	}
	if err != nil {
		return nil, err
	}
	have := st.CachedInfo().Config
	cfg.Replicas = max(cfg.Replicas, have.Replicas)
	if sameStream(have, cfg) {
		return st, nil
	}
	return s.js.UpdateStream(ctx, cfg)
}

// sameStream reports whether have already is what want asks for, in what
// muster sets of a stream.
func sameStream(have, want jetstream.StreamConfig) bool {
	return slices.Equal(have.Subjects, want.Subjects) && have.Replicas == want.Replicas &&
		have.MaxMsgsPerSubject == want.MaxMsgsPerSubject && have.Discard == want.Discard &&
		have.AllowAtomicPublish == want.AllowAtomicPublish && have.Description == want.Description &&
		have.Storage == want.Storage
}

// kvBuckets lists the KV buckets, sorted.
func kvBuckets() []string {
	var out []string
	for b := range kvConfigs {
		out = append(out, b)
	}
	slices.Sort(out)
	return out
}

// streamNames lists the JetStream streams of the store: its KV buckets,
// its object store and its events.
func (s *Store) streamNames() []string {
	var out []string
	for _, b := range kvBuckets() {
		out = append(out, "KV_"+s.prefix+b)
	}
	out = append(out, "OBJ_"+s.prefix+bucketDocuments, s.prefix+eventsStream)
	slices.Sort(out)
	return out
}

// Cluster reads where the store keeps its state: the NATS cluster it is
// connected to and the copies of each of muster's streams that exist. It
// creates nothing.
func (s *Store) Cluster(ctx context.Context) (ClusterInfo, error) {
	s.mu.Lock()
	info := ClusterInfo{Name: s.nc.ConnectedClusterName(), Servers: s.nc.Servers(), Replicas: s.replicas}
	s.mu.Unlock()
	slices.Sort(info.Servers)
	peers := map[string]bool{}
	for _, name := range s.streamNames() {
		st, err := s.js.Stream(ctx, name)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			continue
		}
		if err != nil {
			return info, fmt.Errorf("read stream %s: %w", name, err)
		}
		sr := streamReplicas(st.CachedInfo())
		for _, p := range sr.Peers {
			peers[p] = true
		}
		info.Streams = append(info.Streams, sr)
	}
	for p := range peers {
		info.Peers = append(info.Peers, p)
	}
	slices.Sort(info.Peers)
	return info, nil
}

// streamReplicas reads where the copies of a stream are from its info.
func streamReplicas(si *jetstream.StreamInfo) StreamReplicas {
	sr := StreamReplicas{Name: si.Config.Name, Replicas: max(si.Config.Replicas, 1)}
	c := si.Cluster
	if c == nil {
		// A server outside a cluster: its one copy is the leader.
		sr.Current = 1
		return sr
	}
	if c.Leader != "" {
		sr.Leader, sr.Current, sr.Peers = c.Leader, 1, []string{c.Leader}
	} else if len(c.Replicas) == 0 && sr.Replicas == 1 {
		// No leader named, no replicas: a single server's one copy.
		sr.Current = 1
	}
	for _, p := range c.Replicas {
		sr.Peers = append(sr.Peers, p.Name)
		if p.Current && !p.Offline {
			sr.Current++
		}
	}
	return sr
}

// String says in one line where the state is kept, as `muster server`
// prints it, and names the streams with more copies than asked and those
// whose copies are not all up to date.
func (c ClusterInfo) String() string {
	var b strings.Builder
	if c.Name != "" {
		fmt.Fprintf(&b, "NATS cluster %q: ", c.Name)
	} else {
		b.WriteString("NATS server (no cluster): ")
	}
	fmt.Fprintf(&b, "%d server%s (%s), JetStream peers %s; state kept with %d replica%s",
		len(c.Servers), plural(len(c.Servers)), strings.Join(c.Servers, ", "), strings.Join(c.Peers, ","),
		max(c.Replicas, 1), plural(max(c.Replicas, 1)))
	var above, behind []string
	for _, st := range c.Streams {
		if st.Replicas > max(c.Replicas, 1) {
			above = append(above, fmt.Sprintf("%s (%d)", st.Name, st.Replicas))
		}
		if st.Current < st.Replicas {
			behind = append(behind, fmt.Sprintf("%s (%d of %d)", st.Name, st.Current, st.Replicas))
		}
	}
	if len(above) > 0 {
		fmt.Fprintf(&b, "; kept with more, not lowered: %s", strings.Join(above, ", "))
	}
	if len(behind) > 0 {
		fmt.Fprintf(&b, "; copies catching up: %s", strings.Join(behind, ", "))
	}
	return b.String()
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
