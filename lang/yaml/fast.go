package yaml

import (
	"strconv"
	"unicode/utf8"

	"github.com/muster-dev/muster/lang"
)

// The fast path. go.yaml.in/yaml/v4 scans every file through a character
// reader, a token queue, an event parser and a node composer before the
// converter walks the nodes; on job files that is most of the time muster
// spends. Job files use a small part of YAML: block mappings and sequences,
// one-line flow collections, plain and one-line quoted scalars, comments and
// --- between documents. fastParse reads exactly that subset and builds the
// lang values the converter would build from yaml.v4's nodes (same kinds,
// keys, Number text, strings and ranges). On anything else (anchors,
// aliases, tags, block scalars, multi-line scalars, complex keys,
// directives, tabs, CR, control characters, scalars whose resolution it
// does not know exactly, any syntax error) it gives up and Parse uses
// yaml.v4 for the whole file. TestFastSameAsSlow and FuzzFastSameAsSlow
// check that both paths give the same jobs and diagnostics.

// useFast turns the fast path on; tests turn it off to compare.
var useFast = true

// fastMaxDepth bounds the nesting the fast path reads; deeper files go to
// yaml.v4, which reports the MaxDepth error.
const fastMaxDepth = MaxDepth - 8

type fastBail struct{}

type fastParser struct {
	file  string
	src   []byte
	text  string // src as one string: keys and values are slices of it
	i     int
	line  int
	ls    int // offset where the current line starts
	ascii bool
	depth int

	// Values, fields and the slices that hold them come from chunks, which
	// costs a few allocations per file instead of a few per value.
	vals   []lang.Value
	fields []lang.Field
	fptrs  []*lang.Field
	vptrs  []*lang.Value
	fstack []*lang.Field
	vstack []*lang.Value
}

func (p *fastParser) value(k lang.Kind, r lang.Range) *lang.Value {
	if len(p.vals) == cap(p.vals) {
		p.vals = make([]lang.Value, 0, max(64, len(p.src)/16))
	}
	p.vals = p.vals[:len(p.vals)+1]
	v := &p.vals[len(p.vals)-1]
	v.Kind, v.Range = k, r
	return v
}

func (p *fastParser) field(key string, kr lang.Range, val *lang.Value) *lang.Field {
	if len(p.fields) == cap(p.fields) {
		p.fields = make([]lang.Field, 0, max(32, len(p.src)/24))
	}
	p.fields = append(p.fields, lang.Field{Key: key, KeyRange: kr, Value: val})
	return &p.fields[len(p.fields)-1]
}

// fieldsFrom moves the fields stacked since base into their own slice.
func (p *fastParser) fieldsFrom(base int) []*lang.Field {
	n := len(p.fstack) - base
	if n == 0 {
		return nil
	}
	if cap(p.fptrs)-len(p.fptrs) < n {
		p.fptrs = make([]*lang.Field, 0, max(n, 32, len(p.src)/24))
	}
	a := len(p.fptrs)
	p.fptrs = append(p.fptrs, p.fstack[base:]...)
	p.fstack = p.fstack[:base]
	return p.fptrs[a:len(p.fptrs):len(p.fptrs)]
}

// listFrom moves the elements stacked since base into their own slice,
// which is never nil (the converter's lists are not).
func (p *fastParser) listFrom(base int) []*lang.Value {
	n := len(p.vstack) - base
	if cap(p.vptrs)-len(p.vptrs) < n || cap(p.vptrs) == 0 {
		p.vptrs = make([]*lang.Value, 0, max(n, 32, len(p.src)/48))
	}
	a := len(p.vptrs)
	p.vptrs = append(p.vptrs, p.vstack[base:]...)
	p.vstack = p.vstack[:base]
	return p.vptrs[a:len(p.vptrs):len(p.vptrs)]
}

// fastParse parses src when it lies in the subset, else returns ok=false.
// src must be valid UTF-8 (Parse checks it first).
func fastParse(filename string, src []byte) (jobs []*lang.Value, ok bool) {
	ascii, good := fastChars(src)
	if !good {
		return nil, false
	}
	p := &fastParser{file: filename, src: src, text: string(src), line: 1, ascii: ascii}
	defer func() {
		if r := recover(); r != nil {
			if _, isBail := r.(fastBail); !isBail {
				panic(r)
			}
			jobs, ok = nil, false
		}
	}()
	return p.stream(), true
}

