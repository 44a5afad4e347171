package cluster

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/muster-dev/muster/state"
)

// natsConfFile is the NATS servers' configuration, in the directory
// mounted at tlsDir.
const natsConfFile = "nats.conf"

// writeNATSConf writes the NATS servers' configuration: one account for
// muster, with the control planes' user and one user per agent with the
// permissions of a node (state.NodeUserConf), as docs/cluster.md tells
// operators to; the agents connect as their nodes.
func (c *Cluster) writeNATSConf() {
	c.t.Helper()
	c.natsPassword = randomID() + randomID()
	c.nodePasswords = map[string]string{}
	var vars, users strings.Builder
	fmt.Fprintf(&vars, "control_password: %q\n", c.natsPassword)
	for i := 1; i <= c.opts.Agents; i++ {
		alias := fmt.Sprintf("a%d", i)
		c.nodePasswords[alias] = randomID() + randomID()
		fmt.Fprintf(&vars, "%s_password: %q\n", alias, c.nodePasswords[alias])
		users.WriteString(state.NodeUserConf(alias, alias+"_password"))
	}
	conf := vars.String() + "max_payload: 8MB\naccounts: {\n  MUSTER: {\n    jetstream: enabled\n    users: [\n" +
		"{user: muster, password: $control_password}\n" + users.String() + "    ]\n  }\n}\n"
	if err := os.WriteFile(filepath.Join(filepath.Dir(c.TLS.CA), natsConfFile), []byte(conf), 0o644); err != nil {
		c.t.Fatal(err)
	}
}
