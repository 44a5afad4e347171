package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"
)

// Report is the whole result; -o json prints it.
type Report struct {
	Machine    Machine            `json:"machine"`
	Busy       string             `json:"busy"`
	LoadBefore string             `json:"load_before"`
	LoadAfter  string             `json:"load_after"`
	Tools      []Tool             `json:"tools"`
	Files      int                `json:"files_per_format"`
	Jobs       int                `json:"jobs_per_format"`
	Lines      map[string]float64 `json:"mean_lines_per_file"`
	Runs       int                `json:"runs"`
	Seed       uint64             `json:"seed"`
	Cases      []CaseResult       `json:"cases"`
	Targets    []Target           `json:"targets"`
	Proofs     []Proof            `json:"proofs"`
}

// Machine describes where the numbers come from.
type Machine struct {
	CPUs       int    `json:"cpus"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	CPUModel   string `json:"cpu_model,omitempty"`
	OS         string `json:"os"`
	GoVersion  string `json:"go_version"`
}

// Tool is one program benchmarked.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	Path    string `json:"path,omitempty"`
	Error   string `json:"error,omitempty"`
}

// CaseResult is one timed case. Rates are files per second.
type CaseResult struct {
	Tool              string    `json:"tool"`
	Variant           string    `json:"variant"`
	Format            string    `json:"format"`
	Files             int       `json:"files"`
	Jobs              int       `json:"jobs,omitempty"`
	Info              bool      `json:"informational,omitempty"`
	Note              string    `json:"note,omitempty"`
	RunsSeconds       []float64 `json:"runs_seconds"`
	BestSeconds       float64   `json:"best_seconds"`
	MedianSeconds     float64   `json:"median_seconds"`
	FilesPerSec       float64   `json:"files_per_sec"`
	MedianFilesPerSec float64   `json:"median_files_per_sec"`
	CPUSeconds        float64   `json:"cpu_seconds"`
	MedianCPUSeconds  float64   `json:"median_cpu_seconds"`
	FilesPerCPUSec    float64   `json:"files_per_cpu_sec"`
	Error             string    `json:"error,omitempty"`
}

// Target is one performance target: muster's rate over the peer's, both
// from their best runs (medians alongside).
type Target struct {
	Name         string  `json:"name"`
	Want         float64 `json:"want_ratio"`
	Muster       float64 `json:"muster_files_per_sec"`
	Peer         float64 `json:"peer_files_per_sec"`
	MusterMedian float64 `json:"muster_median_files_per_sec"`
	PeerMedian   float64 `json:"peer_median_files_per_sec"`
	PeerCase     string  `json:"peer_case,omitempty"`
	Ratio        float64 `json:"ratio"`
	MedianRatio  float64 `json:"median_ratio"`
	CPURatio     float64 `json:"cpu_ratio"`
	Status       string  `json:"status"`
	Note         string  `json:"note,omitempty"`
}

// Proof is one check that a tool accepts what is valid and rejects what is
// not.
type Proof struct {
	Check  string `json:"check"`
	Tool   string `json:"tool"`
	Format string `json:"format"`
	Expect string `json:"expect"`
	Got    string `json:"got"`
	OK     bool   `json:"ok"`
	Output string `json:"output,omitempty"`
}

func printText(w io.Writer, r *Report) {
	fmt.Fprintf(w, "muster compile benchmark: %d files per format (%d jobs), best of %d runs\n", r.Files, r.Jobs, r.Runs)
	fmt.Fprintf(w, "machine: %d CPUs (%s), %s, %s; load average %s before, %s after; busy: %s\n",
		r.Machine.CPUs, r.Machine.CPUModel, r.Machine.OS, r.Machine.GoVersion, r.LoadBefore, r.LoadAfter, r.Busy)
	var tools []string
	for _, t := range r.Tools {
		s := t.Name + " " + t.Version
		if t.Error != "" {
			s = t.Name + " (missing: " + t.Error + ")"
		}
		tools = append(tools, s)
	}
	fmt.Fprintf(w, "tools: %s\n", strings.Join(tools, ", "))
	var lines []string
	for _, f := range []string{"yaml", "json", "hcl", "cue"} {
		if l, ok := r.Lines[f]; ok {
			lines = append(lines, fmt.Sprintf("%s %.0f", f, l))
		}
	}
	fmt.Fprintf(w, "mean lines per file: %s\n\n", strings.Join(lines, ", "))

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "tool\tvariant\tformat\tfiles\tbest\tmedian\tfiles/s best\tfiles/s median\tCPU best\tfiles/CPU-s\t")
	for _, c := range r.Cases {
		if c.FilesPerSec == 0 {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t-\t-\t-\t-\t-\t-\t\n", c.Tool, c.Variant, c.Format, c.Files)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t\n", c.Tool, c.Variant, c.Format, c.Files,
			secs(c.BestSeconds), secs(c.MedianSeconds), rate(c.FilesPerSec), rate(c.MedianFilesPerSec), secs(c.CPUSeconds), rate(c.FilesPerCPUSec))
	}
	tw.Flush()
	for _, c := range r.Cases {
		if c.Error != "" {
			fmt.Fprintf(w, "  %s %s (%s): %s\n", c.Tool, c.Format, c.Variant, firstLine(c.Error))
		} else if c.Note != "" {
			fmt.Fprintf(w, "  %s %s (%s): %s\n", c.Tool, c.Format, c.Variant, c.Note)
		}
	}

	fmt.Fprintln(w, "\ntargets (muster files/s over the peer's, best runs; median ratio in brackets; ratio of files per CPU-second last)")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, t := range r.Targets {
		if t.Ratio == 0 {
			fmt.Fprintf(tw, "  %s\t%s\t\n", t.Name, t.Status)
			continue
		}
		fmt.Fprintf(tw, "  %s\t%s vs %s %s\t= %.2fx (%.2fx)\twant %.0fx\t%s\tCPU %.2fx\t\n", t.Name, rate(t.Muster), t.PeerCase, rate(t.Peer), t.Ratio, t.MedianRatio, t.Want, t.Status, t.CPURatio)
	}
	tw.Flush()

	fmt.Fprintln(w, "\nproofs (each tool on the valid corpus and on broken files)")
	failed := 0
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, p := range r.Proofs {
		mark := "ok"
		if !p.OK {
			mark = "FAILED"
			failed++
		}
		why := ""
		if p.Got == "reject" {
			why = reason(p.Output)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\texpect %s\tgot %s\t%s\t%s\n", p.Check, p.Tool, p.Format, p.Expect, p.Got, mark, why)
	}
	tw.Flush()
	if failed > 0 {
		fmt.Fprintf(w, "\n%d proofs failed; their output:\n", failed)
		for _, p := range r.Proofs {
			if !p.OK {
				fmt.Fprintf(w, "- %s / %s %s:\n%s\n", p.Check, p.Tool, p.Format, indent(p.Output, "    "))
			}
		}
	}
}

func secs(s float64) string {
	if s < 1 {
		return fmt.Sprintf("%.0fms", s*1000)
	}
	return fmt.Sprintf("%.2fs", s)
}

func rate(r float64) string {
	switch {
	case r >= 100:
		return commas(int64(r + 0.5))
	case r >= 10:
		return fmt.Sprintf("%.1f", r)
	}
	return fmt.Sprintf("%.2f", r)
}

func commas(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}

// reason is the line of a tool's output that says why it rejected a file,
// shortened: the first line that is not a path, a caret or a summary.
func reason(out string) string {
	for _, line := range strings.Split(out, "\n") {
		l := strings.TrimSpace(line)
		if l == "" || strings.HasPrefix(l, "./") || strings.HasPrefix(l, "/") && !strings.Contains(l, " ") ||
			strings.HasPrefix(l, "|") || strings.HasPrefix(l, "^") || strings.HasPrefix(l, "Summary:") || strings.HasPrefix(l, "[") {
			continue
		}
		if i := strings.LastIndex(l, "- at '"); i >= 0 && strings.Contains(l, "jsonschema validation failed") {
			l = "schema: " + strings.TrimSpace(l[i+2:]) // kubeconform: the innermost failure
		} else if i := strings.Index(l, " - "); i >= 0 && strings.Contains(l[:i], ".yaml") {
			l = l[i+3:] // kubeconform: "file - MusterJob  is invalid: ..."
		}
		if i := strings.Index(l, ": error: "); i > 0 && !strings.Contains(l[:i], " ") {
			l = filepath.Base(l[:i]) + l[i:] // muster: keep the file name, not its directory
		}
		if len(l) > 110 {
			l = l[:107] + "..."
		}
		return l
	}
	return ""
}
