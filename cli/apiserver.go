package cli

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/muster-dev/muster/api"
)

// apiServer serves a control plane's API on a listener. Until it is given
// its handler (the control plane is set up) it answers 503.
type apiServer struct {
	srv     *http.Server
	handler atomic.Pointer[http.Handler]
	// end cancels the requests' base context: event streams end with it,
	// so that shutdown does not wait for the clients that follow them.
	end  context.CancelFunc
	done chan error
	once sync.Once
}

// starting answers until the control plane is set up.
var starting http.Handler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusServiceUnavailable)
	fmt.Fprintln(w, `{"error": "this control plane is starting: try again", "code": "unavailable"}`)
})

// startAPI serves on ln, answering 503 until serve is called.
func startAPI(ctx context.Context, ln net.Listener) *apiServer {
	reqCtx, end := context.WithCancel(context.WithoutCancel(ctx))
	a := &apiServer{end: end, done: make(chan error, 1)}
	a.handler.Store(&starting)
	a.srv = &http.Server{
		ReadHeaderTimeout: api.ReadHeaderTimeout,
		MaxHeaderBytes:    api.MaxHeaderBytes,
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*a.handler.Load()).ServeHTTP(w, r) }),
		BaseContext:       func(net.Listener) context.Context { return reqCtx },
	}
	go func() { a.done <- a.srv.Serve(ln) }()
	return a
}

// serve answers with h from now on.
func (a *apiServer) serve(h http.Handler) { a.handler.Store(&h) }

// stop ends the open streams and shuts the server down, waiting up to 5s
// for the requests under way. It is safe to call twice.
func (a *apiServer) stop() {
	a.once.Do(func() {
		a.end()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		a.srv.Shutdown(ctx)
	})
}
