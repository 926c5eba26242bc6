package scenes

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/render"
)

// LoadPLY reads the PLY mesh at path; see ReadPLY for what it accepts and
// returns. The shape's Name is the file's base name without extension.
func LoadPLY(path string) (*render.Shape, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, meshReadFileError(path, err)
	}
	s, err := parsePLY(data, path)
	if err != nil {
		return nil, err
	}
	s.Name = meshName(path)
	return s, nil
}

// ReadPLY reads a PLY (Stanford triangle format) mesh from r; name is the
// file name used in errors and, without its extension, as the shape's Name.
//
// The formats ascii, binary_little_endian and binary_big_endian (version
// 1.0) are read. Of the element "vertex" it uses the properties x, y, z
// (required), nx, ny, nz (all three, else no normals) and the texture
// coordinates u v, or else texture_u texture_v, s t, texture_s texture_t,
// each of any numeric type (integers are taken at their value, not
// normalised; ascii values of float properties are rounded to float32 as
// the binary formats would store them). Of the element "face" it uses the list vertex_indices (or
// vertex_index) with any integer count and index types; polygons are
// triangulated as a fan around their first corner. Every other element and
// property, lists included, is skipped; comment and obj_info lines are
// ignored. Numeric types are char, uchar, short, ushort, int, uint, float,
// double, their int8 ... float64 spellings, and the extensions long, ulong
// and half that Mitsuba reads.
//
// Texture coordinates are used as stored: Mitsuba 3's PLY loader flips v
// only when asked (its flip_tex_coords defaults to false for PLY, unlike
// OBJ), so a PLY's v = 0 is the top row of the texture. Normals are
// normalised; zero-length ones are repaired (see validateMesh). Zero-area
// triangles are kept and flagged in Degenerate.
//
// Errors are *ParseError values naming the file and the header line, the
// line (ascii data) or the byte offset (binary data) of the problem:
// truncated data, an index out of range (with the face's number), an
// unparsable or non-finite number, a face with fewer than 3 vertices, an
// unknown format or type, missing x/y/z or face list.
func ReadPLY(r io.Reader, name string) (*render.Shape, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, &ParseError{File: name, Err: err}
	}
	s, err := parsePLY(data, name)
	if err != nil {
		return nil, err
	}
	s.Name = meshName(name)
	return s, nil
}

// plyType is a PLY scalar type.
type plyType uint8

const (
	plyInt8 plyType = iota + 1
	plyUint8
	plyInt16
	plyUint16
	plyInt32
	plyUint32
	plyInt64
	plyUint64
	plyFloat16
	plyFloat32
	plyFloat64
)

var plyTypes = map[string]plyType{
	"char": plyInt8, "int8": plyInt8, "uchar": plyUint8, "uint8": plyUint8,
	"short": plyInt16, "int16": plyInt16, "ushort": plyUint16, "uint16": plyUint16,
	"int": plyInt32, "int32": plyInt32, "uint": plyUint32, "uint32": plyUint32,
	"long": plyInt64, "int64": plyInt64, "ulong": plyUint64, "uint64": plyUint64,
	"half": plyFloat16, "float16": plyFloat16,
	"float": plyFloat32, "float32": plyFloat32, "double": plyFloat64, "float64": plyFloat64,
}

func (t plyType) size() int {
	switch t {
	case plyInt8, plyUint8:
		return 1
	case plyInt16, plyUint16, plyFloat16:
		return 2
	case plyInt32, plyUint32, plyFloat32:
		return 4
	}
	return 8
}

func (t plyType) isInt() bool { return t < plyFloat16 }

// plyProperty is a scalar property or, when list is set, a list with a
// count of type count and items of type typ.
type plyProperty struct {
	name  string
	typ   plyType
	list  bool
	count plyType
}

type plyElement struct {
	name  string
	count uint64
	props []plyProperty
	line  int // header line that declared it
}

