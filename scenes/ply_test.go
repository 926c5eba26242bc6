package scenes

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/internal/meshgen"
	"github.com/invrender/invrender/render"
)

// plyEncoder writes PLY bodies in any of the three formats.
type plyEncoder struct {
	format string
	buf    []byte
}

func (e *plyEncoder) order() binary.AppendByteOrder {
	if e.format == "binary_big_endian" {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// val appends x as a value of the PLY type typ.
func (e *plyEncoder) val(typ string, x float64) {
	if e.format == "ascii" {
		e.buf = strconv.AppendFloat(e.buf, x, 'g', -1, 64)
		e.buf = append(e.buf, ' ')
		return
	}
	o := e.order()
	switch typ {
	case "char", "int8":
		e.buf = append(e.buf, byte(int8(x)))
	case "uchar", "uint8":
		e.buf = append(e.buf, byte(x))
	case "short", "int16":
		e.buf = o.AppendUint16(e.buf, uint16(int16(x)))
	case "ushort", "uint16":
		e.buf = o.AppendUint16(e.buf, uint16(x))
	case "int", "int32":
		e.buf = o.AppendUint32(e.buf, uint32(int32(x)))
	case "uint", "uint32":
		e.buf = o.AppendUint32(e.buf, uint32(x))
	case "float", "float32":
		e.buf = o.AppendUint32(e.buf, math.Float32bits(float32(x)))
	case "double", "float64":
		e.buf = o.AppendUint64(e.buf, math.Float64bits(x))
	default:
		panic("test encoder: type " + typ)
	}
}

func (e *plyEncoder) list(countType, itemType string, xs ...float64) {
	e.val(countType, float64(len(xs)))
	for _, x := range xs {
		e.val(itemType, x)
	}
}

func (e *plyEncoder) end() {
	if e.format == "ascii" && len(e.buf) > 0 && e.buf[len(e.buf)-1] == ' ' {
		e.buf[len(e.buf)-1] = '\n'
	}
}

// pyramid is a square pyramid: a quad base and four triangles, with
// integer positions (exact in every PLY type) and normals and texture
// coordinates that floats represent exactly.
var (
	pyrPos = []mgl64.Vec3{{0, 0, 0}, {2, 0, 0}, {2, 0, 2}, {0, 0, 2}, {1, 2, 1}}
	pyrNrm = []mgl64.Vec3{{-1, -1, -1}, {1, -1, -1}, {1, -1, 1}, {-1, -1, 1}, {0, 2, 0}}
	pyrUV  = []mgl64.Vec2{{0, 0}, {1, 0}, {1, 1}, {0, 1}, {0.5, 0.25}}
	pyrFac = [][]int32{{0, 1, 2, 3}, {0, 4, 1}, {1, 4, 2}, {2, 4, 3}, {3, 4, 0}}
	// pyrTri is pyrFac triangulated as a fan.
	pyrTri = []int32{0, 1, 2, 0, 2, 3, 0, 4, 1, 1, 4, 2, 2, 4, 3, 3, 4, 0}
)

type plyOpts struct {
	format          string
	countT, indexT  string
	posT            string
	uName, vName    string
	listName        string
	extras          bool
	crlfHeader      bool
	noNormals, noUV bool
}

// pyramidPLY writes the pyramid as a PLY file. With extras it adds
// elements, scalar properties and list properties the loader must skip.
func pyramidPLY(o plyOpts) []byte {
	if o.posT == "" {
		o.posT = "float"
	}
	if o.uName == "" {
		o.uName, o.vName = "u", "v"
	}
	if o.listName == "" {
		o.listName = "vertex_indices"
	}
	var h strings.Builder
	h.WriteString("ply\nformat " + o.format + " 1.0\ncomment a pyramid # with a hash\nobj_info test\n")
	if o.extras {
		h.WriteString("element material 2\nproperty uchar red\nproperty list uchar float coeffs\nproperty double shininess\n")
	}
	h.WriteString("element vertex 5\n")
	for _, c := range []string{"x", "y", "z"} {
		h.WriteString("property " + o.posT + " " + c + "\n")
		if o.extras && c == "z" {
			h.WriteString("property uchar red\n")
		}
	}
	if !o.noNormals {
		h.WriteString("property float nx\nproperty float ny\nproperty float nz\n")
	}
	if o.extras {
		h.WriteString("property list int short neighbours\n")
	}
	if !o.noUV {
		h.WriteString("property double " + o.uName + "\nproperty float " + o.vName + "\n")
	}
	h.WriteString("element face 5\n")
	if o.extras {
		h.WriteString("property int flags\n")
	}
	h.WriteString("property list " + o.countT + " " + o.indexT + " " + o.listName + "\n")
	if o.extras {
		h.WriteString("property list uchar float texcoord\nelement edge 2\nproperty int vertex1\nproperty int vertex2\n")
		h.WriteString("element empty 1000000000000\n")
	}
	h.WriteString("end_header\n")
	header := h.String()
	if o.crlfHeader {
		header = strings.ReplaceAll(header, "\n", "\r\n")
	}
	e := &plyEncoder{format: o.format, buf: []byte(header)}
	if o.extras {
		e.val("uchar", 200)
		e.list("uchar", "float", 0.5, 1.5)
		e.val("double", 10)
		e.end()
		e.val("uchar", 7)
		e.list("uchar", "float")
		e.val("double", 20)
		e.end()
	}
	for i, p := range pyrPos {
		for c := 0; c < 3; c++ {
			e.val(o.posT, p[c])
			if o.extras && c == 2 {
				e.val("uchar", float64(i))
			}
		}
		if !o.noNormals {
			for c := 0; c < 3; c++ {
				e.val("float", pyrNrm[i][c])
			}
		}
		if o.extras {
			e.list("int", "short", float64(i), -3, 300)
		}
		if !o.noUV {
			e.val("double", pyrUV[i][0])
			e.val("float", pyrUV[i][1])
		}
		e.end()
	}
	for f, face := range pyrFac {
		if o.extras {
			e.val("int", float64(-f))
		}
		xs := make([]float64, len(face))
		for k, i := range face {
			xs[k] = float64(i)
		}
		e.list(o.countT, o.indexT, xs...)
		if o.extras {
			e.list("uchar", "float", 0.25, 0.75)
		}
		e.end()
	}
	if o.extras {
		for k := 0; k < 2; k++ {
			e.val("int", 1)
			e.val("int", 2)
			e.end()
		}
	}
	return e.buf
}

// pyramidOBJ writes the same pyramid as an OBJ file.
func pyramidOBJ() []byte {
	var b bytes.Buffer
	for _, p := range pyrPos {
		fmt.Fprintf(&b, "v %g %g %g\n", p[0], p[1], p[2])
	}
	for _, n := range pyrNrm {
		fmt.Fprintf(&b, "vn %g %g %g\n", n[0], n[1], n[2])
	}
	for _, t := range pyrUV {
		fmt.Fprintf(&b, "vt %g %g\n", t[0], t[1])
	}
	for _, f := range pyrFac {
		b.WriteString("f")
		for _, i := range f {
			fmt.Fprintf(&b, " %d/%d/%d", i+1, i+1, i+1)
		}
		b.WriteString("\n")
	}
	return b.Bytes()
}

func TestReadPLYFormatsAgainstOBJ(t *testing.T) {
	obj, err := ReadOBJ(bytes.NewReader(pyramidOBJ()), "pyramid.obj")
	if err != nil {
		t.Fatal(err)
	}
	if !meshEqualIndices(obj.Indices, pyrTri) {
		t.Fatalf("OBJ indices %v, want %v", obj.Indices, pyrTri)
	}
	var cases []plyOpts
	for _, format := range []string{"ascii", "binary_little_endian", "binary_big_endian"} {
		for _, ty := range [][2]string{{"uchar", "int"}, {"int", "uint"}, {"char", "ushort"}, {"ushort", "short"}, {"uint8", "int32"}} {
			for _, extras := range []bool{false, true} {
				cases = append(cases, plyOpts{format: format, countT: ty[0], indexT: ty[1], extras: extras})
			}
		}
		cases = append(cases,
			plyOpts{format: format, countT: "uchar", indexT: "int", posT: "double", uName: "s", vName: "t"},
			plyOpts{format: format, countT: "uchar", indexT: "int", posT: "short", uName: "texture_u", vName: "texture_v", listName: "vertex_index", extras: true},
			plyOpts{format: format, countT: "uchar", indexT: "int", posT: "int8", uName: "texture_s", vName: "texture_t", crlfHeader: true},
		)
	}
	for _, o := range cases {
		name := fmt.Sprintf("%s/%s-%s/%s/%s%s/extras=%v", o.format, o.countT, o.indexT, o.posT, o.uName, o.vName, o.extras)
		t.Run(name, func(t *testing.T) {
			s, err := ReadPLY(bytes.NewReader(pyramidPLY(o)), "pyramid.ply")
			if err != nil {
				t.Fatal(err)
			}
			if msg := meshInvariants(s); msg != "" {
				t.Fatal(msg)
			}
			if s.Name != "pyramid" {
				t.Errorf("Name = %q", s.Name)
			}
			if !meshEqualIndices(s.Indices, obj.Indices) || len(s.Positions) != len(obj.Positions) {
				t.Fatalf("indices %v, want %v", s.Indices, obj.Indices)
			}
			for i := range s.Positions {
				// PLY texture coordinates are not flipped, OBJ ones are.
				flipped := mgl64.Vec2{obj.UVs[i][0], 1 - obj.UVs[i][1]}
				if s.Positions[i] != obj.Positions[i] || s.Normals[i] != obj.Normals[i] || s.UVs[i] != flipped {
					t.Errorf("vertex %d: PLY (%v %v %v), OBJ (%v %v %v)", i,
						s.Positions[i], s.Normals[i], s.UVs[i], obj.Positions[i], obj.Normals[i], flipped)
				}
			}
		})
	}
}

func TestReadPLYWithoutNormalsAndUVs(t *testing.T) {
	s, err := ReadPLY(bytes.NewReader(pyramidPLY(plyOpts{format: "ascii", countT: "uchar", indexT: "int", noNormals: true, noUV: true})), "p.ply")
	if err != nil {
		t.Fatal(err)
	}
	if s.Normals != nil || s.UVs != nil || !meshEqualIndices(s.Indices, pyrTri) {
		t.Errorf("Normals %v UVs %v Indices %v", s.Normals, s.UVs, s.Indices)
	}
}

func TestWritePLYRoundTrip(t *testing.T) {
	pos, idx := meshgen.Icosphere(2, 0.7, mgl64.Vec3{1, 2, 3}, 0.1)
	s := &render.Shape{Name: "ico", Positions: pos, Indices: idx,
		Normals: make([]mgl64.Vec3, len(pos)), UVs: make([]mgl64.Vec2, len(pos))}
	for i, p := range pos {
		s.Normals[i], _ = meshNormalize(p.Sub(mgl64.Vec3{1, 2, 3}))
		s.UVs[i] = mgl64.Vec2{p[0] / 3, p[2] * 0.1}
	}
	var buf bytes.Buffer
	if err := WritePLY(&buf, s); err != nil {
		t.Fatal(err)
	}
	got, err := ReadPLY(&buf, "ico.ply")
	if err != nil {
		t.Fatal(err)
	}
	if !meshEqualIndices(got.Indices, idx) {
		t.Fatal("indices differ")
	}
	for i := range pos {
		if got.Positions[i] != pos[i] || got.UVs[i] != s.UVs[i] || !got.Normals[i].ApproxEqualThreshold(s.Normals[i], 1e-15) {
			t.Fatalf("vertex %d differs", i)
		}
	}
}

func TestReadPLYTruncated(t *testing.T) {
	for _, format := range []string{"ascii", "binary_little_endian", "binary_big_endian"} {
		data := pyramidPLY(plyOpts{format: format, countT: "uchar", indexT: "int", extras: true})
		lastTok := bytes.LastIndexAny(bytes.TrimRight(data, " \n"), " \n") + 1
		for n := 0; n < len(data); n++ {
			s, err := ReadPLY(bytes.NewReader(data[:n]), "cut.ply")
			if err == nil {
				if format == "ascii" && n >= lastTok {
					continue // only the last number was shortened
				}
				t.Fatalf("%s cut at %d of %d: no error", format, n, len(data))
			}
			if s != nil {
				t.Fatalf("%s cut at %d: shape and error", format, n)
			}
			var pe *ParseError
			if !errors.As(err, &pe) || pe.File != "cut.ply" {
				t.Fatalf("%s cut at %d: %v is not a *ParseError naming the file", format, n, err)
			}
			if n > 0 && pe.Line == 0 && pe.Offset == 0 {
				t.Errorf("%s cut at %d: error %q gives neither line nor offset", format, n, err)
			}
			if !strings.HasPrefix(err.Error(), "cut.ply") {
				t.Errorf("error %q does not start with the file name", err)
			}
		}
	}
}

func TestReadPLYErrors(t *testing.T) {
	const head = "ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\nproperty float z\n"
	const faceHead = "element face 1\nproperty list uchar int vertex_indices\nend_header\n"
	const verts = "0 0 0\n1 0 0\n0 1 0\n"
	le := func(parts ...any) string {
		var b []byte
		for _, p := range parts {
			switch v := p.(type) {
			case string:
				b = append(b, v...)
			case float32:
				b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
			case int32:
				b = binary.LittleEndian.AppendUint32(b, uint32(v))
			case uint8:
				b = append(b, v)
			}
		}
		return string(b)
	}
	binHead := strings.Replace(head, "ascii", "binary_little_endian", 1) + faceHead
	binVerts := le(float32(0), float32(0), float32(0), float32(1), float32(0), float32(0), float32(0), float32(1), float32(0))
	cases := []struct {
		name, src    string
		line, offset int
		want         string
	}{
		{"empty", "", 0, 0, "empty file"},
		{"not ply", "obj\n", 1, 0, "not a PLY file"},
		{"no end_header", head, 7, 0, "truncated header"},
		{"unknown format", "ply\nformat binary_middle_endian 1.0\n", 2, 0, `unknown format "binary_middle_endian"`},
		{"version", "ply\nformat ascii 2.0\n", 2, 0, "unsupported PLY version"},
		{"no format", "ply\nelement vertex 0\nend_header\n", 3, 0, "no format line"},
		{"two formats", "ply\nformat ascii 1.0\nformat ascii 1.0\n", 3, 0, "second format"},
		{"unknown keyword", "ply\nformat ascii 1.0\nvertex 3\n", 3, 0, `unknown header keyword "vertex"`},
		{"unknown type", "ply\nformat ascii 1.0\nelement vertex 3\nproperty real x\n", 4, 0, `unknown type "real"`},
		{"float count", "ply\nformat ascii 1.0\nelement face 3\nproperty list float int vertex_indices\n", 4, 0, "not an integer type"},
		{"property first", "ply\nformat ascii 1.0\nproperty float x\n", 3, 0, "property before any element"},
		{"bad count", "ply\nformat ascii 1.0\nelement vertex -3\n", 3, 0, "cannot parse count"},
		{"duplicate property", "ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float x\n", 5, 0, "two properties named"},
		{"no vertex", "ply\nformat ascii 1.0\n" + faceHead, 5, 0, "no vertex element"},
		{"no face", head + "end_header\n" + verts, 7, 0, "no face element"},
		{"no z", "ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\n" + faceHead, 3, 0, "lacks one of the properties x, y, z"},
		{"no index list", head + "element face 1\nproperty list uchar int indices\nend_header\n", 7, 0, "lacks the list property vertex_indices"},
		{"float indices", head + "element face 1\nproperty list uchar float vertex_indices\nend_header\n", 7, 0, "must be a list of integers"},
		{"bad number", head + faceHead + "0 0 0\n1 zero 0\n0 1 0\n3 0 1 2\n", 11, 0, `vertex 1 property "y": cannot parse "zero"`},
		{"nan", head + faceHead + "0 0 0\n1 nan 0\n0 1 0\n3 0 1 2\n", 11, 0, `vertex 1 property "y" is not finite`},
		{"ascii index out of range", head + faceHead + verts + "3 0 1 3\n", 13, 0, "face 0: vertex index 3 out of range [0, 3)"},
		{"ascii negative index", head + faceHead + verts + "3 0 -1 2\n", 13, 0, "face 0: vertex index -1 out of range"},
		{"ascii two vertices", head + faceHead + verts + "2 0 1\n", 13, 0, "face 0 has 2 vertices, need at least 3"},
		{"ascii bad index", head + faceHead + verts + "3 0 1 2.5\n", 13, 0, `cannot parse "2.5" as an integer`},
		{"ascii trailing", head + faceHead + verts + "3 0 1 2\n7\n", 14, 0, `unexpected "7" after the last element`},
		{"ascii short", head + faceHead + verts + "3 0 1\n", 14, 0, "unexpected end of data"},
		{"ascii too many records", strings.Replace(head, "vertex 3", "vertex 2000000000", 1) + faceHead + verts, 10, 0, "truncated data"},
		{"binary index out of range", binHead + binVerts + le(uint8(3), int32(0), int32(1), int32(7)), 0, 214, "face 0: vertex index 7 out of range [0, 3)"},
		{"binary one vertex", binHead + binVerts + le(uint8(1), int32(0)), 0, 205, "face 0 has 1 vertices, need at least 3"},
		{"binary truncated vertex", binHead + binVerts[:30], 0, 169, `truncated data: element "vertex" declares 3 records of at least 12 bytes, 30 bytes left`},
		{"binary truncated face", binHead + binVerts + le(uint8(3), int32(0), int32(1)), 0, 206, "truncated data: face 0: 3 indices need 12 bytes, 8 left"},
		{"binary inf", binHead + le(float32(0), float32(0), float32(0), float32(1), float32(math.Inf(1)), float32(0), float32(0), float32(1), float32(0), uint8(3), int32(0), int32(1), int32(2)), 0, 185, `vertex 1 property "y" is not finite`},
		{"binary huge list", binHead + binVerts + le(uint8(255)), 0, 206, "truncated data"},
		{"binary huge count", strings.Replace(binHead, "vertex 3", "vertex 4000000000", 1), 3, 0, "4000000000 vertices, more than"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadPLY(strings.NewReader(c.src), "bad.ply")
			if err == nil {
				t.Fatalf("no error, want %q", c.want)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			if pe.File != "bad.ply" || (c.line != 0 && pe.Line != c.line) || (c.offset != 0 && pe.Offset != int64(c.offset)) {
				t.Errorf("error at %s line %d byte %d, want line %d byte %d: %v", pe.File, pe.Line, pe.Offset, c.line, c.offset, err)
			}
			if !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "bad.ply") {
				t.Errorf("error %q does not name the file and contain %q", err, c.want)
			}
		})
	}
}

func TestLoadPLYMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nothere.ply")
	_, err := LoadPLY(path)
	if err == nil || !strings.Contains(err.Error(), path) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error %v, want a not-exist error naming %s", err, path)
	}
}

