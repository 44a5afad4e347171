package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/muster-dev/muster/state"
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

func (s *server) putSpec(w http.ResponseWriter, r *http.Request) error {
	b, err := readBody(w, r)
	if err != nil {
		return err
	}
	if len(b) == 0 {
		return badf("empty spec: the body must be the canonical JSON of a job")
	}
	if !json.Valid(b) {
		return badf("invalid spec: the body must be the canonical JSON of a job")
	}
	hash, err := s.b.PutSpec(r.Context(), b)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, hashResponse{Hash: hash})
	return nil
}

func (s *server) nodes(w http.ResponseWriter, r *http.Request) error {
	nodes, err := s.b.Nodes(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list(nodes))
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
