package geom

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/go-gl/mathgl/mgl64"
)

// exactHit is the Moller-Trumbore ray-triangle test evaluated in exact
// rational arithmetic: float64 inputs are rationals, and t, b1, b2 are
// rational functions of them, so the answer has no rounding at all. It is
// the oracle the watertight test is compared with away from edges.
type exactHit struct {
	hit        bool
	t, b1, b2  float64
	parallel   bool    // the ray lies in the triangle's plane (or it is degenerate)
	minBary    float64 // smallest of b0, b1, b2 (negative when outside)
	cosine     float64 // |cos| of the angle between the ray and the normal
	tWithinRay bool
}

func ratVec(v mgl64.Vec3) [3]*big.Rat {
	return [3]*big.Rat{new(big.Rat).SetFloat64(v[0]), new(big.Rat).SetFloat64(v[1]), new(big.Rat).SetFloat64(v[2])}
}

func ratSub(a, b [3]*big.Rat) [3]*big.Rat {
	return [3]*big.Rat{new(big.Rat).Sub(a[0], b[0]), new(big.Rat).Sub(a[1], b[1]), new(big.Rat).Sub(a[2], b[2])}
}

func ratMul(a, b *big.Rat) *big.Rat { return new(big.Rat).Mul(a, b) }

func ratCross(a, b [3]*big.Rat) [3]*big.Rat {
	return [3]*big.Rat{
		new(big.Rat).Sub(ratMul(a[1], b[2]), ratMul(a[2], b[1])),
		new(big.Rat).Sub(ratMul(a[2], b[0]), ratMul(a[0], b[2])),
		new(big.Rat).Sub(ratMul(a[0], b[1]), ratMul(a[1], b[0])),
	}
}

func ratDot(a, b [3]*big.Rat) *big.Rat {
	s := ratMul(a[0], b[0])
	s.Add(s, ratMul(a[1], b[1]))
	return s.Add(s, ratMul(a[2], b[2]))
}

func exactIntersect(o, d, p0, p1, p2 mgl64.Vec3, tmin, tmax float64) exactHit {
	O, D := ratVec(o), ratVec(d)
	P0, P1, P2 := ratVec(p0), ratVec(p1), ratVec(p2)
	e1, e2 := ratSub(P1, P0), ratSub(P2, P0)
	pv := ratCross(D, e2)
	det := ratDot(e1, pv)
	var h exactHit
	n := p1.Sub(p0).Cross(p2.Sub(p0))
	h.cosine = math.Abs(n.Dot(d)) / (n.Len() * d.Len())
	if det.Sign() == 0 {
		h.parallel = true
		return h
	}
	tv := ratSub(O, P0)
	b1 := new(big.Rat).Quo(ratDot(tv, pv), det)
	qv := ratCross(tv, e1)
	b2 := new(big.Rat).Quo(ratDot(D, qv), det)
	t := new(big.Rat).Quo(ratDot(e2, qv), det)
	b0 := new(big.Rat).Sub(big.NewRat(1, 1), b1)
	b0.Sub(b0, b2)
	h.t, _ = t.Float64()
	h.b1, _ = b1.Float64()
	h.b2, _ = b2.Float64()
	f0, _ := b0.Float64()
	h.minBary = math.Min(f0, math.Min(h.b1, h.b2))
	inside := b0.Sign() >= 0 && b1.Sign() >= 0 && b2.Sign() >= 0
	tr := new(big.Rat)
	h.tWithinRay = (math.IsInf(tmin, -1) || t.Cmp(tr.SetFloat64(tmin)) > 0) &&
		(math.IsInf(tmax, 1) || t.Cmp(tr.SetFloat64(tmax)) < 0)
	h.hit = inside && h.tWithinRay
	return h
}

func randVec(rng *rand.Rand, lo, hi float64) mgl64.Vec3 {
	return mgl64.Vec3{lo + (hi-lo)*rng.Float64(), lo + (hi-lo)*rng.Float64(), lo + (hi-lo)*rng.Float64()}
}

func randUnit(rng *rand.Rand) mgl64.Vec3 {
	return SquareToUniformSphere(mgl64.Vec2{rng.Float64(), rng.Float64()})
}

