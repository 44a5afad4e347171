package compiler

// Plain files. A CUE or HCL file that only writes data (fields, literals,
// lists and structs, and in HCL references to variables) does work linear
// in its size whatever it holds: nothing in it can repeat, recurse or
// refer to itself. Such a file is compiled in-process even with a
// Sandbox; only the others pay for a worker. The tests are deliberately
// narrow, by bytes rather than by syntax tree (which would cost a parse):
// anything they do not know makes a file not plain, never the reverse.

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '$' || c == '#'
}

func isIdentByte(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// plainCUE reports whether a CUE file holds only data: fields whose labels
// are identifiers or double-quoted strings, and values that are numbers,
// strings without interpolation, true, false, null, lists and structs, with
// an optional package clause. A reference, an operator, a comprehension, an
// import, an attribute (@tag), an ellipsis or a string form it does not
// know (multi-line, raw, bytes) makes it not plain.
func plainCUE(src []byte) bool {
	i, n := 0, len(src)
	skip := func() {
		for i < n {
			switch {
			case isSpace(src[i]):
				i++
			case src[i] == '/' && i+1 < n && src[i+1] == '/':
				for i < n && src[i] != '\n' {
					i++
				}
			default:
				return
			}
		}
	}
	skip()
	if i+8 <= n && string(src[i:i+7]) == "package" && isSpace(src[i+7]) {
		i += 7
		skip()
		start := i
		for i < n && isIdentByte(src[i]) {
			i++
		}
		if i == start {
			return false
		}
	}
	for {
		skip()
		if i >= n {
			return true
		}
		c := src[i]
		switch {
		case c == '{' || c == '}' || c == '[' || c == ']' || c == ',' || c == ':':
			i++
		case c == '"':
			if i+2 < n && src[i+1] == '"' && src[i+2] == '"' {
				return false // multi-line string
			}
			i++
			for ; i < n && src[i] != '"'; i++ {
				switch src[i] {
				case '\\':
					if i+1 < n && src[i+1] == '(' {
						return false // interpolation
					}
					i++
				case '\n':
					return false
				}
			}
			if i >= n {
				return false
			}
			i++
		case c >= '0' && c <= '9' || (c == '-' || c == '.') && i+1 < n && src[i+1] >= '0' && src[i+1] <= '9':
			// A number, with its exponent, separators and multiplier
			// (1e3, 1_000, 0x1f, 2Ki): letters after a digit cannot
			// refer to anything.
			i++
			for i < n && (isIdentByte(src[i]) || src[i] == '.' || (src[i] == '+' || src[i] == '-') && (src[i-1] == 'e' || src[i-1] == 'E')) {
				i++
			}
		case isIdentStart(c):
			start := i
			for i < n && isIdentByte(src[i]) {
				i++
			}
			word := string(src[start:i])
			j := i
			for j < n && (src[j] == ' ' || src[j] == '\t') {
				j++
			}
			if j < n && (src[j] == ':' || (src[j] == '?' || src[j] == '!') && j+1 < n && src[j+1] == ':') {
				if word[0] == '#' || word[0] == '_' || word[0] == '$' {
					return false // definitions and hidden fields exist to be referred to
				}
				i = j
				if src[i] != ':' {
					i++
				}
				continue
			}
			if word != "true" && word != "false" && word != "null" {
				return false // a reference or a keyword
			}
		default:
			return false
		}
	}
}

// plainHCL reports whether an HCL file holds only data: blocks,
// attributes, numbers, strings, true, false, null, lists and objects, and
// references to input variables (var.name, also as the only content of an
// interpolation "${var.name}" inside a string). A function call, an
// operator, a for expression, locals, a heredoc, a template directive or a
// splat makes it not plain.
func plainHCL(src []byte) bool {
	i, n := 0, len(src)
	for i < n {
		c := src[i]
		switch {
		case isSpace(c):
			i++
		case c == '#' || c == '/' && i+1 < n && src[i+1] == '/':
			for i < n && src[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < n && src[i+1] == '*':
			end := indexFrom(src, i+2, "*/")
			if end < 0 {
				return false
			}
			i = end + 2
		case c == '{' || c == '}' || c == '[' || c == ']' || c == ',' || c == '=' || c == ':':
			i++
		case c == '"':
			i++
			for ; i < n && src[i] != '"'; i++ {
				switch {
				case src[i] == '\\':
					i++
				case src[i] == '\n':
					return false
				case src[i] == '$' && i+1 < n && src[i+1] == '$', src[i] == '%' && i+1 < n && src[i+1] == '%':
					i++ // an escaped ${ or %{
				case src[i] == '%' && i+1 < n && src[i+1] == '{':
					return false // a directive
				case src[i] == '$' && i+1 < n && src[i+1] == '{':
					end, ok := varReference(src, i+2)
					if !ok || end >= n || src[end] != '}' {
						return false
					}
					i = end
				}
			}
			if i >= n {
				return false
			}
			i++
		case c >= '0' && c <= '9' || c == '-' && i+1 < n && src[i+1] >= '0' && src[i+1] <= '9':
			i++
			for i < n && (src[i] >= '0' && src[i] <= '9' || src[i] == '.' || src[i] == 'e' || src[i] == 'E' ||
				(src[i] == '+' || src[i] == '-') && (src[i-1] == 'e' || src[i-1] == 'E')) {
				i++
			}
		case isIdentStart(c) && c != '#' && c != '$':
			start := i
			for i < n && (isIdentByte(src[i]) || src[i] == '-') && src[i] != '#' && src[i] != '$' {
				i++
			}
			switch string(src[start:i]) {
			case "var":
				end, ok := varReference(src, start)
				if !ok {
					return false
				}
				i = end
			case "locals", "local", "for", "if", "in", "endfor", "endif":
				return false
			}
			// Other words are block types and attribute names (a value
			// that is a bare word is a reference HCL rejects), or true,
			// false and null.
		default:
			return false
		}
	}
	return true
}

// varReference reads var.NAME from src[i:], returning where it ends.
func varReference(src []byte, i int) (int, bool) {
	if i+4 > len(src) || string(src[i:i+4]) != "var." {
		return i, false
	}
	i += 4
	start := i
	for i < len(src) && (isIdentByte(src[i]) || src[i] == '-') && src[i] != '#' && src[i] != '$' {
		i++
	}
	return i, i > start
}

func indexFrom(b []byte, from int, sep string) int {
	for i := from; i+len(sep) <= len(b); i++ {
		if string(b[i:i+len(sep)]) == sep {
			return i
		}
	}
	return -1
}
