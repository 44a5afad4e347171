package cli

import (
	"runtime"
	"runtime/debug"
	"testing"
)

func TestReadVersion(t *testing.T) {
	platform := runtime.GOOS + "/" + runtime.GOARCH
	stamped := &debug.BuildInfo{
		GoVersion: "go1.26.0",
		Main:      debug.Module{Path: "github.com/muster-dev/muster", Version: "v1.2.0"},
		Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
			{Key: "vcs.time", Value: "2026-01-02T15:04:05Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	for _, tc := range []struct {
		name string
		info *debug.BuildInfo
		ok   bool
		want buildVersion
		line string
	}{
		{"stamped", stamped, true,
			buildVersion{Version: "v1.2.0", Revision: "0123456789abcdef0123456789abcdef01234567", Time: "2026-01-02T15:04:05Z", Modified: true, GoVersion: "go1.26.0", Platform: platform},
			"v1.2.0 (revision 0123456789ab, 2026-01-02T15:04:05Z, modified) go1.26.0 " + platform},
		{"checkout without vcs", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}}, true,
			buildVersion{Version: "(devel)", GoVersion: "go1.26.0", Platform: platform},
			"(devel) go1.26.0 " + platform},
		{"no build info", nil, false,
			buildVersion{Version: "(unknown)", GoVersion: runtime.Version(), Platform: platform},
			"(unknown) " + runtime.Version() + " " + platform},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := readVersion(tc.info, tc.ok)
			if got != tc.want {
				t.Errorf("readVersion = %+v, want %+v", got, tc.want)
			}
			if got.String() != tc.line {
				t.Errorf("String() = %q, want %q", got.String(), tc.line)
			}
		})
	}
}
