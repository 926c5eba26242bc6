package scenes

import (
	"bytes"
	"errors"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/internal/meshgen"
	"github.com/invrender/invrender/render"
)

func readOBJString(t *testing.T, src string) *render.Shape {
	t.Helper()
	s, err := ReadOBJ(strings.NewReader(src), "test.obj")
	if err != nil {
		t.Fatalf("ReadOBJ: %v", err)
	}
	if msg := meshInvariants(s); msg != "" {
		t.Fatalf("invariant broken: %s", msg)
	}
	return s
}

func meshEqualIndices(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

const objSquare = `# a unit square in z = 0
v 0 0 0
v 1 0 0
v 1 1 0
v 0 1 0
vt 0 0
vt 1 0
vt 1 1
vt 0 1
vn 0 0 2
`

func TestReadOBJFaceForms(t *testing.T) {
	pos := []mgl64.Vec3{{0, 0, 0}, {1, 0, 0}, {1, 1, 0}, {0, 1, 0}}
	// OBJ's v = 0 is the bottom of the image; ours is the top.
	uvs := []mgl64.Vec2{{0, 1}, {1, 1}, {1, 0}, {0, 0}}
	cases := []struct {
		name             string
		faces            string
		wantUV, wantNrm  bool
		wantIdx          []int32
		wantVertexCount  int
		wantVertexSource []int // output vertex -> file position
	}{
		{"v", "f 1 2 3\nf 1 3 4\n", false, false, []int32{0, 1, 2, 0, 2, 3}, 4, []int{0, 1, 2, 3}},
		{"v/vt", "f 1/1 2/2 3/3\nf 1/1 3/3 4/4\n", true, false, []int32{0, 1, 2, 0, 2, 3}, 4, []int{0, 1, 2, 3}},
		{"v//vn", "f 1//1 2//1 3//1\nf 1//1 3//1 4//1\n", false, true, []int32{0, 1, 2, 0, 2, 3}, 4, []int{0, 1, 2, 3}},
		{"v/vt/vn", "f 1/1/1 2/2/1 3/3/1\nf 1/1/1 3/3/1 4/4/1\n", true, true, []int32{0, 1, 2, 0, 2, 3}, 4, []int{0, 1, 2, 3}},
		{"quad", "f 1/1/1 2/2/1 3/3/1 4/4/1\n", true, true, []int32{0, 1, 2, 0, 2, 3}, 4, []int{0, 1, 2, 3}},
		{"tabs and trailing comment", "f\t1/1/1  2/2/1\t3/3/1 4/4/1 # quad\n", true, true, []int32{0, 1, 2, 0, 2, 3}, 4, []int{0, 1, 2, 3}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := readOBJString(t, objSquare+c.faces)
			if !meshEqualIndices(s.Indices, c.wantIdx) {
				t.Errorf("Indices = %v, want %v", s.Indices, c.wantIdx)
			}
			if len(s.Positions) != c.wantVertexCount {
				t.Fatalf("%d vertices, want %d", len(s.Positions), c.wantVertexCount)
			}
			for o, src := range c.wantVertexSource {
				if s.Positions[o] != pos[src] {
					t.Errorf("position %d = %v, want %v", o, s.Positions[o], pos[src])
				}
				if c.wantUV && s.UVs[o] != uvs[src] {
					t.Errorf("uv %d = %v, want %v", o, s.UVs[o], uvs[src])
				}
				if c.wantNrm && s.Normals[o] != (mgl64.Vec3{0, 0, 1}) {
					t.Errorf("normal %d = %v, want unit +z", o, s.Normals[o])
				}
			}
			if (s.UVs != nil) != c.wantUV || (s.Normals != nil) != c.wantNrm {
				t.Errorf("UVs present %v, Normals present %v; want %v, %v", s.UVs != nil, s.Normals != nil, c.wantUV, c.wantNrm)
			}
			if s.Name != "test" {
				t.Errorf("Name = %q, want test", s.Name)
			}
		})
	}
}

func TestReadOBJPolygonFan(t *testing.T) {
	src := "v 0 0 0\nv 2 0 0\nv 3 1 0\nv 1 3 0\nv -1 1 0\nf 1 2 3 4 5\n"
	s := readOBJString(t, src)
	want := []int32{0, 1, 2, 0, 2, 3, 0, 3, 4}
	if !meshEqualIndices(s.Indices, want) {
		t.Errorf("Indices = %v, want %v", s.Indices, want)
	}
}

