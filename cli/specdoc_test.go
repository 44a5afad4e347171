package cli

import (
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestSpecDocCommands holds docs/spec.md section 5 to the command tree:
// every command is in its table, and the commands it says take -o are
// exactly those with an -o flag.
func TestSpecDocCommands(t *testing.T) {
	b, err := os.ReadFile("../docs/spec.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i, j := strings.Index(doc, "\n## 5. "), strings.Index(doc, "\n### Plan JSON")
	if i < 0 || j < i {
		t.Fatal("docs/spec.md has no section 5 with a Plan JSON part")
	}
	section := doc[i:j]
	said := outputCommands(t, section)
	var withOutput []string
	for _, c := range commands(newRoot(nil, io.Discard, io.Discard)) {
		path := strings.TrimPrefix(c.CommandPath(), "muster ")
		if !regexp.MustCompile("`" + regexp.QuoteMeta(path) + "[ `]").MatchString(section) {
			t.Errorf("docs/spec.md section 5 does not name the command %q", path)
		}
		if c.Flags().Lookup("output") != nil {
			withOutput = append(withOutput, path)
		}
	}
	slices.Sort(withOutput)
	if !slices.Equal(said, withOutput) {
		t.Errorf("docs/spec.md section 5 says these take -o: %v; these do: %v", said, withOutput)
	}
}

// commands lists the commands under root that a user runs, not the help
// command nor the shell-specific children of completion.
func commands(root *cobra.Command) []*cobra.Command {
	var out []*cobra.Command
	for _, c := range root.Commands() {
		if c.Hidden || c.Name() == "help" {
			continue
		}
		if c.Runnable() {
			out = append(out, c)
		}
		if c.Name() != "completion" {
			out = append(out, commands(c)...)
		}
	}
	return out
}

// outputCommands reads the sentence of section that lists the commands
// taking -o, sorted.
func outputCommands(t *testing.T, section string) []string {
	t.Helper()
	_, rest, ok := strings.Cut(section, "`-o text|json` is taken by ")
	if !ok {
		t.Fatal("docs/spec.md section 5 does not say which commands take -o")
	}
	sentence, _, _ := strings.Cut(rest, ".\n")
	sentence = regexp.MustCompile(`\([^)]*\)`).ReplaceAllString(sentence, "")
	var out []string
	for _, m := range regexp.MustCompile("`([a-z ]+)`").FindAllStringSubmatch(sentence, -1) {
		out = append(out, m[1])
	}
	slices.Sort(out)
	return out
}