// TestIntersectMatchesExact compares the watertight test with the exact
// oracle on random triangles and rays. Away from the triangle's edges and
// from grazing angles the two must agree on hit or miss, and t and the
// barycentrics to 1e-9 (relative for t).
func TestIntersectMatchesExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	n := 6000
	if testing.Short() {
		n = 1500
	}
	var compared, hits int
	for i := 0; i < n; i++ {
		p0, p1, p2 := randVec(rng, -1, 1), randVec(rng, -1, 1), randVec(rng, -1, 1)
		if i%3 == 0 { // small and far away triangles too
			s := math.Pow(10, -3+6*rng.Float64())
			off := randVec(rng, -100, 100)
			p0, p1, p2 = p0.Mul(s).Add(off), p1.Mul(s).Add(off), p2.Mul(s).Add(off)
		}
		// Aim at a point of the triangle's plane, inside about half the time.
		a, b := -0.3+1.6*rng.Float64(), -0.3+1.6*rng.Float64()
		if a+b > 1.3 {
			a, b = 1.3-a, 1.3-b
		}
		target := p0.Mul(1 - a - b).Add(p1.Mul(a)).Add(p2.Mul(b))
		scale := p1.Sub(p0).Len() + p2.Sub(p0).Len()
		o := target.Add(randUnit(rng).Mul(scale * (0.1 + 3*rng.Float64())))
		d := target.Sub(o).Mul(math.Pow(2, float64(rng.IntN(9)-4)) * (0.5 + rng.Float64()))
		if i%7 == 0 {
			d = d.Mul(-1) // pointing away: a miss
		}
		tmin, tmax := 0.0, math.Inf(1)
		switch i % 5 {
		case 1:
			tmax = 0.5 + rng.Float64() // may end before the triangle
		case 2:
			tmin = -2 * rng.Float64() // may start behind the origin
		}
		ex := exactIntersect(o, d, p0, p1, p2, tmin, tmax)
		if ex.parallel || ex.cosine < 1e-3 || math.Abs(ex.minBary) < 1e-7 {
			continue
		}
		if !math.IsInf(tmax, 1) && math.Abs(ex.t-tmax) < 1e-7*math.Abs(tmax) || math.Abs(ex.t-tmin) < 1e-7*(1+math.Abs(tmin)) {
			continue
		}
		compared++
		wr := NewWatertightRay(o, d)
		tt, b1, b2, ok := wr.Intersect(p0, p1, p2, tmin, tmax)
		if ok != ex.hit {
			t.Errorf("case %d: o=%v d=%v tri=(%v %v %v) [%g,%g]: hit=%v, exact hit=%v (t=%g b=%g,%g)",
				i, o, d, p0, p1, p2, tmin, tmax, ok, ex.hit, ex.t, ex.b1, ex.b2)
			continue
		}
		if !ok {
			continue
		}
		hits++
		if math.Abs(tt-ex.t) > 1e-9*math.Abs(ex.t) || math.Abs(b1-ex.b1) > 1e-9 || math.Abs(b2-ex.b2) > 1e-9 {
			t.Errorf("case %d: t,b1,b2 = %.17g %.17g %.17g, exact %.17g %.17g %.17g", i, tt, b1, b2, ex.t, ex.b1, ex.b2)
		}
		// The single-use form must agree bit for bit.
		t2, c1, c2, ok2 := IntersectTriangle(Ray{O: o, D: d, TMin: tmin, TMax: tmax}, p0, p1, p2)
		if !ok2 || t2 != tt || c1 != b1 || c2 != b2 {
			t.Errorf("case %d: IntersectTriangle differs from WatertightRay.Intersect", i)
		}
	}
	if compared < n/2 || hits < compared/4 || hits > 3*compared/4 {
		t.Fatalf("test setup: compared %d of %d cases, %d hits; want a balanced sample", compared, n, hits)
	}
	t.Logf("%d cases compared, %d hits", compared, hits)
}

