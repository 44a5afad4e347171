package state

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"
)

// The NATS subjects of node agents (runner/remote uses them): a node's
// agent serves requests on NodeSubjects+"<node id>.<operation>" and
// publishes the end of each execution on DoneSubjects+"<node id>.<execution
// id>.done".
const (
	NodeSubjects = "muster.node."
	DoneSubjects = "muster.exec."
	// GatewaySubjects+"<node id>.<operation>" is where a node's agent
	// asks the control planes to read or record one of its executions.
	GatewaySubjects = "muster.gw."
)

// NodeInbox is the inbox prefix of node id's NATS connection: the replies
// to its requests come there, where no other node may listen. One token,
// whatever dots the id holds.
func NodeInbox(id string) string {
	sum := sha256.Sum256([]byte(id))
	return "_INBOX_" + hex.EncodeToString(sum[:12])
}

// nodeReads are the streams a node reads: executions and its node record,
// the jobs and documents of its inputs. Never specs (they come with the
// requests to run them), sensitive paths, tokens, secrets, leases or
// events.
var nodeReads = []string{
	"KV_" + bucketExecutions, "KV_" + bucketNodes, "KV_" + bucketJobs, "OBJ_" + bucketDocuments,
}

// nodeResponseTTL bounds how long after a request a node may answer it
// (a stop answers after the grace period).
const nodeResponseTTL = 10 * time.Minute

// NodePermissions are the NATS permissions of node id's credentials: it
// serves its own requests, answers them, publishes the ends of its own
// executions, asks the control planes to record its own executions
// (GatewaySubjects), records its own node record, stores documents, and
// reads the streams of nodeReads. It cannot write jobs,
// specs, tokens, secrets or leases, read tokens or secrets, listen to
// another node's requests or replies, ask a control plane anything, or
// create, change or delete a stream.
func NodePermissions(id string) *server.Permissions {
	pub := []string{
		"$JS.API.INFO",
		"$JS.FC.>", // flow control of the consumers it reads with
		"$KV." + bucketNodes + "." + id,
		"$O." + bucketDocuments + ".C.>",
		"$O." + bucketDocuments + ".M.>",
		// Storing a document renames its upload, which purges the old
		// name: a node can so drop documents (see docs/cluster.md).
		"$JS.API.STREAM.PURGE.OBJ_" + bucketDocuments,
		DoneSubjects + id + ".*.done",
		GatewaySubjects + id + ".*",
	}
	for _, s := range nodeReads {
		pub = append(pub,
			"$JS.API.STREAM.INFO."+s,
			"$JS.API.STREAM.MSG.GET."+s,
			"$JS.API.DIRECT.GET."+s, "$JS.API.DIRECT.GET."+s+".>",
			"$JS.API.CONSUMER.CREATE."+s, "$JS.API.CONSUMER.CREATE."+s+".>",
			"$JS.API.CONSUMER.DELETE."+s+".>",
			"$JS.API.CONSUMER.INFO."+s+".>",
		)
	}
	return &server.Permissions{
		Publish:   &server.SubjectPermission{Allow: pub},
		Subscribe: &server.SubjectPermission{Allow: []string{NodeSubjects + id + ".*", NodeInbox(id) + ".>"}},
		Response:  &server.ResponsePermission{MaxMsgs: 1, Expires: nodeResponseTTL},
	}
}

// Overreach says what the store's credentials can do beyond what a node
// needs, from harmless probes: opening the secrets or the tokens (reads
// nothing), and writing a job (a write that the jobs stream refuses
// whatever it holds, since it expects a last sequence no stream reaches).
// An agent on a NATS server whose users muster does not make checks its
// credentials so at start.
func (s *Store) Overreach(ctx context.Context) []string {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	// A refused request goes unanswered until the timeout: the probes
	// run at once.
	probes := map[string]func() bool{
		"read secrets": func() bool { return s.opens(ctx, bucketSecrets) },
		"read tokens":  func() bool { return s.opens(ctx, bucketTokens) },
		"write jobs": func() bool {
			_, err := s.js.Publish(ctx, "$KV."+s.prefix+bucketJobs+".muster-probe", nil, jetstream.WithExpectLastSequencePerSubject(math.MaxUint64))
			var apiErr *jetstream.APIError
			return errors.As(err, &apiErr)
		},
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var out []string
	for what, probe := range probes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if probe() {
				mu.Lock()
				out = append(out, what)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	sort.Strings(out)
	return out
}

// opens reports whether the store's credentials may look the stream of
// bucket up (it need not exist).
func (s *Store) opens(ctx context.Context, bucket string) bool {
	_, err := s.js.Stream(ctx, "KV_"+s.prefix+bucket)
	return err == nil || errors.Is(err, jetstream.ErrStreamNotFound)
}

// probeTimeout bounds the probes of Overreach.
const probeTimeout = 2 * time.Second

// NodeUserConf is the NATS server configuration of node id's user on a
// NATS server whose users the operator makes: an entry of an account's
// users, with NodePermissions and the password taken from the environment
// variable passwordVar.
func NodeUserConf(id, passwordVar string) string {
	p := NodePermissions(id)
	var b strings.Builder
	fmt.Fprintf(&b, "{user: %q, password: $%s, permissions: {\n", id, passwordVar)
	fmt.Fprintf(&b, "  publish: {allow: [\n%s  ]}\n", quotedLines(p.Publish.Allow))
	fmt.Fprintf(&b, "  subscribe: {allow: [\n%s  ]}\n", quotedLines(p.Subscribe.Allow))
	fmt.Fprintf(&b, "  allow_responses: {max: %d, expires: %q}\n}}\n", p.Response.MaxMsgs, p.Response.Expires.String())
	return b.String()
}

// quotedLines is each of xs quoted on a line of its own, indented.
func quotedLines(xs []string) string {
	var b strings.Builder
	for _, x := range xs {
		fmt.Fprintf(&b, "    %q\n", x)
	}
	return b.String()
}
