package geom

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/go-gl/mathgl/mgl64"
)

func TestAABBBasics(t *testing.T) {
	e := EmptyAABB()
	if !e.IsEmpty() || e.SurfaceArea() != 0 {
		t.Errorf("EmptyAABB: IsEmpty=%v SurfaceArea=%v", e.IsEmpty(), e.SurfaceArea())
	}
	if e.Contains(mgl64.Vec3{}) {
		t.Error("EmptyAABB contains the origin")
	}
	b := AABB{Min: mgl64.Vec3{-1, 0, 2}, Max: mgl64.Vec3{1, 3, 3}}
	if got := e.Union(b); got != b {
		t.Errorf("Empty.Union(b) = %v, want b", got)
	}
	if got := b.Union(e); got != b {
		t.Errorf("b.Union(Empty) = %v, want b", got)
	}
	p := mgl64.Vec3{5, -1, 2.5}
	pt := e.Extend(p)
	if pt.Min != p || pt.Max != p || pt.IsEmpty() || pt.SurfaceArea() != 0 || !pt.Contains(p) {
		t.Errorf("Empty.Extend(p) = %v", pt)
	}
	if got := b.Extend(p); got != (AABB{Min: mgl64.Vec3{-1, -1, 2}, Max: mgl64.Vec3{5, 3, 3}}) {
		t.Errorf("Extend = %v", got)
	}
	if got := b.Union(AABB{Min: mgl64.Vec3{0, -2, 0}, Max: mgl64.Vec3{0.5, 1, 10}}); got != (AABB{Min: mgl64.Vec3{-1, -2, 0}, Max: mgl64.Vec3{1, 3, 10}}) {
		t.Errorf("Union = %v", got)
	}
	// Diagonal (2, 3, 1): area 2*(6 + 3 + 2) = 22.
	if got := b.SurfaceArea(); got != 22 {
		t.Errorf("SurfaceArea = %v, want 22", got)
	}
	if got := (AABB{Max: mgl64.Vec3{1, 1, 1}}).SurfaceArea(); got != 6 {
		t.Errorf("unit cube SurfaceArea = %v, want 6", got)
	}
	if got := (AABB{Max: mgl64.Vec3{2, 3, 0}}).SurfaceArea(); got != 12 {
		t.Errorf("flat box SurfaceArea = %v, want 12", got)
	}
	if got := b.Diagonal(); got != (mgl64.Vec3{2, 3, 1}) {
		t.Errorf("Diagonal = %v", got)
	}
	if got := b.Centroid(); got != (mgl64.Vec3{0, 1.5, 2.5}) {
		t.Errorf("Centroid = %v", got)
	}
	for _, c := range []struct {
		d    mgl64.Vec3
		axis int
	}{{mgl64.Vec3{3, 1, 2}, 0}, {mgl64.Vec3{1, 3, 2}, 1}, {mgl64.Vec3{1, 2, 3}, 2}, {mgl64.Vec3{1, 1, 1}, 2}, {mgl64.Vec3{2, 2, 1}, 1}} {
		if got := (AABB{Max: c.d}).MaxExtent(); got != c.axis {
			t.Errorf("MaxExtent of %v = %d, want %d", c.d, got, c.axis)
		}
	}
	// Contains is closed.
	for _, q := range []mgl64.Vec3{{-1, 0, 2}, {1, 3, 3}, {0, 1, 2.5}, {1, 0, 3}} {
		if !b.Contains(q) {
			t.Errorf("Contains(%v) = false", q)
		}
	}
	for _, q := range []mgl64.Vec3{{-1.0000001, 0, 2}, {0, 3.0000001, 2.5}, {0, 1, math.NaN()}} {
		if b.Contains(q) {
			t.Errorf("Contains(%v) = true", q)
		}
	}
}

func TestSafeInverse(t *testing.T) {
	negz := math.Copysign(0, -1)
	for _, x := range []float64{0, negz, 5e-324, -5e-324, 1e-310, -1e-310, 1e-300, 1e-200, 2, -0.5} {
		inv := SafeInverse(x)
		if math.IsNaN(inv) || math.IsInf(inv, 0) || math.Signbit(inv) != math.Signbit(x) {
			t.Errorf("SafeInverse(%v) = %v: want a finite value of the same sign", x, inv)
		}
		if x != 0 && math.Abs(x) >= 1e-300 && inv != 1/x {
			t.Errorf("SafeInverse(%v) = %v, want %v", x, inv, 1/x)
		}
		if math.Abs(x) < 1e-300 && math.Abs(inv) < 1e300 {
			t.Errorf("SafeInverse(%v) = %v: want a huge value", x, inv)
		}
	}
	if got := InvDir(mgl64.Vec3{2, 0, -4}); got[0] != 0.5 || got[1] < 1e300 || got[2] != -0.25 {
		t.Errorf("InvDir = %v", got)
	}
}

