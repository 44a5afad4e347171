package cli

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// apiServer serves a control plane's API on a listener. Until it is given
// its handler (the control plane leads and is ready) it answers 503.
type apiServer struct {
	srv     *http.Server
	handler atomic.Pointer[http.Handler]
	// end cancels the requests' base context: event streams end with it,
	// so that shutdown does not wait for the clients that follow them.
	end  context.CancelFunc
	done chan error
	once sync.Once
}

// standby answers while the control plane does not lead.
var standby http.Handler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusServiceUnavailable)
	fmt.Fprintln(w, `{"error": "this control plane stands by: another one leads (see its log)", "code": "standby"}`)
})

// startAPI serves on ln, answering 503 until serve is called.
func startAPI(ctx context.Context, ln net.Listener) *apiServer {
	reqCtx, end := context.WithCancel(context.WithoutCancel(ctx))
	a := &apiServer{end: end, done: make(chan error, 1)}
	a.handler.Store(&standby)
	a.srv = &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*a.handler.Load()).ServeHTTP(w, r) }),
		BaseContext:       func(net.Listener) context.Context { return reqCtx },
	}
	go func() { a.done <- a.srv.Serve(ln) }()
	return a
}

// serve answers with h from now on.
func (a *apiServer) serve(h http.Handler) { a.handler.Store(&h) }

// standBy answers 503 again from now on: the control plane lost the lead.
func (a *apiServer) standBy() { a.handler.Store(&standby) }

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