// fastChars reports whether src is plain ASCII, and whether it holds only
// characters the fast path knows yaml.v4 treats as ordinary: no tabs, no
// CR, no control characters, no BOM, no NEL or Unicode line separators.
func fastChars(src []byte) (ascii, ok bool) {
	ascii = true
	for i := 0; i < len(src); {
		c := src[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\n' || c == 0x7f {
				return false, false
			}
			i++
			continue
		}
		ascii = false
		r, n := utf8.DecodeRune(src[i:])
		if r < 0xA0 || r > 0xD7FF && r < 0xE000 || r == 0xFEFF || r == 0xFFFE || r == 0xFFFF || r == 0x2028 || r == 0x2029 {
			return false, false
		}
		i += n
	}
	return ascii, true
}

func (p *fastParser) bail() { panic(fastBail{}) }

func (p *fastParser) peek() byte {
	if p.i < len(p.src) {
		return p.src[p.i]
	}
	return 0
}

func (p *fastParser) at(off int) byte {
	if p.i+off < len(p.src) {
		return p.src[p.i+off]
	}
	return 0
}

func (p *fastParser) pos() lang.Pos {
	col := p.i - p.ls
	if !p.ascii {
		col = utf8.RuneCount(p.src[p.ls:p.i])
	}
	return lang.Pos{Line: p.line, Column: col + 1}
}

func (p *fastParser) point(start lang.Pos) lang.Range {
	return lang.Range{Filename: p.file, Start: start, End: start}
}

// scalarRange is converter.rng for a scalar whose value is s.
func (p *fastParser) scalarRange(start lang.Pos, s string, quoted bool) lang.Range {
	end := start
	w := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\n' {
			return lang.Range{Filename: p.file, Start: start, End: start}
		}
		if c&0xC0 != 0x80 {
			w++
		}
	}
	if quoted {
		w += 2
	}
	end.Column += w
	return lang.Range{Filename: p.file, Start: start, End: end}
}

// isEnd reports whether the byte at i ends a token: a space, a newline or
// the end of the file.
func (p *fastParser) blankAt(i int) bool {
	return i >= len(p.src) || p.src[i] == ' ' || p.src[i] == '\n'
}

// marker reports whether the line at p.i (a line start) is the document
// marker m ("---" or "...").
func (p *fastParser) marker(m string) bool {
	return len(p.src)-p.i >= 3 && string(p.src[p.i:p.i+3]) == m && p.blankAt(p.i+3)
}

// endLine expects nothing but spaces and a comment before the end of the
// line, and moves to the start of the next line.
func (p *fastParser) endLine() {
	for p.i < len(p.src) && p.src[p.i] == ' ' {
		p.i++
	}
	if p.i >= len(p.src) {
		return
	}
	switch p.src[p.i] {
	case '\n':
	case '#':
		if p.i > p.ls && p.src[p.i-1] != ' ' {
			p.bail()
		}
		for p.i < len(p.src) && p.src[p.i] != '\n' {
			p.i++
		}
		if p.i >= len(p.src) {
			return
		}
	default:
		p.bail()
	}
	p.i++
	p.line++
	p.ls = p.i
}

// nextContent moves from a line start past blank and comment lines to the
// first character of the next content line and returns its indent, or -1
// at the end of the file, or -2 at a line that starts with --- or ...
// (p.i then stays at the line start).
func (p *fastParser) nextContent() int {
	for {
		j := p.i
		for j < len(p.src) && p.src[j] == ' ' {
			j++
		}
		if j >= len(p.src) {
			p.i = j
			return -1
		}
		switch p.src[j] {
		case '\n':
			p.i = j + 1
			p.line++
			p.ls = p.i
			continue
		case '#':
			for j < len(p.src) && p.src[j] != '\n' {
				j++
			}
			p.i = j
			if j < len(p.src) {
				p.i++
				p.line++
				p.ls = p.i
			}
			continue
		case '-', '.':
			if j == p.i && len(p.src)-j >= 3 && p.src[j+1] == p.src[j] && p.src[j+2] == p.src[j] {
				return -2
			}
		}
		p.i = j
		return j - p.ls
	}
}

