package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/muster-dev/muster/state"
)

// onlyReader hides every method of a reader but Read, so that the client
// cannot know its size and streams it chunked.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func TestDocuments(t *testing.T) {
	h := newHarness(t, "", nil)
	c, ctx := h.client, ctxT(t)

	rng := rand.New(rand.NewPCG(1, 2))
	big := make([]byte, 5<<20+123)
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	tests := []struct {
		name string
		data []byte
		body func([]byte) io.Reader
	}{
		{"empty", []byte{}, func(b []byte) io.Reader { return bytes.NewReader(b) }},
		{"small", []byte("hello, documents\n"), func(b []byte) io.Reader { return bytes.NewReader(b) }},
		{"5 MiB sized", big, func(b []byte) io.Reader { return bytes.NewReader(b) }},
		{"5 MiB chunked", big[1:], func(b []byte) io.Reader { return onlyReader{bytes.NewReader(b)} }},
		{"just over the first chunk", big[:firstChunk+1], func(b []byte) io.Reader { return strings.NewReader(string(b)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sum := sha256.Sum256(tt.data)
			want := "sha256:" + hex.EncodeToString(sum[:])
			hash, size, err := c.PutDocument(ctx, tt.body(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			if hash != want || size != int64(len(tt.data)) {
				t.Fatalf("PutDocument = %s, %d; want %s, %d", hash, size, want, len(tt.data))
			}
			rc, err := c.Document(ctx, hash)
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			got, err := io.ReadAll(rc)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.data) {
				t.Fatalf("Document returned %d bytes that differ from the %d stored", len(got), len(tt.data))
			}
		})
	}

	if _, err := c.Document(ctx, "sha256:"+strings.Repeat("1", 64)); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("Document of a missing hash: %v, want not found", err)
	}
}

// failingDocs is a store whose documents fail to read after some bytes.
type failingDocs struct {
	*state.Store
	after int64
}

func (f failingDocs) Document(ctx context.Context, hash string) (io.ReadCloser, error) {
	rc, err := f.Store.Document(ctx, hash)
	if err != nil {
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{io.MultiReader(io.LimitReader(rc, f.after), errReaderOf{errors.New("digest mismatch")}), rc}, nil
}

type errReaderOf struct{ err error }

func (e errReaderOf) Read([]byte) (int, error) { return 0, e.err }

// TestDocumentCutShort checks that a document that fails while it is sent
// is a failed read for the client, never a short document, and that one
// that fails at once is an error response.
func TestDocumentCutShort(t *testing.T) {
	for _, after := range []int64{0, 3 * firstChunk} {
		h := newHarness(t, "", func(s *state.Store) Backend { return failingDocs{s, after} })
		ctx := ctxT(t)
		data := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
		hash, _, err := h.client.PutDocument(ctx, bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		rc, err := h.client.Document(ctx, hash)
		if after == 0 {
			if err == nil || !strings.Contains(err.Error(), "digest mismatch") {
				t.Errorf("Document failing at once: %v, want the store's error", err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err == nil {
			t.Errorf("Document cut after %d bytes read %d bytes without an error", after, len(got))
		}
	}
}

// TestDocumentTooLarge checks the upload limit, lowered so as not to send
// a GiB.
func TestDocumentTooLarge(t *testing.T) {
	h := newHarness(t, "", nil)
	srv := &server{b: h.store, c: h.ctl, maxDocument: 1 << 20}
	ts := httptest.NewServer(srv.handler(""))
	defer ts.Close()
	c := NewClient(ts.URL, "")
	defer c.Close()
	ctx := ctxT(t)

	if _, size, err := c.PutDocument(ctx, bytes.NewReader(make([]byte, 1<<20))); err != nil || size != 1<<20 {
		t.Fatalf("PutDocument at the limit = %d, %v", size, err)
	}
	for _, body := range []io.Reader{bytes.NewReader(make([]byte, 1<<20+1)), onlyReader{bytes.NewReader(make([]byte, 3<<20))}} {
		_, _, err := c.PutDocument(ctx, body)
		var apiErr *Error
		if !errors.As(err, &apiErr) || apiErr.Code != CodeTooLarge || !strings.Contains(err.Error(), "1 MiB") {
			t.Errorf("PutDocument over the limit: %#v (%v), want too_large naming the limit", err, err)
		}
	}
}

// TestResolveDocument expands a document hash prefix over HTTP, with the
// errors of the store (too short, unknown) kept.
func TestResolveDocument(t *testing.T) {
	h := newHarness(t, "", nil)
	c, ctx := h.client, ctxT(t)
	hash, _, err := c.PutDocument(ctx, strings.NewReader("resolve me\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c.ResolveDocument(ctx, hash[:len("sha256:")+12]); err != nil || got != hash {
		t.Fatalf("ResolveDocument = %q, %v; want %q", got, err, hash)
	}
	if got, err := c.ResolveDocument(ctx, strings.TrimPrefix(hash, "sha256:")[:16]); err != nil || got != hash {
		t.Fatalf("ResolveDocument of a bare prefix = %q, %v; want %q", got, err, hash)
	}
	if _, err := c.ResolveDocument(ctx, strings.Repeat("0", 12)); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("ResolveDocument of a missing prefix: %v, want not found", err)
	}
	if _, err := c.ResolveDocument(ctx, "abc"); err == nil || !strings.Contains(err.Error(), "too short") {
		t.Fatalf("ResolveDocument of a short prefix: %v, want too short", err)
	}
}