func TestIntersectRange(t *testing.T) {
	// The hit is at t = 1 exactly: (0.25, 0.25, -1) + 1*(0, 0, 1).
	p0, p1, p2 := mgl64.Vec3{0, 0, 0}, mgl64.Vec3{1, 0, 0}, mgl64.Vec3{0, 1, 0}
	o, d := mgl64.Vec3{0.25, 0.25, -1}, mgl64.Vec3{0, 0, 1}
	up := math.Nextafter(1, 2)
	down := math.Nextafter(1, 0)
	tests := []struct {
		tmin, tmax float64
		hit        bool
	}{
		{0, math.Inf(1), true},
		{0, up, true},
		{0, 1, false}, // the range is open
		{down, up, true},
		{1, 2, false},
		{up, 2, false},
		{-1, 0.5, false},
		{math.Inf(-1), math.Inf(1), true},
		{2, 3, false},
	}
	for _, dir := range []float64{1, -1} { // and from the other side, reversed
		oo, dd := o, d
		if dir < 0 {
			oo, dd = mgl64.Vec3{0.25, 0.25, 1}, mgl64.Vec3{0, 0, -1}
		}
		wr := NewWatertightRay(oo, dd)
		for _, tc := range tests {
			tt, b1, b2, ok := wr.Intersect(p0, p1, p2, tc.tmin, tc.tmax)
			if ok != tc.hit {
				t.Errorf("dir %v range (%v, %v): hit=%v, want %v", dir, tc.tmin, tc.tmax, ok, tc.hit)
			}
			if ok && (tt != 1 || b1 != 0.25 || b2 != 0.25) {
				t.Errorf("dir %v: t,b1,b2 = %v %v %v, want 1 0.25 0.25", dir, tt, b1, b2)
			}
		}
	}
}

// TestIntersectBothFacesAndWindings checks that the test is two-sided and
// independent of the winding, with the barycentrics following the vertices.
func TestIntersectBothFacesAndWindings(t *testing.T) {
	p := [3]mgl64.Vec3{{0.1, -0.2, 0.3}, {1.3, 0.1, -0.2}, {0.2, 1.1, 0.4}}
	point := func(b1, b2 float64, q [3]mgl64.Vec3) mgl64.Vec3 {
		return q[0].Mul(1 - b1 - b2).Add(q[1].Mul(b1)).Add(q[2].Mul(b2))
	}
	target := point(0.2, 0.3, p)
	n := p[1].Sub(p[0]).Cross(p[2].Sub(p[0])).Normalize()
	for _, side := range []float64{1, -1} {
		o := target.Add(n.Mul(2 * side)).Add(mgl64.Vec3{0.1, 0.05, 0})
		d := target.Sub(o)
		for _, perm := range [][3]int{{0, 1, 2}, {0, 2, 1}, {1, 2, 0}} {
			q := [3]mgl64.Vec3{p[perm[0]], p[perm[1]], p[perm[2]]}
			tt, b1, b2, ok := IntersectTriangle(Ray{O: o, D: d, TMax: math.Inf(1)}, q[0], q[1], q[2])
			if !ok {
				t.Errorf("side %v perm %v: missed", side, perm)
				continue
			}
			if hp := point(b1, b2, q); hp.Sub(target).Len() > 1e-12 || math.Abs(tt-1) > 1e-12 {
				t.Errorf("side %v perm %v: t=%v point %v, want 1 and %v", side, perm, tt, hp, target)
			}
		}
	}
}

