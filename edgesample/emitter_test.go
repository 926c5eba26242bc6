package edgesample

import (
	"math"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/geom"
	"github.com/invrender/invrender/internal/meshgen"
	"github.com/invrender/invrender/render"
)

func TestJump(t *testing.T) {
	// A box: every edge between two faces at 90 degrees has |n0 - n1| =
	// sqrt(2), clamped to 1; the diagonals of its square sides are
	// coplanar: jumpMin.
	bp, bi := meshgen.Box(mgl64.Vec3{-1, -1, -1}, mgl64.Vec3{1, 1, 1})
	s := newScene(mesh(bp, bi))
	e := Extract(s)
	for i := range e.List {
		want := 1.0
		if !e.Sharp(s, i) {
			want = jumpMin
		}
		if got := e.Jump(s, i); got != want {
			t.Fatalf("box edge %d: Jump %g, want %g", i, got, want)
		}
	}
	// A flat-shaded icosphere: 2 sin(alpha/2) of the dihedral angle.
	ip, ii := meshgen.Icosphere(2, 1, mgl64.Vec3{}, 0)
	s = newScene(mesh(ip, ii))
	e = Extract(s)
	for i := range e.List {
		v0, v1, o0, o1 := e.corners(s, i)
		n0 := v1.Sub(v0).Cross(o0.Sub(v0)).Normalize()
		n1 := v0.Sub(v1).Cross(o1.Sub(v1)).Normalize()
		alpha := math.Acos(math.Min(1, n0.Dot(n1)))
		want := math.Min(1, math.Max(jumpMin, 2*math.Sin(alpha/2)))
		if got := e.Jump(s, i); !near(got, want, 1e-9) {
			t.Fatalf("icosphere edge %d: Jump %g, want %g", i, got, want)
		}
		if got := e.Jump(s, i); got >= 1 || got <= jumpMin {
			t.Fatalf("icosphere edge %d: Jump %g not strictly inside (jumpMin, 1)", i, got)
		}
		// JumpWeight: 1 from where the edge is a silhouette, the Jump
		// from where only its Sharpness shows, 0 elsewhere.
		p := geom.SquareToUniformSphere(mgl64.Vec2{float64(i%7) / 7, float64(i%11) / 11}).Mul(2.5)
		jw := e.JumpWeight(s, i, p)
		switch {
		case e.Silhouette(s, i, p):
			if jw != 1 {
				t.Fatalf("silhouette edge %d: JumpWeight %g", i, jw)
			}
		case e.Candidate(s, i, p):
			if jw != e.Jump(s, i) {
				t.Fatalf("front edge %d: JumpWeight %g, Jump %g", i, jw, e.Jump(s, i))
			}
		default:
			if jw != 0 {
				t.Fatalf("edge %d, not a candidate: JumpWeight %g", i, jw)
			}
		}
	}
	// A seam of vertex normals: the larger end point difference.
	pos := []mgl64.Vec3{{0, 0, 0}, {1, 0, 0}, {0, 1, 0}, {0, -1, 0}, {0, 0, 0}, {1, 0, 0}}
	up, tilt := mgl64.Vec3{0, 0, 1}, mgl64.Vec3{0, 0.3, 1}.Normalize()
	s = newScene(testShape{pos: pos, idx: []int32{0, 1, 2, 5, 4, 3}, normals: []mgl64.Vec3{up, up, up, up, tilt, up}})
	e = Extract(s)
	seam := -1
	for i, ed := range e.List {
		if ed.F1 >= 0 {
			seam = i
		}
	}
	if want := up.Sub(tilt).Len(); seam < 0 || !near(e.Jump(s, seam), want, 1e-12) {
		t.Fatalf("seam: Jump %g, want %g", e.Jump(s, seam), want)
	}
}

