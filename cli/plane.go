package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/muster-dev/muster/api"
	"github.com/muster-dev/muster/apply"
	"github.com/muster-dev/muster/state"
)

// plane is the control plane a command talks to: the API of a running
// `muster dev` or `muster server` (ctl is set), or the embedded control
// plane of the state directory (store is set), opened for this command
// alone.
type plane struct {
	api.Backend
	// ctl drives rollouts in a long-lived control plane; nil when this
	// process is the control plane.
	ctl api.Control
	// store is the state opened by this process; nil when remote.
	store *state.Store
	// addr is the API address when remote.
	addr string
	// empty is set when the state directory does not exist (yet) and the
	// command only reads: nothing is stored, and nothing was created.
	empty bool
	close func() error
}

// Close releases the control plane (for an embedded one, the state
// directory).
func (p *plane) Close() error { return p.close() }

// wireEvent is an event of the rollout engine as the API sends it.
func wireEvent(ev apply.Event) api.Event { return api.EventFromState(ev) }

// engineEvent is an event read from the API as the rollout engine's, which
// the progress views print.
func engineEvent(ev api.Event) apply.Event { return ev.ToState() }

// mapEvents sends f of each event of in, until in is closed or ctx is
// done; then it closes the channel it returned.
func mapEvents[A, B any](ctx context.Context, in <-chan A, f func(A) B) <-chan B {
	out := make(chan B)
	go func() {
		defer close(out)
		for {
			select {
			case ev, ok := <-in:
				if !ok {
					return
				}
				select {
				case out <- f(ev):
				case <-ctx.Done():
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// devFile is where `muster dev` records its API address in the state
// directory, so that commands pointed at the directory talk to it.
const devFile = "dev.json"

// devRecord is the content of devFile.
type devRecord struct {
	Addr string `json:"addr"` // a URL, http:// or https://; host:port before TLS
	PID  int    `json:"pid"`
	// CA is the CA file (an absolute path) that verifies its certificate,
	// when it serves https and was given one (--tls-ca).
	CA string `json:"ca,omitempty"`
	// Token is the API token it made itself when it was given no
	// MUSTER_TOKEN (see newLocalToken).
	Token string `json:"token,omitempty"`
}

// token is the token to present to the dev: MUSTER_TOKEN, else the one
// recorded.
func (r devRecord) token() string {
	if t := os.Getenv("MUSTER_TOKEN"); t != "" {
		return t
	}
	return r.Token
}

// ca is the CA file that verifies the dev: the one recorded, else caFile.
func (r devRecord) ca(caFile string) string {
	if r.CA != "" {
		return r.CA
	}
	return caFile
}

// open connects to the control plane the flags choose: --addr
// (MUSTER_ADDR), else --nats, else the `muster dev` recorded in the state
// directory if it answers, else the state directory itself.
func (f *stateFlags) open(ctx context.Context) (*plane, error) {
	if f.addr != "" {
		return dial(ctx, f.addr, f.tlsCA, "--addr", apiToken(f.addr, f.dir))
	}
	if f.nats != "" {
		opts, err := withNATSTLS(nil, f.tlsCA)
		if err != nil {
			return nil, err
		}
		st, err := state.Connect(ctx, f.nats, opts...)
		if err != nil {
			return nil, err
		}
		if err := useSecretKey(st, f.dir, true); err != nil {
			st.Close()
			return nil, err
		}
		return &plane{Backend: st, store: st, close: st.Close}, nil
	}
	if rec, ok := readDevRecord(f.dir); ok {
		p, err := dial(ctx, rec.Addr, rec.ca(f.tlsCA), filepath.Join(f.dir, devFile), rec.token())
		if err == nil {
			return p, nil
		}
		var te *tlsError
		if errors.As(err, &te) {
			// It answers, but over TLS this command cannot verify.
			return nil, err
		}
		if !processAlive(rec.PID) {
			// A dev that died without cleaning up: the directory is free.
			os.Remove(filepath.Join(f.dir, devFile))
		} else {
			return nil, fmt.Errorf("'muster dev' (pid %d) holds %s but its API does not answer: %w", rec.PID, f.dir, err)
		}
	}
	if f.readOnly && !holdsState(f.dir) {
		// Reading creates nothing: there is nothing stored yet.
		return &plane{Backend: emptyState{dir: f.dir}, empty: true, close: func() error { return nil }}, nil
	}
	st, err := state.Open(ctx, f.dir, f.withLock(state.Options{AllowDamaged: f.allowDamaged}))
	if err != nil {
		return nil, f.lockError(err)
	}
	if err := useSecretKey(st, f.dir, false); err != nil {
		st.Close()
		return nil, err
	}
	return &plane{Backend: st, store: st, close: st.Close}, nil
}

// dial connects to the API at addr, verifying it with the CA in caFile
// when given (see newAPIClient), and checks that it answers.
func dial(ctx context.Context, addr, caFile, from, token string) (*plane, error) {
	c, err := newAPIClient(addr, caFile, token)
	if err != nil {
		return nil, err
	}
	if _, err := c.Info(ctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("control plane at %s (from %s): %w", addr, from, explainTLS(err, caFile))
	}
	return &plane{Backend: c, ctl: c, addr: addr, close: c.Close}, nil
}

func readDevRecord(dir string) (devRecord, bool) {
	b, err := os.ReadFile(filepath.Join(dir, devFile))
	if err != nil {
		return devRecord{}, false
	}
	var rec devRecord
	if json.Unmarshal(b, &rec) != nil || rec.Addr == "" {
		return devRecord{}, false
	}
	return rec, true
}

// writeDevRecord records the API URL and CA file of this process in dir
// atomically.
func writeDevRecord(dir, url, caFile, token string) error {
	b, _ := json.Marshal(devRecord{Addr: url, PID: os.Getpid(), CA: caFile, Token: token})
	tmp := filepath.Join(dir, devFile+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, devFile))
}