func (p *fastParser) stream() []*lang.Value {
	var jobs []*lang.Value
	open := false // a document is open, so "..." may end it
	for {
		ind := p.nextContent()
		switch {
		case ind == -1:
			return jobs
		case ind == -2 && p.marker("---"):
			p.i += 3
			p.endLine()
			open = true
			continue
		case ind == -2 && p.marker("...") && open:
			p.i += 3
			p.endLine()
			if n := p.nextContent(); n == -1 {
				return jobs
			} else if n != -2 || !p.marker("---") {
				p.bail()
			}
			open = false
			continue
		case ind < 0:
			p.bail()
		}
		if !p.keyAhead() {
			p.bail()
		}
		v, next := p.mapping(ind)
		if next >= 0 {
			p.bail()
		}
		jobs = append(jobs, v)
		open = true
	}
}

// atDash reports whether p.i is at a block sequence entry indicator.
func (p *fastParser) atDash() bool {
	return p.peek() == '-' && p.blankAt(p.i+1)
}

// keyAhead reports whether a mapping key starts at p.i.
func (p *fastParser) keyAhead() bool {
	save, line, ls := p.i, p.line, p.ls
	defer func() { p.i, p.line, p.ls = save, line, ls }()
	switch p.peek() {
	case '"', '\'':
		p.quoted()
		return p.peek() == ':'
	case '[', '{':
		return false
	case '-':
		if p.blankAt(p.i + 1) {
			return false
		}
	}
	_, isKey := p.plainBlock()
	return isKey
}

// blockNode reads the node that starts at p.i, in column ind, on its own
// line or after "- ". It returns the node and the indent of the next
// content line (see nextContent).
func (p *fastParser) blockNode(ind int) (*lang.Value, int) {
	if p.atDash() {
		return p.sequence(ind)
	}
	if p.keyAhead() {
		return p.mapping(ind)
	}
	v := p.inline()
	p.endLine()
	return v, p.nextContent()
}

func (p *fastParser) enter() {
	p.depth++
	if p.depth > fastMaxDepth {
		p.bail()
	}
}

// mapping reads a block mapping whose keys are in column ind; the first key
// starts at p.i.
func (p *fastParser) mapping(ind int) (*lang.Value, int) {
	p.enter()
	v := p.value(lang.Map, p.point(p.pos()))
	base := len(p.fstack)
	for {
		key, kr := p.key()
		val, next := p.mapValue(ind)
		p.fstack = append(p.fstack, p.field(key, kr, val))
		extend(&v.Range, val.Range)
		if next != ind {
			if next > ind {
				p.bail()
			}
			v.Fields = p.fieldsFrom(base)
			p.depth--
			return v, next
		}
	}
}

// key reads a mapping key and its ':'.
func (p *fastParser) key() (string, lang.Range) {
	start := p.pos()
	switch p.peek() {
	case '"', '\'':
		s := p.quoted()
		if p.peek() != ':' || !p.blankAt(p.i+1) {
			p.bail()
		}
		p.i++
		return s, p.scalarRange(start, s, true)
	case '[', '{':
		p.bail()
	}
	if p.atDash() {
		p.bail()
	}
	text, isKey := p.plainBlock()
	if !isKey || text == "<<" || len(text) > 1000 {
		p.bail()
	}
	p.i++ // the ':'
	return text, p.scalarRange(start, text, false)
}

// mapValue reads the value after a key's ':' of a mapping in column ind.
func (p *fastParser) mapValue(ind int) (*lang.Value, int) {
	empty := p.pos()
	for p.peek() == ' ' {
		p.i++
	}
	if c := p.peek(); c == '\n' || c == '#' || p.i >= len(p.src) {
		p.endLine()
		next := p.nextContent()
		if next > ind {
			return p.blockNode(next)
		}
		if next == ind && p.atDash() {
			return p.sequence(ind)
		}
		return p.value(lang.Null, p.point(empty)), next
	}
	if c := p.peek(); c == '|' || c == '>' {
		return p.blockScalar(ind)
	}
	v := p.inline()
	p.endLine()
	return v, p.nextContent()
}

// sequence reads a block sequence whose dashes are in column ind; the
// first dash is at p.i.
func (p *fastParser) sequence(ind int) (*lang.Value, int) {
	p.enter()
	v := p.value(lang.List, p.point(p.pos()))
	base := len(p.vstack)
	for {
		p.i++ // the '-'
		empty := p.pos()
		for p.peek() == ' ' {
			p.i++
		}
		var item *lang.Value
		var next int
		if c := p.peek(); c == '\n' || c == '#' || p.i >= len(p.src) {
			p.endLine()
			next = p.nextContent()
			if next > ind {
				item, next = p.blockNode(next)
			} else {
				item = p.value(lang.Null, p.point(empty))
			}
		} else if c == '|' || c == '>' {
			item, next = p.blockScalar(ind)
		} else {
			item, next = p.blockNode(p.i - p.ls)
		}
		p.vstack = append(p.vstack, item)
		extend(&v.Range, item.Range)
		if next != ind || !p.atDash() {
			if next > ind {
				p.bail()
			}
			v.List = p.listFrom(base)
			p.depth--
			return v, next
		}
	}
}

