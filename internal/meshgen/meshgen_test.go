package meshgen

import (
	"bufio"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/geom"
)

// checkIndices fails if an index is out of range or the count is not a
// multiple of three.
func checkIndices(t *testing.T, name string, pos []mgl64.Vec3, idx []int32) {
	t.Helper()
	if len(idx)%3 != 0 {
		t.Fatalf("%s: %d indices, not a multiple of 3", name, len(idx))
	}
	for k, i := range idx {
		if i < 0 || int(i) >= len(pos) {
			t.Fatalf("%s: index %d = %d out of range [0, %d)", name, k, i, len(pos))
		}
	}
}

// checkClosed fails unless every directed edge (a, b) occurs exactly once
// and its reverse (b, a) exactly once too: a closed, consistently oriented
// 2-manifold.
func checkClosed(t *testing.T, name string, idx []int32) {
	t.Helper()
	directed := make(map[[2]int32]int, len(idx))
	for f := 0; f < len(idx); f += 3 {
		for e := 0; e < 3; e++ {
			a, b := idx[f+e], idx[f+(e+1)%3]
			if a == b {
				t.Fatalf("%s: triangle %d repeats vertex %d", name, f/3, a)
			}
			directed[[2]int32{a, b}]++
		}
	}
	for e, n := range directed {
		if n != 1 {
			t.Fatalf("%s: directed edge %v used %d times", name, e, n)
		}
		if directed[[2]int32{e[1], e[0]}] != 1 {
			t.Fatalf("%s: edge %v has no opposite twin", name, e)
		}
	}
}

// signedVolume is the divergence-theorem volume of a closed mesh; positive
// when the triangles face outwards.
func signedVolume(pos []mgl64.Vec3, idx []int32) float64 {
	v := 0.0
	for f := 0; f < len(idx); f += 3 {
		a, b, c := pos[idx[f]], pos[idx[f+1]], pos[idx[f+2]]
		v += a.Dot(b.Cross(c)) / 6
	}
	return v
}

func TestCounts(t *testing.T) {
	for s := 0; s <= 4; s++ {
		pos, idx := Icosphere(s, 1, mgl64.Vec3{}, 0)
		want := 20 << (2 * s)
		if len(idx)/3 != want || len(pos) != want/2+2 {
			t.Errorf("Icosphere(%d): %d triangles, %d vertices; want %d, %d", s, len(idx)/3, len(pos), want, want/2+2)
		}
		checkIndices(t, "icosphere", pos, idx)
	}
	cases := []struct {
		name     string
		pos      []mgl64.Vec3
		idx      []int32
		tris, nv int
	}{
		{"quad", nil, nil, 2, 4},
		{"box", nil, nil, 12, 8},
		{"plane 3x5", nil, nil, 30, 24},
		{"torus 12x7", nil, nil, 168, 84},
		{"soup 100", nil, nil, 100, 300},
	}
	cases[0].pos, cases[0].idx = Quad(mgl64.Vec3{0, 0, 0}, mgl64.Vec3{1, 0, 0}, mgl64.Vec3{1, 1, 0}, mgl64.Vec3{0, 1, 0})
	cases[1].pos, cases[1].idx = Box(mgl64.Vec3{-1, -2, -3}, mgl64.Vec3{1, 2, 3})
	cases[2].pos, cases[2].idx = Plane(3, 5, 2)
	cases[3].pos, cases[3].idx = Torus(2, 0.5, 12, 7)
	rng := geom.NewRNG(1, 2, 3, 4)
	cases[4].pos, cases[4].idx = RandomSoup(100, &rng)
	for _, c := range cases {
		if len(c.idx)/3 != c.tris || len(c.pos) != c.nv {
			t.Errorf("%s: %d triangles, %d vertices; want %d, %d", c.name, len(c.idx)/3, len(c.pos), c.tris, c.nv)
		}
		checkIndices(t, c.name, c.pos, c.idx)
	}
}

func TestDenseIcosphereCount(t *testing.T) {
	pos, idx := Icosphere(7, 0.5, mgl64.Vec3{0, 0.55, 0}, 0.08)
	if len(idx)/3 != 327680 {
		t.Fatalf("subdiv 7: %d triangles, want 327680", len(idx)/3)
	}
	if len(pos) != 163842 {
		t.Fatalf("subdiv 7: %d vertices, want 163842", len(pos))
	}
	if testing.Short() {
		return
	}
	checkClosed(t, "icosphere 7", idx)
	if v := signedVolume(pos, idx); v <= 0 {
		t.Fatalf("subdiv 7: signed volume %g, want > 0", v)
	}
}

