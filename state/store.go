package state

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Options tune Open. The zero value runs in-process only and fails at once
// when another process holds the directory.
type Options struct {
	// Listen, when set, makes the embedded server also accept NATS clients
	// on this TCP address ("127.0.0.1:0" picks a free port; ClientURL tells
	// which). Empty means no listener: only this process can connect.
	Listen string
	// Token, when set, is the bootstrap token: a client presenting it as
	// a NATS token (nats.Token) may do anything. Other clients of the
	// Listen address present a node's credentials (its id as the user, a
	// RoleNode token as the password: see NodePermissions); nothing else
	// is accepted, with a token or without.
	Token string
	// TLS, when set, makes the Listen address serve TLS only, with this
	// configuration (its server certificate); clients connect with a
	// tls:// URL (ClientURL has that scheme) and trust its CA, with
	// nats.Secure or nats.RootCAs. A plain client is refused.
	TLS *tls.Config
	// LockWait is how long Open waits for another process to release the
	// state directory before it fails with *LockedError. Zero fails at once.
	LockWait time.Duration
	// OnLockWait, when set, is called once, as soon as Open finds the
	// directory held by another process and starts to wait (LockWait > 0),
	// with that holder; the wait goes on when it returns.
	OnLockWait func(*LockedError)
	// Holder says what opens the directory ("muster apply"); the lock file
	// records it, so that a process waiting for the lock can name the
	// command it waits for. Empty records none.
	Holder string
	// AllowDamaged opens a store whose streams lost writes (see
	// Store.Damage) instead of failing with a *DamagedError; for
	// 'muster doctor', which reports the damage.
	AllowDamaged bool
}

// Store reads and writes muster's state in NATS JetStream. It is safe for
// concurrent use. Close it when done: for an embedded server that is what
// makes the directory usable by the next process.
type Store struct {
	nc  *nats.Conn
	js  jetstream.JetStream
	srv *server.Server // nil when connected to an external server
	lk  *dirLock       // nil when connected to an external server

	// prefix is put before every bucket name; tests use it to give each
	// test its own buckets on a shared server.
	prefix string

	// dir is the state directory of an embedded store; damage what Open
	// found lost there. A damaged store's watermark is not recorded again
	// until AcceptLoss, so the loss stays visible.
	dir      string
	damage   []string
	markStop chan struct{}
	markDone chan struct{}

	mu sync.Mutex
	// replicas is how many copies of a stream the store creates
	// (UseReplicas); 0 leaves it to the server: one.
	replicas    int
	kvs         map[string]jetstream.KeyValue
	docs        jetstream.ObjectStore
	eventStream jetstream.Stream

	closeOnce sync.Once
	closeErr  error

	// connBack is told each time the connection comes back; reconnected
	// holds when it last did (unix nanoseconds), 0 if never.
	connBack    chan nats.Status
	reconnected atomic.Int64

	// logger is the store's logger (SetLogger); nil drops.
	logger atomic.Pointer[slog.Logger]

	// nodeRevs holds the KV revision of each node record this store
	// wrote last (see PutNode).
	nodeRevs sync.Map
	// enabled holds the streams whose options enableStream checked.
	enabled sync.Map
	// base is the store a fenced view (Lease.Fenced) was made of, nil
	// for a store itself; fence fences the view's writes.
	base  *Store
	fence *fence

	// secretKey encrypts secrets (SetSecretKey); nil refuses them.
	secretKey atomic.Pointer[secretKey]
}

// Open starts an embedded nats-server with JetStream file storage under dir
// (created 0700 if missing), takes an exclusive lock on dir (flock on
// dir/lock; the file records pid and start time), and connects in-process
// (no TCP listener unless opts.Listen is set).
//
// If another live process holds the lock, Open waits up to opts.LockWait and
// then fails with a *LockedError naming that process. A lock left by a dead
// process (even one killed with SIGKILL) is taken over: the kernel releases
// it with the process.
func Open(ctx context.Context, dir string, opts Options) (*Store, error) {
	if dir == "" {
		return nil, errors.New("state: empty state directory")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create state directory: %w", err)
	}
	lk, err := acquireLock(ctx, dir, opts)
	if err != nil {
		return nil, err
	}
	auth, secret, err := newNATSAuth(opts.Token)
	if err != nil {
		lk.release()
		return nil, err
	}
	srv, err := startServer(dir, opts.Listen, auth, opts.TLS)
	if err != nil {
		lk.release()
		return nil, err
	}
	copts := []nats.Option{nats.InProcessServer(srv), nats.Name("muster"), nats.MaxReconnects(-1), nats.UserInfo(ControlUser, secret)}
	nc, err := nats.Connect("", copts...)
	if err != nil {
		srv.Shutdown()
		srv.WaitForShutdown()
		lk.release()
		return nil, fmt.Errorf("connect to the embedded NATS server: %w", err)
	}
	s, err := newStore(nc)
	if err != nil {
		nc.Close()
		srv.Shutdown()
		srv.WaitForShutdown()
		lk.release()
		return nil, err
	}
	s.srv, s.lk, s.dir = srv, lk, dir
	auth.store.Store(s)
	if opts.Listen != "" {
		if err := s.OpenBuckets(ctx); err != nil {
			s.Close()
			return nil, err
		}
	}
	if err := s.openWatermark(ctx, opts.AllowDamaged); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// openWatermark checks the streams against the recorded watermark and,
// unless they lost writes, keeps recording it.
func (s *Store) openWatermark(ctx context.Context, allowDamaged bool) error {
	problems, err := s.checkWatermark(ctx, s.dir)
	if err != nil {
		return err
	}
	// Damage once seen stays recorded: JetStream may read the same files
	// differently on its next start, and the loss must not go unseen.
	if problems, err = recordDamage(s.dir, problems); err != nil {
		return err
	}
	s.damage = problems
	if len(problems) > 0 {
		if !allowDamaged {
			return &DamagedError{Where: s.dir, Problems: problems}
		}
		return nil
	}
	s.startWatermark()
	return nil
}

// startWatermark records the watermark in the background until Close.
func (s *Store) startWatermark() {
	s.markStop, s.markDone = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(s.markDone)
		s.keepWatermark(s.markStop)
	}()
}

