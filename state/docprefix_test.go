package state

import (
	"errors"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/muster-dev/muster/schema"
)

func TestResolveDocument(t *testing.T) {
	s := openT(t, t.TempDir(), Options{})
	ctx := ctxT(t)
	h1, _, err := s.PutDocument(ctx, strings.NewReader("a document\n"))
	if err != nil {
		t.Fatal(err)
	}
	hex1 := strings.TrimPrefix(h1, schema.HashPrefix)
	// Two documents sharing a 14-digit prefix cannot be made by hashing:
	// put them straight into the object store.
	obs, err := s.documents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	twinA := "0123456789abcd" + strings.Repeat("0", 50)
	twinB := "0123456789abcd" + strings.Repeat("1", 50)
	for _, name := range []string{twinA, twinB} {
		if _, err := obs.PutBytes(ctx, name, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	gone := "fedcba9876543210" + strings.Repeat("2", 48)
	if _, err := obs.Put(ctx, jetstream.ObjectMeta{Name: gone}, strings.NewReader("y")); err != nil {
		t.Fatal(err)
	}
	if err := obs.Delete(ctx, gone); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		name, prefix, want string
		errPart            string
		notFound           bool
	}{
		{"12 digits", hex1[:12], h1, "", false},
		{"with sha256:", "sha256:" + hex1[:20], h1, "", false},
		{"full", h1, h1, "", false},
		{"uppercase", strings.ToUpper(hex1[:16]), h1, "", false},
		{"twin unique", twinA[:15], "sha256:" + twinA, "", false},
		{"too short", hex1[:11], "", "too short", false},
		{"not hex", "xyz123456789012", "", "invalid", false},
		{"too long", hex1 + "0", "", "invalid", false},
		{"unknown", "fffffffffffffff", "", "not found", true},
		{"unknown full", strings.Repeat("e", 64), "", "not found", true},
		{"deleted", gone[:16], "", "not found", true},
		{"ambiguous", twinA[:13], "", "matches 2 documents", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := s.ResolveDocument(ctx, c.prefix)
			if c.errPart == "" {
				if err != nil || got != c.want {
					t.Fatalf("ResolveDocument(%q) = %q, %v; want %q", c.prefix, got, err, c.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.errPart) || errors.Is(err, ErrNotFound) != c.notFound {
				t.Fatalf("ResolveDocument(%q) = %q, %v; want an error containing %q", c.prefix, got, err, c.errPart)
			}
		})
	}
}