// inline reads a scalar or a flow collection that ends on this line and is
// not a key.
func (p *fastParser) inline() *lang.Value {
	start := p.pos()
	switch p.peek() {
	case '[', '{':
		return p.flow()
	case '"', '\'':
		s := p.quoted()
		v := p.value(lang.String, p.scalarRange(start, s, true))
		v.Str = s
		return v
	}
	if p.atDash() {
		p.bail()
	}
	a := p.i
	text, isKey := p.plainBlock()
	if isKey {
		p.bail()
	}
	return p.plain(a, a+len(text), start)
}

// indicator reports whether c may not start a plain scalar (when the next
// byte is n).
func indicator(c, n byte) bool {
	switch c {
	case '-':
		return n == ' ' || n == '\n' || n == 0
	case '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
		return true
	}
	return false
}

// plainBlock scans a plain scalar in block context from p.i to the end of
// the line, a comment, or a ':' that makes it a key. It leaves p.i at the
// end of the scan (at the ':' for a key) and returns the text without
// trailing spaces.
func (p *fastParser) plainBlock() (string, bool) {
	if indicator(p.peek(), p.at(1)) {
		p.bail()
	}
	a := p.i
	j := a
	key := false
scan:
	for ; j < len(p.src); j++ {
		switch p.src[j] {
		case '\n':
			break scan
		case ' ':
			if j+1 < len(p.src) && p.src[j+1] == '#' {
				break scan
			}
		case ':':
			if p.blankAt(j + 1) {
				key = true
				break scan
			}
		}
	}
	p.i = j
	e := j
	for e > a && p.src[e-1] == ' ' {
		e--
	}
	if e == a {
		p.bail()
	}
	if key {
		return p.text[a:e], true
	}
	return p.text[a:e], false
}

// flow reads a flow sequence or mapping that ends on this line.
func (p *fastParser) flow() *lang.Value {
	p.enter()
	defer func() { p.depth-- }()
	start := p.pos()
	if p.peek() == '[' {
		p.i++
		v := p.value(lang.List, p.point(start))
		base := len(p.vstack)
		p.flowSpaces()
		if p.peek() == ']' {
			p.i++
			v.List = p.listFrom(base)
			return v
		}
		for {
			e := p.flowItem(false)
			p.vstack = append(p.vstack, e)
			extend(&v.Range, e.Range)
			p.flowSpaces()
			if p.flowNext(']') {
				v.List = p.listFrom(base)
				return v
			}
		}
	}
	p.i++ // '{'
	v := p.value(lang.Map, p.point(start))
	base := len(p.fstack)
	p.flowSpaces()
	if p.peek() == '}' {
		p.i++
		return v
	}
	for {
		kstart := p.pos()
		var key string
		var kr lang.Range
		switch p.peek() {
		case '"', '\'':
			key = p.quoted()
			kr = p.scalarRange(kstart, key, true)
		default:
			a := p.i
			p.flowPlainEnd(true)
			key = p.text[a:p.i]
			if key == "<<" {
				p.bail()
			}
			kr = p.scalarRange(kstart, key, false)
		}
		if p.peek() != ':' || p.at(1) != ' ' {
			p.bail()
		}
		p.i++
		p.flowSpaces()
		val := p.flowItem(false)
		p.fstack = append(p.fstack, p.field(key, kr, val))
		extend(&v.Range, val.Range)
		p.flowSpaces()
		if p.flowNext('}') {
			v.Fields = p.fieldsFrom(base)
			return v
		}
	}
}

// flowSpaces skips spaces inside a flow collection, which must not span
// lines or hold comments.
// flowNext reads what follows an item of a flow collection: a ',' before
// another item (false), or the closing byte (true). Anything else, and a
// trailing comma, leave the fast path.
func (p *fastParser) flowNext(closing byte) bool {
	switch p.peek() {
	case ',':
		p.i++
		p.flowSpaces()
		if p.peek() == closing {
			p.bail()
		}
		return false
	case closing:
		p.i++
		return true
	}
	p.bail()
	return false
}

