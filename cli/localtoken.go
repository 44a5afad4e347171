package cli

import (
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
)

// A control plane on a state directory that was given no MUSTER_TOKEN
// makes a token of its own at start, requires it like MUSTER_TOKEN, and
// records it in the directory's dev.json (mode 0600 in a directory of mode
// 0700), where the commands and agents of the same user find it: another
// local user reaches neither its API nor its NATS listener.

// newLocalToken returns a random token.
func newLocalToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "local_" + hex.EncodeToString(b), nil
}

// apiToken is the token to present to the API at addr (a comma-separated
// list for a cluster): MUSTER_TOKEN, else the one recorded in dir by the
// control plane serving there.
func apiToken(addr, dir string) string {
	if t := os.Getenv("MUSTER_TOKEN"); t != "" {
		return t
	}
	rec, ok := readDevRecord(dir)
	if !ok || rec.Token == "" {
		return ""
	}
	want := hostPort(rec.Addr)
	for _, one := range strings.Split(addr, ",") {
		if hostPort(one) == want {
			return rec.Token
		}
	}
	return ""
}

// hostPort is the host:port of an API address, with or without its
// scheme.
func hostPort(addr string) string {
	addr = strings.TrimSpace(addr)
	if u, err := url.Parse(addr); err == nil && u.Host != "" {
		return u.Host
	}
	return addr
}
