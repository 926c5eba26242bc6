package adjoint

import (
	"math"
	"math/rand"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/geom"
	"github.com/invrender/invrender/render"
)

// The adjoints of this package are checked as STYLE.md says: draw a random
// upstream gradient dz, form g(x) = <dz, Foo(x)>, and compare DFoo with a
// central difference of g in float64.

func randVec(r *rand.Rand) mgl64.Vec3 {
	return mgl64.Vec3{r.NormFloat64(), r.NormFloat64(), r.NormFloat64()}
}

// checkVec compares an analytic gradient with central differences of f
// along each component of x.
func checkVec(t *testing.T, name string, x mgl64.Vec3, got mgl64.Vec3, f func(mgl64.Vec3) float64) {
	t.Helper()
	const h = 1e-6
	for k := 0; k < 3; k++ {
		xp, xm := x, x
		xp[k] += h
		xm[k] -= h
		want := (f(xp) - f(xm)) / (2 * h)
		if d := math.Abs(got[k] - want); d > 1e-5*(1+math.Abs(want)) {
			t.Errorf("%s[%d]: adjoint %.9g, finite difference %.9g", name, k, got[k], want)
		}
	}
}

// intersectPlane solves o + t d = p0 + b1 e1 + b2 e2 exactly (the smooth
// map DIntersect differentiates, without the watertight test's
// inside/outside decisions).
func intersectPlane(o, d, p0, p1, p2 mgl64.Vec3) (t, b1, b2 float64) {
	e1, e2 := p1.Sub(p0), p2.Sub(p0)
	m := mgl64.Mat3{d[0], d[1], d[2], -e1[0], -e1[1], -e1[2], -e2[0], -e2[1], -e2[2]}
	z := m.Inv().Mul3x1(p0.Sub(o))
	return z[0], z[1], z[2]
}

func TestDIntersect(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for trial := 0; trial < 50; trial++ {
		p0, p1, p2 := randVec(r), randVec(r), randVec(r)
		o := randVec(r).Mul(3)
		target := p0.Mul(0.3).Add(p1.Mul(0.3)).Add(p2.Mul(0.4))
		d := target.Sub(o).Add(randVec(r).Mul(0.05))
		tt, b1, b2 := intersectPlane(o, d, p0, p1, p2)
		gt, gb1, gb2 := r.NormFloat64(), r.NormFloat64(), r.NormFloat64()
		do, dd, dp, ok := DIntersect(o, d, p0, p1, p2, tt, b1, b2, gt, gb1, gb2)
		if !ok {
			t.Fatal("unexpected grazing case")
		}
		obj := func(o, d, p0, p1, p2 mgl64.Vec3) float64 {
			a, b, c := intersectPlane(o, d, p0, p1, p2)
			return gt*a + gb1*b + gb2*c
		}
		checkVec(t, "o", o, do, func(x mgl64.Vec3) float64 { return obj(x, d, p0, p1, p2) })
		checkVec(t, "d", d, dd, func(x mgl64.Vec3) float64 { return obj(o, x, p0, p1, p2) })
		checkVec(t, "p0", p0, dp[0], func(x mgl64.Vec3) float64 { return obj(o, d, x, p1, p2) })
		checkVec(t, "p1", p1, dp[1], func(x mgl64.Vec3) float64 { return obj(o, d, p0, x, p2) })
		checkVec(t, "p2", p2, dp[2], func(x mgl64.Vec3) float64 { return obj(o, d, p0, p1, x) })
	}
	// A ray in the triangle's plane has no derivative: reported, not NaN.
	_, _, _, ok := DIntersect(mgl64.Vec3{-1, 0, 0}, mgl64.Vec3{1, 0, 0}, mgl64.Vec3{0, 0, 0}, mgl64.Vec3{1, 0, 0}, mgl64.Vec3{0, 1, 0}, 1, 0, 0, 1, 1, 1)
	if ok {
		t.Error("grazing ray not reported")
	}
}

// oneTriangleScene returns a scene with one triangle (with or without
// vertex normals and UVs) for DInteract.
func oneTriangleScene(p [3]mgl64.Vec3, n []mgl64.Vec3, uv []mgl64.Vec2) *render.Scene {
	return &render.Scene{
		Materials: []*render.Material{{Kind: render.Diffuse}},
		Shapes:    []*render.Shape{{Positions: p[:], Normals: n, UVs: uv, Indices: []int32{0, 1, 2}}},
	}
}

func TestDInteract(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	for trial := 0; trial < 40; trial++ {
		p := [3]mgl64.Vec3{{-1, -1, 0}, {1, -1, 0.2}, {0, 1, -0.1}}
		for k := range p {
			p[k] = p[k].Add(randVec(r).Mul(0.1))
		}
		var n []mgl64.Vec3
		var uv []mgl64.Vec2
		if trial%2 == 1 {
			n = []mgl64.Vec3{randVec(r).Normalize(), randVec(r).Normalize(), randVec(r).Normalize()}
			for k := range n {
				n[k] = n[k].Add(mgl64.Vec3{0, 0, 2}).Normalize()
			}
			uv = []mgl64.Vec2{{r.Float64(), r.Float64()}, {r.Float64(), r.Float64()}, {r.Float64(), r.Float64()}}
		}
		o := mgl64.Vec3{0.1, 0.05, 3}.Add(randVec(r).Mul(0.2))
		d := mgl64.Vec3{0, 0, 0}.Sub(o).Add(randVec(r).Mul(0.1))
		g := InteractionGrad{P: randVec(r), Ns: randVec(r), UV: mgl64.Vec2{r.NormFloat64(), r.NormFloat64()}}
		eval := func(o, d mgl64.Vec3, p [3]mgl64.Vec3, n []mgl64.Vec3) float64 {
			s := oneTriangleScene(p, n, uv)
			if err := s.Build(); err != nil {
				t.Fatal(err)
			}
			h, ok := s.Intersect(geom.Ray{O: o, D: d, TMax: math.Inf(1)})
			if !ok {
				t.Fatal("missed the triangle")
			}
			it := s.Interact(h)
			return g.P.Dot(it.P) + g.Ns.Dot(it.Ns) + g.UV.Dot(it.UV)
		}
		s := oneTriangleScene(p, n, uv)
		if err := s.Build(); err != nil {
			t.Fatal(err)
		}
		h, _ := s.Intersect(geom.Ray{O: o, D: d, TMax: math.Inf(1)})
		it := s.Interact(h)
		var tg TriangleGrad
		do, dd, ok := DInteract(s, &it, o, d, g, &tg)
		if !ok {
			t.Fatal("unexpected grazing case")
		}
		checkVec(t, "o", o, do, func(x mgl64.Vec3) float64 { return eval(x, d, p, n) })
		checkVec(t, "d", d, dd, func(x mgl64.Vec3) float64 { return eval(o, x, p, n) })
		for k := 0; k < 3; k++ {
			checkVec(t, "p", p[k], tg.P[k], func(x mgl64.Vec3) float64 {
				q := p
				q[k] = x
				return eval(o, d, q, n)
			})
			if n != nil {
				checkVec(t, "n", n[k], tg.N[k], func(x mgl64.Vec3) float64 {
					m := append([]mgl64.Vec3(nil), n...)
					m[k] = x
					return eval(o, d, p, m)
				})
			}
		}
	}
}

func testSensor(axis render.FovAxis) *render.Sensor {
	return &render.Sensor{
		Origin: mgl64.Vec3{0.3, 1.2, 3.1}, Target: mgl64.Vec3{-0.1, 0.4, 0.2}, Up: mgl64.Vec3{0.1, 1, 0.05},
		Fov: 41, FovAxis: axis, Width: 96, Height: 64,
	}
}

// sensorParam perturbs one scalar of a sensor: component k of origin (0-2),
// target (3-5), up (6-8) or the fov (9).
func sensorParam(s *render.Sensor, k int, v float64) *render.Sensor {
	c := *s
	switch {
	case k < 3:
		c.Origin[k] = v
	case k < 6:
		c.Target[k-3] = v
	case k < 9:
		c.Up[k-6] = v
	default:
		c.Fov = v
	}
	return &c
}

func sensorValue(s *render.Sensor, k int) float64 {
	switch {
	case k < 3:
		return s.Origin[k]
	case k < 6:
		return s.Target[k-3]
	case k < 9:
		return s.Up[k-6]
	}
	return s.Fov
}

func cameraGradComponent(cg *CameraGrad, k int) float64 {
	switch {
	case k < 3:
		return cg.Origin[k]
	case k < 6:
		return cg.Target[k-3]
	case k < 9:
		return cg.Up[k-6]
	}
	return cg.Fov
}