// TestIntersectAxisParallel shoots rays whose directions have zero (and
// negative zero) components, which exercise the choice of the dominant axis
// and the shear's divisions.
func TestIntersectAxisParallel(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	negz := math.Copysign(0, -1)
	dirs := []mgl64.Vec3{
		{1, 0, 0}, {-1, 0, 0}, {0, 1, 0}, {0, -1, 0}, {0, 0, 1}, {0, 0, -1},
		{negz, negz, 1}, {1, negz, 0}, {0, -2, negz},
		{1, 1, 0}, {0, -1, 1}, {-1, 0, -1}, {1, 1, 1}, {-1, 1, -1}, {3, 0, 1}, {0, 1e-30, 1},
	}
	var hits, misses int
	for i := 0; i < 400; i++ {
		p0, p1, p2 := randVec(rng, -1, 1), randVec(rng, -1, 1), randVec(rng, -1, 1)
		a, b := rng.Float64(), rng.Float64()
		if a+b > 1 {
			a, b = 1-a, 1-b
		}
		a, b = -0.2+1.4*a, -0.2+1.4*b
		target := p0.Mul(1 - a - b).Add(p1.Mul(a)).Add(p2.Mul(b))
		for _, d := range dirs {
			o := target.Sub(d.Mul(1 + 2*rng.Float64()))
			ex := exactIntersect(o, d, p0, p1, p2, 0, math.Inf(1))
			if ex.parallel || ex.cosine < 1e-3 || math.Abs(ex.minBary) < 1e-7 {
				continue
			}
			tt, b1, b2, ok := IntersectTriangle(Ray{O: o, D: d, TMax: math.Inf(1)}, p0, p1, p2)
			if ok != ex.hit {
				t.Errorf("d=%v o=%v: hit=%v, exact %v", d, o, ok, ex.hit)
				continue
			}
			if !ok {
				misses++
				continue
			}
			hits++
			if math.Abs(tt-ex.t) > 1e-9*ex.t || math.Abs(b1-ex.b1) > 1e-9 || math.Abs(b2-ex.b2) > 1e-9 {
				t.Errorf("d=%v: t,b1,b2 = %v %v %v, exact %v %v %v", d, tt, b1, b2, ex.t, ex.b1, ex.b2)
			}
		}
	}
	if hits < 1000 || misses < 300 {
		t.Fatalf("test setup: %d hits and %d misses", hits, misses)
	}
}

// TestIntersectDegenerate checks that zero-area triangles (coincident or
// exactly collinear vertices) are never hit, even by rays aimed straight at
// them, while thin but genuine slivers still are.
func TestIntersectDegenerate(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	var sliverHits int
	for i := 0; i < 3000; i++ {
		a, b := randVec(rng, -1, 1), randVec(rng, -1, 1)
		tris := [][3]mgl64.Vec3{{a, a, b}, {a, b, b}, {b, a, b}, {a, a, a}}
		// Collinear with exactly representable coordinates (small
		// integers), so that the float cross product is exactly zero.
		ia := mgl64.Vec3{float64(rng.IntN(9) - 4), float64(rng.IntN(9) - 4), float64(rng.IntN(9) - 4)}
		step := mgl64.Vec3{float64(rng.IntN(5) - 2), float64(rng.IntN(5) - 2), float64(rng.IntN(5) - 2)}
		tris = append(tris, [3]mgl64.Vec3{ia, ia.Add(step), ia.Add(step.Mul(3))}, [3]mgl64.Vec3{ia.Add(step), ia, ia.Add(step.Mul(-2))})
		for _, tri := range tris {
			for k := 0; k < 3; k++ {
				s := rng.Float64()
				if k == 0 {
					s = float64(rng.IntN(3)) / 2 // an endpoint or the middle, exactly
				}
				target := tri[0].Mul(1 - s).Add(tri[2].Mul(s))
				o := target.Add(randUnit(rng).Mul(0.5 + 2*rng.Float64()))
				if _, _, _, ok := IntersectTriangle(Ray{O: o, D: target.Sub(o), TMax: math.Inf(1)}, tri[0], tri[1], tri[2]); ok {
					t.Errorf("zero-area triangle %v hit by o=%v d=%v", tri, o, target.Sub(o))
				}
			}
		}
		// A sliver whose apex sits 1e-6 off the base: small but real area.
		n := randUnit(rng)
		apex := a.Add(b).Mul(0.5).Add(n.Sub(b.Sub(a).Normalize().Mul(n.Dot(b.Sub(a).Normalize()))).Normalize().Mul(1e-6))
		target := a.Mul(0.4).Add(b.Mul(0.4)).Add(apex.Mul(0.2))
		o := target.Add(randUnit(rng).Mul(1 + rng.Float64()))
		ex := exactIntersect(o, target.Sub(o), a, b, apex, 0, math.Inf(1))
		if ex.cosine < 1e-2 {
			continue
		}
		if _, _, _, ok := IntersectTriangle(Ray{O: o, D: target.Sub(o), TMax: math.Inf(1)}, a, b, apex); ok {
			sliverHits++
		} else {
			t.Errorf("thin sliver (%v %v %v) missed by a ray through its middle", a, b, apex)
		}
	}
	if sliverHits < 2000 {
		t.Fatalf("test setup: only %d sliver rays", sliverHits)
	}
}

