package api

import (
	"net"
	"net/netip"
	"strings"
)

// IsLoopback reports whether listenAddr ("host:port", or a bare host)
// listens on loopback only: a 127.0.0.0/8 or ::1 address, or "localhost".
// It is false for "", an empty host (":4747"), the unspecified addresses
// 0.0.0.0 and ::, and every other host: a control plane listening there
// must require a token.
func IsLoopback(listenAddr string) bool {
	host := listenAddr
	if h, _, err := net.SplitHostPort(listenAddr); err == nil {
		host = h
	} else {
		host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	return ip.Unmap().IsLoopback()
}