func TestReadOBJNegativeIndices(t *testing.T) {
	// Relative indices refer to the elements read so far, so the same
	// "f -3 -2 -1" means different vertices at different places.
	src := `v 0 0 0
v 1 0 0
v 0 1 0
vt 0 0
vt 1 0
vt 0 1
vn 0 0 1
f -3/-3/-1 -2/-2/-1 -1/-1/-1
v 5 0 0
v 5 1 0
f -5 -2 -1
f 1 -2 -1
`
	s := readOBJString(t, src)
	// First face: positions 0 1 2 with uvs 0 1 2 and normal 0; then two
	// faces without vt and vn: positions 0 3 4 twice. Position 0 occurs
	// with two (vt, vn) pairs, so it is duplicated at the end.
	wantIdx := []int32{0, 1, 2, 5, 3, 4, 5, 3, 4}
	if !meshEqualIndices(s.Indices, wantIdx) {
		t.Fatalf("Indices = %v, want %v", s.Indices, wantIdx)
	}
	wantPos := []mgl64.Vec3{{0, 0, 0}, {1, 0, 0}, {0, 1, 0}, {5, 0, 0}, {5, 1, 0}, {0, 0, 0}}
	for i, p := range wantPos {
		if s.Positions[i] != p {
			t.Errorf("position %d = %v, want %v", i, s.Positions[i], p)
		}
	}
	if s.UVs[1] != (mgl64.Vec2{1, 1}) || s.UVs[5] != (mgl64.Vec2{}) {
		t.Errorf("UVs = %v", s.UVs)
	}
}

func TestReadOBJDeduplicatesCorners(t *testing.T) {
	// A cube with one normal per face: 8 positions, 6 normals, every
	// position used with 3 normals, so 24 output vertices, each (v, vn)
	// pair once however many triangles share it.
	pos, idx := meshgen.Box(mgl64.Vec3{-1, -1, -1}, mgl64.Vec3{1, 1, 1})
	var b strings.Builder
	for _, p := range pos {
		b.WriteString("v " + meshFtoa(p[0]) + " " + meshFtoa(p[1]) + " " + meshFtoa(p[2]) + "\n")
	}
	var normals []mgl64.Vec3
	for t := 0; t < len(idx); t += 6 {
		n := meshCross(pos[idx[t]], pos[idx[t+1]], pos[idx[t+2]]).Normalize()
		normals = append(normals, n)
		b.WriteString("vn " + meshFtoa(n[0]) + " " + meshFtoa(n[1]) + " " + meshFtoa(n[2]) + "\n")
	}
	for t := 0; t < len(idx); t += 3 {
		f := t / 6
		b.WriteString("f")
		for _, i := range idx[t : t+3] {
			b.WriteString(" " + strconv.Itoa(int(i)+1) + "//" + strconv.Itoa(f+1))
		}
		b.WriteString("\n")
	}
	s := readOBJString(t, b.String())
	if len(s.Positions) != 24 {
		t.Fatalf("%d vertices, want 24", len(s.Positions))
	}
	// The first 8 output vertices are the file's positions in order.
	for i := 0; i < 8; i++ {
		if s.Positions[i] != pos[i] {
			t.Errorf("vertex %d = %v, want %v", i, s.Positions[i], pos[i])
		}
	}
	seen := map[[6]float64]bool{}
	for i := range s.Positions {
		k := [6]float64{s.Positions[i][0], s.Positions[i][1], s.Positions[i][2], s.Normals[i][0], s.Normals[i][1], s.Normals[i][2]}
		if seen[k] {
			t.Errorf("vertex %d duplicates an earlier (position, normal) pair", i)
		}
		seen[k] = true
	}
	for tri := 0; tri < len(idx)/3; tri++ {
		for k := 0; k < 3; k++ {
			o := s.Indices[3*tri+k]
			if s.Positions[o] != pos[idx[3*tri+k]] || !s.Normals[o].ApproxEqualThreshold(normals[tri/2], 1e-15) {
				t.Fatalf("triangle %d corner %d: vertex %d = (%v, %v)", tri, k, o, s.Positions[o], s.Normals[o])
			}
		}
	}
}