// minSize is the least number of bytes one binary record of e can take.
func (e *plyElement) minSize() int {
	n := 0
	for _, p := range e.props {
		if p.list {
			n += p.count.size()
		} else {
			n += p.typ.size()
		}
	}
	return n
}

type plyFormat uint8

const (
	plyASCII plyFormat = iota
	plyLittle
	plyBig
)

// plyReader reads scalars from the body of a PLY file, binary or ascii,
// and knows where it is for error messages.
type plyReader struct {
	file   string
	data   []byte
	off    int // next byte
	format plyFormat
	order  binary.ByteOrder
	line   int // ascii: the line of off
	tokLn  int // ascii: the line of the last token
}

// errorf reports a problem at the current position: the line of the last
// token (ascii) or the byte offset of the value being read (binary).
func (r *plyReader) errorf(at int, format string, args ...any) error {
	e := &ParseError{File: r.file, Err: fmt.Errorf(format, args...)}
	if r.format == plyASCII {
		e.Line = r.tokLn
	} else {
		e.Offset = int64(at)
	}
	return e
}

// token returns the next whitespace-separated ascii token, or nil at the
// end of the data.
func (r *plyReader) token() []byte {
	d := r.data
	i := r.off
	for i < len(d) {
		c := d[i]
		if c == '\n' {
			r.line++
		} else if !objIsSpace(c) {
			break
		}
		i++
	}
	j := i
	for j < len(d) && !objIsSpace(d[j]) && d[j] != '\n' {
		j++
	}
	r.off = j
	r.tokLn = r.line
	if i == j {
		return nil
	}
	return d[i:j]
}

// float reads one value of type t as a float64; what names it in errors.
func (r *plyReader) float(t plyType, what func() string) (float64, error) {
	if r.format == plyASCII {
		tok := r.token()
		if tok == nil {
			return 0, r.errorf(0, "unexpected end of data: want %s", what())
		}
		x, ok := meshParseFloat(tok)
		if !ok {
			return 0, r.errorf(0, "%s: cannot parse %q as a number", what(), tok)
		}
		if t == plyFloat32 {
			// As the binary format would store it.
			x = float64(float32(x))
		}
		return x, nil
	}
	n := t.size()
	if len(r.data)-r.off < n {
		return 0, r.errorf(r.off, "truncated data: %s needs %d bytes, %d left", what(), n, len(r.data)-r.off)
	}
	b := r.data[r.off : r.off+n]
	r.off += n
	o := r.order
	switch t {
	case plyInt8:
		return float64(int8(b[0])), nil
	case plyUint8:
		return float64(b[0]), nil
	case plyInt16:
		return float64(int16(o.Uint16(b))), nil
	case plyUint16:
		return float64(o.Uint16(b)), nil
	case plyInt32:
		return float64(int32(o.Uint32(b))), nil
	case plyUint32:
		return float64(o.Uint32(b)), nil
	case plyInt64:
		return float64(int64(o.Uint64(b))), nil
	case plyUint64:
		return float64(o.Uint64(b)), nil
	case plyFloat16:
		return plyHalfToFloat(o.Uint16(b)), nil
	case plyFloat32:
		return float64(math.Float32frombits(o.Uint32(b))), nil
	}
	return math.Float64frombits(o.Uint64(b)), nil
}

// int reads one integer value of the integer type t.
func (r *plyReader) int(t plyType, what func() string) (int64, error) {
	if r.format == plyASCII {
		tok := r.token()
		if tok == nil {
			return 0, r.errorf(0, "unexpected end of data: want %s", what())
		}
		v, err := strconv.ParseInt(string(tok), 10, 64)
		if err != nil {
			return 0, r.errorf(0, "%s: cannot parse %q as an integer", what(), tok)
		}
		return v, nil
	}
	n := t.size()
	if len(r.data)-r.off < n {
		return 0, r.errorf(r.off, "truncated data: %s needs %d bytes, %d left", what(), n, len(r.data)-r.off)
	}
	b := r.data[r.off : r.off+n]
	r.off += n
	o := r.order
	switch t {
	case plyInt8:
		return int64(int8(b[0])), nil
	case plyUint8:
		return int64(b[0]), nil
	case plyInt16:
		return int64(int16(o.Uint16(b))), nil
	case plyUint16:
		return int64(o.Uint16(b)), nil
	case plyInt32:
		return int64(int32(o.Uint32(b))), nil
	case plyUint32:
		return int64(o.Uint32(b)), nil
	case plyInt64:
		return int64(o.Uint64(b)), nil
	}
	u := o.Uint64(b)
	if u > math.MaxInt64 {
		return 0, r.errorf(r.off-n, "%s: %d out of range", what(), u)
	}
	return int64(u), nil
}

