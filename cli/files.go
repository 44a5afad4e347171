package cli

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/muster-dev/muster/compiler"
)

// expandPaths turns files and directories into the list of job files; see
// walkPaths for the rules and the order.
func expandPaths(args []string) ([]string, error) {
	var out []string
	err := walkPaths(args, func(p string) error {
		out = append(out, p)
		return nil
	})
	return out, err
}

// walkPaths calls visit for every job file of args, as it finds them:
// directories recurse over the four extensions in lexical order, skipping
// hidden directories; files named explicitly are kept whatever their
// extension; a path given twice is visited once.
func walkPaths(args []string, visit func(string) error) error {
	seen := map[string]bool{}
	add := func(p string) error {
		if seen[p] {
			return nil
		}
		seen[p] = true
		return visit(p)
	}
	for _, arg := range args {
		if arg == "-" {
			if err := add(arg); err != nil {
				return err
			}
			continue
		}
		info, err := os.Stat(arg)
		if err != nil {
			return fmt.Errorf("%s: %v", arg, errText(err))
		}
		if !info.IsDir() {
			if err := add(arg); err != nil {
				return err
			}
			continue
		}
		err = filepath.WalkDir(arg, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if p != arg && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				return nil
			}
			if _, ok := compiler.FormatOf(p); ok {
				return add(p)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func errText(err error) string {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err.Error()
	}
	return err.Error()
}