// slabReference intersects the ray with the box with divisions and an
// explicit test for directions parallel to a slab, returning the overlap
// [t0, t1] of the ray's range with the box.
func slabReference(b AABB, o, d mgl64.Vec3, tmin, tmax float64) (t0, t1 float64, ok bool) {
	t0, t1 = tmin, tmax
	for a := 0; a < 3; a++ {
		if d[a] == 0 {
			if o[a] < b.Min[a] || o[a] > b.Max[a] {
				return 0, 0, false
			}
			continue
		}
		n, f := (b.Min[a]-o[a])/d[a], (b.Max[a]-o[a])/d[a]
		if n > f {
			n, f = f, n
		}
		t0, t1 = math.Max(t0, n), math.Min(t1, f)
	}
	return t0, t1, t0 <= t1
}

func TestSlabCases(t *testing.T) {
	unit := AABB{Max: mgl64.Vec3{1, 1, 1}}
	negz := math.Copysign(0, -1)
	inf := math.Inf(1)
	tests := []struct {
		name       string
		box        AABB
		o, d       mgl64.Vec3
		tmin, tmax float64
		hit        bool
		enter      float64
	}{
		{"head on", unit, mgl64.Vec3{-1, 0.5, 0.5}, mgl64.Vec3{1, 0, 0}, 0, inf, true, 1},
		{"head on from +x", unit, mgl64.Vec3{3, 0.5, 0.5}, mgl64.Vec3{-2, 0, 0}, 0, inf, true, 1},
		{"diagonal", unit, mgl64.Vec3{-1, -1, -1}, mgl64.Vec3{1, 1, 1}, 0, inf, true, 1},
		{"pointing away", unit, mgl64.Vec3{-1, 0.5, 0.5}, mgl64.Vec3{-1, 0, 0}, 0, inf, false, 0},
		{"ends before", unit, mgl64.Vec3{-1, 0.5, 0.5}, mgl64.Vec3{1, 0, 0}, 0, 0.9, false, 0},
		{"starts after", unit, mgl64.Vec3{-1, 0.5, 0.5}, mgl64.Vec3{1, 0, 0}, 2.1, inf, false, 0},
		{"starts inside", unit, mgl64.Vec3{0.5, 0.5, 0.5}, mgl64.Vec3{0.3, -1, 0.2}, 0, inf, true, 0},
		{"starts inside, tmin > 0", unit, mgl64.Vec3{0.5, 0.5, 0.5}, mgl64.Vec3{1, 0, 0}, 0.25, inf, true, 0.25},
		{"parallel to x, outside in y", unit, mgl64.Vec3{-1, 2, 0.5}, mgl64.Vec3{1, 0, 0}, 0, inf, false, 0},
		{"parallel to x and y, inside", unit, mgl64.Vec3{0.5, 0.5, -3}, mgl64.Vec3{0, 0, 1}, 0, inf, true, 3},
		{"parallel, negative zeros", unit, mgl64.Vec3{0.5, 0.5, -3}, mgl64.Vec3{negz, negz, 1}, 0, inf, true, 3},
		{"parallel, negative zeros, outside", unit, mgl64.Vec3{1.5, 0.5, -3}, mgl64.Vec3{negz, negz, 1}, 0, inf, false, 0},
		// Grazing rays lie in a face's plane; the box is closed, so they
		// hit, whatever the sign of the zero component.
		{"grazing the max y face, +0", unit, mgl64.Vec3{-1, 1, 0.5}, mgl64.Vec3{1, 0, 0}, 1e-3, inf, true, 1},
		{"grazing the max y face, -0", unit, mgl64.Vec3{-1, 1, 0.5}, mgl64.Vec3{1, negz, 0}, 1e-3, inf, true, 1},
		{"grazing the min y face, +0", unit, mgl64.Vec3{-1, 0, 0.5}, mgl64.Vec3{1, 0, 0}, 1e-3, inf, true, 1},
		{"grazing the min y face, -0", unit, mgl64.Vec3{-1, 0, 0.5}, mgl64.Vec3{1, negz, 0}, 1e-3, inf, true, 1},
		{"grazing an edge", unit, mgl64.Vec3{-1, 1, 1}, mgl64.Vec3{1, 0, 0}, 1e-3, inf, true, 1},
		{"grazing an edge, -0", unit, mgl64.Vec3{-1, 0, 1}, mgl64.Vec3{1, negz, negz}, 1e-3, inf, true, 1},
		{"through a corner", unit, mgl64.Vec3{2, 2, -1}, mgl64.Vec3{-1, -1, 1}, 0, inf, true, 1},
		{"in a face plane, leaving", unit, mgl64.Vec3{0.5, 1, 0.5}, mgl64.Vec3{0, 0, 1}, 1e-3, inf, true, 1e-3},
		{"just outside a face plane", unit, mgl64.Vec3{-1, math.Nextafter(1, 2), 0.5}, mgl64.Vec3{1, 0, 0}, 0, inf, false, 0},
		{"flat box", AABB{Max: mgl64.Vec3{1, 1, 0}}, mgl64.Vec3{0.5, 0.5, -1}, mgl64.Vec3{0, 0, 1}, 0, inf, true, 1},
		{"flat box, grazing its plane", AABB{Max: mgl64.Vec3{1, 1, 0}}, mgl64.Vec3{-1, 0.5, 0}, mgl64.Vec3{1, 0, 0}, 1e-3, inf, true, 1},
		{"point box", AABB{Min: mgl64.Vec3{1, 2, 3}, Max: mgl64.Vec3{1, 2, 3}}, mgl64.Vec3{0, 0, 0}, mgl64.Vec3{1, 2, 3}, 0, inf, true, 1},
		{"subnormal direction component", unit, mgl64.Vec3{-1, 1, 0.5}, mgl64.Vec3{1, 5e-324, 0}, 1e-3, inf, true, 1},
		{"subnormal direction component, outside", unit, mgl64.Vec3{-1, 1.5, 0.5}, mgl64.Vec3{1, 5e-324, 0}, 0, inf, false, 0},
		{"empty box", EmptyAABB(), mgl64.Vec3{0, 0, 0}, mgl64.Vec3{1, 1, 1}, 0, inf, false, 0},
		{"empty box, negative direction", EmptyAABB(), mgl64.Vec3{0, 0, 0}, mgl64.Vec3{-1, -2, -3}, 0, inf, false, 0},
		{"empty box, axis-parallel ray", EmptyAABB(), mgl64.Vec3{0, 0, 0}, mgl64.Vec3{0, 0, 1}, 0, inf, false, 0},
		{"empty box, infinite range", EmptyAABB(), mgl64.Vec3{0, 0, 0}, mgl64.Vec3{1, 0.5, 0.25}, math.Inf(-1), inf, false, 0},
	}
	for _, tc := range tests {
		enter, ok := tc.box.Slab(tc.o, InvDir(tc.d), tc.tmin, tc.tmax)
		if ok != tc.hit {
			t.Errorf("%s: hit = %v, want %v", tc.name, ok, tc.hit)
			continue
		}
		if ok && math.Abs(enter-tc.enter) > 1e-15*(1+tc.enter) {
			t.Errorf("%s: entry at %v, want %v", tc.name, enter, tc.enter)
		}
	}
}

