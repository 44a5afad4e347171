package cli

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/muster-dev/muster/state"
)

// TestNodeJoinsWithItsOwnCredentials: an agent given a join token joins
// `muster server` as its node, keeps that node's credentials in its
// directory (mode 0600) and runs executions with them. Those credentials,
// used directly with nats.go, cannot write a job, read a secret or listen
// to another node's requests; the join token cannot use the API; nothing
// gets into the NATS listener without credentials; and a revoked node is
// shut out.
func TestNodeJoinsWithItsOwnCredentials(t *testing.T) {
	skipReliability(t)
	t.Parallel()
	admin := newCLI(t, "MUSTER_TOKEN=boot-s3cret")
	_, addr := admin.server("--state-dir", ".muster")
	join := strings.TrimSpace(admin.ok("token", "create", "--addr", addr, "--namespace", "*", "--role", "join", "--ttl", "1h").stdout)

	agent := newCLI(t, "MUSTER_TOKEN="+join)
	agent.dir = admin.dir
	agent.start(`joined the control plane`, "agent", "--server", addr, "--node-id", "w1", "--dir", "agent-w1", "--heartbeat", "500ms")
	credsPath := filepath.Join(admin.dir, "agent-w1", nodeCredsFile)
	fi, err := os.Stat(credsPath)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("node credentials %s: %v, %v; want mode 0600", credsPath, fi, err)
	}
	b, _ := os.ReadFile(credsPath)
	var creds nodeCreds
	if err := json.Unmarshal(b, &creds); err != nil || creds.Node != "w1" {
		t.Fatalf("node credentials = %s (%v)", b, err)
	}

	// The join token does not join w1 again: that would take its work.
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/v1/nodes/w1/join", nil)
	req.Header.Set("Authorization", "Bearer "+join)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusConflict {
		t.Errorf("joining w1 again with the join token: %v, %v; want 409", resp, err)
	} else {
		resp.Body.Close()
	}

	admin.ok("apply", "--auto-approve", "--addr", addr, admin.write("hello.yaml", "name: hello\ntask: {engine: exec, cmd: [echo, hi]}\n"))
	if r := admin.ok("executions", "--all", "--addr", addr, "hello"); !strings.Contains(r.stdout, "w1") || !strings.Contains(r.stdout, "complete") {
		t.Fatalf("the job did not complete on w1:\n%s", r.stdout)
	}

	if r := agent.run("status", "--addr", addr); r.code != 1 || !strings.Contains(r.stderr, "has role join") {
		t.Errorf("status with a join token: %v", r)
	}

	// An admin may make a node's credentials directly; its agent keeps
	// them as they are.
	w2 := strings.TrimSpace(admin.ok("token", "create", "--addr", addr, "--namespace", "*", "--role", "node", "--node", "w2").stdout)
	second := newCLI(t, "MUSTER_TOKEN="+w2)
	second.dir = admin.dir
	second.start(`joined the control plane`, "agent", "--server", addr, "--node-id", "w2", "--dir", "agent-w2", "--heartbeat", "500ms")
	if b, _ := os.ReadFile(filepath.Join(admin.dir, "agent-w2", nodeCredsFile)); !strings.Contains(string(b), w2) {
		t.Errorf("w2's credentials file holds %s, want the token it was given", b)
	}
	if r := second.run("status", "--addr", addr); r.code != 1 || !strings.Contains(r.stderr, "has role node") {
		t.Errorf("status with a node token: %v", r)
	}

	url := natsURLOf(t, addr, "boot-s3cret")
	if _, err := nats.Connect(url); err == nil {
		t.Error("connected to the NATS listener without credentials")
	}
	nc, err := nats.Connect(url, nats.UserInfo("w1", creds.Token), nats.CustomInboxPrefix(state.NodeInbox("w1")))
	if err != nil {
		t.Fatalf("connect with the node's credentials: %v", err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := js.Publish(ctx, "$KV.jobs.default.hello.status", []byte(`{"version":99}`)); err == nil {
		t.Error("the node's credentials wrote a job")
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel2()
	if _, err := js.KeyValue(ctx2, "secrets"); err == nil {
		t.Error("the node's credentials opened the secrets")
	}
	sub, err := nc.SubscribeSync(state.NodeSubjects + "w2.run")
	if err == nil {
		nc.Flush()
		if err := nc.LastError(); err == nil || !strings.Contains(err.Error(), "Permissions Violation") {
			t.Errorf("subscribing to another node's requests: last error %v, want a permissions violation", err)
		}
		sub.Unsubscribe()
	}

	// Revoked, the node is shut out at its next connection.
	id := strings.TrimPrefix(creds.Token, state.TokenPrefix)[:16]
	admin.ok("token", "revoke", "--addr", addr, id)
	if _, err := nats.Connect(url, nats.UserInfo("w1", creds.Token)); err == nil {
		t.Error("connected with revoked node credentials")
	}
}

// natsURLOf asks the control plane at addr where its NATS listener is.
func natsURLOf(t *testing.T, addr, token string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/v1/info", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var info struct {
		NATSURL string `json:"nats_url"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil || info.NATSURL == "" {
		t.Fatalf("info: %+v, %v", info, err)
	}
	return info.NATSURL
}
