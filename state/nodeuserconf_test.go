package state

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// TestNodeUserConf loads NodeUserConf into a real nats-server, as an
// operator of an external NATS cluster would (docs/cluster.md), and checks
// that the node's user does what an agent does and cannot write a job or
// read the secrets.
func TestNodeUserConf(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("W1_NATS_PASSWORD", "w1-pass")
	conf := fmt.Sprintf(`listen: 127.0.0.1:-1
jetstream: {store_dir: %q}
accounts: {
  MUSTER: {
    jetstream: enabled
    users: [
      {user: muster, password: cp-pass}
      %s
    ]
  }
}
`, filepath.Join(dir, "js"), NodeUserConf("w1", "W1_NATS_PASSWORD"))
	path := filepath.Join(dir, "nats.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	opts, err := server.ProcessConfigFile(path)
	if err != nil {
		t.Fatalf("the configuration does not load:\n%s\n%v", conf, err)
	}
	opts.NoLog, opts.NoSigs = true, true
	srv, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	defer srv.Shutdown()
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	ctx := ctxT(t)
	cp, err := Connect(ctx, srv.ClientURL(), nats.UserInfo("muster", "cp-pass"))
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	if err := cp.OpenBuckets(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := cp.kv(ctx, bucketSecrets); err != nil {
		t.Fatal(err)
	}
	hash, err := cp.PutSpec(ctx, []byte(`{"name":"web"}`))
	if err != nil {
		t.Fatal(err)
	}
	w1, err := Connect(ctx, srv.ClientURL(), nats.UserInfo("w1", "w1-pass"), nats.CustomInboxPrefix(NodeInbox("w1")))
	if err != nil {
		t.Fatal(err)
	}
	defer w1.Close()
	if _, err := w1.PutNode(ctx, Node{ID: "w1", Labels: map[string]string{}}); err != nil {
		t.Fatalf("record its node: %v", err)
	}
	if _, err := w1.Spec(short(t), hash); err == nil {
		t.Error("the node's user read a spec")
	}
	if _, _, err := w1.PutDocument(ctx, strings.NewReader("out")); err != nil {
		t.Fatalf("store a document: %v", err)
	}
	if got := w1.Overreach(context.Background()); len(got) != 0 {
		t.Errorf("the node's user can also %v", got)
	}
	if got := cp.Overreach(context.Background()); len(got) != 3 {
		t.Errorf("the control plane's user overreach = %v, want every probe", got)
	}
}

// TestClusterDocGivesTheNodePermissions checks that docs/cluster.md shows
// every line NodeUserConf makes for node w1 (the per-stream lines once,
// with <S> for the stream), so that the permissions it documents are the
// ones muster enforces.
func TestClusterDocGivesTheNodePermissions(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "cluster.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(NodeUserConf("w1", "MUSTER_NATS_PASSWORD"), "\n") {
		for _, s := range nodeReads {
			if !strings.Contains(line, "PURGE") {
				line = strings.Replace(line, `.`+s, `.<S>`, 1)
			}
		}
		if !strings.Contains(string(doc), line+"\n") {
			t.Errorf("docs/cluster.md lacks the line %q of the node user", line)
		}
	}
}
