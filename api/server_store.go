package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/muster-dev/muster/lang"
	langjson "github.com/muster-dev/muster/lang/json"
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
	"github.com/muster-dev/muster/validate"
)

// The handlers of specs, nodes and documents.

func (s *server) spec(w http.ResponseWriter, r *http.Request) error {
	hash := r.PathValue("hash")
	if err := checkHash("spec", hash); err != nil {
		return err
	}
	b, err := s.b.Spec(r.Context(), hash)
	if err != nil {
		return err
	}
	writeBytes(w, contentJSON, b)
	return nil
}

func (s *server) resolveSpec(w http.ResponseWriter, r *http.Request) error {
	prefix := r.URL.Query().Get("prefix")
	if prefix == "" {
		return badf("missing query parameter prefix: give a spec hash prefix")
	}
	hash, err := s.b.ResolveSpec(r.Context(), prefix)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, hashResponse{Hash: hash})
	return nil
}

// putSpec stores the job of the body. Whatever the body's spelling (its
// whitespace, key order, defaults left out), what is stored is the job's
// canonical form under its hash, the one `muster hash` prints; a body that
// is not one valid job is answered 400 with every diagnostic.
func (s *server) putSpec(w http.ResponseWriter, r *http.Request) error {
	b, err := readBody(w, r)
	if err != nil {
		return err
	}
	j, err := parseSpec(b)
	if err != nil {
		return err
	}
	if err := principalOf(r).allowsNamespace(j.Namespace); err != nil {
		return err
	}
	hash, err := s.b.PutSpec(r.Context(), j.Canonical())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, hashResponse{Hash: hash})
	return nil
}

// specSource names the body in the diagnostics of parseSpec.
const specSource = "body"

// parseSpec reads b as one job object through the JSON frontend, validates
// and normalizes it. Anything else (not JSON, not a job, an array of jobs,
// a job that breaks a rule) is a *badRequest that lists every problem as
// `body:line:col: error: message (path)`.
func parseSpec(b []byte) (*schema.Job, error) {
	trimmed := bytes.TrimLeft(b, " \t\r\n")
	if len(trimmed) == 0 {
		return nil, badf("empty spec: the body must be the JSON of one job")
	}
	trees, diags := langjson.Parse(specSource, b, lang.Options{})
	if diags.HasErrors() {
		return nil, badf("invalid spec:\n%s", diags.Error())
	}
	if trimmed[0] != '{' || len(trees) != 1 {
		return nil, badf("invalid spec: the body must be one job object, not %s", describeJSON(trimmed))
	}
	j, diags := validate.Job(trees[0])
	if j == nil {
		return nil, badf("invalid spec:\n%s", diags.Error())
	}
	return j, nil
}

// describeJSON names what a JSON text that is not an object holds.
func describeJSON(b []byte) string {
	switch b[0] {
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return "a number"
	}
	return "something else"
}

// checkSpecOf checks that the stored spec hash is the job ns/name, so that
// a version of one job never runs another job's spec (in another namespace,
// say). Only the spec's namespace and name are read: a spec stored before
// a rule was added stays a version its own job may return to. A spec that
// is not stored is left to the Backend, which answers not found.
func (s *server) checkSpecOf(r *http.Request, ns, name, hash string) error {
	b, err := s.b.Spec(r.Context(), hash)
	if errors.Is(err, state.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	var id struct {
		Namespace string `json:"namespace"`
		Name      string `json:"name"`
	}
	if err := json.Unmarshal(b, &id); err != nil || id.Name == "" {
		return badf("spec %s is not a job", hash)
	}
	if id.Namespace != ns || id.Name != name {
		return badf("spec %s is the job %s/%s; it cannot be a version of %s/%s", hash, id.Namespace, id.Name, ns, name)
	}
	return nil
}

func (s *server) putNode(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	var n state.Node
	if err := readJSON(w, r, &n); err != nil {
		return err
	}
	if n.ID != id {
		return badf("node id %q in the body differs from %q in the path", n.ID, id)
	}
	if err := n.Validate(); err != nil {
		return badf("%v", err)
	}
	n, err := s.b.PutNode(r.Context(), n)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, n)
	return nil
}

func (s *server) putDocument(w http.ResponseWriter, r *http.Request) error {
	// A large upload may outlast the server's read timeout.
	_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
	body := &errReader{r: http.MaxBytesReader(w, r.Body, s.maxDocument)}
	hash, size, err := s.b.PutDocument(r.Context(), body)
	if err != nil {
		// The store may not wrap the reader's error: report the body's
		// own failure (too large, cut short) when there was one.
		if body.err != nil && !errors.Is(err, body.err) {
			var tooLarge *http.MaxBytesError
			if errors.As(body.err, &tooLarge) {
				return body.err
			}
		}
		return err
	}
	writeJSON(w, http.StatusOK, documentResponse{Hash: hash, Size: size})
	return nil
}

// errReader remembers the first error other than io.EOF of its reader.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF && e.err == nil {
		e.err = err
	}
	return n, err
}

// firstChunk is how much of a document is read before answering, so that
// a document that fails at once gets an error response, and a small one a
// Content-Length.
const firstChunk = 64 << 10

func (s *server) resolveDocument(w http.ResponseWriter, r *http.Request) error {
	prefix := r.URL.Query().Get("prefix")
	if prefix == "" {
		return badf("missing query parameter prefix: give a document hash prefix")
	}
	hash, err := s.b.ResolveDocument(r.Context(), prefix)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, hashResponse{Hash: hash})
	return nil
}

func (s *server) document(w http.ResponseWriter, r *http.Request) error {
	hash := r.PathValue("hash")
	if err := checkHash("document", hash); err != nil {
		return err
	}
	rc, err := s.b.Document(r.Context(), hash)
	if err != nil {
		return err
	}
	defer rc.Close()
	buf := make([]byte, firstChunk)
	n, err := io.ReadFull(rc, buf)
	whole := err == io.EOF || err == io.ErrUnexpectedEOF
	if err != nil && !whole {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", contentBytes)
	h.Set("X-Content-Type-Options", "nosniff")
	if whole {
		h.Set("Content-Length", strconv.Itoa(n))
	}
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write(buf[:n]); err != nil || whole {
		return nil
	}
	if _, err := io.Copy(w, rc); err != nil {
		// Too late for an error response: abort the connection, so that
		// the client sees a failed read rather than a short document.
		panic(http.ErrAbortHandler)
	}
	return nil
}
