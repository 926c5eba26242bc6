package adjoint_test

import (
	"context"
	"math"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/adjoint"
	"github.com/invrender/invrender/render"
	"github.com/invrender/invrender/scenes"
)

// Checks of the boundary (edge sampling) term: first against exact answers,
// then against finite differences on the benchmark scenes.

// clippedArea returns the area (in pixels) of the triangle's projection
// clipped to the film rectangle (Sutherland-Hodgman).
func clippedArea(cam *render.Camera, p [3]mgl64.Vec3) float64 {
	poly := make([]mgl64.Vec2, 0, 3)
	for _, v := range p {
		x, y, _ := cam.Project(v)
		poly = append(poly, mgl64.Vec2{x, y})
	}
	W, H := float64(cam.Width), float64(cam.Height)
	clip := func(poly []mgl64.Vec2, inside func(mgl64.Vec2) float64) []mgl64.Vec2 {
		var out []mgl64.Vec2
		for i := range poly {
			a, b := poly[i], poly[(i+1)%len(poly)]
			da, db := inside(a), inside(b)
			if da >= 0 {
				out = append(out, a)
			}
			if (da >= 0) != (db >= 0) {
				t := da / (da - db)
				out = append(out, a.Add(b.Sub(a).Mul(t)))
			}
		}
		return out
	}
	poly = clip(poly, func(v mgl64.Vec2) float64 { return v[0] })
	poly = clip(poly, func(v mgl64.Vec2) float64 { return W - v[0] })
	poly = clip(poly, func(v mgl64.Vec2) float64 { return v[1] })
	poly = clip(poly, func(v mgl64.Vec2) float64 { return H - v[1] })
	area := 0.0
	for i := range poly {
		a, b := poly[i], poly[(i+1)%len(poly)]
		area += a[0]*b[1] - a[1]*b[0]
	}
	return math.Abs(area) / 2
}

// checkTriangleArea compares the gradient of the image sum of the emissive
// triangle scene (radiance 1 on black, box filter: the sum of each channel
// is the projected area in pixels) with the derivative of that area.
func checkTriangleArea(t *testing.T, s *render.Scene) {
	ps := newParams(t, s)
	cam, err := render.NewCamera(s.Sensors[0])
	if err != nil {
		t.Fatal(err)
	}
	sh := s.Shapes[0]
	p := [3]mgl64.Vec3{sh.Positions[0], sh.Positions[1], sh.Positions[2]}
	// The interior term is zero here (constant emission); the primary edge
	// samples carry everything. They are stratified (a rotated
	// low-discrepancy sequence), so 4 per pixel (16384 in all) bring every
	// coordinate within about 0.1% of the exact derivative; 2% leaves room
	// for other seeds.
	key := "triangle.vertex_positions"
	_, err = adjoint.Backward(context.Background(), ps, []string{key}, ones(cam.Width, cam.Height),
		adjoint.Options{SPP: 1, Seed: 3, SeedSet: true, PrimaryEdgeSamples: 4})
	if err != nil {
		t.Fatal(err)
	}
	g := ps.Get(key).Grad
	for v := 0; v < 3; v++ {
		for k := 0; k < 3; k++ {
			const h = 1e-6
			pp, pm := p, p
			pp[v][k] += h
			pm[v][k] -= h
			want := 3 * (clippedArea(&cam, pp) - clippedArea(&cam, pm)) / (2 * h)
			got := g[3*v+k]
			t.Logf("vertex %d coordinate %d: gradient %.5g, area derivative %.5g", v, k, got, want)
			if math.Abs(got-want) > 0.02*math.Abs(want)+1e-3 {
				t.Errorf("vertex %d coordinate %d: gradient %.5g, area derivative %.5g (off by %.2f%%)", v, k, got, want, 100*math.Abs(got/want-1))
			}
		}
	}
}

func TestEdgeEmissiveTriangleArea(t *testing.T) {
	checkTriangleArea(t, scenes.EmissiveTriangle())
}

func TestEdgeEmissiveTriangleClipped(t *testing.T) {
	s := scenes.EmissiveTriangle()
	// Shift the triangle so its right part leaves the film.
	for i := range s.Shapes[0].Positions {
		s.Shapes[0].Positions[i] = s.Shapes[0].Positions[i].Add(mgl64.Vec3{0.75, 0.2, 0})
	}
	cam, _ := render.NewCamera(s.Sensors[0])
	sh := s.Shapes[0]
	full := 0.0
	{
		var q [3]mgl64.Vec2
		for i, v := range sh.Positions {
			x, y, _ := cam.Project(v)
			q[i] = mgl64.Vec2{x, y}
		}
		a, b := q[1].Sub(q[0]), q[2].Sub(q[0])
		full = math.Abs(a[0]*b[1]-a[1]*b[0]) / 2
	}
	clipped := clippedArea(&cam, [3]mgl64.Vec3{sh.Positions[0], sh.Positions[1], sh.Positions[2]})
	if !(clipped < 0.9*full && clipped > 0.2*full) {
		t.Fatalf("test setup: clipped area %.1f of %.1f pixels is not partly outside", clipped, full)
	}
	checkTriangleArea(t, s)
}

