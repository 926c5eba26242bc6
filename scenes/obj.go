package scenes

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"unsafe"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/render"
)

// LoadOBJ reads the Wavefront OBJ mesh at path; see ReadOBJ for what it
// accepts and returns. The shape's Name is the file's base name without
// extension (the XML loader replaces it with the shape's id).
func LoadOBJ(path string) (*render.Shape, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, meshReadFileError(path, err)
	}
	s, err := parseOBJ(data, path)
	if err != nil {
		return nil, err
	}
	s.Name = meshName(path)
	return s, nil
}

// ReadOBJ reads a Wavefront OBJ mesh from r; name is the file name used in
// errors and, without its extension, as the shape's Name.
//
// It reads the statements v (x y z, further numbers such as w or vertex
// colours ignored), vt (u [v [w]], missing components 0), vn (x y z) and f
// with corners in any of the forms v, v/vt, v//vn and v/vt/vn, positive
// (1-based) or negative (relative to the last element read) indices.
// Polygons are triangulated as a fan around their first corner. Comments
// (#), blank lines, a backslash at the end of a line (continuation), CRLF
// line ends and every other statement (o, g, s, usemtl, mtllib, l, p, ...)
// are accepted; the other statements are ignored. Positive indices may
// refer to elements defined later in the file (Mitsuba allows this for vt
// and vn; it is allowed here for v as well).
//
// As Mitsuba does, every distinct (v, vt, vn) triple used by a corner
// becomes one output vertex, so Positions, Normals and UVs are per output
// vertex. Output vertices keep the file's order of v statements; a position
// used with several different (vt, vn) pairs is duplicated, the copies
// appended after the file's vertices in order of first use; positions no
// face uses are dropped.
//
// UVs follow Mitsuba 3, which flips OBJ's v so that v = 0 is the top row of
// a texture (see render.Texture): UV = (u, 1 - v). Normals are normalised.
//
// A mesh whose faces give vt (or vn) for some corners and not for others is
// accepted: a corner without vt gets UV (0, 0), and a corner without vn gets
// the area-weighted mean of the geometric normals of the triangles that use
// its output vertex (see validateMesh). UVs (Normals) are nil when no corner
// has a vt (vn). Zero-area triangles are kept and flagged in Degenerate.
//
// Errors are *ParseError values naming the file and the line: an unparsable
// or non-finite number, an index out of range (with the face's line), an
// index of 0, a face with fewer than 3 corners, a file without faces.
func ReadOBJ(r io.Reader, name string) (*render.Shape, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, &ParseError{File: name, Err: err}
	}
	s, err := parseOBJ(data, name)
	if err != nil {
		return nil, err
	}
	s.Name = meshName(name)
	return s, nil
}

// objCorner is a face corner's position, texture-coordinate and normal
// indices, 0-based and absolute; -1 marks an absent vt or vn.
type objCorner struct{ v, vt, vn int32 }

// objRef records the largest positive index of one kind that a face used and
// the line that used it, to check forward references once the file is read.
type objRef struct {
	max  int64
	line int
}

func (r *objRef) note(i int64, line int) {
	if i > r.max {
		r.max, r.line = i, line
	}
}

type objParser struct {
	file string
	line int // line of the statement being parsed

	pos []mgl64.Vec3
	uv  []mgl64.Vec2
	nrm []mgl64.Vec3

	corners      []objCorner // three per triangle
	face         []objCorner // scratch: the corners of the current face
	refV, refT   objRef
	refN         objRef
	hasVT, hasVN bool
}

func (p *objParser) errorf(format string, args ...any) error {
	return &ParseError{File: p.file, Line: p.line, Err: fmt.Errorf(format, args...)}
}

func parseOBJ(data []byte, file string) (*render.Shape, error) {
	p := &objParser{file: file}
	// The dense benchmark mesh has about 36 bytes per line and twice as
	// many faces as vertices; a rough guess saves most regrowth.
	guess := len(data) / 100
	p.pos = make([]mgl64.Vec3, 0, guess)
	p.corners = make([]objCorner, 0, 6*guess)

	var joined []byte // scratch for lines continued with a backslash
	line := 0
	for off := 0; off < len(data); {
		line++
		p.line = line
		l, next := meshNextLine(data, off)
		off = next
		if len(l) > 0 && l[len(l)-1] == '\\' {
			joined = append(joined[:0], l[:len(l)-1]...)
			for {
				joined = append(joined, ' ')
				if off >= len(data) {
					break
				}
				line++
				l, off = meshNextLine(data, off)
				if len(l) > 0 && l[len(l)-1] == '\\' {
					joined = append(joined, l[:len(l)-1]...)
					continue
				}
				joined = append(joined, l...)
				break
			}
			l = joined
		}
		if err := p.statement(l); err != nil {
			return nil, err
		}
	}
	return p.finish()
}

