package ui

import (
	"encoding/json"
	"fmt"
	"html/template"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/muster-dev/muster/state"
)

// funcs are the functions the templates call.
var funcs = template.FuncMap{
	"short":   shortHash,
	"ago":     ago,
	"stamp":   stamp,
	"tone":    tone,
	"jobURL":  jobURL,
	"execURL": execURL,
	"value":   value,
	"sorted":  sortedKeys,
	"ports":   portList,
}

// shortHash shortens "sha256:<hex>" to its first 12 hex digits, as the
// commands print it.
func shortHash(h string) string {
	h = strings.TrimPrefix(h, "sha256:")
	if len(h) > 12 {
		h = h[:12]
	}
	return h
}

// now is the clock of ago; tests set it.
var now = time.Now

// ago says how long before now t was, in its largest unit.
func ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now().Sub(t)
	switch {
	case d < 0:
		return "in " + (-d).Round(time.Second).String()
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return fmt.Sprintf("%dd ago", int(d.Hours()/24))
}

// stamp formats t for a title: UTC, to the second.
func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// tone names the color of a state, job, execution, launch or node: ok,
// busy, warn, bad or idle.
func tone(s any) string {
	switch fmt.Sprint(s) {
	case "running", "completed", "complete", "healthy", "ready", "done", "deployed":
		return "ok"
	case "deploying", "starting", "probing", "current", "queued", "rollout_paused", "waiting", "stopping":
		return "busy"
	case "degraded", "lost", "unhealthy", "restarting", "missed", "skipped", "down", "not run":
		return "warn"
	case "failed", "rollout_failed", "rolled_back":
		return "bad"
	}
	return "idle"
}

// jobURL is the path of the page of job ns/name.
func jobURL(ns, name string) string {
	return "/ui/jobs/" + url.PathEscape(ns) + "/" + url.PathEscape(name)
}

// execURL is the path of the page of execution e.
func execURL(e state.Execution) string {
	ns, name, err := e.JobRef()
	if err != nil {
		return "/ui/"
	}
	return jobURL(ns, name) + "/executions/" + url.PathEscape(e.ID)
}

// value formats a value of a spec as JSON, as the plan prints it.
func value(v any) string {
	if v == nil {
		return ""
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // the template escapes what it shows
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// sortedKeys returns the keys of m in order.
func sortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}

// portList formats an execution's ports: "http=20001 admin=20002".
func portList(ports map[string]int) string {
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(ports)) {
		parts = append(parts, fmt.Sprintf("%s=%d", name, ports[name]))
	}
	return strings.Join(parts, " ")
}
