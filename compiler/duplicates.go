package compiler

import "strings"

// CheckDuplicates finds the jobs of results that share a namespace and
// name: the files of one command line describe one set of jobs, where a
// namespace/name names one job. Two definitions that differ, or one file
// that writes a job twice, are an error at each place, naming the others
// (file:line:col), and those jobs leave their Result's Jobs. Identical
// copies in different files, the same job written in several formats (as
// examples/ does), are one job and no error.
func CheckDuplicates(results []Result) {
	type place struct{ result, job int }
	byRef := map[string][]place{}
	var refs []string
	for ri := range results {
		for ji, j := range results[ri].Jobs {
			ref := j.Spec.Namespace + "/" + j.Spec.Name
			if byRef[ref] == nil {
				refs = append(refs, ref)
			}
			byRef[ref] = append(byRef[ref], place{ri, ji})
		}
	}
	drop := map[place]bool{}
	for _, ref := range refs {
		places := byRef[ref]
		if len(places) < 2 {
			continue
		}
		job := func(p place) Job { return results[p.result].Jobs[p.job] }
		differ, sameFile := false, false
		first := job(places[0]).Spec.Hash()
		files := map[int]bool{}
		for _, p := range places {
			differ = differ || job(p).Spec.Hash() != first
			sameFile = sameFile || files[p.result]
			files[p.result] = true
		}
		if !differ && !sameFile {
			continue
		}
		for _, p := range places {
			var others []string
			for _, o := range places {
				if o != p {
					others = append(others, job(o).Range.String())
				}
			}
			how := "differently"
			if !differ {
				how = "twice"
			}
			results[p.result].Diags.Add(job(p).Range, "name", "job %s is defined %s, here and at %s: one namespace and name is one job; keep one definition",
				ref, how, strings.Join(others, ", "))
			drop[p] = true
		}
	}
	if len(drop) == 0 {
		return
	}
	for ri := range results {
		r := &results[ri]
		kept := r.Jobs[:0:0]
		for ji, j := range r.Jobs {
			if !drop[place{ri, ji}] {
				kept = append(kept, j)
			}
		}
		r.Jobs = kept
		r.Diags.Sort()
	}
}