// skip reads over one value (or list) of property p.
func (r *plyReader) skip(p *plyProperty, what func() string) error {
	if !p.list {
		if r.format == plyASCII {
			_, err := r.float(p.typ, what)
			return err
		}
		n := p.typ.size()
		if len(r.data)-r.off < n {
			return r.errorf(r.off, "truncated data: %s needs %d bytes, %d left", what(), n, len(r.data)-r.off)
		}
		r.off += n
		return nil
	}
	at := r.off
	n, err := r.int(p.count, what)
	if err != nil {
		return err
	}
	if n < 0 {
		return r.errorf(at, "%s: negative list length %d", what(), n)
	}
	if r.format == plyASCII {
		for i := int64(0); i < n; i++ {
			if _, err := r.float(p.typ, what); err != nil {
				return err
			}
		}
		return nil
	}
	size := int64(p.typ.size())
	if left := int64(len(r.data) - r.off); n > left/size {
		return r.errorf(r.off, "truncated data: %s: list of %d needs %d bytes, %d left", what(), n, n*size, left)
	}
	r.off += int(n * size)
	return nil
}

// plyHalfToFloat converts an IEEE 754 binary16 value.
func plyHalfToFloat(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	e := int(h>>10) & 0x1f
	m := float64(h & 0x3ff)
	switch e {
	case 0:
		return sign * math.Ldexp(m, -24)
	case 31:
		if m == 0 {
			return math.Inf(int(sign))
		}
		return math.NaN()
	}
	return sign * math.Ldexp(1024+m, e-25)
}

// plyHeader is what the header declares.
type plyHeader struct {
	format   plyFormat
	elements []plyElement
	body     int // offset of the first byte after end_header's line
	lines    int // number of header lines
}