func (p *fastParser) flowSpaces() {
	for p.peek() == ' ' {
		p.i++
	}
	if c := p.peek(); c == '\n' || c == '#' || p.i >= len(p.src) {
		p.bail()
	}
}

func (p *fastParser) flowItem(bool) *lang.Value {
	start := p.pos()
	switch p.peek() {
	case '[', '{':
		return p.flow()
	case '"', '\'':
		s := p.quoted()
		v := p.value(lang.String, p.scalarRange(start, s, true))
		v.Str = s
		return v
	}
	a := p.i
	p.flowPlainEnd(false)
	return p.plain(a, p.i, start)
}

// flowPlainEnd scans a plain scalar inside a flow collection and leaves
// p.i after its last non-space byte. A key ends at ": "; anything that
// might be read otherwise by yaml.v4 gives up.
func (p *fastParser) flowPlainEnd(key bool) {
	if indicator(p.peek(), p.at(1)) {
		p.bail()
	}
	a := p.i
	j := a
	for ; j < len(p.src); j++ {
		c := p.src[j]
		if c == ',' || c == ']' || c == '}' || c == '\n' {
			break
		}
		if c == ':' {
			if key && j+1 < len(p.src) && p.src[j+1] == ' ' {
				break
			}
			p.bail()
		}
		if c == '[' || c == '{' || c == '#' || c == '?' {
			p.bail()
		}
	}
	for j > a && p.src[j-1] == ' ' {
		j--
	}
	if j == a {
		p.bail()
	}
	p.i = j
}

// quoted reads a one-line single- or double-quoted scalar and returns its
// value.
func (p *fastParser) quoted() string {
	q := p.src[p.i]
	p.i++
	a := p.i
	// The common case: no escapes.
	for j := a; j < len(p.src); j++ {
		c := p.src[j]
		if c == '\n' {
			p.bail()
		}
		if c == q {
			if q == '\'' && j+1 < len(p.src) && p.src[j+1] == '\'' {
				break
			}
			p.i = j + 1
			return p.text[a:j]
		}
		if c == '\\' && q == '"' {
			break
		}
	}
	var b []byte
	for j := a; ; j++ {
		if j >= len(p.src) || p.src[j] == '\n' {
			p.bail()
		}
		c := p.src[j]
		switch {
		case c == q && q == '\'':
			if j+1 < len(p.src) && p.src[j+1] == '\'' {
				b = append(b, '\'')
				j++
				continue
			}
			p.i = j + 1
			return string(b)
		case c == q:
			p.i = j + 1
			return string(b)
		case c == '\\' && q == '"':
			j++
			if j >= len(p.src) {
				p.bail()
			}
			var r rune
			n := 0
			switch p.src[j] {
			case '0':
				r = 0
			case 'a':
				r = '\a'
			case 'b':
				r = '\b'
			case 't':
				r = '\t'
			case 'n':
				r = '\n'
			case 'v':
				r = '\v'
			case 'f':
				r = '\f'
			case 'r':
				r = '\r'
			case 'e':
				r = 0x1b
			case ' ':
				r = ' '
			case '"':
				r = '"'
			case '/':
				r = '/'
			case '\\':
				r = '\\'
			case 'N':
				r = 0x85
			case '_':
				r = 0xA0
			case 'L':
				r = 0x2028
			case 'P':
				r = 0x2029
			case 'x':
				n = 2
			case 'u':
				n = 4
			case 'U':
				n = 8
			default:
				p.bail()
			}
			if n > 0 {
				if j+n >= len(p.src) {
					p.bail()
				}
				v, err := strconv.ParseUint(string(p.src[j+1:j+1+n]), 16, 32)
				if err != nil || v >= 0xD800 && v <= 0xDFFF || v > 0x10FFFF {
					p.bail()
				}
				r = rune(v)
				j += n
			}
			b = utf8.AppendRune(b, r)
		default:
			b = append(b, c)
		}
	}
}

// plain resolves a plain scalar the way yaml.v4's core schema resolver and
// converter.scalar do, or gives up where it is not sure.
func (p *fastParser) plain(a, e int, start lang.Pos) *lang.Value {
	t := p.src[a:e]
	r := p.scalarRange(start, p.text[a:e], false)
	switch t[0] {
	case 'y', 'Y', 'n', 'N', 't', 'T', 'f', 'F', 'o', 'O', '~', '<':
		switch string(t) {
		case "true", "True", "TRUE":
			v := p.value(lang.Bool, r)
			v.Bool = true
			return v
		case "false", "False", "FALSE":
			return p.value(lang.Bool, r)
		case "~", "null", "Null", "NULL":
			return p.value(lang.Null, r)
		case "<<":
			p.bail()
		}
	case '+', '-', '.', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return p.number(a, e, r)
	}
	return p.str(a, e, r)
}

