package optimize_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/adjoint"
	"github.com/invrender/invrender/geom"
	"github.com/invrender/invrender/internal/meshgen"
	"github.com/invrender/invrender/optimize"
	"github.com/invrender/invrender/render"
	"github.com/invrender/invrender/scenes"
)

// closestOnTriangle returns the point of triangle abc closest to p, by the
// Voronoi-region walk of Ericson, "Real-Time Collision Detection" (2005),
// section 5.1.5: p projects onto a vertex, an edge or the interior,
// decided from the signs of the barycentric-like dot products, so no
// case needs a square root. A degenerate triangle (collinear corners)
// falls back to the closest of its three edges.
func closestOnTriangle(p, a, b, c mgl64.Vec3) mgl64.Vec3 {
	ab, ac, ap := b.Sub(a), c.Sub(a), p.Sub(a)
	d1, d2 := ab.Dot(ap), ac.Dot(ap)
	if d1 <= 0 && d2 <= 0 {
		return a // vertex region of a
	}
	bp := p.Sub(b)
	d3, d4 := ab.Dot(bp), ac.Dot(bp)
	if d3 >= 0 && d4 <= d3 {
		return b // vertex region of b
	}
	vc := d1*d4 - d3*d2
	if vc <= 0 && d1 >= 0 && d3 <= 0 {
		return a.Add(ab.Mul(d1 / (d1 - d3))) // edge region of ab
	}
	cp := p.Sub(c)
	d5, d6 := ab.Dot(cp), ac.Dot(cp)
	if d6 >= 0 && d5 <= d6 {
		return c // vertex region of c
	}
	vb := d5*d2 - d1*d6
	if vb <= 0 && d2 >= 0 && d6 <= 0 {
		return a.Add(ac.Mul(d2 / (d2 - d6))) // edge region of ac
	}
	va := d3*d6 - d5*d4
	if va <= 0 && d4-d3 >= 0 && d5-d6 >= 0 {
		return b.Add(c.Sub(b).Mul((d4 - d3) / ((d4 - d3) + (d5 - d6)))) // edge region of bc
	}
	den := va + vb + vc
	if !(den > 0) {
		// Collinear corners: the closest point lies on an edge.
		best, bd := a, math.Inf(1)
		for _, e := range [3][2]mgl64.Vec3{{a, b}, {b, c}, {c, a}} {
			q := closestOnSegment(p, e[0], e[1])
			if d := q.Sub(p).Len(); d < bd {
				best, bd = q, d
			}
		}
		return best
	}
	v, w := vb/den, vc/den
	return a.Add(ab.Mul(v)).Add(ac.Mul(w)) // interior
}

// closestOnSegment returns the point of segment ab closest to p.
func closestOnSegment(p, a, b mgl64.Vec3) mgl64.Vec3 {
	ab := b.Sub(a)
	l2 := ab.Dot(ab)
	if l2 == 0 {
		return a
	}
	t := math.Min(1, math.Max(0, p.Sub(a).Dot(ab)/l2))
	return a.Add(ab.Mul(t))
}

// surface is a triangle mesh prepared for distance queries: each
// triangle's bounding sphere (centred at its centroid) lets a query skip
// the triangles that cannot be closer than the best found so far.
type surface struct {
	pos    []mgl64.Vec3
	idx    []int32
	centre []mgl64.Vec3
	radius []float64
}

func newSurface(pos []mgl64.Vec3, idx []int32) *surface {
	s := &surface{pos: pos, idx: idx}
	for f := 0; f+2 < len(idx); f += 3 {
		a, b, c := pos[idx[f]], pos[idx[f+1]], pos[idx[f+2]]
		m := a.Add(b).Add(c).Mul(1.0 / 3)
		r := math.Max(m.Sub(a).Len(), math.Max(m.Sub(b).Len(), m.Sub(c).Len()))
		s.centre = append(s.centre, m)
		s.radius = append(s.radius, r)
	}
	return s
}

// distance returns the distance from p to the surface: the smallest
// point-to-triangle distance over all triangles.
func (s *surface) distance(p mgl64.Vec3) float64 {
	best := math.Inf(1)
	for t := range s.centre {
		if p.Sub(s.centre[t]).Len()-s.radius[t] >= best {
			continue // no point of the triangle is closer
		}
		f := 3 * t
		q := closestOnTriangle(p, s.pos[s.idx[f]], s.pos[s.idx[f+1]], s.pos[s.idx[f+2]])
		best = math.Min(best, q.Sub(p).Len())
	}
	return best
}