// Damage lists the writes an embedded store found lost when it was opened
// with Options.AllowDamaged; nil when none were.
func (s *Store) Damage() []string { return s.damage }

// Connect uses an external NATS server (JetStream enabled) at url, a NATS
// URL such as "nats://127.0.0.1:4222" or a comma-separated list. opts are
// passed to nats.Connect (credentials, TLS, ...). The Store methods behave as
// with Open. Streams it creates have one copy until UseReplicas says how
// many a cluster keeps.
func Connect(ctx context.Context, url string, opts ...nats.Option) (*Store, error) {
	opts = append([]nats.Option{nats.Name("muster")}, opts...)
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to NATS at %s: %w", url, err)
	}
	s, err := newStore(nc)
	if err != nil {
		nc.Close()
		return nil, err
	}
	// Fail now, not at the first write, if the server has no JetStream.
	if _, err := s.js.AccountInfo(ctx); err != nil {
		nc.Close()
		if errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) {
			return nil, fmt.Errorf("NATS server at %s has no JetStream: start it with -js: %w", url, err)
		}
		return nil, fmt.Errorf("NATS server at %s: JetStream: %w", url, err)
	}
	return s, nil
}

func newStore(nc *nats.Conn) (*Store, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("JetStream: %w", err)
	}
	s := &Store{nc: nc, js: js, kvs: make(map[string]jetstream.KeyValue)}
	s.watchConnection()
	return s, nil
}

// Close flushes what the connection still has to send, closes it, shuts
// the embedded server down (its state is on disk) and releases the
// directory lock. Subscriptions made on Conn are closed with it: drain them
// first if their pending messages matter. (Close does not Drain the whole
// connection: nats.go polls a drain every 10 ms, which would add 10 to 30 ms
// to every command, and the store's own requests are all answered by then.)
// Calling Close again returns the first result. Closing a fenced view
// (Lease.Fenced) does nothing: close the store it was made of.
func (s *Store) Close() error {
	if s.base != nil {
		return nil // a view: its store closes the connection
	}
	s.closeOnce.Do(func() {
		s.closeErr = s.close()
	})
	return s.closeErr
}

func (s *Store) close() error {
	var errs []error
	s.nc.RemoveStatusListener(s.connBack)
	if s.markStop != nil {
		close(s.markStop)
		<-s.markDone
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := s.saveWatermark(ctx); err != nil {
			errs = append(errs, fmt.Errorf("record watermark: %w", err))
		}
		cancel()
	}
	if s.nc.IsConnected() {
		// Disconnected (an external server went away), there is nothing
		// to flush to: do not wait for it.
		if err := s.nc.FlushTimeout(5 * time.Second); err != nil {
			errs = append(errs, fmt.Errorf("flush: %w", err))
		}
	}
	s.nc.Close()
	if s.srv != nil {
		s.srv.Shutdown()
		s.srv.WaitForShutdown()
	}
	if err := s.lk.release(); err != nil {
		errs = append(errs, fmt.Errorf("release lock: %w", err))
	}
	return errors.Join(errs...)
}

// ClientURL is the NATS URL other processes can connect to: the embedded
// server's listener when Options.Listen was set, the server's URL for
// Connect, and "" for an in-process-only store.
func (s *Store) ClientURL() string {
	if s.srv != nil {
		if s.srv.Addr() == nil {
			return ""
		}
		return s.srv.ClientURL()
	}
	return s.nc.ConnectedUrl()
}

// Conn is the underlying NATS connection, for messaging between the control
// plane and nodes. Do not close it: Close the Store.
func (s *Store) Conn() *nats.Conn { return s.nc }