// meshNextLine returns the line starting at off without its line end (LF or
// CRLF) and the offset of the next line.
func meshNextLine(data []byte, off int) ([]byte, int) {
	rest := data[off:]
	n := bytes.IndexByte(rest, '\n')
	next := off + n + 1
	if n < 0 {
		n = len(rest)
		next = len(data)
	}
	l := rest[:n]
	if len(l) > 0 && l[len(l)-1] == '\r' {
		l = l[:len(l)-1]
	}
	return l, next
}

// objSpaceTab marks the bytes that separate tokens within a line.
var objSpaceTab = [256]bool{' ': true, '\t': true, '\r': true, '\f': true, '\v': true}

func objIsSpace(c byte) bool { return objSpaceTab[c] }

// objNextToken returns the next run of bytes other than spaces and '#' in l at
// or after i and the index after it; an empty token means the line (or its
// code, before a '#' comment) is exhausted.
func objNextToken(l []byte, i int) ([]byte, int) {
	for i < len(l) && objIsSpace(l[i]) {
		i++
	}
	if i < len(l) && l[i] == '#' {
		return nil, len(l)
	}
	j := i
	for j < len(l) && !objIsSpace(l[j]) && l[j] != '#' {
		j++
	}
	return l[i:j], j
}

func (p *objParser) statement(l []byte) error {
	kw, i := objNextToken(l, 0)
	switch {
	case len(kw) == 1 && kw[0] == 'v':
		var v [3]float64
		if _, err := p.floats(l, i, v[:], 3, "vertex position"); err != nil {
			return err
		}
		p.pos = append(p.pos, mgl64.Vec3(v))
	case len(kw) == 2 && kw[0] == 'v' && kw[1] == 't':
		var t [2]float64
		if _, err := p.floats(l, i, t[:], 1, "texture coordinate"); err != nil {
			return err
		}
		p.uv = append(p.uv, mgl64.Vec2{t[0], 1 - t[1]})
	case len(kw) == 2 && kw[0] == 'v' && kw[1] == 'n':
		var n [3]float64
		if _, err := p.floats(l, i, n[:], 3, "normal"); err != nil {
			return err
		}
		p.nrm = append(p.nrm, mgl64.Vec3(n))
	case len(kw) == 1 && kw[0] == 'f':
		return p.faceStatement(l, i)
	}
	return nil
}

// floats parses up to len(out) numbers from l[i:], requiring at least min;
// numbers after len(out) are ignored.
func (p *objParser) floats(l []byte, i int, out []float64, min int, what string) (int, error) {
	n := 0
	for n < len(out) {
		var tok []byte
		tok, i = objNextToken(l, i)
		if len(tok) == 0 {
			break
		}
		x, ok := meshParseFloat(tok)
		if !ok {
			return n, p.errorf("%s: cannot parse %q as a number", what, tok)
		}
		if !meshFinite(x) {
			return n, p.errorf("%s: %q is not a finite number", what, tok)
		}
		out[n] = x
		n++
	}
	if n < min {
		return n, p.errorf("%s has %d numbers, want %d", what, n, min)
	}
	return n, nil
}

func (p *objParser) faceStatement(l []byte, i int) error {
	p.face = p.face[:0]
	for {
		var tok []byte
		tok, i = objNextToken(l, i)
		if len(tok) == 0 {
			break
		}
		c, err := p.corner(tok)
		if err != nil {
			return err
		}
		p.face = append(p.face, c)
	}
	if len(p.face) < 3 {
		return p.errorf("face has %d vertices, need at least 3", len(p.face))
	}
	// Triangulate as a fan around the first corner.
	for k := 2; k < len(p.face); k++ {
		p.corners = append(p.corners, p.face[0], p.face[k-1], p.face[k])
	}
	return nil
}

