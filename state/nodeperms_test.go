package state

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/muster-dev/muster/internal/wait"
)

// nodeStore connects to st's listener with the credentials of node id.
func nodeStore(t *testing.T, st *Store, id, token string, errs *violations) (*Store, error) {
	t.Helper()
	ns, err := Connect(context.Background(), st.ClientURL(), nats.UserInfo(id, token),
		nats.CustomInboxPrefix(NodeInbox(id)), nats.ErrorHandler(errs.handle))
	if err == nil {
		t.Cleanup(func() { ns.Close() })
	}
	return ns, err
}

// violations collects the permission errors the server sends a client.
type violations struct {
	mu  sync.Mutex
	got []string
}

func (v *violations) handle(_ *nats.Conn, _ *nats.Subscription, err error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.got = append(v.got, err.Error())
}

func (v *violations) has(s string) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, g := range v.got {
		if strings.Contains(g, s) {
			return true
		}
	}
	return false
}

// short is a context for an operation expected to be refused: a refused
// publish goes unanswered.
func short(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	t.Cleanup(cancel)
	return ctx
}

// TestNodeCredentials connects to the embedded server as a node, with a
// node token, and checks that it can do what an agent does and nothing
// else: write a job, read or write a spec, a secret or a token, write
// another node's record, listen to another node's requests, or ask a
// control plane anything.
func TestNodeCredentials(t *testing.T) {
	st := openT(t, t.TempDir(), Options{Listen: "127.0.0.1:0"})
	ctx := ctxT(t)
	nodeTok, tok, err := st.CreateToken(ctx, TokenSpec{Namespace: AllNamespaces, Role: RoleNode, Node: "n1"})
	if err != nil {
		t.Fatal(err)
	}
	_, readTok, err := st.CreateToken(ctx, TokenSpec{Namespace: AllNamespaces, Role: RoleRead})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetSecretKey(randomKey(t)); err != nil {
		t.Fatal(err)
	}
	if err := st.PutSecret(ctx, "default", "db", []byte("hunter2")); err != nil {
		t.Fatal(err)
	}
	hash, err := st.PutSpec(ctx, []byte(`{"name":"web"}`))
	if err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct{ name, user, pass string }{
		{"no credentials", "", ""},
		{"a wrong secret", "n1", wrongLast(tok)},
		{"another node's name", "n2", tok},
		{"a read token", "n1", readTok},
		{"the control plane's user", ControlUser, tok},
	} {
		if _, err := nodeStore(t, st, c.user, c.pass, &violations{}); err == nil {
			t.Errorf("connected with %s", c.name)
		}
	}

	v := &violations{}
	n1, err := nodeStore(t, st, "n1", tok, v)
	if err != nil {
		t.Fatal(err)
	}
	// What an agent does.
	if _, err := n1.PutNode(ctx, Node{ID: "n1", Labels: map[string]string{}}); err != nil {
		t.Fatalf("record its node: %v", err)
	}
	doc, _, err := n1.PutDocument(ctx, strings.NewReader("output"))
	if err != nil {
		t.Fatalf("store a document: %v (refused: %v)", err, v.got)
	}
	rc, err := n1.Document(ctx, doc)
	if err != nil {
		t.Fatalf("read a document: %v", err)
	}
	if b, _ := io.ReadAll(rc); !bytes.Equal(b, []byte("output")) {
		t.Fatalf("document = %q", b)
	}
	rc.Close()
	// A document large enough for the server to ask for flow control.
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<18) // 4 MiB
	bigDoc, _, err := st.PutDocument(ctx, bytes.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	rc, err = n1.Document(ctx, bigDoc)
	if err != nil {
		t.Fatalf("open a large document: %v", err)
	}
	if b, err := io.ReadAll(rc); err != nil || !bytes.Equal(b, big) {
		t.Fatalf("read a large document: %d bytes, %v (refused: %v)", len(b), err, v.got)
	}
	rc.Close()
	sub, err := n1.Conn().SubscribeSync(NodeSubjects + "n1.run")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()

	// What it must not do.
	if _, err := n1.PutNode(short(t), Node{ID: "n2", Labels: map[string]string{}}); err == nil {
		t.Error("recorded another node")
	}
	jobs, err := n1.kv(ctx, bucketJobs)
	if err != nil {
		t.Fatalf("open the jobs to read them: %v", err)
	}
	if _, err := jobs.Put(short(t), "default.web.status", []byte(`{}`)); err == nil {
		t.Error("wrote a job")
	}
	if _, err := n1.PutSpec(short(t), []byte(`{"name":"other"}`)); err == nil {
		t.Error("wrote a spec")
	}
	if _, err := n1.Spec(short(t), hash); err == nil {
		t.Error("read a spec (they come with the requests to run them)")
	}
	if _, err := n1.SensitivePaths(short(t), hash); err == nil {
		t.Error("read the sensitive paths of a spec")
	}
	if _, err := n1.Secret(short(t), "default", "db"); err == nil {
		t.Error("read a secret")
	}
	if _, err := n1.Tokens(short(t)); err == nil {
		t.Error("read the tokens")
	}
	if _, _, err := n1.CreateToken(short(t), TokenSpec{Namespace: AllNamespaces, Role: RoleAdmin}); err == nil {
		t.Error("made itself an admin token")
	}
	if _, err := n1.Conn().Request("muster.control", []byte(`{}`), time.Second); err == nil {
		t.Error("asked a control plane")
	}
	other, _ := n1.Conn().SubscribeSync(NodeSubjects + "n2.run")
	if err := st.Conn().Publish(NodeSubjects+"n2.run", []byte("secret run request")); err != nil {
		t.Fatal(err)
	}
	st.Conn().Flush()
	if m, err := other.NextMsg(time.Second); err == nil {
		t.Errorf("read another node's request: %q", m.Data)
	}
	if !v.has("Permissions Violation for Subscription") {
		t.Errorf("the server did not refuse the subscription to another node's requests: %v", v.got)
	}
	if got := n1.Overreach(ctx); len(got) != 0 {
		t.Errorf("a node's credentials overreach: %v", got)
	}
	if got := connectT(t, st.ClientURL()).Overreach(ctx); strings.Join(got, ",") != "read secrets,read tokens,write jobs" {
		t.Errorf("the bootstrap token's overreach = %v, want every probe", got)
	}

	// Revoked, the node is out at once, and stays out.
	if err := st.RevokeToken(ctx, nodeTok.ID); err != nil {
		t.Fatal(err)
	}
	wait.Until(t, 10*time.Second, "the revoked node's connection to close", func() bool { return !n1.Conn().IsConnected() })
	if _, err := n1.PutNode(short(t), Node{ID: "n1", Labels: map[string]string{}}); err == nil {
		t.Error("a revoked node recorded its node")
	}
}

// wrongLast is tok with its last hex digit changed.
func wrongLast(tok string) string {
	last := "0"
	if strings.HasSuffix(tok, "0") {
		last = "1"
	}
	return tok[:len(tok)-1] + last
}