// edgeCheck compares the gradient (8 seeds) with central differences (8
// seeds, same random numbers on both sides) within 3 standard errors + 2%.
// The boundary term's per-sample values are heavy-tailed (a rare edge
// sample with a small density carries a large value), so the standard
// error over a few seeds of a low sample count understates the spread:
// the checks use 64 samples per pixel on small films instead.
func edgeCheck(t *testing.T, s *render.Scene, cases []gradCase, spp, fdSPP int, o adjoint.Options) {
	ps := newParams(t, s)
	checkAgainstFD(t, ps, cases, spp, fdSPP, 8, 0.02, o)
}

func TestEdgeOccluderScene(t *testing.T) {
	if testing.Short() {
		t.Skip("finite differences over 8 seeds")
	}
	edgeCheck(t, small(scenes.OccluderScene(), 48), []gradCase{
		{"occluder.translation", []int{0, 1, 2}, 0.01},
		{"light.translation", []int{0, 1, 2}, 0.01},
	}, 64, 64, adjoint.Options{})
}

func TestEdgeSphere(t *testing.T) {
	if testing.Short() {
		t.Skip("finite differences over 8 seeds")
	}
	edgeCheck(t, small(scenes.SphereOnPlane(), 48), []gradCase{
		{"object.translation", []int{0, 1, 2}, 0.01},
		{"light.translation", []int{0, 1, 2}, 0.02},
		{"sensor.origin", []int{0, 1, 2}, 0.01},
		{"sensor.target", []int{0, 1}, 0.004},
		{"sensor.fov", []int{0}, 0.2},
	}, 64, 64, adjoint.Options{})
}

func TestEdgeCbox(t *testing.T) {
	if testing.Short() {
		t.Skip("finite differences over 8 seeds")
	}
	s := small(scenes.CornellBox(), 48)
	ps := newParams(t, s)
	// The boxes rest on the floor. At a contact the image's derivative is
	// one-sided (lifting a box reveals the floor beneath it, lowering it
	// sinks its bottom edges into the floor), and a central difference
	// averages two different one-sided derivatives. So the boxes are
	// lifted (rotations about the centroid tilt the bottom edges up and
	// down too). A thin gap is nearly as bad: the shadow the box's bottom
	// edge casts on the floor just in front of it is then a sub-pixel
	// feature whose rare, large edge samples make the estimate's spread
	// heavy-tailed; 10 cm keeps the check well conditioned.
	for _, k := range []string{"tallbox.translation", "shortbox.translation"} {
		ps.Get(k).Value[1] = 0.1
	}
	if err := ps.Update(); err != nil {
		t.Fatal(err)
	}
	checkAgainstFD(t, ps, []gradCase{
		{"tallbox.translation", []int{0, 1, 2}, 0.01},
		{"shortbox.rotation", []int{0, 1, 2}, 0.01},
	}, 64, 64, 8, 0.02, adjoint.Options{})
}

// Without the boundary term the translation gradient of the sphere is wrong:
// outside the finite difference's interval. The boundary term does the work.
func TestEdgeBoundaryTermMatters(t *testing.T) {
	if testing.Short() {
		t.Skip("finite differences over 8 seeds")
	}
	ps := newParams(t, small(scenes.SphereOnPlane(), 48))
	ctx := context.Background()
	key := "object.translation"
	off, err := adjoint.GradientEstimate(ctx, ps, key, adjoint.SumLoss, adjoint.GradientOptions{Options: adjoint.Options{SPP: 16, Boundary: adjoint.BoundaryOff}, Linear: true}, 1000, 4)
	if err != nil {
		t.Fatal(err)
	}
	fe, err := adjoint.FDEstimate(ctx, ps, key, []int{1, 2}, adjoint.SumLoss, adjoint.FDOptions{SPP: 64, Step: 0.01}, 2000, 8)
	if err != nil {
		t.Fatal(err)
	}
	for j, i := range []int{1, 2} {
		t.Logf("%s[%d] without boundary term: %.4g ± %.2g; finite difference %.4g ± %.2g", key, i, off.Mean[i], off.StdErr[i], fe.Mean[j], fe.StdErr[j])
		if adjoint.Agree(off.Mean[i], off.StdErr[i], fe.Mean[j], fe.StdErr[j], 3, 0.02) {
			t.Errorf("%s[%d]: the gradient without the boundary term agrees with finite differences", key, i)
		}
	}
}

// Secondary edges chosen with the hierarchy (importance by the edges'
// subtended measure, expected jump and the emitters' cones) give a lower
// standard error than edges chosen uniformly by length.
func TestEdgeHierarchyLowersVariance(t *testing.T) {
	if testing.Short() {
		t.Skip("6 seeds of two estimators")
	}
	ps := newParams(t, small(scenes.SphereOnPlane(), 32))
	ctx := context.Background()
	key := "object.translation"
	se := func(uniform bool) []float64 {
		o := adjoint.GradientOptions{Options: adjoint.Options{SPP: 16, NoPrimary: true, UniformEdges: uniform}, Linear: true}
		e, err := adjoint.GradientEstimate(ctx, ps, key, adjoint.SumLoss, o, 500, 6)
		if err != nil {
			t.Fatal(err)
		}
		return e.StdErr
	}
	h, u := se(false), se(true)
	t.Logf("standard error of %s (secondary term, 16 spp, 6 seeds): hierarchy %.3g, uniform %.3g", key, h, u)
	for i := 1; i < 3; i++ {
		if !(h[i] < u[i]) {
			t.Errorf("%s[%d]: hierarchy's standard error %.3g is not below uniform's %.3g", key, i, h[i], u[i])
		}
	}
}