func parsePLYHeader(data []byte, file string) (*plyHeader, error) {
	h := &plyHeader{}
	line := 0
	errorf := func(format string, args ...any) error {
		return &ParseError{File: file, Line: line, Err: fmt.Errorf(format, args...)}
	}
	haveFormat := false
	off := 0
	for {
		if off >= len(data) {
			line++
			if line == 1 {
				return nil, &ParseError{File: file, Err: fmt.Errorf("empty file, want a PLY header")}
			}
			return nil, errorf("truncated header: want end_header")
		}
		line++
		var l []byte
		l, off = meshNextLine(data, off)
		var tok [6][]byte
		n := 0
		for i := 0; ; {
			var t []byte
			t, i = plyHeaderToken(l, i)
			if len(t) == 0 {
				break
			}
			if n == len(tok) {
				if len(tok[0]) > 0 && (string(tok[0]) == "comment" || string(tok[0]) == "obj_info") {
					break
				}
				return nil, errorf("too many words in header line %q", l)
			}
			tok[n] = t
			n++
		}
		if line == 1 {
			if n != 1 || string(tok[0]) != "ply" {
				return nil, errorf("not a PLY file: the first line must be \"ply\"")
			}
			continue
		}
		if n == 0 {
			continue
		}
		switch string(tok[0]) {
		case "comment", "obj_info":
		case "format":
			if haveFormat {
				return nil, errorf("second format line")
			}
			if n != 3 {
				return nil, errorf("format line %q: want \"format <ascii|binary_little_endian|binary_big_endian> 1.0\"", l)
			}
			switch string(tok[1]) {
			case "ascii":
				h.format = plyASCII
			case "binary_little_endian":
				h.format = plyLittle
			case "binary_big_endian":
				h.format = plyBig
			default:
				return nil, errorf("unknown format %q: want ascii, binary_little_endian or binary_big_endian", tok[1])
			}
			if v := string(tok[2]); v != "1.0" && v != "1" {
				return nil, errorf("unsupported PLY version %q: want 1.0", v)
			}
			haveFormat = true
		case "element":
			if n != 3 {
				return nil, errorf("element line %q: want \"element <name> <count>\"", l)
			}
			c, err := strconv.ParseUint(string(tok[2]), 10, 64)
			if err != nil {
				return nil, errorf("element %q: cannot parse count %q", tok[1], tok[2])
			}
			h.elements = append(h.elements, plyElement{name: string(tok[1]), count: c, line: line})
		case "property":
			if len(h.elements) == 0 {
				return nil, errorf("property before any element")
			}
			e := &h.elements[len(h.elements)-1]
			var p plyProperty
			if n >= 2 && string(tok[1]) == "list" {
				if n != 5 {
					return nil, errorf("property line %q: want \"property list <count type> <item type> <name>\"", l)
				}
				ct, ok1 := plyTypes[string(tok[2])]
				it, ok2 := plyTypes[string(tok[3])]
				switch {
				case !ok1:
					return nil, errorf("unknown type %q", tok[2])
				case !ok2:
					return nil, errorf("unknown type %q", tok[3])
				case !ct.isInt():
					return nil, errorf("list count type %q is not an integer type", tok[2])
				}
				p = plyProperty{name: string(tok[4]), typ: it, list: true, count: ct}
			} else {
				if n != 3 {
					return nil, errorf("property line %q: want \"property <type> <name>\"", l)
				}
				t, ok := plyTypes[string(tok[1])]
				if !ok {
					return nil, errorf("unknown type %q", tok[1])
				}
				p = plyProperty{name: string(tok[2]), typ: t}
			}
			for _, q := range e.props {
				if q.name == p.name {
					return nil, errorf("element %q has two properties named %q", e.name, p.name)
				}
			}
			e.props = append(e.props, p)
		case "end_header":
			if n != 1 {
				return nil, errorf("extra words after end_header")
			}
			if !haveFormat {
				return nil, errorf("header has no format line")
			}
			h.body = off
			h.lines = line
			return h, nil
		default:
			return nil, errorf("unknown header keyword %q", tok[0])
		}
	}
}

// plyHeaderToken is objNextToken without comment handling ('#' is an
// ordinary character in PLY).
func plyHeaderToken(l []byte, i int) ([]byte, int) {
	for i < len(l) && objIsSpace(l[i]) {
		i++
	}
	j := i
	for j < len(l) && !objIsSpace(l[j]) {
		j++
	}
	return l[i:j], j
}

// plyVertexLayout says which vertex properties the mesh uses: the index of
// each in the element's property list, -1 when absent.
type plyVertexLayout struct {
	role []int8 // per property: 0..2 position, 3..5 normal, 6..7 uv, -1 none
	hasN bool
	hasT bool
}

func plyLayout(e *plyElement, file string) (plyVertexLayout, error) {
	idx := map[string]int{}
	for i, p := range e.props {
		idx[p.name] = i
	}
	l := plyVertexLayout{role: make([]int8, len(e.props))}
	for i := range l.role {
		l.role[i] = -1
	}
	set := func(names []string, first int8) bool {
		for _, n := range names {
			if _, ok := idx[n]; !ok {
				return false
			}
		}
		for k, n := range names {
			l.role[idx[n]] = first + int8(k)
		}
		return true
	}
	if !set([]string{"x", "y", "z"}, 0) {
		return l, &ParseError{File: file, Line: e.line, Err: fmt.Errorf("element vertex lacks one of the properties x, y, z")}
	}
	l.hasN = set([]string{"nx", "ny", "nz"}, 3)
	for _, uv := range [][]string{{"u", "v"}, {"texture_u", "texture_v"}, {"s", "t"}, {"texture_s", "texture_t"}} {
		if set(uv, 6) {
			l.hasT = true
			break
		}
	}
	for i, p := range e.props {
		if l.role[i] >= 0 && p.list {
			return l, &ParseError{File: file, Line: e.line, Err: fmt.Errorf("vertex property %q is a list, want a number", p.name)}
		}
	}
	return l, nil
}