// meanDistance returns the mean distance from the points to the surface.
func (s *surface) meanDistance(pts []mgl64.Vec3) float64 {
	sum := 0.0
	for _, p := range pts {
		sum += s.distance(p)
	}
	return sum / float64(len(pts))
}

// TestClosestOnTriangle checks the point-to-triangle distance against a
// brute-force search over a fine barycentric grid, on random triangles
// (slivers and obtuse ones included) and points in every Voronoi region,
// plus exact cases.
func TestClosestOnTriangle(t *testing.T) {
	a, b, c := mgl64.Vec3{0, 0, 0}, mgl64.Vec3{1, 0, 0}, mgl64.Vec3{0, 1, 0}
	exact := []struct {
		p, want mgl64.Vec3
	}{
		{mgl64.Vec3{0.2, 0.3, 0.5}, mgl64.Vec3{0.2, 0.3, 0}},   // interior, above
		{mgl64.Vec3{0.2, 0.3, -2}, mgl64.Vec3{0.2, 0.3, 0}},    // interior, below
		{mgl64.Vec3{-1, -1, 1}, a},                             // vertex a
		{mgl64.Vec3{3, -1, 0}, b},                              // vertex b
		{mgl64.Vec3{-0.5, 4, 0}, c},                            // vertex c
		{mgl64.Vec3{0.5, -2, 1}, mgl64.Vec3{0.5, 0, 0}},        // edge ab
		{mgl64.Vec3{-3, 0.25, 0}, mgl64.Vec3{0, 0.25, 0}},      // edge ac
		{mgl64.Vec3{1, 1, 0.3}, mgl64.Vec3{0.5, 0.5, 0}},       // edge bc
		{mgl64.Vec3{0.25, 0.25, 0}, mgl64.Vec3{0.25, 0.25, 0}}, // on the triangle
	}
	for _, e := range exact {
		if got := closestOnTriangle(e.p, a, b, c); got.Sub(e.want).Len() > 1e-12 {
			t.Errorf("closest to %v: %v, want %v", e.p, got, e.want)
		}
	}
	// Collinear corners: the distance to the segment they span.
	if got := closestOnTriangle(mgl64.Vec3{0.5, 1, 0}, a, b, mgl64.Vec3{2, 0, 0}); got.Sub(mgl64.Vec3{0.5, 0, 0}).Len() > 1e-12 {
		t.Errorf("degenerate triangle: %v", got)
	}

	rng := geom.NewRNG(1, 2, 3, 4)
	rv := func(s float64) mgl64.Vec3 {
		return mgl64.Vec3{s * (2*rng.Float64() - 1), s * (2*rng.Float64() - 1), s * (2*rng.Float64() - 1)}
	}
	const n = 200 // grid steps along each barycentric axis
	for trial := 0; trial < 200; trial++ {
		a, b, c := rv(1), rv(1), rv(1)
		if trial%4 == 0 {
			c = a.Add(b.Sub(a).Mul(rng.Float64())).Add(rv(0.02)) // a sliver
		}
		p := rv(2)
		got := closestOnTriangle(p, a, b, c)
		d := got.Sub(p).Len()
		// The answer lies on the triangle (its barycentric coordinates are
		// in [0, 1] and the point is in the plane) ...
		if onTriangle(got, a, b, c) > 1e-9 {
			t.Fatalf("trial %d: %v is not on the triangle %v %v %v", trial, got, a, b, c)
		}
		// ... and no grid point is closer. The grid's points are at most
		// one cell diagonal from any point of the triangle, so the true
		// minimum is at most that much below the grid's.
		grid := math.Inf(1)
		for i := 0; i <= n; i++ {
			for j := 0; i+j <= n; j++ {
				u, v := float64(i)/n, float64(j)/n
				q := a.Add(b.Sub(a).Mul(u)).Add(c.Sub(a).Mul(v))
				grid = math.Min(grid, q.Sub(p).Len())
			}
		}
		cell := (b.Sub(a).Len() + c.Sub(a).Len()) / n
		if d > grid+1e-12 || d < grid-cell {
			t.Errorf("trial %d: distance %.9f, grid %.9f (cell %.2g)", trial, d, grid, cell)
		}
	}
}

// onTriangle returns how far q is from lying on triangle abc: its
// distance from the plane plus how far its barycentric coordinates fall
// outside [0, 1]; 0 on the triangle.
func onTriangle(q, a, b, c mgl64.Vec3) float64 {
	n := b.Sub(a).Cross(c.Sub(a))
	nn := n.Dot(n)
	if nn == 0 {
		return 0
	}
	off := math.Abs(q.Sub(a).Dot(n)) / math.Sqrt(nn)
	// Barycentric coordinates from the sub-triangles' signed areas.
	u := b.Sub(q).Cross(c.Sub(q)).Dot(n) / nn
	v := c.Sub(q).Cross(a.Sub(q)).Dot(n) / nn
	w := 1 - u - v
	out := 0.0
	for _, x := range []float64{u, v, w} {
		out += math.Max(0, -x) + math.Max(0, x-1)
	}
	return off + out
}