func TestEmitterClusters(t *testing.T) {
	s := testScene()
	cl := buildEmitters(s)
	if len(cl) != 1 {
		t.Fatalf("%d clusters for one quad light", len(cl))
	}
	c := &cl[0]
	// Power: pi * area * luminance, area 0.64.
	if !near(c.power, math.Pi*0.64*render.Luminance(mgl64.Vec3{1, 1, 1}), 1e-12) {
		t.Fatalf("power %g", c.power)
	}
	if c.nc != 4 {
		t.Fatalf("the flat quad's box has %d corners", c.nc)
	}
	// The corners go round the quad (|x|, |z| = 0.4 at y = 2).
	for k := 0; k < 4; k++ {
		q := c.corners[k]
		if !near(math.Abs(q[0]), 0.4, 1e-6) || !near(math.Abs(q[2]), 0.4, 1e-6) || !near(q[1], 2, 1e-9) {
			t.Fatalf("corner %d at %v", k, q)
		}
		if next := c.corners[(k+1)%4]; !near(next.Sub(q).Len(), 0.8, 1e-6) {
			t.Fatalf("corners %d and %d are not neighbours", k, (k+1)%4)
		}
	}
	// It faces down.
	if !c.facing(mgl64.Vec3{0.3, 0.5, 0.1}) || c.facing(mgl64.Vec3{0.3, 2.5, 0.1}) {
		t.Fatal("the quad's facing test is wrong")
	}
	// An emissive icosphere is split into clusters of narrow normal cones
	// (or maxClusters of them); every triangle's directions from outside
	// points lie in its cluster's cone.
	ip, ii := meshgen.Icosphere(2, 0.3, mgl64.Vec3{0.2, 1, 0.1}, 0)
	s2 := newScene(testShape{pos: ip, idx: ii, emitter: true})
	cl = buildEmitters(s2)
	if len(cl) < 8 || len(cl) > maxClusters {
		t.Fatalf("%d clusters for an emissive icosphere", len(cl))
	}
	total := 0.0
	for i := range cl {
		total += cl[i].power
	}
	area := 0.0
	for tr := 0; tr < len(ii)/3; tr++ {
		area += geom.TriangleArea(ip[ii[3*tr]], ip[ii[3*tr+1]], ip[ii[3*tr+2]])
	}
	if !near(total, math.Pi*area*render.Luminance(mgl64.Vec3{1, 1, 1}), 1e-9) {
		t.Fatalf("total power %g, want pi * %g", total, area)
	}
	r := geom.NewRNG(61, 0, 0, 0)
	for trial := 0; trial < 200; trial++ {
		p := mgl64.Vec3{0.2, 1, 0.1}.Add(geom.SquareToUniformSphere(mgl64.Vec2{r.Float64(), r.Float64()}).Mul(0.6 + 2*r.Float64()))
		for i := range cl {
			cn, ok := cl[i].cone(p)
			if !ok {
				continue
			}
			for k := 0; k < cl[i].nc; k++ {
				if d := cl[i].corners[k].Sub(p); !cn.inside(d) {
					t.Fatalf("cluster %d: corner %d outside its cone from %v", i, k, p)
				}
			}
		}
	}
}

// TestConeInterval checks coneInterval against a fine scan of the
// membership test, for circular cones and pyramids.
func TestConeInterval(t *testing.T) {
	r := geom.NewRNG(62, 0, 0, 0)
	rv := func(s float64) mgl64.Vec3 {
		return mgl64.Vec3{s * (2*r.Float64() - 1), s * (2*r.Float64() - 1), s * (2*r.Float64() - 1)}
	}
	quad := emitCluster{nc: 4, corners: [8]mgl64.Vec3{{-0.5, 2, -0.3}, {0.5, 2, -0.3}, {0.5, 2, 0.3}, {-0.5, 2, 0.3}}, anyFacing: true}
	nonEmpty := 0
	for trial := 0; trial < 400; trial++ {
		p := rv(1)
		n := geom.SquareToUniformSphere(mgl64.Vec2{r.Float64(), r.Float64()})
		var c dirCone
		if trial%2 == 0 {
			axis := geom.SquareToUniformSphere(mgl64.Vec2{r.Float64(), r.Float64()})
			th := 0.05 + 1.2*r.Float64()
			c = dirCone{axis: axis, cosT: math.Cos(th), sinT: math.Sin(th)}
		} else {
			var ok bool
			if c, ok = quad.cone(p); !ok || c.np != 4 {
				continue
			}
		}
		// Edges through the cone's axis, and anywhere near it.
		mid := p.Add(c.axis.Mul(0.5 + 2*r.Float64()))
		d := rv(2)
		v0, v1 := mid.Sub(d.Mul(r.Float64())), mid.Add(d.Mul(r.Float64()))
		if trial%4 >= 2 {
			v0 = mid.Add(rv(1.5))
			v1 = v0.Add(rv(2))
		}
		lo, hi, ok := coneInterval(v0, v1, p, n, &c)
		in := func(s float64) bool {
			x := v0.Add(v1.Sub(v0).Mul(s)).Sub(p)
			return n.Dot(x) > 0 && c.inside(x)
		}
		const grid = 4000
		first, last := -1, -1
		for k := 0; k <= grid; k++ {
			if in(float64(k) / grid) {
				if first < 0 {
					first = k
				}
				last = k
			}
		}
		if first < 0 {
			if ok && hi-lo > 2.0/grid {
				t.Fatalf("trial %d: interval [%g, %g], scan finds nothing", trial, lo, hi)
			}
			continue
		}
		nonEmpty++
		if !ok {
			t.Fatalf("trial %d: no interval, scan finds [%g, %g]", trial, float64(first)/grid, float64(last)/grid)
		}
		if lo > float64(first)/grid+1e-9 || hi < float64(last)/grid-1e-9 ||
			lo < float64(first-1)/grid-1e-9 || hi > float64(last+1)/grid+1e-9 {
			t.Fatalf("trial %d: interval [%g, %g], scan [%g, %g]", trial, lo, hi, float64(first)/grid, float64(last)/grid)
		}
		// Inside the interval every point qualifies (convexity).
		for k := 1; k < 16; k++ {
			if s := lo + (hi-lo)*float64(k)/16; !in(s) {
				t.Fatalf("trial %d: S = %g inside [%g, %g] is outside the cone", trial, s, lo, hi)
			}
		}
	}
	if nonEmpty < 100 {
		t.Fatalf("only %d edges met a cone", nonEmpty)
	}
}

