// Package roundtrip holds the invariant every fuzz target checks: a job that
// compiles survives normalization and a trip through its canonical JSON with
// the same bytes and hash.
package roundtrip

import (
	"bytes"
	"fmt"

	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/lang/json"
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/validate"
)

// Check validates each tree; for every job that passes it checks that
// Normalize is idempotent and that the canonical JSON compiles back to the
// same canonical bytes. It returns the first broken invariant.
func Check(trees []*lang.Value) error {
	for _, t := range trees {
		j, diags := validate.Job(t)
		if j == nil {
			if !diags.HasErrors() {
				return fmt.Errorf("validate returned no job and no error")
			}
			continue
		}
		first := j.Canonical()
		schema.Normalize(j)
		if again := j.Canonical(); !bytes.Equal(first, again) {
			return fmt.Errorf("Normalize is not idempotent:\n%s\n%s", first, again)
		}
		back, diags := json.Parse("canonical.json", first, lang.Options{})
		if len(back) != 1 || diags.HasErrors() {
			return fmt.Errorf("canonical JSON does not parse: %v\n%s", diags, first)
		}
		j2, diags := validate.Job(back[0])
		if j2 == nil {
			return fmt.Errorf("canonical JSON does not validate: %v\n%s", diags, first)
		}
		if j2.Hash() != j.Hash() {
			return fmt.Errorf("hash drifted through canonical JSON:\n%s\n%s", first, j2.Canonical())
		}
	}
	return nil
}