func TestClosedAndOutward(t *testing.T) {
	type closedCase struct {
		name string
		pos  []mgl64.Vec3
		idx  []int32
		vol  float64 // analytic volume
		tol  float64 // relative tolerance on the volume
	}
	var cs []closedCase
	for s := 0; s <= 4; s++ {
		p, i := Icosphere(s, 2, mgl64.Vec3{1, -1, 3}, 0)
		// An inscribed polyhedron: 20*4^s flat facets fall short of the
		// sphere's volume by O(4^-s); 40% at s=0, 0.4% at s=4.
		cs = append(cs, closedCase{"icosphere", p, i, 4 * math.Pi * 8 / 3, 0.6 / math.Pow(4, float64(s))})
	}
	p, i := Icosphere(3, 0.5, mgl64.Vec3{0, 0.55, 0}, 0.08)
	cs = append(cs, closedCase{"bumpy icosphere", p, i, 4 * math.Pi * 0.125 / 3, 0.05})
	p, i = Box(mgl64.Vec3{-1, -2, -3}, mgl64.Vec3{1, 2, 4})
	cs = append(cs, closedCase{"box", p, i, 2 * 4 * 7, 1e-12})
	p, i = Torus(2, 0.5, 64, 32)
	// Facets of a 64x32 torus lose about (pi/64)^2/2 + (pi/32)^2/2 relatively.
	cs = append(cs, closedCase{"torus", p, i, 2 * math.Pi * math.Pi * 2 * 0.25, 0.01})
	for _, c := range cs {
		checkClosed(t, c.name, c.idx)
		v := signedVolume(c.pos, c.idx)
		if v <= 0 {
			t.Errorf("%s: signed volume %g, want > 0 (outward triangles)", c.name, v)
		}
		if math.Abs(v-c.vol) > c.tol*c.vol {
			t.Errorf("%s: volume %g, want %g within %g%%", c.name, v, c.vol, 100*c.tol)
		}
	}
}

func TestTriangleNormals(t *testing.T) {
	normal := func(pos []mgl64.Vec3, idx []int32, f int) mgl64.Vec3 {
		a, b, c := pos[idx[3*f]], pos[idx[3*f+1]], pos[idx[3*f+2]]
		return b.Sub(a).Cross(c.Sub(a))
	}
	pos, idx := Plane(4, 3, 6)
	for f := 0; f < len(idx)/3; f++ {
		n := normal(pos, idx, f)
		if !(n[1] > 0) || n[0] != 0 || n[2] != 0 {
			t.Fatalf("plane triangle %d: normal %v, want +y", f, n)
		}
	}
	area := 0.0
	for f := 0; f < len(idx)/3; f++ {
		area += normal(pos, idx, f).Len() / 2
	}
	if math.Abs(area-36) > 1e-12 {
		t.Errorf("plane area %g, want 36", area)
	}
	// The ground quad of the benchmark scenes faces +y.
	pos, idx = Quad(mgl64.Vec3{-3, 0, 3}, mgl64.Vec3{3, 0, 3}, mgl64.Vec3{3, 0, -3}, mgl64.Vec3{-3, 0, -3})
	for f := 0; f < 2; f++ {
		if n := normal(pos, idx, f); !(n[1] > 0) {
			t.Errorf("ground quad triangle %d: normal %v, want +y", f, n)
		}
	}
	// Each box triangle faces away from the centre.
	pos, idx = Box(mgl64.Vec3{-1, -1, -1}, mgl64.Vec3{2, 3, 4})
	centre := mgl64.Vec3{0.5, 1, 1.5}
	for f := 0; f < 12; f++ {
		a := pos[idx[3*f]]
		if n := normal(pos, idx, f); n.Dot(a.Sub(centre)) <= 0 {
			t.Errorf("box triangle %d faces inwards", f)
		}
	}
	// Each sphere triangle faces away from the centre.
	c := mgl64.Vec3{0, 0.5, 0}
	pos, idx = Icosphere(2, 0.5, c, 0)
	for f := 0; f < len(idx)/3; f++ {
		a := pos[idx[3*f]]
		if n := normal(pos, idx, f); n.Dot(a.Sub(c)) <= 0 {
			t.Errorf("icosphere triangle %d faces inwards", f)
		}
	}
}