func TestHalfToFloat(t *testing.T) {
	cases := map[uint16]float64{0x0000: 0, 0x3c00: 1, 0xc000: -2, 0x7bff: 65504, 0x0001: math.Ldexp(1, -24),
		0x3555: 0.333251953125, 0x7c00: math.Inf(1), 0xfc00: math.Inf(-1)}
	for h, want := range cases {
		if got := plyHalfToFloat(h); got != want {
			t.Errorf("plyHalfToFloat(%#x) = %v, want %v", h, got, want)
		}
	}
	if !math.IsNaN(plyHalfToFloat(0x7e00)) {
		t.Error("0x7e00 is not NaN")
	}
}

func FuzzReadPLY(f *testing.F) {
	for _, format := range []string{"ascii", "binary_little_endian", "binary_big_endian"} {
		f.Add(pyramidPLY(plyOpts{format: format, countT: "uchar", indexT: "int", extras: true}))
		f.Add(pyramidPLY(plyOpts{format: format, countT: "ushort", indexT: "uint", posT: "double", noNormals: true}))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ReadPLY(bytes.NewReader(data), "fuzz.ply")
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.File != "fuzz.ply" {
				t.Fatalf("error %v is not a *ParseError naming the file", err)
			}
			return
		}
		if msg := meshInvariants(s); msg != "" {
			t.Fatal(msg)
		}
	})
}
