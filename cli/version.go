package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// buildVersion describes this muster binary, from the build information
// the Go toolchain stamps into it.
type buildVersion struct {
	// Version is the module version: a tag such as v1.2.0 when built by
	// 'go install ...@version', "(devel)" when built from a checkout.
	Version string `json:"version"`
	// Revision is the VCS revision built from, "" when not recorded (a
	// test binary, or -buildvcs=false).
	Revision string `json:"revision,omitempty"`
	// Time is the commit time of Revision (RFC 3339), "" when not recorded.
	Time string `json:"time,omitempty"`
	// Modified says the checkout had uncommitted changes.
	Modified bool `json:"modified,omitempty"`
	// GoVersion is the Go toolchain that built it.
	GoVersion string `json:"go_version"`
	// Platform is GOOS/GOARCH.
	Platform string `json:"platform"`
}

// readVersion describes the binary from info (ok false: none recorded).
func readVersion(info *debug.BuildInfo, ok bool) buildVersion {
	v := buildVersion{Version: "(unknown)", GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if !ok || info == nil {
		return v
	}
	if info.Main.Version != "" {
		v.Version = info.Main.Version
	}
	if info.GoVersion != "" {
		v.GoVersion = info.GoVersion
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Revision = s.Value
		case "vcs.time":
			v.Time = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

// String is the one line `muster --version` prints after "muster ":
// "v1.2.0 (revision 0123456789ab, 2025-01-02T15:04:05Z, modified) go1.26.0 linux/amd64".
func (v buildVersion) String() string {
	var about []string
	if v.Revision != "" {
		about = append(about, "revision "+shortRevision(v.Revision))
	}
	if v.Time != "" {
		about = append(about, v.Time)
	}
	if v.Modified {
		about = append(about, "modified")
	}
	s := v.Version
	if len(about) > 0 {
		s += " (" + strings.Join(about, ", ") + ")"
	}
	return s + " " + v.GoVersion + " " + v.Platform
}

// shortRevision keeps the first 12 characters of a revision.
func shortRevision(r string) string {
	if len(r) > 12 {
		return r[:12]
	}
	return r
}

// thisVersion describes the running binary.
func thisVersion() buildVersion { return readVersion(debug.ReadBuildInfo()) }

func newVersion() *cobra.Command {
	var out outputFlag
	c := &cobra.Command{
		Use:   "version",
		Short: "Print the version of muster",
		Long: `Version prints the module version of this muster binary, the VCS revision
and commit time it was built from (with "modified" when the checkout had
uncommitted changes), the Go version that built it and the platform.
'muster --version' prints the same line. With -o json it prints
{version, revision, time, modified, go_version, platform}.`,
		Example: `  muster version
  muster version -o json | jq -r .revision`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := out.check(); err != nil {
				return err
			}
			v := thisVersion()
			if out.value == "json" {
				return writeJSON(c.OutOrStdout(), v)
			}
			_, err := fmt.Fprintf(c.OutOrStdout(), "muster %s\n", v)
			return err
		},
	}
	out.register(c, "text", "json")
	return c
}
