package api

import (
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Limits of the API beyond its body limits (maxJSONBody, maxDocumentBody):
// the size and time of request headers (for the http.Server: Limit), failed
// authentications per client (failLimiter) and event streams per client
// (streamLimiter). A client is an IP address, as the connection shows it: a
// proxy in front of the API is one client.

// MaxHeaderBytes bounds the request headers a control plane reads; larger
// ones are answered 431.
const MaxHeaderBytes = 64 << 10

// ReadHeaderTimeout bounds how long a control plane waits for a request's
// headers.
const ReadHeaderTimeout = 10 * time.Second

// Limit sets the header limits of the API on srv.
func Limit(srv *http.Server) {
	srv.MaxHeaderBytes = MaxHeaderBytes
	srv.ReadHeaderTimeout = ReadHeaderTimeout
}

// The default limits of a server.
const (
	// failBurst failed authentications are allowed from one client at
	// once; then one more every failEvery.
	failBurst = 30
	failEvery = 2 * time.Second
	// maxStreams is how many event streams one client may follow at once.
	maxStreams = 16
	// streamRetry is the Retry-After of a refused event stream.
	streamRetry = 5 * time.Second
	// maxClients bounds the clients a limiter remembers before it forgets
	// those it has nothing against.
	maxClients = 4096
)

// clientIP returns the IP address of r's client.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// writeRateLimited answers 429 rate_limited, telling the client when to try
// again.
func writeRateLimited(w http.ResponseWriter, wait time.Duration, msg string) {
	secs := int(math.Ceil(wait.Seconds()))
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	writeErrorCode(w, http.StatusTooManyRequests, CodeRateLimited, msg+": try again in "+strconv.Itoa(secs)+"s")
}

// failLimiter counts the failed authentications of each client in a token
// bucket: a client holds burst tokens, each failure takes one, one comes
// back every every. A client with none left is refused before its token is
// even looked at, so that guessing a token goes no faster than the refill.
// Successful requests take nothing.
type failLimiter struct {
	burst int
	every time.Duration
	now   func() time.Time

	mu      sync.Mutex
	clients map[string]*bucket
}

// bucket is one client's failures: tokens left at time at.
type bucket struct {
	tokens float64
	at     time.Time
}

// newFailLimiter returns a limiter of burst failures, one more every every.
func newFailLimiter(burst int, every time.Duration) *failLimiter {
	return &failLimiter{burst: burst, every: every, now: time.Now, clients: map[string]*bucket{}}
}

// refill returns b's tokens at now.
func (l *failLimiter) refill(b *bucket, now time.Time) float64 {
	return math.Min(float64(l.burst), b.tokens+float64(now.Sub(b.at))/float64(l.every))
}

// blocked reports whether client has no failure left, and how long until
// it has one.
func (l *failLimiter) blocked(client string) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.clients[client]
	if b == nil {
		return 0, false
	}
	left := l.refill(b, l.now())
	if left >= 1 {
		return 0, false
	}
	return time.Duration((1 - left) * float64(l.every)), true
}

// fail counts a failure of client.
func (l *failLimiter) fail(client string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.clients[client]
	if b == nil {
		if len(l.clients) >= maxClients {
			l.forget(now)
		}
		b = &bucket{tokens: float64(l.burst), at: now}
		l.clients[client] = b
	}
	b.tokens = math.Max(0, l.refill(b, now)-1)
	b.at = now
}

// forget drops the clients whose bucket is full again.
func (l *failLimiter) forget(now time.Time) {
	for c, b := range l.clients {
		if l.refill(b, now) >= float64(l.burst) {
			delete(l.clients, c)
		}
	}
}

// streamLimiter bounds the event streams each client follows at once.
type streamLimiter struct {
	max int

	mu   sync.Mutex
	open map[string]int
}

func newStreamLimiter(max int) *streamLimiter {
	return &streamLimiter{max: max, open: map[string]int{}}
}

// acquire counts a stream of client, or reports false when it has max
// open already. The returned func ends the stream.
func (l *streamLimiter) acquire(client string) (release func(), ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[client] >= l.max {
		return nil, false
	}
	l.open[client]++
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.open[client]--; l.open[client] <= 0 {
			delete(l.open, client)
		}
	}, true
}

// wrap wraps h, an event stream, so that each client follows at
// most l.max at once; beyond that it is answered 429.
func (l *streamLimiter) wrap(h handler) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		client := clientIP(r)
		release, ok := l.acquire(client)
		if !ok {
			writeRateLimited(w, streamRetry, "too many event streams open from "+client+" (at most "+strconv.Itoa(l.max)+")")
			return nil
		}
		defer release()
		return h(w, r)
	}
}
