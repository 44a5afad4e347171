package state

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/muster-dev/muster/schema"
)

func testSpecs(t *testing.T, b backend) {
	s := b.fresh(t, false)
	ctx := ctxT(t)
	spec := []byte(`{"api_version":"muster/v1","name":"web"}`)
	want := schema.HashBytes(spec)

	for i := 0; i < 2; i++ { // the second put is a no-op
		h, err := s.PutSpec(ctx, spec)
		if err != nil || h != want {
			t.Fatalf("PutSpec #%d = %q, %v; want %q", i+1, h, err, want)
		}
	}
	for _, ref := range []string{want, strings.TrimPrefix(want, schema.HashPrefix)} {
		got, err := s.Spec(ctx, ref)
		if err != nil || !bytes.Equal(got, spec) {
			t.Errorf("Spec(%s) = %q, %v", ref, got, err)
		}
	}

	cases := []struct {
		name, hash string
		notFound   bool
		errPart    string
	}{
		{"missing", schema.HashBytes([]byte("other")), true, "not found"},
		{"short", "sha256:abc", false, "64 lowercase hex"},
		{"upper", strings.ToUpper(want), false, "invalid spec hash"},
		{"not hex", "sha256:" + strings.Repeat("g", 64), false, "invalid spec hash"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := s.Spec(ctx, c.hash)
			if err == nil || errors.Is(err, ErrNotFound) != c.notFound || !strings.Contains(err.Error(), c.errPart) {
				t.Errorf("Spec(%q) error = %v; want not-found %v containing %q", c.hash, err, c.notFound, c.errPart)
			}
		})
	}
	if _, err := s.PutSpec(ctx, nil); err == nil {
		t.Error("PutSpec(nil) succeeded")
	}

	// Bytes stored under a key that is not their hash are detected.
	kv, err := s.kv(ctx, bucketSpecs)
	if err != nil {
		t.Fatal(err)
	}
	bad := []byte("tampered")
	if _, err := kv.Put(ctx, strings.TrimPrefix(schema.HashBytes(bad), schema.HashPrefix), []byte("something else")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutSpec(ctx, bad); err == nil || !strings.Contains(err.Error(), "differ") {
		t.Errorf("PutSpec over damaged bytes: %v", err)
	}
}

func testResolveSpec(t *testing.T, b backend) {
	s := b.fresh(t, false)
	ctx := ctxT(t)
	h1, err := s.PutSpec(ctx, []byte(`{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	hex1 := strings.TrimPrefix(h1, schema.HashPrefix)
	// Two keys sharing a 14-digit prefix cannot be made by hashing: write
	// them straight into the bucket.
	kv, err := s.kv(ctx, bucketSpecs)
	if err != nil {
		t.Fatal(err)
	}
	twinA := "0123456789abcd" + strings.Repeat("0", 50)
	twinB := "0123456789abcd" + strings.Repeat("1", 50)
	for _, k := range []string{twinA, twinB} {
		if _, err := kv.Put(ctx, k, []byte("{}")); err != nil {
			t.Fatal(err)
		}
	}

	cases := []struct {
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
		{"ambiguous", twinA[:13], "", "matches 2 specs", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := s.ResolveSpec(ctx, c.prefix)
			if c.errPart == "" {
				if err != nil || got != c.want {
					t.Fatalf("ResolveSpec(%q) = %q, %v; want %q", c.prefix, got, err, c.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.errPart) || errors.Is(err, ErrNotFound) != c.notFound {
				t.Fatalf("ResolveSpec(%q) = %q, %v; want an error containing %q", c.prefix, got, err, c.errPart)
			}
		})
	}
	_, err = s.ResolveSpec(ctx, twinA[:13])
	if err == nil || !strings.Contains(err.Error(), "sha256:"+twinA) || !strings.Contains(err.Error(), "sha256:"+twinB) {
		t.Errorf("ambiguous error does not list the candidates: %v", err)
	}
}