func parsePLY(data []byte, file string) (*render.Shape, error) {
	h, err := parsePLYHeader(data, file)
	if err != nil {
		return nil, err
	}
	r := &plyReader{file: file, data: data, off: h.body, format: h.format, line: h.lines + 1}
	switch h.format {
	case plyLittle:
		r.order = binary.LittleEndian
	case plyBig:
		r.order = binary.BigEndian
	}

	var vert, face *plyElement
	faceList := -1
	for i := range h.elements {
		e := &h.elements[i]
		switch e.name {
		case "vertex":
			if vert == nil {
				vert = e
			}
		case "face":
			if face == nil {
				face = e
			}
		}
	}
	if vert == nil {
		return nil, &ParseError{File: file, Line: h.lines, Err: fmt.Errorf("header declares no vertex element")}
	}
	if face == nil {
		return nil, &ParseError{File: file, Line: h.lines, Err: fmt.Errorf("header declares no face element (point clouds are not meshes)")}
	}
	layout, err := plyLayout(vert, file)
	if err != nil {
		return nil, err
	}
	for _, name := range []string{"vertex_indices", "vertex_index"} {
		for i, p := range face.props {
			if p.name == name && faceList < 0 {
				if !p.list || !p.typ.isInt() {
					return nil, &ParseError{File: file, Line: face.line, Err: fmt.Errorf("face property %q must be a list of integers", name)}
				}
				faceList = i
			}
		}
	}
	if faceList < 0 {
		return nil, &ParseError{File: file, Line: face.line, Err: fmt.Errorf("element face lacks the list property vertex_indices (or vertex_index)")}
	}
	if vert.count > maxMeshVertices {
		return nil, &ParseError{File: file, Line: vert.line, Err: fmt.Errorf("%d vertices, more than the %d supported", vert.count, maxMeshVertices)}
	}
	nv := int(vert.count)

	s := &render.Shape{}
	for i := range h.elements {
		e := &h.elements[i]
		// Bound every allocation by what the data can hold: a binary
		// record takes at least minSize bytes, an ascii one at least one
		// token of two bytes ("0 ").
		left := uint64(len(data) - r.off)
		if ms := e.minSize(); ms > 0 && h.format != plyASCII && e.count > left/uint64(ms) {
			return nil, r.errorf(r.off, "truncated data: element %q declares %d records of at least %d bytes, %d bytes left", e.name, e.count, ms, left)
		}
		if len(e.props) > 0 && h.format == plyASCII && e.count > left/2+1 {
			return nil, &ParseError{File: file, Line: r.line, Err: fmt.Errorf("truncated data: element %q declares %d records, the %d bytes left cannot hold them", e.name, e.count, left)}
		}
		switch e {
		case vert:
			if err := readPLYVertices(r, e, layout, s); err != nil {
				return nil, err
			}
		case face:
			if err := readPLYFaces(r, e, faceList, nv, s); err != nil {
				return nil, err
			}
		default:
			if err := skipPLYElement(r, e); err != nil {
				return nil, err
			}
		}
	}
	if h.format == plyASCII {
		if tok := r.token(); tok != nil {
			return nil, r.errorf(0, "unexpected %q after the last element", tok)
		}
	}
	if len(s.Indices) == 0 {
		return nil, &ParseError{File: file, Err: fmt.Errorf("no faces (%d vertices)", nv)}
	}
	if _, err := validateMesh(file, s); err != nil {
		return nil, err
	}
	return s, nil
}