// corner parses one face corner v, v/vt, v//vn or v/vt/vn.
func (p *objParser) corner(tok []byte) (objCorner, error) {
	// Fast path: a plain positive vertex index, as in "f 1 2 3".
	var v int64
	j := 0
	for ; j < len(tok) && v <= maxMeshVertices; j++ {
		d := tok[j] - '0'
		if d > 9 {
			break
		}
		v = v*10 + int64(d)
	}
	if j == len(tok) && v > 0 && v <= maxMeshVertices {
		p.refV.note(v, p.line)
		return objCorner{int32(v - 1), -1, -1}, nil
	}

	c := objCorner{-1, -1, -1}
	var field [3][]byte
	n := 0
	start := 0
	for j := 0; j <= len(tok); j++ {
		if j == len(tok) || tok[j] == '/' {
			if n == 3 {
				return c, p.errorf("face corner %q has more than three indices", tok)
			}
			field[n] = tok[start:j]
			n++
			start = j + 1
		}
	}
	if len(field[0]) == 0 {
		return c, p.errorf("face corner %q lacks a vertex index", tok)
	}
	var err error
	if c.v, err = p.index(field[0], tok, "vertex", len(p.pos), &p.refV); err != nil {
		return c, err
	}
	if len(field[1]) > 0 {
		if c.vt, err = p.index(field[1], tok, "texture coordinate", len(p.uv), &p.refT); err != nil {
			return c, err
		}
		p.hasVT = true
	}
	if len(field[2]) > 0 {
		if c.vn, err = p.index(field[2], tok, "normal", len(p.nrm), &p.refN); err != nil {
			return c, err
		}
		p.hasVN = true
	}
	return c, nil
}

// index resolves one OBJ index (1-based, or negative relative to the count
// read so far) to a 0-based one. Positive indices beyond count are checked
// once the whole file is read.
func (p *objParser) index(b, tok []byte, what string, count int, ref *objRef) (int32, error) {
	neg := false
	i := 0
	if b[0] == '-' || b[0] == '+' {
		neg = b[0] == '-'
		i = 1
	}
	if i == len(b) {
		return 0, p.errorf("face corner %q: cannot parse %q as an index", tok, b)
	}
	var v int64
	for ; i < len(b); i++ {
		d := b[i] - '0'
		if d > 9 {
			return 0, p.errorf("face corner %q: cannot parse %q as an index", tok, b)
		}
		v = v*10 + int64(d)
		if v > maxMeshVertices {
			return 0, p.errorf("face corner %q: %s index %s out of range", tok, what, b)
		}
	}
	switch {
	case v == 0:
		return 0, p.errorf("face corner %q: %s index 0 is invalid (OBJ indices start at 1)", tok, what)
	case neg:
		a := int64(count) - v
		if a < 0 {
			return 0, p.errorf("face corner %q: relative %s index -%d out of range: only %d defined before this line", tok, what, v, count)
		}
		return int32(a), nil
	}
	ref.note(v, p.line)
	return int32(v - 1), nil
}

func (p *objParser) checkRef(r objRef, count int, what string) error {
	if r.max > int64(count) {
		return &ParseError{File: p.file, Line: r.line,
			Err: fmt.Errorf("face refers to %s %d, but the file defines %d", what, r.max, count)}
	}
	return nil
}

// finish checks forward references, welds corners into output vertices and
// validates the mesh.
func (p *objParser) finish() (*render.Shape, error) {
	if len(p.corners) == 0 {
		return nil, &ParseError{File: p.file, Err: fmt.Errorf("no faces (%d vertices)", len(p.pos))}
	}
	if err := p.checkRef(p.refV, len(p.pos), "vertex"); err != nil {
		return nil, err
	}
	if err := p.checkRef(p.refT, len(p.uv), "texture coordinate"); err != nil {
		return nil, err
	}
	if err := p.checkRef(p.refN, len(p.nrm), "normal"); err != nil {
		return nil, err
	}
	if len(p.corners)/3 > math.MaxInt32/3 {
		return nil, &ParseError{File: p.file, Err: fmt.Errorf("too many triangles (%d)", len(p.corners)/3)}
	}

	s := &render.Shape{Indices: make([]int32, len(p.corners))}
	nv := len(p.pos)
	if !p.hasVT && !p.hasVN {
		for k, c := range p.corners {
			s.Indices[k] = c.v
		}
		s.Positions = p.pos
	} else {
		// Output vertex v is position v with the first (vt, vn) pair used
		// with it; other pairs get new vertices after the file's ones.
		first := make([]objCorner, nv)
		for i := range first {
			first[i].v = -1
		}
		var extra map[objCorner]int32
		var extraCorners []objCorner
		for k, c := range p.corners {
			f := &first[c.v]
			switch {
			case f.v < 0:
				*f = c
				s.Indices[k] = c.v
			case *f == c:
				s.Indices[k] = c.v
			default:
				if extra == nil {
					extra = make(map[objCorner]int32)
				}
				o, ok := extra[c]
				if !ok {
					if nv+len(extraCorners) >= maxMeshVertices {
						return nil, &ParseError{File: p.file, Err: fmt.Errorf("too many vertices")}
					}
					o = int32(nv + len(extraCorners))
					extra[c] = o
					extraCorners = append(extraCorners, c)
				}
				s.Indices[k] = o
			}
		}
		total := nv + len(extraCorners)
		s.Positions = make([]mgl64.Vec3, total)
		copy(s.Positions, p.pos)
		if p.hasVT {
			s.UVs = make([]mgl64.Vec2, total)
		}
		if p.hasVN {
			s.Normals = make([]mgl64.Vec3, total)
		}
		attrs := func(o int, c objCorner) {
			if c.vt >= 0 {
				s.UVs[o] = p.uv[c.vt]
			}
			if c.vn >= 0 {
				s.Normals[o] = p.nrm[c.vn]
			}
		}
		for v, c := range first {
			if c.v >= 0 {
				attrs(v, c)
			}
		}
		for i, c := range extraCorners {
			s.Positions[nv+i] = p.pos[c.v]
			attrs(nv+i, c)
		}
	}
	meshCompactVertices(s)
	if _, err := validateMesh(p.file, s); err != nil {
		return nil, err
	}
	return s, nil
}

