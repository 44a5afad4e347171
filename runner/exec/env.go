package exec

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// defaultPath is the PATH tasks get when the node process has none.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// environ builds the task environment: env (Spec.Env), less any PATH or
// MUSTER_ROOT in it, plus PATH=path, HOME=root unless env sets HOME, and
// MUSTER_ROOT=root. It is sorted, so equal inputs give equal environments.
func environ(env map[string]string, path, root string) []string {
	out := make([]string, 0, len(env)+3)
	for k, v := range env {
		if k == "PATH" || k == "MUSTER_ROOT" {
			continue
		}
		out = append(out, k+"="+v)
	}
	out = append(out, "PATH="+path, "MUSTER_ROOT="+root)
	if _, ok := env["HOME"]; !ok {
		out = append(out, "HOME="+root)
	}
	sort.Strings(out)
	return out
}

// lookPath finds the program cmd0 names: a name with a slash is returned as
// is (relative ones are relative to the working directory); a bare name is
// searched in the absolute directories of path, in order.
func lookPath(cmd0, path string) (string, error) {
	if cmd0 == "" {
		return "", fmt.Errorf("task.cmd[0] is empty")
	}
	if strings.Contains(cmd0, "/") {
		return cmd0, nil
	}
	for _, dir := range filepath.SplitList(path) {
		if !filepath.IsAbs(dir) {
			continue // "" and relative entries would depend on the cwd
		}
		p := filepath.Join(dir, cmd0)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("program %q not found in the node's PATH (%s)", cmd0, path)
}