func (p *fastParser) str(a, e int, r lang.Range) *lang.Value {
	v := p.value(lang.String, r)
	v.Str = p.text[a:e]
	return v
}

// number resolves a plain scalar that starts like a number.
func (p *fastParser) number(a, e int, r lang.Range) *lang.Value {
	t := p.src[a:e]
	// .inf, -.Inf, .NaN and the like resolve to floats the converter
	// rejects.
	for i := 0; i+3 < len(t); i++ {
		if t[i] == '.' && (t[i+1]|0x20 == 'i' || t[i+1]|0x20 == 'n') {
			p.bail()
		}
	}
	if isJSONNumber(p.text[a:e]) {
		float := false
		for _, c := range t {
			if c == '.' || c == 'e' || c == 'E' {
				float = true
			}
		}
		if !float && len(t) > 18 {
			p.bail()
		}
		if float {
			if _, err := strconv.ParseFloat(p.text[a:e], 64); err != nil {
				p.bail()
			}
		}
		v := p.value(lang.Number, r)
		v.Number = p.text[a:e]
		return v
	}
	// Dates (YYYY-...) are timestamps or strings, and the converter keeps
	// both as strings.
	if len(t) > 4 && t[4] == '-' && isDigits(t[:4]) {
		return p.str(a, e, r)
	}
	// Without a 0x, 0o or 0b prefix, yaml.v4 reads only digits, '_', '.',
	// signs and exponents as numbers (through strconv and its float
	// pattern), so any other byte makes it a string.
	u := t
	if u[0] == '+' || u[0] == '-' {
		u = u[1:]
	}
	if len(u) >= 2 && u[0] == '0' {
		switch u[1] {
		case 'x', 'X', 'o', 'O', 'b', 'B':
			p.bail()
		}
	}
	for _, c := range u {
		switch {
		case c >= '0' && c <= '9', c == '+', c == '-', c == '_', c == '.', c == 'e', c == 'E':
		default:
			return p.str(a, e, r)
		}
	}
	p.bail()
	return nil
}

func isDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// blockScalar reads a literal (|) or folded (>) block scalar with clip or
// strip chomping and no indentation indicator, whose parent collection is
// in column parent; p.i is at the indicator. Folded scalars with
// more-indented lines, leading empty lines and a last line without a line
// break give up.
func (p *fastParser) blockScalar(parent int) (*lang.Value, int) {
	start := p.pos()
	folded := p.peek() == '>'
	p.i++
	strip := false
	if p.peek() == '-' {
		strip = true
		p.i++
	}
	if !p.blankAt(p.i) {
		p.bail()
	}
	p.endLine()
	var b []byte
	ind, blanks, lines := -1, 0, 0
	for p.i < len(p.src) {
		k := 0
		for p.i+k < len(p.src) && p.src[p.i+k] == ' ' {
			k++
		}
		if p.i+k >= len(p.src) {
			p.bail()
		}
		if p.src[p.i+k] == '\n' {
			if ind == -1 || k > ind {
				p.bail()
			}
			blanks++
			p.i += k + 1
			p.line++
			p.ls = p.i
			continue
		}
		if ind == -1 {
			if k <= parent {
				p.bail()
			}
			ind = k
		}
		if k < ind {
			break
		}
		if k > ind && folded {
			p.bail()
		}
		e := p.i + ind
		for e < len(p.src) && p.src[e] != '\n' {
			e++
		}
		if e >= len(p.src) {
			p.bail()
		}
		switch {
		case lines == 0:
		case !folded:
			for range blanks + 1 {
				b = append(b, '\n')
			}
		case blanks == 0:
			b = append(b, ' ')
		default:
			for range blanks {
				b = append(b, '\n')
			}
		}
		b = append(b, p.src[p.i+ind:e]...)
		lines++
		blanks = 0
		p.i = e + 1
		p.line++
		p.ls = p.i
	}
	if lines == 0 {
		p.bail()
	}
	if !strip {
		b = append(b, '\n')
	}
	str := string(b)
	v := p.value(lang.String, p.scalarRange(start, str, false))
	v.Str = str
	return v, p.nextContent()
}