// closedMesh is an indexed triangle mesh that encloses a volume; shared
// edges share vertex indices, so their coordinates agree bit for bit.
type closedMesh struct {
	name  string
	verts []mgl64.Vec3
	tris  [][3]int
}

// octasphere subdivides an octahedron level times, pushing each new vertex
// onto the unit sphere (so that coordinates are not exactly representable),
// then rotates and translates it into general position.
func octasphere(level int, xf Transform) closedMesh {
	m := closedMesh{name: "octasphere", verts: []mgl64.Vec3{
		{1, 0, 0}, {-1, 0, 0}, {0, 1, 0}, {0, -1, 0}, {0, 0, 1}, {0, 0, -1},
	}}
	m.tris = [][3]int{
		{0, 2, 4}, {2, 1, 4}, {1, 3, 4}, {3, 0, 4},
		{2, 0, 5}, {1, 2, 5}, {3, 1, 5}, {0, 3, 5},
	}
	for range level {
		mid := map[[2]int]int{}
		midpoint := func(a, b int) int {
			key := [2]int{min(a, b), max(a, b)}
			if i, ok := mid[key]; ok {
				return i
			}
			m.verts = append(m.verts, m.verts[a].Add(m.verts[b]).Normalize())
			mid[key] = len(m.verts) - 1
			return len(m.verts) - 1
		}
		var next [][3]int
		for _, tr := range m.tris {
			a, b, c := midpoint(tr[0], tr[1]), midpoint(tr[1], tr[2]), midpoint(tr[2], tr[0])
			next = append(next, [3]int{tr[0], a, c}, [3]int{a, tr[1], b}, [3]int{c, b, tr[2]}, [3]int{a, b, c})
		}
		m.tris = next
	}
	for i, v := range m.verts {
		m.verts[i] = xf.Point(v)
	}
	return m
}

// cubeGrid is the surface of [-1,1]^3 with each face split into n x n
// squares of two triangles: coordinates are exact binary fractions, and
// axis-parallel rays run exactly along its edges and through its vertices.
func cubeGrid(n int) closedMesh {
	m := closedMesh{name: "cube grid"}
	index := map[mgl64.Vec3]int{}
	vert := func(p mgl64.Vec3) int {
		if i, ok := index[p]; ok {
			return i
		}
		m.verts = append(m.verts, p)
		index[p] = len(m.verts) - 1
		return len(m.verts) - 1
	}
	coord := func(i int) float64 { return -1 + 2*float64(i)/float64(n) }
	for axis := 0; axis < 3; axis++ {
		for _, side := range []float64{-1, 1} {
			for i := 0; i < n; i++ {
				for j := 0; j < n; j++ {
					var q [4]int
					for k, ij := range [4][2]int{{i, j}, {i + 1, j}, {i + 1, j + 1}, {i, j + 1}} {
						var p mgl64.Vec3
						p[axis] = side
						p[(axis+1)%3] = coord(ij[0])
						p[(axis+2)%3] = coord(ij[1])
						q[k] = vert(p)
					}
					if side < 0 { // wind outwards
						q[1], q[3] = q[3], q[1]
					}
					if (i+j)%2 == 0 { // alternate the diagonals
						m.tris = append(m.tris, [3]int{q[0], q[1], q[2]}, [3]int{q[0], q[2], q[3]})
					} else {
						m.tris = append(m.tris, [3]int{q[0], q[1], q[3]}, [3]int{q[1], q[2], q[3]})
					}
				}
			}
		}
	}
	return m
}

// edges lists every edge of the mesh once.
func (m closedMesh) edges() [][2]int {
	seen := map[[2]int]bool{}
	var out [][2]int
	for _, tr := range m.tris {
		for k := 0; k < 3; k++ {
			a, b := tr[k], tr[(k+1)%3]
			key := [2]int{min(a, b), max(a, b)}
			if !seen[key] {
				seen[key] = true
				out = append(out, key)
			}
		}
	}
	return out
}