func readPLYVertices(r *plyReader, e *plyElement, l plyVertexLayout, s *render.Shape) error {
	n := int(e.count)
	s.Positions = make([]mgl64.Vec3, n)
	if l.hasN {
		s.Normals = make([]mgl64.Vec3, n)
	}
	if l.hasT {
		s.UVs = make([]mgl64.Vec2, n)
	}
	var v int
	var pi int
	what := func() string { return fmt.Sprintf("vertex %d property %q", v, e.props[pi].name) }
	for v = 0; v < n; v++ {
		var vals [8]float64
		for pi = range e.props {
			p := &e.props[pi]
			role := l.role[pi]
			if role < 0 {
				if err := r.skip(p, what); err != nil {
					return err
				}
				continue
			}
			at := r.off
			x, err := r.float(p.typ, what)
			if err != nil {
				return err
			}
			if !meshFinite(x) {
				return r.errorf(at, "vertex %d property %q is not finite (%g)", v, p.name, x)
			}
			vals[role] = x
		}
		s.Positions[v] = mgl64.Vec3{vals[0], vals[1], vals[2]}
		if l.hasN {
			s.Normals[v] = mgl64.Vec3{vals[3], vals[4], vals[5]}
		}
		if l.hasT {
			s.UVs[v] = mgl64.Vec2{vals[6], vals[7]}
		}
	}
	return nil
}

func readPLYFaces(r *plyReader, e *plyElement, list, nv int, s *render.Shape) error {
	// Most meshes are triangle meshes: reserve three indices per face,
	// append grows the slice for polygons.
	s.Indices = make([]int32, 0, 3*e.count)
	var f uint64
	var pi int
	what := func() string { return fmt.Sprintf("face %d property %q", f, e.props[pi].name) }
	var poly []int32
	for f = 0; f < e.count; f++ {
		for pi = range e.props {
			p := &e.props[pi]
			if pi != list {
				if err := r.skip(p, what); err != nil {
					return err
				}
				continue
			}
			at := r.off
			k, err := r.int(p.count, what)
			if err != nil {
				return err
			}
			if k < 3 {
				return r.errorf(at, "face %d has %d vertices, need at least 3", f, k)
			}
			if r.format != plyASCII {
				if left := int64(len(r.data) - r.off); k > left/int64(p.typ.size()) {
					return r.errorf(r.off, "truncated data: face %d: %d indices need %d bytes, %d left", f, k, k*int64(p.typ.size()), left)
				}
			} else if left := int64(len(r.data) - r.off); k > left {
				return r.errorf(at, "truncated data: face %d declares %d vertices", f, k)
			}
			poly = poly[:0]
			for j := int64(0); j < k; j++ {
				at := r.off
				i, err := r.int(p.typ, what)
				if err != nil {
					return err
				}
				if i < 0 || i >= int64(nv) {
					return r.errorf(at, "face %d: vertex index %d out of range [0, %d)", f, i, nv)
				}
				poly = append(poly, int32(i))
			}
			for j := 2; j < len(poly); j++ {
				s.Indices = append(s.Indices, poly[0], poly[j-1], poly[j])
			}
			if len(s.Indices) > math.MaxInt32 {
				return r.errorf(at, "too many triangles")
			}
		}
	}
	return nil
}

func skipPLYElement(r *plyReader, e *plyElement) error {
	if len(e.props) == 0 {
		return nil
	}
	fixed := r.format != plyASCII
	size := 0
	for _, p := range e.props {
		if p.list {
			fixed = false
		}
		size += p.typ.size()
	}
	if fixed {
		// The caller checked that count*size bytes are there.
		r.off += int(e.count) * size
		return nil
	}
	var i uint64
	var pi int
	what := func() string { return fmt.Sprintf("element %q record %d property %q", e.name, i, e.props[pi].name) }
	for i = 0; i < e.count; i++ {
		for pi = range e.props {
			if err := r.skip(&e.props[pi], what); err != nil {
				return err
			}
		}
	}
	return nil
}
