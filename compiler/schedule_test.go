package compiler

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/muster-dev/muster/lang"
)

// TestScheduleKeepsExampleHashes holds the examples of the first release of
// muster/v1 (v1Hashes) to docs/spec.md section 3 for schedule: written
// with "schedule": null, each keeps its first-release hash; given a
// schedule, a batch or ops job gets a new one, the same in every format.
func TestScheduleKeepsExampleHashes(t *testing.T) {
	for _, line := range v1Hashes {
		fields := strings.Fields(line)
		want, ref, dir := fields[0], fields[1], fields[2]
		for _, path := range exampleFiles(t, dir) {
			res := CompileFile(path, "", lang.Options{})
			for _, j := range res.Jobs {
				if j.Spec.Namespace+"/"+j.Spec.Name != ref {
					continue
				}
				if j.Spec.Schedule != nil {
					t.Fatalf("%s: %s has a schedule; the first release had none", path, ref)
				}
				var doc map[string]any
				if err := json.Unmarshal(j.Spec.Canonical(), &doc); err != nil {
					t.Fatal(err)
				}
				doc["schedule"] = nil
				b, _ := json.Marshal(doc)
				again := Compile(dir+"/null-schedule.json", b, JSON, lang.Options{})
				if len(again.Jobs) != 1 || again.Diags.HasErrors() {
					t.Errorf("%s with a null schedule: %v", ref, again.Diags)
				} else if got := again.Jobs[0].Spec.Hash(); got != want {
					t.Errorf("%s with a null schedule hashes %s, want %s", ref, got, want)
				}
				if j.Spec.Type.LongRunning() {
					continue
				}
				doc["schedule"] = map[string]any{"cron": "15 3 * * *", "time_zone": "Europe/Berlin"}
				b, _ = json.Marshal(doc)
				scheduled := Compile(dir+"/scheduled.json", b, JSON, lang.Options{})
				if len(scheduled.Jobs) != 1 || scheduled.Diags.HasErrors() {
					t.Errorf("%s with a schedule: %v", ref, scheduled.Diags)
				} else if got := scheduled.Jobs[0].Spec.Hash(); got == want {
					t.Errorf("%s with a schedule keeps the hash %s of the job without one", ref, got)
				}
			}
		}
	}
}
