package bvh

import (
	"math"
	"testing"
	"unsafe"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/geom"
	"github.com/invrender/invrender/internal/meshgen"
)

// TestRayBoxLayout checks the field offsets that box_amd64.s hard-codes.
func TestRayBoxLayout(t *testing.T) {
	var rb rayBox
	var n node
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"o", unsafe.Offsetof(rb.o), 0},
		{"inv", unsafe.Offsetof(rb.inv), 24},
		{"far", unsafe.Offsetof(rb.far), 48},
		{"tmin", unsafe.Offsetof(rb.tmin), 72},
		{"tmax", unsafe.Offsetof(rb.tmax), 80},
		{"nearOff", unsafe.Offsetof(rb.nearOff), 88},
		{"farOff", unsafe.Offsetof(rb.farOff), 112},
		{"nodes", unsafe.Offsetof(rb.nodes), 136},
		{"tris", unsafe.Offsetof(rb.tris), 144},
		{"items", unsafe.Offsetof(rb.items), 152},
		{"ts", unsafe.Offsetof(rb.ts), 160},
		{"cap", unsafe.Offsetof(rb.cap), 168},
		{"sp", unsafe.Offsetof(rb.sp), 176},
		{"anyHit", unsafe.Offsetof(rb.anyHit), 184},
		{"ent", unsafe.Offsetof(rb.ent), 192},
		{"node.box", unsafe.Offsetof(n.box), 0},
		{"node.child", unsafe.Offsetof(n.child), 96},
		{"node.count", unsafe.Offsetof(n.count), 112},
		{"sizeof node", unsafe.Sizeof(n), 128},
		{"sizeof tri", unsafe.Sizeof(tri{}), 72},
	} {
		if c.got != c.want {
			t.Errorf("%s at %d, the assembly expects %d", c.name, c.got, c.want)
		}
	}
}

// slabGo is walk's Go slab test on the fast path for the children of n:
// the entry keys and the mask of children hit.
func slabGo(n *node, q *query) (e [4]int64, mask int) {
	for c := 0; c < width; c++ {
		b := n.childBox(c)
		rb := &q.rb
		entry, exit := fbits(rb.tmin), fkey(rb.tmax)
		for a := 0; a < 3; a++ {
			near, far := rb.nearOff[a]/16, rb.farOff[a]/16
			entry = max(entry, fbits((float64(b[near])-rb.o[a])*rb.inv[a]))
			exit = min(exit, fbits((float64(b[far])-rb.o[a])*(rb.inv[a]*robustFold)))
		}
		e[c] = entry
		if entry <= exit {
			mask |= 1 << c
		}
	}
	return e, mask
}

// TestBoxAsmMatchesGo compares boxTest4 with the Go slab test on random
// boxes (some inverted, as unused children are, some flat, some with
// infinite planes, as boxes beyond the float32 range have) and random rays
// of the fast path, including rays that start inside boxes and axis-aligned
// rays whose inverse direction is large.
func TestBoxAsmMatchesGo(t *testing.T) {
	if !haveBoxAsm {
		t.Skip("no assembly on this architecture")
	}
	rng := geom.NewRNG(41, 0, 0, 0)
	coord := func() float32 {
		switch rng.Intn(40) {
		case 0:
			return float32(math.Inf(1))
		case 1:
			return float32(math.Inf(-1))
		case 2:
			return 0
		}
		return float32(4*rng.Float64() - 2)
	}
	hits, n := 0, 100000
	if testing.Short() {
		n = 20000
	}
	var nodes [1]node
	var tris [1]tri
	for i := 0; i < n; i++ {
		nd := &nodes[0]
		for c := 0; c < width; c++ {
			var b box32
			switch rng.Intn(10) {
			case 0:
				b = emptyBox32()
			default:
				for a := 0; a < 3; a++ {
					lo, hi := coord(), coord()
					if lo > hi && rng.Intn(4) != 0 {
						lo, hi = hi, lo
					}
					if rng.Intn(10) == 0 {
						hi = lo // flat
					}
					b[a], b[a+3] = lo, hi
				}
			}
			nd.setBox(c, b)
		}
		o := mgl64.Vec3{3*rng.Float64() - 1.5, 3*rng.Float64() - 1.5, 3*rng.Float64() - 1.5}
		d := geom.SquareToUniformSphere(mgl64.Vec2{rng.Float64(), rng.Float64()})
		if b := nd.childBox(rng.Intn(width)); i%2 == 0 && b[0] <= b[3] {
			// Aimed at a point of a child box.
			var p mgl64.Vec3
			for a := 0; a < 3; a++ {
				lo, hi := min(max(float64(b[a]), -3), 3), min(max(float64(b[a+3]), -3), 3)
				p[a] = lo + (hi-lo)*rng.Float64()
			}
			if p.Sub(o).Len() > 0 {
				d = p.Sub(o)
			}
		}
		if rng.Intn(8) == 0 {
			d[rng.Intn(3)] = 1e-200 // nearly axis-aligned: a huge inverse
		}
		r := geom.Ray{O: o, D: d, TMin: 0, TMax: math.Inf(1)}
		switch i % 3 {
		case 1:
			r.TMin = rng.Float64()
		case 2:
			r.TMax = 2 * rng.Float64()
		}
		var q query
		if !q.init(&r) || !q.fast {
			t.Fatalf("ray %+v not on the fast path", r)
		}
		q.rb.nodes, q.rb.tris = &nodes[0], &tris[0]
		mask := boxTest4(nd, &q.rb)
		ent := q.rb.ent
		want, wantMask := slabGo(nd, &q)
		if mask != wantMask {
			t.Fatalf("case %d: ray %+v, node %v: assembly mask %04b, Go %04b", i, r, nd.box, mask, wantMask)
		}
		for c := 0; c < width; c++ {
			if mask>>c&1 != 0 && ent[c] != want[c] {
				t.Fatalf("case %d: child %d entry %v, Go %v", i, c, math.Float64frombits(uint64(ent[c])), math.Float64frombits(uint64(want[c])))
			}
		}
		hits += bitsOnes(mask)
	}
	if hits < n/4 {
		t.Errorf("only %d child hits in %d cases", hits, n)
	}
}

func bitsOnes(m int) (k int) {
	for ; m != 0; m &= m - 1 {
		k++
	}
	return k
}

// TestGoSlabMatchesBruteForce runs the brute-force comparisons with the Go
// slab test on machines that use the assembly, so that the code other
// architectures run is tested too.
func TestGoSlabMatchesBruteForce(t *testing.T) {
	if !haveBoxAsm {
		t.Skip("the Go slab test is the only one here, tested everywhere")
	}
	useBoxAsm = false
	defer func() { useBoxAsm = haveBoxAsm }()
	n := 2000
	if testing.Short() {
		n = 500
	}
	for _, m := range testMeshes() {
		b, err := Build(m.pos, m.idx, Options{})
		if err != nil {
			t.Fatal(err)
		}
		checkAgainstBruteForce(t, m.name+" (Go slab test)", b, m.pos, m.idx, testRays(m.pos, m.idx, n, 3))
	}
	pos, idx := meshgen.Plane(20, 15, 2)
	b, err := Build(pos, idx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkAgainstBruteForce(t, "plane (Go slab test)", b, pos, idx, testRays(pos, idx, n, 5))
}