func meshFtoa(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

func TestReadOBJVFlip(t *testing.T) {
	s := readOBJString(t, "v 0 0 0\nv 1 0 0\nv 0 1 0\nvt 0.25 0.125\nvt 0.5\nvt 1 0.75 0\nf 1/1 2/2 3/3\n")
	want := []mgl64.Vec2{{0.25, 0.875}, {0.5, 1}, {1, 0.25}}
	for i, w := range want {
		if s.UVs[i] != w {
			t.Errorf("uv %d = %v, want %v", i, s.UVs[i], w)
		}
	}
}

func TestReadOBJLineEndsAndIgnoredStatements(t *testing.T) {
	src := "# exported\r\nmtllib a.mtl\r\no thing\r\ng group one\r\n" +
		"v 0 0 0\r\nv 1 0 0 1.0\r\nv 0 1 0 0.5 0.5 0.5\r\n\r\n" +
		"vp 0.5\r\nusemtl red\r\ns off\r\nl 1 2\r\np 3\r\n" +
		"f 1 \\\r\n  2 \\\n 3\r\n" + // a face continued over three lines
		"v 1 1 0 # trailing comment\r\nf 2 4 3"
	s := readOBJString(t, src)
	want := []int32{0, 1, 2, 1, 3, 2}
	if !meshEqualIndices(s.Indices, want) {
		t.Errorf("Indices = %v, want %v", s.Indices, want)
	}
	if len(s.Positions) != 4 || s.Positions[3] != (mgl64.Vec3{1, 1, 0}) {
		t.Errorf("Positions = %v", s.Positions)
	}
}

func TestReadOBJContinuationKeepsLineNumbers(t *testing.T) {
	src := "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 \\\n2 \\\n3\nf 1 2 9\n"
	_, err := ReadOBJ(strings.NewReader(src), "c.obj")
	if err == nil || !strings.HasPrefix(err.Error(), "c.obj:7: ") {
		t.Errorf("error %v, want one at c.obj:7", err)
	}
}

func TestReadOBJMixedAttributes(t *testing.T) {
	// One face has vt and vn, the other neither: the second face's corners
	// get UV (0, 0) and a normal computed from the faces that use them.
	src := `v 0 0 0
v 1 0 0
v 0 1 0
v 1 1 0
vt 0.5 0.5
vn 0 0 1
f 1/1/1 2/1/1 3/1/1
f 2 4 3
`
	s := readOBJString(t, src)
	if len(s.Positions) != 6 {
		t.Fatalf("%d vertices, want 6", len(s.Positions))
	}
	for _, o := range s.Indices[3:] {
		if s.UVs[o] != (mgl64.Vec2{}) {
			t.Errorf("vertex %d uv = %v, want zero", o, s.UVs[o])
		}
		if !s.Normals[o].ApproxEqualThreshold(mgl64.Vec3{0, 0, 1}, 1e-15) {
			t.Errorf("vertex %d normal = %v, want +z (repaired)", o, s.Normals[o])
		}
	}
	for _, o := range s.Indices[:3] {
		if s.UVs[o] != (mgl64.Vec2{0.5, 0.5}) {
			t.Errorf("vertex %d uv = %v, want (0.5, 0.5)", o, s.UVs[o])
		}
	}
}

func TestReadOBJForwardReferencesAndUnusedVertices(t *testing.T) {
	// vt may follow the face using it (Mitsuba accepts this); vertex 2 is
	// unused and dropped.
	src := "v 0 0 0\nv 9 9 9\nv 1 0 0\nv 0 1 0\nf 1/1 3/1 4/1\nvt 0.5 0.25\n"
	s := readOBJString(t, src)
	wantPos := []mgl64.Vec3{{0, 0, 0}, {1, 0, 0}, {0, 1, 0}}
	if len(s.Positions) != 3 {
		t.Fatalf("Positions = %v, want %v", s.Positions, wantPos)
	}
	for i, p := range wantPos {
		if s.Positions[i] != p {
			t.Errorf("position %d = %v, want %v", i, s.Positions[i], p)
		}
	}
	if !meshEqualIndices(s.Indices, []int32{0, 1, 2}) || s.UVs[2] != (mgl64.Vec2{0.5, 0.75}) {
		t.Errorf("Indices %v UVs %v", s.Indices, s.UVs)
	}
}

func TestReadOBJDegenerateKept(t *testing.T) {
	s := readOBJString(t, "v 0 0 0\nv 1 0 0\nv 2 0 0\nv 0 1 0\nf 1 2 3\nf 1 2 4\nf 1 1 2\n")
	if s.NumTriangles() != 3 || !s.Degenerate[0] || s.Degenerate[1] || !s.Degenerate[2] {
		t.Errorf("Degenerate = %v, want [true false true]", s.Degenerate)
	}
}

func TestReadOBJErrors(t *testing.T) {
	tri := "v 0 0 0\nv 1 0 0\nv 0 1 0\n"
	cases := []struct {
		name, src string
		line      int
		want      string
	}{
		{"bad number", "v 0 0 0\nv 1 x 0\n", 2, `cannot parse "x" as a number`},
		{"short vertex", "v 0 0\n", 1, "vertex position has 2 numbers, want 3"},
		{"nan", "v 0 nan 0\n", 1, "not a finite number"},
		{"inf", tri + "vn inf 0 0\n", 4, "not a finite number"},
		{"overflow", "v 1e999 0 0\n", 1, "cannot parse"},
		{"bad vt", tri + "vt a\n", 4, "texture coordinate"},
		{"index out of range", tri + "f 1 2 3\nf 1 2 4\n", 5, "face refers to vertex 4, but the file defines 3"},
		{"vt out of range", tri + "vt 0 0\nf 1/1 2/2 3/1\n", 5, "face refers to texture coordinate 2, but the file defines 1"},
		{"vn out of range", tri + "f 1//1 2//1 3//1\n", 4, "face refers to normal 1, but the file defines 0"},
		{"index 0", tri + "f 0 1 2\n", 4, "index 0 is invalid"},
		{"relative too far", tri + "f -4 -2 -1\n", 4, "relative vertex index -4 out of range"},
		{"two vertices", tri + "f 1 2\n", 4, "face has 2 vertices, need at least 3"},
		{"empty face", tri + "f\n", 4, "face has 0 vertices"},
		{"four fields", tri + "f 1/1/1/1 2 3\n", 4, "more than three indices"},
		{"no vertex index", tri + "f /1 2 3\n", 4, "lacks a vertex index"},
		{"bad index", tri + "f 1 2 3.0\n", 4, `cannot parse "3.0" as an index`},
		{"huge index", tri + "f 1 2 99999999999999999999\n", 4, "out of range"},
		{"sign only", tri + "f 1 2 -\n", 4, "as an index"},
		{"no faces", tri, 0, "no faces (3 vertices)"},
		{"empty", "", 0, "no faces"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadOBJ(strings.NewReader(c.src), "bad.obj")
			if err == nil {
				t.Fatalf("no error, want %q", c.want)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			if pe.File != "bad.obj" || pe.Line != c.line {
				t.Errorf("error at %s:%d, want bad.obj:%d (%v)", pe.File, pe.Line, c.line, err)
			}
			if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "bad.obj") {
				t.Errorf("error %q does not name the file and contain %q", err, c.want)
			}
		})
	}
}

func TestLoadOBJMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nothere.obj")
	_, err := LoadOBJ(path)
	if err == nil || !strings.Contains(err.Error(), path) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error %v, want a not-exist error naming %s", err, path)
	}
}

func TestParseFloatMatchesStrconv(t *testing.T) {
	check := func(s string) {
		t.Helper()
		got, ok := meshParseFloat([]byte(s))
		want, err := strconv.ParseFloat(s, 64)
		if ok != (err == nil) {
			t.Fatalf("meshParseFloat(%q) ok=%v, strconv error %v", s, ok, err)
		}
		if ok && math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("meshParseFloat(%q) = %v (%x), strconv %v (%x)", s, got, math.Float64bits(got), want, math.Float64bits(want))
		}
	}
	for _, s := range []string{"0", "-0", "+1", "1.", ".5", "-.5", "0.000000", "-0.000000", "123456789.123456",
		"999999999999999", "9999999999999999", "12345678901234567890", "1e22", "1e23", "1e-22", "1.5e-23",
		"0.1", "0.30000000000000004", "1E5", "1e+5", "2.5e-3", "4.9e-324", "1.7976931348623157e308",
		"0000000000000000000001.5", "0.0000000000000000000000000123", "1e", "e5", ".", "-", "", "1.2.3",
		"1x", "nan", "inf", "-Infinity", "0x1p-2", "1_0", "00.00e00", "1e0000000000000000000005"} {
		check(s)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200000; i++ {
		x := (rng.Float64()*2 - 1) * math.Pow(10, float64(rng.IntN(12)-4))
		check(strconv.FormatFloat(x, 'f', 6, 64))
		check(strconv.FormatFloat(x, 'f', rng.IntN(18), 64))
		check(strconv.FormatFloat(x, 'e', rng.IntN(17), 64))
		check(strconv.FormatFloat(math.Float64frombits(rng.Uint64()), 'g', -1, 64))
	}
}