// TestConeFactorConservative checks that the emitter strategy's restricted
// descent never culls a node holding an edge that passes through the
// cluster's cone, in the sphere benchmark's geometry.
func TestConeFactorConservative(t *testing.T) {
	s := testScene()
	e := Extract(s)
	h := NewSecondary(s, e, SecondaryOptions{})
	r := geom.NewRNG(63, 0, 0, 0)
	culled, tested := 0, 0
	for q := 0; q < 60; q++ {
		p, n := randomQuery(&r)
		var ev emitView
		if h.emitterView(p, n, &ev) == 0 {
			continue
		}
		tested++
		cone := &ev.cones[0]
		for ni := range h.nodes {
			nd := &h.nodes[ni]
			var g nodeGeo
			nd.geometry(vec(p), &g)
			if coneFactor(nd, &g, vec(p), cone) > 0 {
				continue
			}
			culled++
			for k := nd.start; k < nd.start+nd.count; k++ {
				rec := &h.recs[k]
				if _, _, ok := coneInterval(rec.v0.mgl(), rec.v1.mgl(), p, n, cone); ok {
					t.Fatalf("from %v: node %d culled but edge %d passes through the cone", p, ni, rec.edge)
				}
			}
		}
	}
	if tested < 20 || culled == 0 {
		t.Fatalf("%d queries with the emitter strategy, %d nodes culled", tested, culled)
	}
}

func TestSecondaryEmitterOptions(t *testing.T) {
	s := testScene()
	e := Extract(s)
	for _, c := range []struct {
		o    SecondaryOptions
		want float64
	}{
		{SecondaryOptions{}, DefaultEmitterFraction},
		{SecondaryOptions{EmitterFraction: 0.3}, 0.3},
		{SecondaryOptions{EmitterFraction: 1}, maxEmitterFraction},
		{SecondaryOptions{EmitterFraction: -1}, 0},
		{SecondaryOptions{EmitterFraction: math.NaN()}, 0},
		{SecondaryOptions{NoEmitter: true}, 0},
		{SecondaryOptions{Uniform: true}, 0},
	} {
		if got := NewSecondary(s, e, c.o).EmitterFraction(); got != c.want {
			t.Fatalf("%+v: emitter fraction %g, want %g", c.o, got, c.want)
		}
	}
	// No emitters: no emitter strategy.
	bp, bi := meshgen.Box(mgl64.Vec3{-1, -1, -1}, mgl64.Vec3{1, 1, 1})
	dark := newScene(mesh(bp, bi))
	if got := NewSecondary(dark, Extract(dark), SecondaryOptions{}).EmitterFraction(); got != 0 {
		t.Fatalf("emitter fraction %g without emitters", got)
	}
	// Behind a one-sided light the strategy does not apply.
	h := NewSecondary(s, e, SecondaryOptions{})
	var ev emitView
	if q := h.emitterView(mgl64.Vec3{0, 3, 0}, mgl64.Vec3{0, -1, 0}, &ev); q != 0 {
		t.Fatalf("behind the light: emitter probability %g", q)
	}
	if q := h.emitterView(mgl64.Vec3{0.2, 0, 0.3}, mgl64.Vec3{0, 1, 0}, &ev); q != DefaultEmitterFraction {
		t.Fatalf("under the light: emitter probability %g", q)
	}
}