// checkClosed verifies that every edge is shared by exactly two triangles
// with opposite orientations: the mesh is closed and consistently wound.
func (m closedMesh) checkClosed(t *testing.T) {
	count := map[[2]int]int{}
	for _, tr := range m.tris {
		for k := 0; k < 3; k++ {
			count[[2]int{tr[k], tr[(k+1)%3]}]++
		}
	}
	for e, c := range count {
		if c != 1 || count[[2]int{e[1], e[0]}] != 1 {
			t.Fatalf("%s: edge %v used %d times, reverse %d times", m.name, e, c, count[[2]int{e[1], e[0]}])
		}
	}
}

// intersector is the signature shared by the watertight test and the
// float64 Moller-Trumbore used to show that the mesh tests have teeth.
type intersector func(o, d, p0, p1, p2 mgl64.Vec3) (float64, bool)

func watertight(o, d, p0, p1, p2 mgl64.Vec3) (float64, bool) {
	wr := NewWatertightRay(o, d)
	tt, _, _, ok := wr.Intersect(p0, p1, p2, 0, math.Inf(1))
	return tt, ok
}

// mollerTrumbore is the textbook test in float64 with no epsilon (Moller
// and Trumbore, "Fast, Minimum Storage Ray/Triangle Intersection", JGT
// 2(1), 1997): not watertight.
func mollerTrumbore(o, d, p0, p1, p2 mgl64.Vec3) (float64, bool) {
	e1, e2 := p1.Sub(p0), p2.Sub(p0)
	pv := d.Cross(e2)
	det := e1.Dot(pv)
	if det == 0 {
		return 0, false
	}
	inv := 1 / det
	tv := o.Sub(p0)
	u := tv.Dot(pv) * inv
	if u < 0 || u > 1 {
		return 0, false
	}
	qv := tv.Cross(e1)
	v := d.Dot(qv) * inv
	if v < 0 || u+v > 1 {
		return 0, false
	}
	tt := e2.Dot(qv) * inv
	return tt, tt > 0
}

// fusedEdgeFunctions is the watertight test with its products contracted
// into fused multiply-adds, as Go compiles x*y - z on arm64 when nothing
// forbids it: the edge functions of a shared edge are no longer exact
// negations of each other.
func fusedEdgeFunctions(o, d, p0, p1, p2 mgl64.Vec3) (float64, bool) {
	r := NewWatertightRay(o, d)
	kx, ky, kz := r.Kx, r.Ky, r.Kz
	ax, ay, az := p0[kx]-o[kx], p0[ky]-o[ky], p0[kz]-o[kz]
	bx, by, bz := p1[kx]-o[kx], p1[ky]-o[ky], p1[kz]-o[kz]
	cx, cy, cz := p2[kx]-o[kx], p2[ky]-o[ky], p2[kz]-o[kz]
	ax, ay = math.FMA(-r.Sx, az, ax), math.FMA(-r.Sy, az, ay)
	bx, by = math.FMA(-r.Sx, bz, bx), math.FMA(-r.Sy, bz, by)
	cx, cy = math.FMA(-r.Sx, cz, cx), math.FMA(-r.Sy, cz, cy)
	u := math.FMA(-cy, bx, cx*by)
	v := math.FMA(-ay, cx, ax*cy)
	w := math.FMA(-by, ax, bx*ay)
	if (u < 0 || v < 0 || w < 0) && (u > 0 || v > 0 || w > 0) {
		return 0, false
	}
	det := u + v + w
	tt := (u*az + v*bz + w*cz) * r.Sz
	if det == 0 || tt/det <= 0 {
		return 0, false
	}
	return tt / det, true
}

var mutants = []struct {
	name       string
	isect      intersector
	mustLeakOn string // the mesh on which it must leak
}{
	{"Moller-Trumbore", mollerTrumbore, "octasphere"},
	{"fused edge functions", fusedEdgeFunctions, "octasphere"},
}

// firstHit returns the nearest hit over all triangles and the hit count.
func (m closedMesh) firstHit(isect intersector, o, d mgl64.Vec3) (float64, int) {
	best, n := math.Inf(1), 0
	for _, tr := range m.tris {
		if tt, ok := isect(o, d, m.verts[tr[0]], m.verts[tr[1]], m.verts[tr[2]]); ok {
			n++
			best = math.Min(best, tt)
		}
	}
	return best, n
}