// TestSlabRandom compares Slab with the reference on random boxes and rays,
// including axis-parallel directions and origins on the boxes' planes;
// cases whose overlap is within rounding of empty are left out, and a hit
// never misses its entry point by more than rounding.
func TestSlabRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	var hits, misses int
	for i := 0; i < 200_000; i++ {
		lo, hi := randVec(rng, -2, 2), randVec(rng, -2, 2)
		b := EmptyAABB().Extend(lo).Extend(hi)
		o := randVec(rng, -4, 4)
		// Aim near the box: about half the rays hit.
		c, h := b.Centroid(), b.Diagonal().Mul(0.8)
		target := c.Add(mgl64.Vec3{h[0] * (rng.Float64() - 0.5), h[1] * (rng.Float64() - 0.5), h[2] * (rng.Float64() - 0.5)}.Mul(2))
		d := target.Sub(o).Mul(0.5 + rng.Float64())
		switch i % 4 {
		case 1: // some zero components
			d[rng.IntN(3)] = 0
		case 2: // an origin on one of the box's planes and a zero component
			a := rng.IntN(3)
			if rng.IntN(2) == 0 {
				o[a] = b.Min[a]
			} else {
				o[a] = b.Max[a]
			}
			d[a] = math.Copysign(0, rng.Float64()-0.5)
		}
		tmin, tmax := 0.0, math.Inf(1)
		if i%3 == 0 {
			tmax = 6 * rng.Float64()
		}
		r0, r1, want := slabReference(b, o, d, tmin, tmax)
		if math.Abs(r1-r0) < 1e-9*(1+math.Abs(r0)) && !math.IsInf(r0, 0) {
			continue // within rounding of a touch
		}
		enter, ok := b.Slab(o, InvDir(d), tmin, tmax)
		if ok != want {
			t.Errorf("box %v o=%v d=%v [%v,%v]: hit = %v, reference %v (overlap [%v, %v])", b, o, d, tmin, tmax, ok, want, r0, r1)
			continue
		}
		if !ok {
			misses++
			continue
		}
		hits++
		if math.Abs(enter-r0) > 1e-12*(1+math.Abs(r0)) {
			t.Errorf("box %v o=%v d=%v: entry %v, reference %v", b, o, d, enter, r0)
		}
	}
	if hits < 20_000 || misses < 20_000 {
		t.Fatalf("test setup: %d hits, %d misses", hits, misses)
	}
}