func TestWriteOBJRoundTrip(t *testing.T) {
	pos, idx := meshgen.Torus(1, 0.3, 12, 8)
	s := &render.Shape{Name: "torus", Positions: pos, Indices: idx,
		Normals: make([]mgl64.Vec3, len(pos)), UVs: make([]mgl64.Vec2, len(pos))}
	for i, p := range pos {
		s.Normals[i] = p.Normalize()
		s.UVs[i] = mgl64.Vec2{float64(i%12) / 16, float64(i%8) / 8}
	}
	var buf bytes.Buffer
	if err := WriteOBJ(&buf, s); err != nil {
		t.Fatal(err)
	}
	got, err := ReadOBJ(&buf, "torus.obj")
	if err != nil {
		t.Fatal(err)
	}
	if !meshEqualIndices(got.Indices, idx) || len(got.Positions) != len(pos) {
		t.Fatalf("indices or vertex count differ")
	}
	for i := range pos {
		if got.Positions[i] != pos[i] || got.UVs[i] != s.UVs[i] ||
			!got.Normals[i].ApproxEqualThreshold(s.Normals[i], 1e-15) {
			t.Fatalf("vertex %d: got (%v %v %v), want (%v %v %v)", i,
				got.Positions[i], got.Normals[i], got.UVs[i], pos[i], s.Normals[i], s.UVs[i])
		}
	}
}

// writeGenOBJ writes a mesh as the benchmark scene generator does: "%.6f"
// coordinates and 1-based "f a b c" lines.
func writeGenOBJ(pos []mgl64.Vec3, idx []int32) []byte {
	buf := make([]byte, 0, 36*len(pos)+24*len(idx)/3)
	for _, p := range pos {
		buf = append(buf, 'v')
		for _, x := range p {
			buf = append(buf, ' ')
			buf = strconv.AppendFloat(buf, x, 'f', 6, 64)
		}
		buf = append(buf, '\n')
	}
	for t := 0; t < len(idx); t += 3 {
		buf = append(buf, 'f')
		for _, i := range idx[t : t+3] {
			buf = append(buf, ' ')
			buf = strconv.AppendInt(buf, int64(i)+1, 10)
		}
		buf = append(buf, '\n')
	}
	return buf
}

func TestLoadOBJIcosphereAsGenerated(t *testing.T) {
	pos, idx := meshgen.Icosphere(4, 0.5, mgl64.Vec3{0, 0.55, 0}, 0.08)
	path := filepath.Join(t.TempDir(), "object.obj")
	if err := os.WriteFile(path, writeGenOBJ(pos, idx), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := LoadOBJ(path)
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "object" || !meshEqualIndices(s.Indices, idx) || len(s.Positions) != len(pos) {
		t.Fatalf("name %q, %d vertices %d indices", s.Name, len(s.Positions), len(s.Indices))
	}
	for i, p := range pos {
		if s.Positions[i] != builtinRound6v(p) {
			t.Fatalf("vertex %d = %v, want %v", i, s.Positions[i], builtinRound6v(p))
		}
	}
	if msg := meshInvariants(s); msg != "" {
		t.Error(msg)
	}
}

// BenchmarkLoadOBJDense loads the 327,680-triangle dense benchmark mesh,
// written as the scene generator writes it.
func BenchmarkLoadOBJDense(b *testing.B) {
	pos, idx := meshgen.Icosphere(7, 0.5, mgl64.Vec3{0, 0.55, 0}, 0.08)
	path := filepath.Join(b.TempDir(), "object.obj")
	data := writeGenOBJ(pos, idx)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		s, err := LoadOBJ(path)
		if err != nil {
			b.Fatal(err)
		}
		if s.NumTriangles() != 327680 {
			b.Fatalf("%d triangles", s.NumTriangles())
		}
	}
}

func FuzzReadOBJ(f *testing.F) {
	f.Add([]byte(objSquare + "f 1/1/1 2/2/1 3/3/1 4/4/1\n"))
	f.Add([]byte("v 0 0 0\nv 1 0 0\nv 0 1 0\nf -3 -2 -1\nf 1//1 2 3\nvn 0 0 0\n"))
	f.Add([]byte("v 0 0 0\r\nv 1 0 0\r\nv 0 1 0 \\\r\n\r\nf 1 2 \\\n3\n"))
	f.Add([]byte("v 1e308 -1e308 0\nv 1e308 1e308 0\nv 0 0 1e308\nf 1 2 3\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ReadOBJ(bytes.NewReader(data), "fuzz.obj")
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.File != "fuzz.obj" {
				t.Fatalf("error %v is not a *ParseError naming the file", err)
			}
			return
		}
		if msg := meshInvariants(s); msg != "" {
			t.Fatal(msg)
		}
	})
}