// leaks shoots rays from inside the closed mesh at its vertices and edge
// midpoints (many directions each) and in random directions, and rays from
// outside aimed at vertices and edge midpoints from directions that enter
// the mesh (within 60 degrees of every normal that outward(p) lists); it
// returns how many found no triangle, and how many aimed rays hit at a
// distance other than the aimed one.
func (m closedMesh) leaks(isect intersector, rng *rand.Rand, inside func(*rand.Rand) mgl64.Vec3,
	outward func(mgl64.Vec3) []mgl64.Vec3, center mgl64.Vec3, random int) (leaked, wrongT, shot int) {
	var targets []mgl64.Vec3
	targets = append(targets, m.verts...)
	for _, e := range m.edges() {
		targets = append(targets, m.verts[e[0]].Add(m.verts[e[1]]).Mul(0.5))
	}
	shoot := func(o, d mgl64.Vec3, wantT float64) {
		shot++
		tt, n := m.firstHit(isect, o, d)
		if n == 0 {
			leaked++
		} else if wantT > 0 && math.Abs(tt-wantT) > 1e-9 {
			wrongT++
		}
	}
	entering := func(w mgl64.Vec3, normals []mgl64.Vec3) bool {
		for _, n := range normals {
			if w.Dot(n) < 0.5 {
				return false
			}
		}
		return true
	}
	for _, p := range targets {
		// From inside: the centre, and random interior points.
		shoot(center, p.Sub(center), 1)
		for k := 0; k < 3; k++ {
			o := inside(rng)
			shoot(o, p.Sub(o).Mul(0.5+rng.Float64()), 0)
		}
		// From outside, entering the mesh at p.
		normals := outward(p)
		for k := 0; k < 3; k++ {
			w := randUnit(rng)
			for !entering(w, normals) {
				w = randUnit(rng)
			}
			o := p.Add(w.Mul(0.5 + 2*rng.Float64()))
			shoot(o, p.Sub(o), 1)
		}
	}
	for k := 0; k < random; k++ {
		shoot(inside(rng), randUnit(rng), 0)
	}
	return leaked, wrongT, shot
}

