package scenes

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// xnode is one element of a Mitsuba XML document, with the file and line it
// came from. Attribute values are stored after $name substitution.
type xnode struct {
	tag   string
	attrs []xml.Attr
	kids  []*xnode
	file  string // the file's name as given, for messages
	dir   string // directory that relative paths in this element resolve from
	line  int
}

// attr returns the value of the attribute name and whether it is present.
func (n *xnode) attr(name string) (string, bool) {
	for _, a := range n.attrs {
		if a.Name.Local == name {
			return a.Value, true
		}
	}
	return "", false
}

// describe names the element for messages: `bsdf "diffuse" "white"` for
// <bsdf type="diffuse" id="white">, `float "fov"` for <float name="fov">.
func (n *xnode) describe() string {
	var b strings.Builder
	b.WriteString("<")
	b.WriteString(n.tag)
	for _, k := range [...]string{"type", "id", "name"} {
		if v, ok := n.attr(k); ok {
			fmt.Fprintf(&b, " %s=%q", k, v)
		}
	}
	b.WriteString(">")
	return b.String()
}

// errf returns a *ParseError at the element: file, line, the element and
// the message.
func (n *xnode) errf(format string, args ...any) error {
	return &ParseError{File: n.file, Line: n.line, Err: fmt.Errorf("%s: %s", n.describe(), fmt.Sprintf(format, args...))}
}

// wrapErr returns a *ParseError at the element wrapping err (so errors.Is
// and errors.As see through it), prefixed by the element and a context.
func (n *xnode) wrapErr(context string, err error) error {
	if context != "" {
		return &ParseError{File: n.file, Line: n.line, Err: fmt.Errorf("%s: %s: %w", n.describe(), context, err)}
	}
	return &ParseError{File: n.file, Line: n.line, Err: fmt.Errorf("%s: %w", n.describe(), err)}
}

// maxXMLDepth bounds element nesting, and maxIncludeDepth the chain of
// includes, so that hostile input cannot exhaust the stack.
const (
	maxXMLDepth     = 64
	maxIncludeDepth = 16
)

// lineCounter maps byte offsets of one document to 1-based line numbers.
// Offsets are queried in increasing order, so counting is incremental.
type lineCounter struct {
	data []byte
	off  int
	line int
}

func (c *lineCounter) at(off int64) int {
	o := int(off)
	if o > len(c.data) {
		o = len(c.data)
	}
	if o < c.off {
		// Not expected; recount from the start.
		c.off, c.line = 0, 1
	}
	c.line += bytes.Count(c.data[c.off:o], []byte{'\n'})
	c.off = o
	return c.line
}

// parseXMLTree parses one Mitsuba XML document into a tree of xnodes. It
// checks well-formedness (with encoding/xml's strict mode), that the root
// is <scene> and that the nesting is not absurdly deep; warn receives
// stray-text warnings.
func parseXMLTree(data []byte, file, dir string, warn func(string)) (*xnode, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	d.CharsetReader = mtsCharsetReader
	lc := &lineCounter{data: data, line: 1}
	var stack []*xnode
	var root *xnode
	for {
		start := d.InputOffset()
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			line := lc.at(d.InputOffset())
			var se *xml.SyntaxError
			if errors.As(err, &se) && se.Line > 0 {
				line = se.Line
				return nil, &ParseError{File: file, Line: line, Err: fmt.Errorf("malformed XML: %s", se.Msg)}
			}
			return nil, &ParseError{File: file, Line: line, Err: fmt.Errorf("malformed XML: %w", err)}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			line := lc.at(start)
			n := &xnode{tag: t.Name.Local, file: file, dir: dir, line: line}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
					continue
				}
				n.attrs = append(n.attrs, xml.Attr{Name: xml.Name{Local: a.Name.Local}, Value: a.Value})
			}
			if len(stack) == 0 {
				if root != nil {
					return nil, &ParseError{File: file, Line: line, Err: errors.New("malformed XML: more than one root element")}
				}
				if n.tag != "scene" {
					return nil, &ParseError{File: file, Line: line, Err: fmt.Errorf("the root element is <%s>, expected <scene>", n.tag)}
				}
				root = n
			} else {
				if len(stack) >= maxXMLDepth {
					return nil, &ParseError{File: file, Line: line, Err: fmt.Errorf("elements nested more than %d deep", maxXMLDepth)}
				}
				p := stack[len(stack)-1]
				p.kids = append(p.kids, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case xml.CharData:
			if len(stack) > 0 && len(bytes.TrimSpace(t)) > 0 {
				p := stack[len(stack)-1]
				text := strings.TrimSpace(string(t))
				if len(text) > 40 {
					text = text[:40] + "..."
				}
				warn(fmt.Sprintf("%s:%d: %s: text %q inside the element is ignored", file, lc.at(start), p.describe(), text))
			}
		}
	}
	if root == nil {
		return nil, &ParseError{File: file, Line: lc.at(int64(len(data))), Err: errors.New("malformed XML: no <scene> element")}
	}
	return root, nil
}

// mtsCharsetReader accepts the single-byte encodings old scene exporters
// declare (ISO-8859-1, US-ASCII) besides UTF-8, which encoding/xml handles.
func mtsCharsetReader(charset string, input io.Reader) (io.Reader, error) {
	switch strings.ToLower(charset) {
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "us-ascii", "ascii", "windows-1252", "cp1252":
		return &latin1Reader{r: bufio.NewReader(input)}, nil
	}
	return nil, fmt.Errorf("unsupported encoding %q (use UTF-8)", charset)
}

