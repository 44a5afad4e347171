package hcl

import (
	"github.com/agext/levenshtein"
)

// suggest returns the candidate closest to name when it is close enough to
// be a likely typo, or a known alias, or "".
func suggest(name string, candidates []string) string {
	if a, ok := aliases[name]; ok {
		for _, c := range candidates {
			if c == a {
				return a
			}
		}
	}
	if len(name) > 64 {
		return ""
	}
	best, bestDist := "", 0
	for _, c := range candidates {
		if len(c) > 64 {
			continue
		}
		d := levenshtein.Distance(name, c, nil)
		if d <= 2 && d < (len(name)+1)/2 && (best == "" || d < bestDist) {
			best, bestDist = c, d
		}
	}
	return best
}
