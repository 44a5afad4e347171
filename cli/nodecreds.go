package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"github.com/nats-io/nats.go"

	"github.com/muster-dev/muster/api"
	"github.com/muster-dev/muster/state"
)

// nodeCredsFile holds, in an agent's directory, the credentials its node
// got when it joined, readable by its owner only.
const nodeCredsFile = "node-credentials.json"

// nodeCreds is the content of nodeCredsFile.
type nodeCreds struct {
	Node  string `json:"node"`
	Token string `json:"token"`
}

// nodeCredentials returns the NATS options that connect the agent of node
// id with that node's own credentials: those saved in dir by an earlier
// join, or new ones it joins for now with the client's token (MUSTER_TOKEN:
// a join token, or an admin's), or that token itself when it is the node's
// (token create --role node), which it saves.
func nodeCredentials(ctx context.Context, w io.Writer, client *api.Client, dir, id, token string) ([]nats.Option, string, error) {
	path := filepath.Join(dir, nodeCredsFile)
	c, err := readNodeCreds(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		_, tok, err := client.JoinNode(ctx, id)
		if err != nil {
			return nil, "", fmt.Errorf("join the control plane at %s as node %s: %w", client.Addr(), id, err)
		}
		if tok == "" {
			tok = token // the node's own credentials were given
		}
		c = nodeCreds{Node: id, Token: tok}
		if err := writeNodeCreds(path, c); err != nil {
			return nil, "", err
		}
		fmt.Fprintf(w, "muster agent: node %s joined; its credentials are in %s\n", id, path)
	case err != nil:
		return nil, "", err
	case c.Node != id:
		return nil, "", fmt.Errorf("%s holds the credentials of node %s, not %s: give this agent another --dir, or remove the file to join as %s", path, c.Node, id, id)
	}
	return []nats.Option{nats.UserInfo(id, c.Token), nats.CustomInboxPrefix(state.NodeInbox(id))}, path, nil
}

// readNodeCreds reads path, refusing a file others may read.
func readNodeCreds(path string) (nodeCreds, error) {
	f, err := os.Open(path)
	if err != nil {
		return nodeCreds{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nodeCreds{}, err
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nodeCreds{}, fmt.Errorf("node credentials %s have mode %v: they must be readable by their owner only (chmod 600 %s)", path, fi.Mode().Perm(), path)
	}
	var c nodeCreds
	if err := json.NewDecoder(io.LimitReader(f, 64<<10)).Decode(&c); err != nil || c.Node == "" || !state.IsScopedToken(c.Token) {
		return nodeCreds{}, fmt.Errorf("node credentials %s are damaged: remove the file to join again", path)
	}
	return c, nil
}

// writeNodeCreds writes c to path, mode 0600, whole or not at all.
func writeNodeCreds(path string, c nodeCreds) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".node-credentials-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
