package state

import (
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// maxPayload is the largest message the embedded server takes.
const maxPayload = 8 << 20

// serverReadyTimeout bounds the wait for the embedded server to start.
const serverReadyTimeout = 10 * time.Second

// tlsTimeout bounds a client's TLS handshake with the embedded server, in
// seconds.
const tlsTimeout = 5

// startServer runs a nats-server with JetStream file storage in dir
// (dir/jetstream) whose clients auth authenticates and, if listen is not
// empty, a client listener there, with TLS when tlsCfg is not nil (the
// in-process connection needs none).
func startServer(dir, listen string, auth server.Authentication, tlsCfg *tls.Config) (*server.Server, error) {
	opts := &server.Options{
		ServerName:                 "muster",
		JetStream:                  true,
		StoreDir:                   dir,
		DontListen:                 true,
		NoLog:                      true,
		NoSigs:                     true,
		NoSystemAccount:            true,
		CustomClientAuthentication: auth,
		// A run request carries its spec (up to 4 MiB of JSON) and
		// secrets.
		MaxPayload: maxPayload,
	}
	if listen != "" {
		host, port, err := net.SplitHostPort(listen)
		if err != nil {
			return nil, fmt.Errorf("listen address %q: %w", listen, err)
		}
		p, err := strconv.Atoi(port)
		if err != nil || p < 0 || p > 65535 {
			return nil, fmt.Errorf("listen address %q: bad port", listen)
		}
		if p == 0 {
			p = server.RANDOM_PORT
		} else {
			// The server would only log a busy port and never get ready:
			// find out first.
			l, err := net.Listen("tcp", listen)
			if err != nil {
				return nil, fmt.Errorf("listen on %s: %w", listen, err)
			}
			l.Close()
		}
		opts.DontListen, opts.Host, opts.Port = false, host, p
		if tlsCfg != nil {
			opts.TLSConfig, opts.TLS = tlsCfg, true
			opts.TLSTimeout = tlsTimeout
		}
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded NATS server: %w", err)
	}
	srv.Start()
	if !srv.ReadyForConnections(serverReadyTimeout) {
		srv.Shutdown()
		srv.WaitForShutdown()
		return nil, fmt.Errorf("embedded NATS server in %s did not start within %s (is the address %q free?)", dir, serverReadyTimeout, listen)
	}
	if !srv.JetStreamEnabled() {
		srv.Shutdown()
		srv.WaitForShutdown()
		return nil, fmt.Errorf("embedded NATS server in %s: JetStream did not start", dir)
	}
	return srv, nil
}
