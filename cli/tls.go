package cli

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	"github.com/muster-dev/muster/api"
)

// registerServeTLS adds the TLS flags of a control plane (dev, server):
// the certificate and key it serves the API and the NATS listener with,
// and the CA that signed them.
func registerServeTLS(c *cobra.Command, sf *stateFlags) {
	c.Flags().StringVar(&sf.tlsCert, "tls-cert", os.Getenv("MUSTER_TLS_CERT"), "PEM `file` of the certificate (and its chain) to serve the API and the NATS listener with over TLS (MUSTER_TLS_CERT); needs --tls-key")
	c.Flags().StringVar(&sf.tlsKey, "tls-key", os.Getenv("MUSTER_TLS_KEY"), "PEM `file` of the private key of --tls-cert (MUSTER_TLS_KEY)")
	registerTLSCA(c, &sf.tlsCA, "; a control plane records it for the commands on its state directory, and trusts it for --nats")
}

// registerTLSCA adds --tls-ca to a command that reaches a control plane.
func registerTLSCA(c *cobra.Command, ca *string, more string) {
	c.Flags().StringVar(ca, "tls-ca", os.Getenv("MUSTER_TLS_CA"), "PEM `file` of the CA that signed the control plane's certificate, to verify it over TLS (MUSTER_TLS_CA); addresses without a scheme are then reached over https"+more)
}