// meshCompactVertices drops the vertices no triangle uses, keeping the order of
// the others, and renumbers the indices.
func meshCompactVertices(s *render.Shape) {
	used := make([]int32, len(s.Positions))
	for _, i := range s.Indices {
		used[i] = 1
	}
	n := int32(0)
	for i, u := range used {
		if u != 0 {
			used[i] = n
			n++
		} else {
			used[i] = -1
		}
	}
	if int(n) == len(s.Positions) {
		return
	}
	for k, i := range s.Indices {
		s.Indices[k] = used[i]
	}
	for i, o := range used {
		if o < 0 {
			continue
		}
		s.Positions[o] = s.Positions[i]
		if s.Normals != nil {
			s.Normals[o] = s.Normals[i]
		}
		if s.UVs != nil {
			s.UVs[o] = s.UVs[i]
		}
	}
	s.Positions = s.Positions[:n:n]
	if s.Normals != nil {
		s.Normals = s.Normals[:n:n]
	}
	if s.UVs != nil {
		s.UVs = s.UVs[:n:n]
	}
}

// meshPow10 holds the powers of ten that float64 represents exactly.
var meshPow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// meshParseFloat parses a decimal number from b, correctly rounded as
// strconv.ParseFloat does. Plain decimals with at most 15 significant digits
// and a small exponent (every "%.6f" value of magnitude below 1e9) take
// Clinger's exact fast path: the digits form an exactly representable
// integer m and the result m * 10^e or m / 10^-e is a single correctly
// rounded IEEE operation on exact operands (W. D. Clinger, "How to read
// floating point numbers accurately", PLDI 1990). Everything else goes to
// strconv.ParseFloat, read from b without a copy.
func meshParseFloat(b []byte) (float64, bool) {
	i := 0
	neg := false
	if i < len(b) && (b[i] == '-' || b[i] == '+') {
		neg = b[i] == '-'
		i++
	}
	var mant uint64
	digits, exp := 0, 0
	sawDigit, sawDot := false, false
	for ; i < len(b); i++ {
		c := b[i]
		if c == '.' {
			if sawDot {
				return meshSlowFloat(b)
			}
			sawDot = true
			continue
		}
		d := c - '0'
		if d > 9 {
			break
		}
		sawDigit = true
		if mant == 0 && d == 0 {
			// Leading zeros do not count as significant digits.
			if sawDot {
				exp--
			}
			continue
		}
		digits++
		if digits > 15 {
			return meshSlowFloat(b)
		}
		mant = mant*10 + uint64(d)
		if sawDot {
			exp--
		}
	}
	if !sawDigit {
		return meshSlowFloat(b)
	}
	if i < len(b) {
		if b[i] != 'e' && b[i] != 'E' {
			return meshSlowFloat(b)
		}
		i++
		eneg := false
		if i < len(b) && (b[i] == '-' || b[i] == '+') {
			eneg = b[i] == '-'
			i++
		}
		if i == len(b) {
			return meshSlowFloat(b)
		}
		e := 0
		for ; i < len(b); i++ {
			d := b[i] - '0'
			if d > 9 || e > 1000 {
				return meshSlowFloat(b)
			}
			e = e*10 + int(d)
		}
		if eneg {
			e = -e
		}
		exp += e
	}
	var f float64
	switch {
	case mant == 0:
		f = 0
	case exp >= 0 && exp <= 22:
		// m < 10^15 and m*10^exp may still be inexact when large, but one
		// rounding of an exact product is correct rounding.
		f = float64(mant) * meshPow10[exp]
	case exp < 0 && exp >= -22:
		f = float64(mant) / meshPow10[-exp]
	default:
		return meshSlowFloat(b)
	}
	if neg {
		f = -f
	}
	return f, true
}

// meshSlowFloat parses b with strconv.ParseFloat without copying it.
func meshSlowFloat(b []byte) (float64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	f, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(b), len(b)), 64)
	if err != nil {
		return 0, false
	}
	return f, true
}