// TestWatertightClosedMeshes checks that no ray slips between the triangles
// of closed meshes, with rays exactly through vertices and edges, from
// inside and outside.
func TestWatertightClosedMeshes(t *testing.T) {
	rot, err := Rotate(mgl64.Vec3{0.3, -0.7, 0.2}, 37)
	if err != nil {
		t.Fatal(err)
	}
	xf := Translate(mgl64.Vec3{0.37, -1.21, 2.9}).Mul(rot)
	random := 3000
	if testing.Short() {
		random = 500
	}
	sphere := octasphere(3, xf) // 512 triangles
	cube := cubeGrid(4)         // 192 triangles
	cubeNormals := func(p mgl64.Vec3) []mgl64.Vec3 {
		var normals []mgl64.Vec3
		for a := range 3 {
			if math.Abs(p[a]) == 1 {
				var n mgl64.Vec3
				n[a] = p[a]
				normals = append(normals, n)
			}
		}
		return normals
	}
	sphereCenter := xf.Point(mgl64.Vec3{})
	tests := []struct {
		mesh    closedMesh
		center  mgl64.Vec3
		inside  func(*rand.Rand) mgl64.Vec3
		outward func(mgl64.Vec3) []mgl64.Vec3
	}{
		{sphere, sphereCenter, func(rng *rand.Rand) mgl64.Vec3 {
			return xf.Point(randUnit(rng).Mul(0.8 * math.Cbrt(rng.Float64())))
		}, func(p mgl64.Vec3) []mgl64.Vec3 {
			// The faces at p tilt from the radial direction by less than
			// 15 degrees at level 3.
			return []mgl64.Vec3{p.Sub(sphereCenter).Normalize()}
		}},
		{cube, mgl64.Vec3{}, func(rng *rand.Rand) mgl64.Vec3 {
			// Half the points on the grid's planes, where axis-parallel
			// rays run exactly along edges.
			p := randVec(rng, -0.99, 0.99)
			for a := range 3 {
				if rng.IntN(2) == 0 {
					p[a] = -0.5 + 0.5*float64(rng.IntN(3))
				}
			}
			return p
		}, cubeNormals},
	}
	for _, tc := range tests {
		t.Run(tc.mesh.name, func(t *testing.T) {
			tc.mesh.checkClosed(t)
			rng := rand.New(rand.NewPCG(4, 4))
			leaked, wrongT, shot := tc.mesh.leaks(watertight, rng, tc.inside, tc.outward, tc.center, random)
			if leaked > 0 || wrongT > 0 {
				t.Errorf("%d of %d rays slipped through, %d hit at the wrong distance", leaked, shot, wrongT)
			}
			// Axis-parallel rays from grid points of the cube's interior run
			// along the surface's edges and through its vertices.
			if tc.mesh.name == "cube grid" {
				var axisLeaks, axisShot int
				for _, x := range []float64{-0.5, 0, 0.5} {
					for _, y := range []float64{-0.5, 0, 0.5} {
						for _, z := range []float64{-0.5, 0, 0.5, 0.25} {
							for _, d := range []mgl64.Vec3{{1, 0, 0}, {-1, 0, 0}, {0, 1, 0}, {0, -1, 0}, {0, 0, 1}, {0, 0, -1},
								{1, 1, 0}, {1, -1, 0}, {0, 1, 1}, {1, 0, -1}, {1, 1, 1}, {-1, 1, -1}} {
								axisShot++
								if _, n := tc.mesh.firstHit(watertight, mgl64.Vec3{x, y, z}, d); n == 0 {
									axisLeaks++
								}
							}
						}
					}
				}
				if axisLeaks > 0 {
					t.Errorf("%d of %d axis-parallel and diagonal rays slipped through", axisLeaks, axisShot)
				}
			}
			// Variants that each break one ingredient of watertightness
			// leak through the same rays: the rays probe edges and
			// vertices closely enough to matter.
			for _, mu := range mutants {
				rng = rand.New(rand.NewPCG(4, 4))
				n, _, _ := tc.mesh.leaks(mu.isect, rng, tc.inside, tc.outward, tc.center, random)
				t.Logf("%d rays: watertight leaked %d, %s leaked %d", shot, leaked, mu.name, n)
				if tc.mesh.name == mu.mustLeakOn && n == 0 {
					t.Errorf("the rays are too easy: %s leaked none of %d", mu.name, shot)
				}
			}
		})
	}
}

// TestIntersectNoAllocs checks the hot-path promise.
func TestIntersectNoAllocs(t *testing.T) {
	p0, p1, p2 := mgl64.Vec3{0, 0, 0}, mgl64.Vec3{1, 0, 0}, mgl64.Vec3{0, 1, 0}
	var sink float64
	allocs := testing.AllocsPerRun(100, func() {
		wr := NewWatertightRay(mgl64.Vec3{0.2, 0.2, -1}, mgl64.Vec3{0, 0.1, 1})
		tt, _, _, _ := wr.Intersect(p0, p1, p2, 0, math.Inf(1))
		sink += tt
	})
	if allocs != 0 {
		t.Errorf("%v allocations per intersection", allocs)
	}
	_ = sink
}

func BenchmarkWatertightIntersect(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 5))
	const n = 1024
	tris := make([][3]mgl64.Vec3, n)
	for i := range tris {
		c := randVec(rng, -1, 1)
		tris[i] = [3]mgl64.Vec3{c, c.Add(randVec(rng, -0.5, 0.5)), c.Add(randVec(rng, -0.5, 0.5))}
	}
	wr := NewWatertightRay(mgl64.Vec3{0.1, -2, 0.2}, mgl64.Vec3{0.05, 1, 0.03})
	b.ReportAllocs()
	var hits int
	for i := 0; b.Loop(); i++ {
		tr := &tris[i&(n-1)]
		if _, _, _, ok := wr.Intersect(tr[0], tr[1], tr[2], 0, math.Inf(1)); ok {
			hits++
		}
	}
	_ = hits
}

func BenchmarkNewWatertightRay(b *testing.B) {
	b.ReportAllocs()
	var s float64
	for i := 0; b.Loop(); i++ {
		wr := NewWatertightRay(mgl64.Vec3{0, 0, 0}, mgl64.Vec3{0.3, float64(i&7) - 3.5, 1})
		s += wr.Sz
	}
	_ = s
}
