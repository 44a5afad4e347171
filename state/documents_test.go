package state

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"
)

func testDocuments(t *testing.T, b backend) {
	s := b.fresh(t, false)
	ctx := ctxT(t)
	big := bytes.Repeat([]byte("0123456789abcdef"), 40_000) // 640 kB: several chunks
	for _, c := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"small", []byte("hello\n")},
		{"big", big},
	} {
		t.Run(c.name, func(t *testing.T) {
			sum := sha256.Sum256(c.data)
			want := "sha256:" + hex.EncodeToString(sum[:])
			for i := 0; i < 2; i++ { // the second put finds it stored
				h, n, err := s.PutDocument(ctx, bytes.NewReader(c.data))
				if err != nil || h != want || n != int64(len(c.data)) {
					t.Fatalf("PutDocument #%d = %s, %d, %v; want %s, %d", i+1, h, n, err, want, len(c.data))
				}
			}
			if ok, err := s.HasDocument(ctx, want); !ok || err != nil {
				t.Fatalf("HasDocument = %v, %v", ok, err)
			}
			rc, err := s.Document(ctx, want)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(rc)
			rc.Close()
			if err != nil || !bytes.Equal(got, c.data) {
				t.Fatalf("Document read %d bytes, %v; want %d bytes equal", len(got), err, len(c.data))
			}
		})
	}
	// No temporary upload is left behind.
	obs, err := s.documents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	infos, err := obs.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range infos {
		if strings.HasPrefix(in.Name, uploadPrefix) {
			t.Errorf("upload object %s left behind", in.Name)
		}
	}
	if len(infos) != 3 {
		t.Errorf("%d objects stored, want 3", len(infos))
	}

	missing := "sha256:" + strings.Repeat("0", 64)
	if ok, err := s.HasDocument(ctx, missing); ok || err != nil {
		t.Errorf("HasDocument(missing) = %v, %v", ok, err)
	}
	if _, err := s.Document(ctx, missing); !errors.Is(err, ErrNotFound) {
		t.Errorf("Document(missing) = %v", err)
	}
	for _, bad := range []string{"", "sha256:12", "sha256:" + strings.Repeat("Z", 64)} {
		if _, err := s.Document(ctx, bad); err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("Document(%q) = %v, want an invalid-hash error", bad, err)
		}
		if _, err := s.HasDocument(ctx, bad); err == nil {
			t.Errorf("HasDocument(%q) accepted it", bad)
		}
	}
	// A reader that fails leaves nothing behind.
	if _, _, err := s.PutDocument(ctx, io.MultiReader(strings.NewReader("partial"), errReader{})); err == nil {
		t.Error("PutDocument of a failing reader succeeded")
	}
	if infos, _ := obs.List(ctx); len(infos) != 3 {
		t.Errorf("%d objects after a failed put, want 3", len(infos))
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }
