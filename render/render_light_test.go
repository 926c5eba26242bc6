package render_test

import (
	"math"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/geom"
	"github.com/invrender/invrender/internal/stattest"
	"github.com/invrender/invrender/render"
)

// lightScene returns a scene of emitters around the shading point (0.2, 0,
// -0.1): a 1.6 x 1.6 quad at height 1 facing down ("quad", radiance 5), a
// triangle to the side facing the point ("tri", radiance (1, 2, 3)) and a
// triangle above facing up, away from it ("back", radiance 4): its samples
// carry no light. With env, an environment map; with point, a point light.
func lightScene(env, point bool) *render.Scene {
	q, qi := quadXZ(-0.8, 0.8, -0.8, 0.8, 1, false)
	s := &render.Scene{
		Materials: []*render.Material{{Kind: render.Diffuse}},
		Shapes: []*render.Shape{
			{Name: "quad", Positions: q, Indices: qi, Emitter: &render.AreaEmitter{Radiance: grey(5)}},
			{Name: "tri", Positions: []mgl64.Vec3{{1.5, 0.2, -1}, {1.5, 0.2, 1}, {1.2, 1.5, 0}}, Indices: []int32{0, 1, 2},
				Emitter: &render.AreaEmitter{Radiance: mgl64.Vec3{1, 2, 3}}},
			{Name: "back", Positions: []mgl64.Vec3{{-1, 2, -1}, {-1, 2, 0}, {0, 2, -1}}, Indices: []int32{0, 1, 2},
				Emitter: &render.AreaEmitter{Radiance: grey(4)}},
		},
	}
	if env {
		s.Env = &render.Environment{Name: "env", Image: skyImage(8, 4), Scale: 0.7, ToWorld: rotation(mgl64.Vec3{1, 2, 0.5}, 0.8)}
	}
	if point {
		s.Lights = []*render.Light{{Name: "pt", Kind: render.PointLight, Position: mgl64.Vec3{-1, 0.5, 0.3}, Intensity: grey(3)}}
	}
	return s
}

// quadXZ returns the rectangle [x0,x1] x [z0,z1] in the plane y facing up
// (+y) or down.
func quadXZ(x0, x1, z0, z1, y float64, up bool) ([]mgl64.Vec3, []int32) {
	p := []mgl64.Vec3{{x0, y, z0}, {x1, y, z0}, {x1, y, z1}, {x0, y, z1}}
	if up {
		return p, []int32{0, 2, 1, 0, 3, 2}
	}
	return p, []int32{0, 1, 2, 0, 2, 3}
}

// skyImage returns a w x h environment map with smooth variation in both
// directions, a bright spot and a black patch (zero density).
func skyImage(w, h int) *render.Image {
	im := render.NewImage(w, h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := 0.2 + 0.5*float64(h-y)/float64(h) + 0.3*math.Sin(float64(x))*math.Sin(float64(x))
			im.Set(x, y, mgl64.Vec3{v, 0.8 * v, 1.3 * v})
		}
	}
	im.Set(w/3, h/4, mgl64.Vec3{40, 30, 20})
	for y := h/2 + 1; y < min(h/2+3, h); y++ {
		for x := 2; x < 6; x++ {
			im.Set(x, y, mgl64.Vec3{})
		}
	}
	return im
}

// rotation returns the rotation by angle (radians) about axis.
func rotation(axis mgl64.Vec3, a float64) mgl64.Mat3 {
	return mgl64.QuatRotate(a, axis.Normalize()).Mat4().Mat3()
}

var lightPoint = mgl64.Vec3{0.2, 0, -0.1}

// emitterPdf is the solid-angle density with which SampleLight, at p,
// returns direction d: the sum over emissive triangles that a ray from p
// along d crosses of TrianglePdf at the crossing, plus EnvPdf(d). SampleLight
// does not test visibility, so all crossings count.
func emitterPdf(s *render.Scene, p, d mgl64.Vec3) float64 {
	pdf := s.EnvPdf(d)
	r := geom.Ray{O: p, D: d, TMin: 0, TMax: math.Inf(1)}
	for tri := int32(0); tri < int32(s.NumTriangles()); tri++ {
		sh, _ := s.TriangleShape(tri)
		if s.Shapes[sh].Emitter == nil {
			continue
		}
		p0, p1, p2 := s.TriangleVertices(tri)
		if tt, _, _, ok := geom.IntersectTriangle(r, p0, p1, p2); ok {
			pdf += s.TrianglePdf(p, tri, r.At(tt))
		}
	}
	return pdf
}