// latin1Reader decodes ISO-8859-1 bytes into UTF-8.
type latin1Reader struct {
	r       *bufio.Reader
	pending []byte
}

func (l *latin1Reader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(l.pending) > 0 {
			c := copy(p[n:], l.pending)
			l.pending = l.pending[c:]
			n += c
			continue
		}
		b, err := l.r.ReadByte()
		if err != nil {
			if n > 0 {
				return n, nil
			}
			return 0, err
		}
		if b < utf8.RuneSelf {
			p[n] = b
			n++
			continue
		}
		var buf [4]byte
		k := utf8.EncodeRune(buf[:], rune(b))
		l.pending = append(l.pending[:0], buf[:k]...)
	}
	return n, nil
}

// readXMLFile reads and parses the scene file at path.
func readXMLFile(path string, warn func(string)) (*xnode, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = fmt.Errorf("cannot %s scene file: %w", pe.Op, pe.Err)
		}
		return nil, &ParseError{File: path, Err: err}
	}
	return parseXMLTree(data, path, filepath.Dir(path), warn)
}

// xmlExpander resolves what Mitsuba's parser resolves before building
// objects: $name substitution in attribute values (document order, so a
// <default> applies from where it appears), <default> and <include>.
type xmlExpander struct {
	vars     map[string]string
	warn     func(string)
	includes []string // absolute paths of the files being expanded
	// resolve, if set, maps an include's file name to its path.
	resolve func(n *xnode, name string) string
}

// isVarChar reports whether c may appear in a $name.
func isVarChar(c byte) bool {
	return c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}

// validVarName reports whether name is a non-empty run of letters, digits
// and underscores.
func validVarName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if !isVarChar(name[i]) {
			return false
		}
	}
	return true
}

// subst replaces $name and ${name} in s. A $ not followed by a name is kept;
// an undefined name is an error.
func (e *xmlExpander) subst(s string) (string, error) {
	if strings.IndexByte(s, '$') < 0 {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		if c != '$' {
			b.WriteByte(c)
			i++
			continue
		}
		var name string
		var end int
		if i+1 < len(s) && s[i+1] == '{' {
			j := strings.IndexByte(s[i+2:], '}')
			if j < 0 {
				return "", fmt.Errorf("unterminated ${ in %q", s)
			}
			name, end = s[i+2:i+2+j], i+3+j
		} else {
			j := i + 1
			for j < len(s) && isVarChar(s[j]) {
				j++
			}
			if j == i+1 {
				b.WriteByte('$')
				i++
				continue
			}
			name, end = s[i+1:j], j
		}
		v, ok := e.vars[name]
		if !ok {
			return "", fmt.Errorf("undefined variable $%s (declare it with <default name=%q value=\"...\"/> or define it on the command line)", name, name)
		}
		b.WriteString(v)
		i = end
	}
	return b.String(), nil
}

// substAttrs substitutes the attributes of n.
func (e *xmlExpander) substAttrs(n *xnode) error {
	for i := range n.attrs {
		v, err := e.subst(n.attrs[i].Value)
		if err != nil {
			return n.errf("attribute %s: %v", n.attrs[i].Name.Local, err)
		}
		n.attrs[i].Value = v
	}
	return nil
}

// expand processes the children of n in document order: substitutes their
// attributes, records <default>s, splices in <include>d files, and recurses.
func (e *xmlExpander) expand(n *xnode, depth int) error {
	out := n.kids[:0:0]
	for _, k := range n.kids {
		if err := e.substAttrs(k); err != nil {
			return err
		}
		switch k.tag {
		case "default":
			name, ok := k.attr("name")
			if !ok {
				return k.errf("missing attribute name")
			}
			value, ok := k.attr("value")
			if !ok {
				return k.errf("missing attribute value")
			}
			if !validVarName(name) {
				return k.errf("invalid variable name %q (use letters, digits and _)", name)
			}
			if _, defined := e.vars[name]; !defined {
				e.vars[name] = value
			}
			continue
		case "include":
			kids, err := e.include(k, depth)
			if err != nil {
				return err
			}
			out = append(out, kids...)
			continue
		}
		if err := e.expand(k, depth+1); err != nil {
			return err
		}
		out = append(out, k)
	}
	n.kids = out
	return nil
}

// include reads the file an <include> names (relative to the including
// file), checks for cycles and returns its expanded top-level elements.
func (e *xmlExpander) include(k *xnode, depth int) ([]*xnode, error) {
	fn, ok := k.attr("filename")
	if !ok {
		return nil, k.errf("missing attribute filename")
	}
	path := fn
	if e.resolve != nil {
		path = e.resolve(k, fn)
	} else if !filepath.IsAbs(path) {
		path = filepath.Join(k.dir, fn)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	for _, p := range e.includes {
		if p == abs {
			return nil, k.errf("include cycle: %s includes itself", path)
		}
	}
	if len(e.includes) >= maxIncludeDepth {
		return nil, k.errf("includes nested more than %d deep", maxIncludeDepth)
	}
	root, err := readXMLFile(path, e.warn)
	if err != nil {
		return nil, k.wrapErr("", err)
	}
	if err := e.substAttrs(root); err != nil {
		return nil, err
	}
	e.includes = append(e.includes, abs)
	err = e.expand(root, 0)
	e.includes = e.includes[:len(e.includes)-1]
	if err != nil {
		return nil, err
	}
	return root.kids, nil
}