func TestDCameraRayAndDProject(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	for _, axis := range []render.FovAxis{render.FovX, render.FovY, render.FovDiagonal, render.FovSmaller, render.FovLarger} {
		base := testSensor(axis)
		for trial := 0; trial < 5; trial++ {
			x, y := r.Float64()*96, r.Float64()*64
			gO, gD := randVec(r), randVec(r)
			ray := func(s *render.Sensor) float64 {
				c, err := render.NewCamera(s)
				if err != nil {
					t.Fatal(err)
				}
				rr := c.Ray(x, y)
				return gO.Dot(rr.O) + gD.Dot(rr.D)
			}
			cam, _ := render.NewCamera(base)
			var cg CameraGrad
			DCameraRay(base, &cam, x, y, gO, gD, &cg)
			pt := mgl64.Vec3{0.2, 0.5, -0.3}.Add(randVec(r).Mul(0.3))
			gx, gy := r.NormFloat64(), r.NormFloat64()
			proj := func(s *render.Sensor, p mgl64.Vec3) float64 {
				c, _ := render.NewCamera(s)
				px, py, ok := c.Project(p)
				if !ok {
					t.Fatal("point behind the camera")
				}
				return gx*px + gy*py
			}
			var pg CameraGrad
			gp := DProject(base, &cam, pt, gx, gy, &pg)
			checkVec(t, "project p", pt, gp, func(p mgl64.Vec3) float64 { return proj(base, p) })
			for k := 0; k < 10; k++ {
				h := 1e-6
				v := sensorValue(base, k)
				want := (ray(sensorParam(base, k, v+h)) - ray(sensorParam(base, k, v-h))) / (2 * h)
				if got := cameraGradComponent(&cg, k); math.Abs(got-want) > 1e-5*(1+math.Abs(want)) {
					t.Errorf("axis %v ray param %d: adjoint %.9g, finite difference %.9g", axis, k, got, want)
				}
				want = (proj(sensorParam(base, k, v+h), pt) - proj(sensorParam(base, k, v-h), pt)) / (2 * h)
				if got := cameraGradComponent(&pg, k); math.Abs(got-want) > 1e-5*(1+math.Abs(want)) {
					t.Errorf("axis %v project param %d: adjoint %.9g, finite difference %.9g", axis, k, got, want)
				}
			}
		}
	}
}

func TestDTextureUV(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	im := render.NewImage(5, 4)
	for i := range im.Pix {
		im.Pix[i] = r.Float64()
	}
	for _, wrap := range []render.WrapMode{render.WrapRepeat, render.WrapMirror, render.WrapClamp} {
		tex := render.Texture{Image: im, UScale: 1.5, VScale: 0.75, Wrap: wrap}
		for trial := 0; trial < 20; trial++ {
			uv := mgl64.Vec2{r.Float64()*3 - 1, r.Float64()*3 - 1}
			g := randVec(r)
			got := DTextureUV(&tex, uv, g)
			const h = 1e-7
			for k := 0; k < 2; k++ {
				up, um := uv, uv
				up[k] += h
				um[k] -= h
				want := (g.Dot(tex.Eval(up)) - g.Dot(tex.Eval(um))) / (2 * h)
				// Texel boundaries make the lookup only piecewise smooth;
				// skip the rare sample that straddles one.
				if math.Abs(got[k]-want) > 1e-4*(1+math.Abs(want)) {
					uh := mgl64.Vec2{uv[0]*1.5*5 - 0.5, uv[1]*0.75*4 - 0.5}
					if f := uh[k] - math.Floor(uh[k]); f < 1e-5 || f > 1-1e-5 {
						continue
					}
					t.Errorf("%v uv %v [%d]: adjoint %.9g, finite difference %.9g", wrap, uv, k, got[k], want)
				}
			}
		}
	}
}

func TestDRotation(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	for _, rv := range []mgl64.Vec3{{}, {1e-9, 0, 0}, randVec(r), randVec(r).Mul(3)} {
		for k := 0; k < 3; k++ {
			got := dRotation(rv, k)
			const h = 1e-6
			rp, rm := rv, rv
			rp[k] += h
			rm[k] -= h
			want := rotationMatrix(rp).Sub(rotationMatrix(rm)).Mul(1 / (2 * h))
			for i := 0; i < 9; i++ {
				if math.Abs(got[i]-want[i]) > 1e-6 {
					t.Fatalf("r=%v k=%d: dR %v, finite difference %v", rv, k, got, want)
				}
			}
		}
	}
	// R is a rotation: orthonormal with determinant 1.
	R := rotationMatrix(mgl64.Vec3{0.3, -1.2, 0.5})
	if d := R.Det(); math.Abs(d-1) > 1e-12 {
		t.Errorf("det %v", d)
	}
}