// TestSampleLightConsistency checks every sample SampleLight returns
// against the other light functions: its density is TrianglePdf or
// EnvPdf of the same point or direction (the MIS weights of emitter and BSDF
// sampling depend on this), its radiance is the emitter's, its direction
// and distance point at its point, and the point lies on the triangle at
// the reported barycentrics. Relative tolerance 1e-10: the two paths
// compute the same quantities in different orders.
func TestSampleLightConsistency(t *testing.T) {
	s := lightScene(true, true)
	mustBuild(t, s)
	if n := s.NumEmitters(); n != 2+1+1+1+1 {
		t.Fatalf("%d emitters, want 6 (2 quad triangles, tri, back, point, env)", n)
	}
	rng := geom.NewRNG(3, 0, 0, 0)
	seen := map[string]int{}
	for k := 0; k < 20000; k++ {
		p := lightPoint.Add(mgl64.Vec3{rng.Float64() - 0.5, rng.Float64() * 0.5, rng.Float64() - 0.5})
		ls, ok := s.SampleLight(p, rng.Float64(), rng.Float64(), rng.Float64())
		if !ok {
			seen["none"]++
			continue
		}
		if l := ls.Wi.Len(); math.Abs(l-1) > 1e-12 || !(ls.Pdf > 0) {
			t.Fatalf("sample %d: |Wi| = %v, Pdf = %v", k, l, ls.Pdf)
		}
		switch {
		case ls.Delta:
			seen["point"]++
			if li := s.EmitterLight(ls.Emitter); li != 0 {
				t.Fatalf("delta sample from emitter %d (light %d)", ls.Emitter, li)
			}
			d := s.Lights[0].Position.Sub(p)
			want := s.Lights[0].Intensity.Mul(1 / d.Dot(d))
			if ls.Le.Sub(want).Len() > 1e-12*want.Len() || ls.Wi.Sub(d.Normalize()).Len() > 1e-12 {
				t.Fatalf("point light sample: Le %v Wi %v, want %v, %v", ls.Le, ls.Wi, want, d.Normalize())
			}
		case ls.Tri >= 0:
			sh, _ := s.TriangleShape(ls.Tri)
			seen[s.Shapes[sh].Name]++
			if want := s.TrianglePdf(p, ls.Tri, ls.P); math.Abs(ls.Pdf-want) > 1e-10*want {
				t.Fatalf("triangle sample: Pdf %v, TrianglePdf %v", ls.Pdf, want)
			}
			if ls.Le != s.Shapes[sh].Emitter.Radiance {
				t.Fatalf("triangle sample: Le %v, radiance %v", ls.Le, s.Shapes[sh].Emitter.Radiance)
			}
			p0, p1, p2 := s.TriangleVertices(ls.Tri)
			y := p0.Mul(1 - ls.B1 - ls.B2).Add(p1.Mul(ls.B1)).Add(p2.Mul(ls.B2))
			d := ls.P.Sub(p)
			if y.Sub(ls.P).Len() > 1e-12 || math.Abs(ls.Dist-d.Len()) > 1e-12 || ls.Wi.Sub(d.Normalize()).Len() > 1e-12 {
				t.Fatalf("triangle sample: P %v (barycentrics give %v), Dist %v, Wi %v", ls.P, y, ls.Dist, ls.Wi)
			}
			if ls.N.Dot(ls.Wi) >= 0 {
				t.Fatalf("triangle sample from the emitter's back side")
			}
			if sh == 2 {
				t.Fatalf("sample on the triangle that faces away")
			}
		default:
			seen["env"]++
			if want := s.EnvPdf(ls.Wi); math.Abs(ls.Pdf-want) > 1e-10*want {
				t.Fatalf("environment sample: Pdf %v, EnvPdf %v", ls.Pdf, want)
			}
			if want := s.EnvRadiance(ls.Wi); ls.Le.Sub(want).Len() > 1e-12*want.Len() || !math.IsInf(ls.Dist, 1) {
				t.Fatalf("environment sample: Le %v, EnvRadiance %v, Dist %v", ls.Le, want, ls.Dist)
			}
		}
	}
	for _, name := range []string{"point", "quad", "tri", "env", "none"} {
		if seen[name] == 0 {
			t.Errorf("no samples of kind %q (saw %v)", name, seen)
		}
	}
}

// TestSampleLightDirections is a chi-square test of the directions
// SampleLight returns at a fixed point against emitterPdf, over the sphere
// (package stattest, significance 0.01 over the family). The pdf integrates
// to the probability of a sample with light (the back-facing triangle and
// the point light take the rest).
func TestSampleLightDirections(t *testing.T) {
	cases := []struct {
		name       string
		env, point bool
	}{
		{"area lights", false, false},
		{"area lights and envmap", true, false},
		{"area, point and envmap", true, true},
	}
	n := 400000
	if testing.Short() {
		n = 100000
		cases = cases[2:] // the one with every kind of emitter
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := lightScene(c.env, c.point)
			mustBuild(t, s)
			test := stattest.SphereTest{
				// The quadrature splits the tolerance evenly among the
				// grid's cells: 1e-3 over 41 x 82 cells moves a cell's
				// expected count by at most n*1e-3/3362 < 0.12, far
				// below its Poisson fluctuation.
				Options: stattest.Options{Name: c.name, SampleCount: n, TestCount: 3, Tolerance: 1e-3},
				Sample3: func(u mgl64.Vec3) (mgl64.Vec3, bool) {
					ls, ok := s.SampleLight(lightPoint, u[0], u[1], u[2])
					if !ok || ls.Delta {
						return mgl64.Vec3{}, false
					}
					return ls.Wi, true
				},
				Pdf: func(d mgl64.Vec3) float64 { return emitterPdf(s, lightPoint, d) },
			}
			test.Check(t)
		})
	}
}

// TestSampleLightBackSide: seen from behind, a one-sided emitter gives no
// samples at all.
func TestSampleLightBackSide(t *testing.T) {
	q, qi := quadXZ(-1, 1, -1, 1, 1, false) // faces down
	s := &render.Scene{
		Materials: []*render.Material{{Kind: render.Diffuse}},
		Shapes:    []*render.Shape{{Name: "light", Positions: q, Indices: qi, Emitter: &render.AreaEmitter{Radiance: grey(1)}}},
	}
	mustBuild(t, s)
	rng := geom.NewRNG(5, 0, 0, 0)
	for k := 0; k < 1000; k++ {
		above := mgl64.Vec3{rng.Float64() - 0.5, 1.5, rng.Float64() - 0.5}
		if ls, ok := s.SampleLight(above, rng.Float64(), rng.Float64(), rng.Float64()); ok {
			t.Fatalf("sample %+v from behind the emitter", ls)
		}
		below := mgl64.Vec3{rng.Float64() - 0.5, 0.5, rng.Float64() - 0.5}
		if _, ok := s.SampleLight(below, rng.Float64(), rng.Float64(), rng.Float64()); !ok {
			t.Fatalf("no sample from in front of the emitter")
		}
	}
	if s.HasEnv() || s.EnvPdf(mgl64.Vec3{0, 1, 0}) != 0 || s.EnvRadiance(mgl64.Vec3{0, 1, 0}) != (mgl64.Vec3{}) {
		t.Errorf("a scene without an environment reports one")
	}
}

// TestDirectionalLight checks the directional light's sample: towards the
// light (against its direction of travel), at infinity, carrying its
// irradiance, a delta sample.
func TestDirectionalLight(t *testing.T) {
	s := &render.Scene{Lights: []*render.Light{{Name: "sun", Kind: render.DirectionalLight, Direction: mgl64.Vec3{0, -2, 0}, Intensity: mgl64.Vec3{1, 2, 3}}}}
	mustBuild(t, s)
	ls, ok := s.SampleLight(mgl64.Vec3{}, 0.3, 0.5, 0.5)
	if !ok || !ls.Delta || ls.Wi != (mgl64.Vec3{0, 1, 0}) || !math.IsInf(ls.Dist, 1) || ls.Le != (mgl64.Vec3{1, 2, 3}) || ls.Pdf != 1 {
		t.Errorf("directional light sample %+v, %v", ls, ok)
	}
}