// TestSlabContainsTriangleHits checks the property the BVH relies on: a ray
// that hits a triangle also hits the triangle's bounding box, even for hits
// on the box's boundary (triangles in the box's faces, vertex hits) and rays
// grazing a face plane.
func TestSlabContainsTriangleHits(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 12))
	var hits int
	for i := 0; i < 20_000; i++ {
		p := [3]mgl64.Vec3{randVec(rng, -1, 1), randVec(rng, -1, 1), randVec(rng, -1, 1)}
		if i%2 == 0 { // axis-aligned triangle: it lies in a face of its box
			a := rng.IntN(3)
			for k := range p {
				p[k][a] = p[0][a]
			}
		}
		b := EmptyAABB().Extend(p[0]).Extend(p[1]).Extend(p[2])
		k := rng.IntN(3)
		target := p[k] // a vertex, often on the box's boundary
		if i%3 != 0 {
			b1, b2 := SquareToUniformTriangle(mgl64.Vec2{rng.Float64(), rng.Float64()})
			target = p[0].Mul(1 - b1 - b2).Add(p[1].Mul(b1)).Add(p[2].Mul(b2))
		}
		o := target.Add(randUnit(rng).Mul(0.5 + 3*rng.Float64()))
		d := target.Sub(o)
		if i%5 == 0 { // graze: an origin in the plane of the vertex's face
			a := rng.IntN(3)
			o[a] = target[a]
			d = target.Sub(o)
			d[a] = math.Copysign(0, rng.Float64()-0.5)
		}
		wr := NewWatertightRay(o, d)
		tt, _, _, ok := wr.Intersect(p[0], p[1], p[2], 1e-4, math.Inf(1))
		if !ok {
			continue
		}
		hits++
		// The entry distance and t are rounded differently, and t is
		// ill-conditioned on slivers: compare the two only on triangles of
		// reasonable shape, allowing for rounding.
		longest := math.Max(p[1].Sub(p[0]).Len(), math.Max(p[2].Sub(p[1]).Len(), p[0].Sub(p[2]).Len()))
		wellShaped := TriangleArea(p[0], p[1], p[2]) > 1e-3*longest*longest
		if enter, boxOK := b.Slab(o, InvDir(d), 1e-4, math.Inf(1)); !boxOK || wellShaped && enter > tt*(1+1e-12) {
			t.Errorf("triangle %v hit at t=%v by o=%v d=%v, but its box %v gives (%v, %v)", p, tt, o, d, b, enter, boxOK)
		}
	}
	if hits < 8000 {
		t.Fatalf("test setup: %d hits", hits)
	}
}

func TestSlabNoAllocs(t *testing.T) {
	b := AABB{Max: mgl64.Vec3{1, 1, 1}}
	inv := InvDir(mgl64.Vec3{1, 0.5, 0})
	var sink float64
	if a := testing.AllocsPerRun(100, func() {
		e, _ := b.Slab(mgl64.Vec3{-1, 0, 0.5}, inv, 0, math.Inf(1))
		sink += e
	}); a != 0 {
		t.Errorf("%v allocations", a)
	}
	_ = sink
}

func BenchmarkSlab(b *testing.B) {
	box := AABB{Min: mgl64.Vec3{-1, -1, -1}, Max: mgl64.Vec3{1, 1, 1}}
	o := mgl64.Vec3{-3, 0.2, 0.1}
	inv := InvDir(mgl64.Vec3{1, 0.1, -0.05})
	b.ReportAllocs()
	var n int
	for b.Loop() {
		if _, ok := box.Slab(o, inv, 0, math.Inf(1)); ok {
			n++
		}
	}
	_ = n
}