// The shape demo's object: an icosphere of radius 0.5 resting on the
// plane of scenes.SphereOnPlane, and the target it is deformed into.
var shapeCentre = mgl64.Vec3{0, 0.5, 0}

// shapeTarget returns the target mesh of the shape demo: a finer
// icosphere (subdivision 4, so the target is not a pose of the optimised
// mesh) of radius 0.5 (1 + lobes cos(3 phi) sin^2(theta)) (theta from the
// vertical, phi about it: three lobes around the equator), with meshgen's
// bump, stretched by sx along x and sz along z about the centre, so that
// it still rests on the plane.
func shapeTarget(lobes, bump, sx, sz float64) ([]mgl64.Vec3, []int32) {
	pos, idx := meshgen.Icosphere(4, 0.5, mgl64.Vec3{}, bump)
	for i, p := range pos {
		d := p.Normalize()
		phi := math.Atan2(d[0], d[2])
		r := 1 + lobes*math.Cos(3*phi)*(1-d[1]*d[1])
		pos[i] = mgl64.Vec3{sx * r * p[0], p[1], sz * r * p[2]}.Add(shapeCentre)
	}
	return pos, idx
}

// shapeScene returns the shape demo's scene: SphereOnPlane with the given
// object mesh and views sensors of size x size pixels on a ring around
// the object, at distance 2.6 from its centre, alternately 25 and 55
// degrees above the horizon, at evenly spaced azimuths starting in front
// (+z), named sensor, view1, view2, ...
func shapeScene(pos []mgl64.Vec3, idx []int32, views, size int) *render.Scene {
	s := scenes.SphereOnPlane()
	s.Shapes[0].Positions, s.Shapes[0].Indices = pos, idx
	first := *s.Sensors[0]
	s.Sensors = s.Sensors[:0]
	for k := range views {
		sn := first
		if k > 0 {
			sn.Name = fmt.Sprintf("view%d", k)
		}
		az := 2 * math.Pi * float64(k) / float64(views)
		el := 25.0
		if k%2 == 1 {
			el = 55
		}
		el *= math.Pi / 180
		const r = 2.6
		sn.Target = shapeCentre
		sn.Origin = shapeCentre.Add(mgl64.Vec3{r * math.Cos(el) * math.Sin(az), r * math.Sin(el), r * math.Cos(el) * math.Cos(az)})
		sn.Width, sn.Height = size, size
		s.Sensors = append(s.Sensors, &sn)
	}
	return s
}

// shapeDemo is a configuration of the shape demo.
type shapeDemo struct {
	size, views, viewsPerIteration, iterations int
	spp, backwardSPP, targetSPP                int
	subdiv                                     int // of the optimised icosphere
	lobes, bump, sx, sz                        float64
	lr, lambda                                 float64
	loss                                       optimize.Loss
	seed                                       uint64
}

// shapeResult is what a run of the shape demo measured.
type shapeResult struct {
	before, after       float64 // mean distance, optimised vertices to the target's surface
	beforeRev, afterRev float64 // mean distance, target vertices to the optimised surface
	secondsPerIteration float64
	res                 *optimize.RunResult
}

