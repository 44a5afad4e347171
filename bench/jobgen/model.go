// Package jobgen generates varied, valid muster job files for benchmarks:
// one model per file, rendered in YAML, JSON, HCL and CUE so that the four
// renderings of a file hold the same jobs (and compile to the same hashes).
//
// It depends on no muster package, so that the benchmarks of every stage
// (lang/yaml, validate, schema, compiler) and the peer comparison in
// bench/compile can share one corpus without import cycles.
package jobgen

// Kind is the shape of a Node.
type Kind uint8

// The kinds of Node.
const (
	Str Kind = iota
	Int
	Float
	Bool
	List
	Obj
)

// Node is one value of a job: a scalar, a list or an object whose members
// keep their order. Int and Float keep their literal in Text (JSON number
// syntax); Str keeps the string in Text.
type Node struct {
	Kind    Kind
	Text    string
	Bool    bool
	List    []*Node
	Members []Member
	// Var, when set, names the file variable (File.Vars) that HCL and CUE
	// write in place of the literal: the whole string is the variable, or
	// VarPrefix followed by it (an interpolation). YAML and JSON write the
	// literal.
	Var, VarPrefix string
	VarLocal       bool // Var is a local (File.Vars[i].Local)
}

// Member is one field of an object.
type Member struct {
	Key     string
	Val     *Node
	Comment string // a line comment written above the field, where the format has comments
}

// Get returns the member named key, or nil.
func (n *Node) Get(key string) *Node {
	for _, m := range n.Members {
		if m.Key == key {
			return m.Val
		}
	}
	return nil
}

// Var is a file-level string value. HCL writes it as a variable block
// (var.NAME) or, when Local, in a locals block (local.NAME). CUE writes a
// variable as a let declaration (let imageTag = ...) and a local as a hidden
// field (_team: ...), so that both forms are exercised.
type Var struct {
	Name  string
	Value string
	Local bool
}

// File is one generated job file: its jobs, in order, and the variables its
// HCL and CUE renderings use.
type File struct {
	// Base is the file name without extension, unique in a corpus.
	Base string
	// Comment is a header comment.
	Comment string
	Jobs    []*Node
	Vars    []Var
}

// Names returns the names of the file's jobs, in order.
func (f *File) Names() []string {
	var out []string
	for _, j := range f.Jobs {
		out = append(out, j.Get("name").Text)
	}
	return out
}

func str(s string) *Node           { return &Node{Kind: Str, Text: s} }
func integer(lit string) *Node     { return &Node{Kind: Int, Text: lit} }
func float(lit string) *Node       { return &Node{Kind: Float, Text: lit} }
func boolean(b bool) *Node         { return &Node{Kind: Bool, Bool: b} }
func obj(ms ...Member) *Node       { return &Node{Kind: Obj, Members: ms} }
func list(items ...*Node) *Node    { return &Node{Kind: List, List: items} }
func mem(k string, v *Node) Member { return Member{Key: k, Val: v} }

func strs(ss ...string) *Node {
	n := &Node{Kind: List}
	for _, s := range ss {
		n.List = append(n.List, str(s))
	}
	return n
}

func (n *Node) add(k string, v *Node) { n.Members = append(n.Members, Member{Key: k, Val: v}) }

func (n *Node) addc(k string, v *Node, comment string) {
	n.Members = append(n.Members, Member{Key: k, Val: v, Comment: comment})
}

// Clone returns a deep copy of n.
func (n *Node) Clone() *Node {
	if n == nil {
		return nil
	}
	c := *n
	c.List = nil
	for _, e := range n.List {
		c.List = append(c.List, e.Clone())
	}
	c.Members = nil
	for _, m := range n.Members {
		c.Members = append(c.Members, Member{Key: m.Key, Val: m.Val.Clone(), Comment: m.Comment})
	}
	return &c
}

// Set sets the member key of an object to v, appending it when absent.
func (n *Node) Set(key string, v *Node) {
	for i := range n.Members {
		if n.Members[i].Key == key {
			n.Members[i].Val = v
			return
		}
	}
	n.add(key, v)
}

// Delete removes the member key of an object.
func (n *Node) Delete(key string) {
	for i := range n.Members {
		if n.Members[i].Key == key {
			n.Members = append(n.Members[:i], n.Members[i+1:]...)
			return
		}
	}
}

// Clone returns a deep copy of f.
func (f *File) Clone() *File {
	c := *f
	c.Jobs = nil
	for _, j := range f.Jobs {
		c.Jobs = append(c.Jobs, j.Clone())
	}
	c.Vars = append([]Var(nil), f.Vars...)
	return &c
}

// Value helpers for callers that build or mutate jobs.

// S returns a string node.
func S(s string) *Node { return str(s) }

// I returns an integer node.
func I(lit string) *Node { return integer(lit) }

// O returns an object node.
func O(ms ...Member) *Node { return obj(ms...) }

// L returns a list node.
func L(items ...*Node) *Node { return list(items...) }

// M returns an object member.
func M(k string, v *Node) Member { return mem(k, v) }