// serverTLS returns the TLS configuration a control plane serves with:
// nil when neither --tls-cert nor --tls-key is given.
func serverTLS(certFile, keyFile string) (*tls.Config, error) {
	switch {
	case certFile == "" && keyFile == "":
		return nil, nil
	case certFile == "" || keyFile == "":
		return nil, errors.New("--tls-cert and --tls-key go together: give both (MUSTER_TLS_CERT, MUSTER_TLS_KEY)")
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert %s, --tls-key %s: %w", certFile, keyFile, err)
	}
	// TLS 1.3 is preferred: Go negotiates the highest both sides speak.
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// clientTLS returns the TLS configuration that verifies a control plane
// with the CA in caFile: nil when caFile is "" (the system's CAs then
// verify one reached over https).
func clientTLS(caFile string) (*tls.Config, error) {
	if caFile == "" {
		return nil, nil
	}
	b, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("--tls-ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("--tls-ca %s: no PEM certificate in it", caFile)
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// newAPIClient returns a client of the control plane at addr that
// verifies it with the CA in caFile, when given.
func newAPIClient(addr, caFile, token string) (*api.Client, error) {
	cfg, err := clientTLS(caFile)
	if err != nil {
		return nil, err
	}
	return api.NewClientTLS(addr, token, cfg), nil
}

// natsTLS returns the NATS option that verifies the servers with the CA in
// caFile, for tls:// URLs and servers that require TLS; nil when caFile is
// "". Plain servers are still reached in plain.
func natsTLS(caFile string) (nats.Option, error) {
	cfg, err := clientTLS(caFile)
	if err != nil || cfg == nil {
		return nil, err
	}
	return func(o *nats.Options) error {
		o.TLSConfig = cfg
		return nil
	}, nil
}

// withNATSTLS appends to opts the option natsTLS returns for caFile.
func withNATSTLS(opts []nats.Option, caFile string) ([]nats.Option, error) {
	o, err := natsTLS(caFile)
	if err != nil {
		return nil, err
	}
	if o != nil {
		opts = append(opts, o)
	}
	return opts, nil
}

// tlsError is an error reaching a control plane because of TLS, with what
// to do about it.
type tlsError struct {
	hint string
	err  error
}

func (e *tlsError) Error() string { return e.hint + ": " + e.err.Error() }
func (e *tlsError) Unwrap() error { return e.err }

// explainTLS adds to an error reaching a control plane (its API or its
// NATS servers) what to do when TLS is why: a certificate not trusted, one
// for another name, or https and plain http mixed up. Other errors are
// returned as they are.
func explainTLS(err error, caFile string) error {
	if err == nil {
		return nil
	}
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var record tls.RecordHeaderError
	var apiErr *api.Error
	switch {
	case errors.As(err, &unknown) || strings.Contains(err.Error(), "certificate signed by unknown authority"):
		if caFile != "" {
			return &tlsError{fmt.Sprintf("the control plane's certificate is not trusted by --tls-ca %s (not the CA that signed it?)", caFile), err}
		}
		return &tlsError{"the control plane's certificate is not trusted: give --tls-ca or MUSTER_TLS_CA (the CA that signed it)", err}
	case errors.As(err, &host):
		return &tlsError{"the control plane's certificate is not for the address given (reach it by a name or IP address the certificate lists)", err}
	case errors.As(err, &record) || strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return &tlsError{"the control plane does not serve TLS: give its address as http://HOST:PORT", err}
	case errors.As(err, &apiErr) && strings.Contains(apiErr.Message, "HTTP request to an HTTPS server"):
		return &tlsError{"the control plane serves https: give --tls-ca or MUSTER_TLS_CA (the CA that signed its certificate), or its address as https://HOST:PORT", err}
	}
	return err
}

// scheme returns the URL scheme of a control plane's API.
func scheme(tlsOn bool) string {
	if tlsOn {
		return "https"
	}
	return "http"
}

// beyondLoopback refuses a listener beyond loopback that lacks TLS or a
// token, naming what to add.
func beyondLoopback(flag, addr, token string, tlsOn bool) error {
	if addr == "" || api.IsLoopback(addr) || (tlsOn && token != "") {
		return nil
	}
	const needToken = "set MUSTER_TOKEN to a secret that clients and agents must present"
	const needTLS = "give --tls-cert and --tls-key (MUSTER_TLS_CERT, MUSTER_TLS_KEY) to serve over TLS, which clients and agents verify with --tls-ca"
	var what string
	switch {
	case token == "" && !tlsOn:
		what = needToken + ", and " + needTLS
	case token == "":
		what = needToken
	default:
		what = needTLS
	}
	return fmt.Errorf("%s %s reaches beyond loopback: %s", flag, addr, what)
}

// localAddr returns the address this machine reaches a listener on addr
// at: addr itself, or on loopback when it listens on every address (a
// certificate lists 127.0.0.1, not 0.0.0.0 or ::).
func localAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		return net.JoinHostPort("127.0.0.1", port)
	}
	return addr
}

// absPath returns path made absolute, or path when it cannot be.
func absPath(path string) string {
	if a, err := filepath.Abs(path); err == nil {
		return a
	}
	return path
}

// loadServerTLS reads the certificate a control plane serves with
// (--tls-cert, --tls-key) and refuses listeners beyond loopback without
// TLS and a token.
func (f *stateFlags) loadServerTLS(listen, natsListen, token string) error {
	cfg, err := serverTLS(f.tlsCert, f.tlsKey)
	if err != nil {
		return err
	}
	f.serverTLS = cfg
	if err := beyondLoopback("--listen", listen, token, cfg != nil); err != nil {
		return err
	}
	return beyondLoopback("--nats-listen", natsListen, token, cfg != nil)
}

// apiURL returns the URL of a control plane's API at addr.
func (f *stateFlags) apiURL(addr string) string {
	return scheme(f.serverTLS != nil) + "://" + addr
}

// recordedCA is the CA file a control plane serving TLS records for the
// commands on its state directory: --tls-ca, absolute; "" when none.
func (f *stateFlags) recordedCA() string {
	if f.serverTLS == nil || f.tlsCA == "" {
		return ""
	}
	return absPath(f.tlsCA)
}

// caHint is the CA file a banner tells clients of a control plane serving
// TLS to trust: --tls-ca (absolute), else a placeholder; "" without TLS.
func (f *stateFlags) caHint() string {
	switch {
	case f.serverTLS == nil:
		return ""
	case f.tlsCA == "":
		return "CA.pem"
	}
	return absPath(f.tlsCA)
}