func TestMerge(t *testing.T) {
	p1, i1 := Quad(mgl64.Vec3{0, 0, 0}, mgl64.Vec3{1, 0, 0}, mgl64.Vec3{1, 1, 0}, mgl64.Vec3{0, 1, 0})
	p2, i2 := Box(mgl64.Vec3{}, mgl64.Vec3{1, 1, 1})
	p3, i3 := Torus(1, 0.2, 5, 4)
	pos, idx := Merge(Of(p1, i1), Of(p2, i2), Mesh{}, Of(p3, i3))
	if len(pos) != len(p1)+len(p2)+len(p3) || len(idx) != len(i1)+len(i2)+len(i3) {
		t.Fatalf("merged %d vertices, %d indices", len(pos), len(idx))
	}
	checkIndices(t, "merge", pos, idx)
	off := 0
	for _, m := range []Mesh{Of(p1, i1), Of(p2, i2), Of(p3, i3)} {
		for k, i := range m.Indices {
			if pos[idx[off+k]] != m.Positions[i] {
				t.Fatalf("merged index %d points to %v, want %v", off+k, pos[idx[off+k]], m.Positions[i])
			}
		}
		off += len(m.Indices)
	}
	if p, i := Merge(); len(p) != 0 || len(i) != 0 {
		t.Errorf("Merge() = %d vertices, %d indices", len(p), len(i))
	}
}

func TestRandomSoupInUnitCube(t *testing.T) {
	rng := geom.NewRNG(7, 0, 0, 0)
	pos, idx := RandomSoup(1000, &rng)
	var sum mgl64.Vec3
	for _, p := range pos {
		for a := 0; a < 3; a++ {
			if p[a] < 0 || p[a] >= 1 {
				t.Fatalf("vertex %v outside [0,1)^3", p)
			}
		}
		sum = sum.Add(p)
	}
	mean := sum.Mul(1 / float64(len(pos)))
	for a := 0; a < 3; a++ {
		// 3000 uniforms: the mean has standard deviation 0.29/sqrt(3000) = 0.005.
		if math.Abs(mean[a]-0.5) > 0.03 {
			t.Errorf("mean %v, want about 0.5", mean)
		}
	}
	for k, i := range idx {
		if int(i) != k {
			t.Fatalf("index %d = %d, want %d", k, i, k)
		}
	}
	rng2 := geom.NewRNG(7, 0, 0, 0)
	pos2, _ := RandomSoup(1000, &rng2)
	for k := range pos {
		if pos[k] != pos2[k] {
			t.Fatal("RandomSoup is not reproducible from the same RNG state")
		}
	}
}

// readReference reads a vertex and face list written by genscenes.icosphere
// at full precision ("v x y z" with repr floats, "f a b c" 0-based).
func readReference(t *testing.T, path string) ([]mgl64.Vec3, []int32) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var pos []mgl64.Vec3
	var idx []int32
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		fs := strings.Fields(sc.Text())
		if len(fs) == 0 || fs[0] == "#" {
			continue
		}
		if len(fs) != 4 {
			t.Fatalf("%s:%d: want 4 fields", path, line)
		}
		var v [3]float64
		for k := 0; k < 3; k++ {
			x, err := strconv.ParseFloat(fs[k+1], 64)
			if err != nil {
				t.Fatalf("%s:%d: %v", path, line, err)
			}
			v[k] = x
		}
		switch fs[0] {
		case "v":
			pos = append(pos, v)
		case "f":
			idx = append(idx, int32(v[0]), int32(v[1]), int32(v[2]))
		default:
			t.Fatalf("%s:%d: unknown record %q", path, line, fs[0])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return pos, idx
}

// TestIcosphereMatchesGenscenes compares with the output of genscenes.py's
// icosphere(3, 0.5, (0, 0.55, 0), bump=0.08): the same vertex order and
// faces, and positions equal up to the last bits of sin (Go's math.Sin and
// the C library's may differ by an ulp, which moves a vertex by ~1e-17).
func TestIcosphereMatchesGenscenes(t *testing.T) {
	ref, refIdx := readReference(t, "testdata/icosphere3_bump.txt")
	pos, idx := Icosphere(3, 0.5, mgl64.Vec3{0, 0.55, 0}, 0.08)
	if len(pos) != len(ref) || len(idx) != len(refIdx) {
		t.Fatalf("%d vertices, %d indices; reference has %d, %d", len(pos), len(idx), len(ref), len(refIdx))
	}
	for k := range idx {
		if idx[k] != refIdx[k] {
			t.Fatalf("index %d = %d, reference %d", k, idx[k], refIdx[k])
		}
	}
	exact := 0
	for k := range pos {
		if pos[k] == ref[k] {
			exact++
		}
		for a := 0; a < 3; a++ {
			if d := math.Abs(pos[k][a] - ref[k][a]); d > 1e-15 {
				t.Fatalf("vertex %d = %v, reference %v", k, pos[k], ref[k])
			}
		}
	}
	t.Logf("%d of %d vertices bit-identical to the reference", exact, len(pos))
}
