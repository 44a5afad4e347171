// Package cluster runs muster on several hosts for tests: containers on a
// private Docker bridge network, one per process (three NATS servers in a
// JetStream cluster, control planes, node agents), from one image built
// FROM scratch with static binaries (muster, nats-server and a task
// program for the exec driver), since the engine has no registry to pull
// from. The image is built once per test process and kept in the engine
// under a tag made of its binaries' hash, so an unchanged tree reuses it.
//
// Tests drive the cluster from the host with the same muster binary over
// the control planes' published API ports, read JetStream stream info
// through the NATS servers' published ports, and break things with the
// Container primitives: Kill, Stop, Start, Pause, Unpause, Partition and
// Heal. When a test fails, every container's log goes to its log.
//
// Without a Docker Engine the tests skip, unless MUSTER_REQUIRE_DOCKER=1:
// then they fail.
package cluster