// runShapeDemo renders the targets of cfg and deforms the icosphere
// towards them.
func runShapeDemo(t *testing.T, cfg shapeDemo) shapeResult {
	t.Helper()
	tpos, tidx := shapeTarget(cfg.lobes, cfg.bump, cfg.sx, cfg.sz)
	ts := shapeScene(tpos, tidx, cfg.views, cfg.size)
	var targets []optimize.Target
	for v := range cfg.views {
		targets = append(targets, optimize.Target{Sensor: v, Image: renderTarget(t, ts, v, cfg.targetSPP, 100+uint64(v))})
	}
	pos, idx := meshgen.Icosphere(cfg.subdiv, 0.5, shapeCentre, 0)
	s := shapeScene(pos, idx, cfg.views, cfg.size)
	ps, err := adjoint.NewParams(s)
	if err != nil {
		t.Fatal(err)
	}
	if err := ps.Update(); err != nil {
		t.Fatal(err)
	}
	tsurf := newSurface(tpos, tidx)
	var out shapeResult
	out.before = tsurf.meanDistance(pos)
	out.beforeRev = newSurface(pos, idx).meanDistance(tpos)

	const key = "object.vertex_positions"
	res, spi := demoRun(t, optimize.Config{
		Params:            ps,
		Keys:              []optimize.KeyRate{{Key: key, LR: cfg.lr}},
		Targets:           targets,
		Loss:              cfg.loss,
		SPP:               cfg.spp,
		BackwardSPP:       cfg.backwardSPP,
		Iterations:        cfg.iterations,
		ViewsPerIteration: cfg.viewsPerIteration,
		Schedule:          optimize.Cosine(cfg.iterations, 0.1),
		LargeSteps:        cfg.lambda,
		Seed:              cfg.seed + *demoSeed,
	})
	x := res.Values[key]
	got := make([]mgl64.Vec3, len(x)/3)
	for i := range got {
		got[i] = mgl64.Vec3{x[3*i], x[3*i+1], x[3*i+2]}
	}
	out.after = tsurf.meanDistance(got)
	out.afterRev = newSurface(got, idx).meanDistance(tpos)
	out.secondsPerIteration = spi
	out.res = res
	return out
}

// TestDemoShape is demo 5: an icosphere (subdivision 3, 642 vertices,
// radius 0.5) deformed into a target blob seen from six views: the sphere
// with three lobes around its equator (radius 0.5 (1 + 0.15 cos(3 phi))
// there), stretched by 1.2 along x and squashed to 0.8 along z, rendered
// as a finer mesh (subdivision 4, so that no pose of the optimised mesh
// reproduces it exactly). The cameras sit on a ring around the object,
// alternately 25 and 55 degrees up, and each iteration renders two of them
// (ViewsPerIteration). object.vertex_positions moves under the large-steps
// reparameterisation (lambda 20, uniform Adam; Nicolet et al. 2021), which
// keeps the mesh smooth and lets the silhouettes move whole regions at
// once, and the pyramid loss sees the silhouettes from afar.
//
// Success is the mean distance from the optimised vertices to the target's
// surface (point to triangle, closestOnTriangle): it starts at 0.045 and
// must fall below a quarter of that (it ends near 0.15 of it over four run
// seeds); the mean distance from the target's vertices to the optimised
// surface, which would catch a mesh that covers only part of the target,
// must fall as much.
//
// Fine detail is out of reach of this budget: with meshgen's bump (its
// sin(9x) sin(11y) sin(13z) dimples, 5-6 across the object, amplitude
// 0.05: shapeDemo{bump: 0.1, sx: 1.3, sz: 0.75}) on the stretched sphere,
// the same run recovers the stretch but not
// the dimples, and the distance stalls near a third of the start. The
// preconditioner M = I + 20 L damps the dimples' displacement field about
// 110-fold (its Rayleigh quotient on this mesh), the lobes ninefold and
// the stretch fivefold; Nicolet et al. run thousands of iterations and
// remesh to reach such detail.
//
// The short version (a 32-pixel film, four views, 60 iterations) must
// bring the distances below 0.4 of the start: it ends near a quarter.
func TestDemoShape(t *testing.T) {
	cfg := shapeDemo{
		size: 48, views: 6, viewsPerIteration: 2, iterations: 100,
		spp: 8, backwardSPP: 4, targetSPP: 256, subdiv: 3,
		lobes: 0.15, sx: 1.2, sz: 0.8,
		lr: 0.04, lambda: 20, loss: optimize.Pyramid(0), seed: 3,
	}
	factor := 0.25
	if testing.Short() {
		cfg.size, cfg.views, cfg.iterations = 32, 4, 60
		factor = 0.4
	}
	r := runShapeDemo(t, cfg)
	t.Logf("%dx%d films, %d views (%d per iteration), %d iterations, %.3f s/iteration (%s)",
		cfg.size, cfg.size, cfg.views, cfg.viewsPerIteration, r.res.Iterations, r.secondsPerIteration, threadsLabel())
	t.Logf("mean distance of the vertices to the target's surface: %.4f before, %.4f after (%.3f of the start); of the target's vertices to the mesh: %.4f before, %.4f after (%.3f)",
		r.before, r.after, r.after/r.before, r.beforeRev, r.afterRev, r.afterRev/r.beforeRev)
	if !(r.after < factor*r.before) || !(r.afterRev < factor*r.beforeRev) {
		t.Errorf("mean distances %.4f -> %.4f and %.4f -> %.4f, want each below %.2f of the start", r.before, r.after, r.beforeRev, r.afterRev, factor)
	}
}
