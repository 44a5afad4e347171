package cli

import (
	"net/http"

	"github.com/muster-dev/muster/ui"
)

// withUI serves the web UI at /ui/ beside the API apiHandler serves. The UI
// reads through apiHandler with each browser session's token, so it takes
// no token of its own.
func withUI(apiHandler http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", apiHandler)
	u := ui.New(apiHandler)
	mux.Handle("/ui/", u)
	mux.Handle("/ui", u)
	return mux
}
