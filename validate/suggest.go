package validate

import "strings"

// suggest returns the candidate closest to key when it is close enough to
// be a likely typo, else "".
func suggest(key string, candidates []string) string {
	best, bestDist := "", len(key)/3+2
	if bestDist > 4 {
		bestDist = 4
	}
	lk := strings.ToLower(key)
	for _, c := range candidates {
		d := distance(lk, c)
		if d < bestDist || d == bestDist && best == "" && d <= 1 {
			best, bestDist = c, d
		}
	}
	if best == "" {
		// A different word order or separator ("canaryCount", "canary-count").
		norm := strings.NewReplacer("-", "", "_", "").Replace(lk)
		for _, c := range candidates {
			if strings.ReplaceAll(c, "_", "") == norm {
				return c
			}
		}
	}
	return best
}

// distance is the Levenshtein distance between a and b, in bytes.
func distance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 30
	}
	var rowBuf [65]int
	row := rowBuf[:len(b)+1]
	for j := range row {
		row[j] = j
	}
	for i := 1; i <= len(a); i++ {
		prev := row[0]
		row[0] = i
		for j := 1; j <= len(b); j++ {
			cur := row[j]
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			row[j] = min(row[j]+1, row[j-1]+1, prev+cost)
			prev = cur
		}
	}
	return row[len(b)]
}
