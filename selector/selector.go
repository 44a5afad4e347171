package selector

import (
	"fmt"
	"slices"
	"strings"
)

// Op is the operator of a Requirement.
type Op uint8

// The operators.
const (
	Equals Op = iota
	NotEquals
	In
	NotIn
	Exists
	DoesNotExist
)

// Requirement is one parsed expression. Values holds one value for Equals
// and NotEquals, a sorted de-duplicated set for In and NotIn, and nothing for
// Exists and DoesNotExist.
type Requirement struct {
	Key    string
	Op     Op
	Values []string
}

// Parse reads one expression. Errors say what was expected.
func Parse(expr string) (Requirement, error) {
	s := strings.TrimSpace(expr)
	if s == "" {
		return Requirement{}, fmt.Errorf("empty expression: want key=value, key!=value, key in (a,b), key notin (a,b), key or !key")
	}
	if strings.ContainsAny(s, "<>") {
		return Requirement{}, fmt.Errorf("in %q: unsupported operator; selectors use key=value, key!=value, key in (a,b), key notin (a,b), key and !key", expr)
	}
	if rest, ok := strings.CutPrefix(s, "!"); ok {
		key := strings.TrimSpace(rest)
		if err := ValidateKey(key); err != nil {
			return Requirement{}, fmt.Errorf("in %q: %v", expr, err)
		}
		return Requirement{Key: key, Op: DoesNotExist}, nil
	}
	if i := strings.IndexAny(s, "!="); i >= 0 {
		key := strings.TrimSpace(s[:i])
		op, val := Equals, s[i+1:]
		switch {
		case s[i] == '!':
			if !strings.HasPrefix(val, "=") {
				return Requirement{}, fmt.Errorf("in %q: '!' must be followed by '=' (key!=value) or start the expression (!key)", expr)
			}
			op, val = NotEquals, val[1:]
		case strings.HasPrefix(val, "="):
			val = val[1:]
		}
		val = strings.TrimSpace(val)
		if err := ValidateKey(key); err != nil {
			return Requirement{}, fmt.Errorf("in %q: %v", expr, err)
		}
		if err := ValidateValue(val); err != nil {
			return Requirement{}, fmt.Errorf("in %q: %v", expr, err)
		}
		return Requirement{Key: key, Op: op, Values: []string{val}}, nil
	}
	fields := strings.Fields(s)
	if len(fields) == 1 && !strings.ContainsAny(s, "(),") {
		if err := ValidateKey(s); err != nil {
			return Requirement{}, fmt.Errorf("in %q: %v", expr, err)
		}
		return Requirement{Key: s, Op: Exists}, nil
	}
	key, rest, _ := strings.Cut(s, " ")
	rest = strings.TrimSpace(rest)
	var op Op
	switch {
	case strings.HasPrefix(rest, "notin"):
		op, rest = NotIn, rest[len("notin"):]
	case strings.HasPrefix(rest, "in"):
		op, rest = In, rest[len("in"):]
	default:
		return Requirement{}, fmt.Errorf("in %q: want an operator (=, ==, !=, in, notin) after the key %q", expr, key)
	}
	if err := ValidateKey(key); err != nil {
		return Requirement{}, fmt.Errorf("in %q: %v", expr, err)
	}
	rest = strings.TrimSpace(rest)
	if !strings.HasPrefix(rest, "(") || !strings.HasSuffix(rest, ")") {
		return Requirement{}, fmt.Errorf("in %q: the values of in and notin go in parentheses: key in (a,b)", expr)
	}
	inner := strings.TrimSpace(rest[1 : len(rest)-1])
	if inner == "" {
		return Requirement{}, fmt.Errorf("in %q: the set of values is empty", expr)
	}
	var vals []string
	for _, v := range strings.Split(inner, ",") {
		v = strings.TrimSpace(v)
		if err := ValidateValue(v); err != nil {
			return Requirement{}, fmt.Errorf("in %q: %v", expr, err)
		}
		if v == "" {
			return Requirement{}, fmt.Errorf("in %q: empty value in the set", expr)
		}
		vals = append(vals, v)
	}
	slices.Sort(vals)
	return Requirement{Key: key, Op: op, Values: slices.Compact(vals)}, nil
}

// String prints r in canonical form.
func (r Requirement) String() string {
	switch r.Op {
	case Equals:
		return r.Key + "=" + r.Values[0]
	case NotEquals:
		return r.Key + "!=" + r.Values[0]
	case In:
		return r.Key + " in (" + strings.Join(r.Values, ",") + ")"
	case NotIn:
		return r.Key + " notin (" + strings.Join(r.Values, ",") + ")"
	case Exists:
		return r.Key
	default:
		return "!" + r.Key
	}
}

// Matches reports whether a node with these labels satisfies r.
func (r Requirement) Matches(labels map[string]string) bool {
	v, ok := labels[r.Key]
	switch r.Op {
	case Equals:
		return ok && v == r.Values[0]
	case NotEquals:
		return !ok || v != r.Values[0]
	case In:
		return ok && slices.Contains(r.Values, v)
	case NotIn:
		return !ok || !slices.Contains(r.Values, v)
	case Exists:
		return ok
	default:
		return !ok
	}
}

// MatchesAbsent reports whether r holds for a node because it lacks the
// key (the Kubernetes rule for != and notin), which plans warn about.
func (r Requirement) MatchesAbsent() bool { return r.Op == NotEquals || r.Op == NotIn }

// Canonical parses expr and prints it in canonical form.
func Canonical(expr string) (string, error) {
	r, err := Parse(expr)
	if err != nil {
		return "", err
	}
	return r.String(), nil
}
