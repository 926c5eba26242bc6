package render_test

import (
	"math"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/geom"
	"github.com/invrender/invrender/internal/stattest"
	"github.com/invrender/invrender/render"
)

// TestEnvUVConvention checks Mitsuba 3's equirectangular mapping by hand:
// the top row (v = 0) is straight up (+y), the bottom row straight down,
// u = 0 looks along -z and u grows towards +x (u = 1/4), +z (1/2) and -x
// (3/4).
func TestEnvUVConvention(t *testing.T) {
	cases := []struct {
		d  mgl64.Vec3
		uv mgl64.Vec2
	}{
		{mgl64.Vec3{0, 0, -1}, mgl64.Vec2{0, 0.5}},
		{mgl64.Vec3{1, 0, 0}, mgl64.Vec2{0.25, 0.5}},
		{mgl64.Vec3{0, 0, 1}, mgl64.Vec2{0.5, 0.5}},
		{mgl64.Vec3{-1, 0, 0}, mgl64.Vec2{0.75, 0.5}},
		{mgl64.Vec3{1, 1, 0}.Normalize(), mgl64.Vec2{0.25, 0.25}},
	}
	for _, c := range cases {
		uv := render.EnvDirToUV(c.d)
		if math.Abs(uv[0]-c.uv[0]) > 1e-15 || math.Abs(uv[1]-c.uv[1]) > 1e-15 {
			t.Errorf("EnvDirToUV(%v) = %v, want %v", c.d, uv, c.uv)
		}
		if d := render.EnvUVToDir(c.uv); d.Sub(c.d).Len() > 1e-15 {
			t.Errorf("EnvUVToDir(%v) = %v, want %v", c.uv, d, c.d)
		}
	}
	// At the poles u is arbitrary.
	for _, c := range []struct {
		d mgl64.Vec3
		v float64
	}{{mgl64.Vec3{0, 1, 0}, 0}, {mgl64.Vec3{0, -1, 0}, 1}} {
		if uv := render.EnvDirToUV(c.d); uv[1] != c.v || !(uv[0] >= 0 && uv[0] < 1) {
			t.Errorf("EnvDirToUV(%v) = %v, want v = %v", c.d, uv, c.v)
		}
		if d := render.EnvUVToDir(mgl64.Vec2{0.3, c.v}); d.Sub(c.d).Len() > 1e-15 {
			t.Errorf("EnvUVToDir(0.3, %v) = %v, want %v", c.v, d, c.d)
		}
	}
}

// TestEnvUVRoundTrip: EnvUVToDir and EnvDirToUV are inverses (up to
// rounding, a few ulps of pi) and EnvUVToDir returns unit vectors.
func TestEnvUVRoundTrip(t *testing.T) {
	rng := geom.NewRNG(9, 0, 0, 0)
	for k := 0; k < 10000; k++ {
		uv := mgl64.Vec2{rng.Float64(), 0.001 + 0.998*rng.Float64()}
		d := render.EnvUVToDir(uv)
		if math.Abs(d.Len()-1) > 1e-15 {
			t.Fatalf("EnvUVToDir(%v) = %v is not a unit vector", uv, d)
		}
		back := render.EnvDirToUV(d)
		du := math.Abs(back[0] - uv[0])
		du = math.Min(du, 1-du) // u wraps
		if du > 1e-12 || math.Abs(back[1]-uv[1]) > 1e-12 {
			t.Fatalf("EnvDirToUV(EnvUVToDir(%v)) = %v", uv, back)
		}
		w := geom.SquareToUniformSphere(mgl64.Vec2{rng.Float64(), rng.Float64()})
		uv = render.EnvDirToUV(w)
		if !(uv[0] >= 0 && uv[0] < 1 && uv[1] >= 0 && uv[1] <= 1) {
			t.Fatalf("EnvDirToUV(%v) = %v outside [0,1)x[0,1]", w, uv)
		}
		if d := render.EnvUVToDir(uv); d.Sub(w).Len() > 1e-12 {
			t.Fatalf("EnvUVToDir(EnvDirToUV(%v)) = %v", w, d)
		}
	}
}

// envScene returns a scene with only an environment map: skyImage(w, h)
// scaled by scale and rotated by rot.
func envScene(w, h int, scale float64, rot mgl64.Mat3) *render.Scene {
	return &render.Scene{Env: &render.Environment{Name: "env", Image: skyImage(w, h), Scale: scale, ToWorld: rot}}
}

// TestEnvRadianceAtTexelCentres: looking along the direction of a texel's
// centre (rotated into the world), the bilinear lookup returns that texel
// times the scale exactly (up to rounding).
func TestEnvRadianceAtTexelCentres(t *testing.T) {
	const w, h = 24, 12
	rot := rotation(mgl64.Vec3{1, 2, 0.5}, 0.8)
	s := envScene(w, h, 0.7, rot)
	mustBuild(t, s)
	im := s.Env.Image
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			local := render.EnvUVToDir(mgl64.Vec2{(float64(x) + 0.5) / w, (float64(y) + 0.5) / h})
			got := s.EnvRadiance(rot.Mul3x1(local))
			want := im.At(x, y).Mul(0.7)
			if got.Sub(want).Len() > 1e-12*(1+want.Len()) {
				t.Fatalf("texel (%d, %d): radiance %v, want %v", x, y, got, want)
			}
		}
	}
}

// TestEnvPdf checks the environment's sampling density by hand at texel
// centres: the map is sampled in proportion to luminance times sin(theta)
// per texel, uniformly within a texel in (u, v), so the solid-angle
// density is lum * sin(theta_c) / sum(lum * sin(theta_c)) * W * H /
// (2 pi^2 sin(theta)), theta_c the texel centre's polar angle; it must
// vanish on black texels. (TestEnvSampleDirections checks that it
// integrates to 1.)
func TestEnvPdf(t *testing.T) {
	const w, h = 24, 12
	rot := rotation(mgl64.Vec3{-0.3, 1, 2}, 2.1)
	s := envScene(w, h, 2, rot)
	mustBuild(t, s)
	im := s.Env.Image
	norm := 0.0
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			norm += render.Luminance(im.At(x, y)) * math.Sin(math.Pi*(float64(y)+0.5)/h)
		}
	}
	for y := 0; y < h; y++ {
		st := math.Sin(math.Pi * (float64(y) + 0.5) / h)
		for x := 0; x < w; x++ {
			d := rot.Mul3x1(render.EnvUVToDir(mgl64.Vec2{(float64(x) + 0.5) / w, (float64(y) + 0.5) / h}))
			want := render.Luminance(im.At(x, y)) * st / norm * w * h / (2 * math.Pi * math.Pi * st)
			if got := s.EnvPdf(d); math.Abs(got-want) > 1e-12*want {
				t.Fatalf("texel (%d, %d): EnvPdf %v, want %v", x, y, got, want)
			}
		}
	}
	// A constant environment is sampled uniformly.
	c := &render.Scene{Env: &render.Environment{Radiance: grey(2)}}
	mustBuild(t, c)
	if got := c.EnvPdf(mgl64.Vec3{0.6, 0, 0.8}); math.Abs(got-1/(4*math.Pi)) > 1e-15 {
		t.Errorf("constant environment: EnvPdf %v, want 1/(4 pi)", got)
	}
	if got := c.EnvRadiance(mgl64.Vec3{0, -1, 0}); got != grey(2) {
		t.Errorf("constant environment: radiance %v, want 2 (a zero Scale reads as 1)", got)
	}
}

// TestEnvSampleDirections is the chi-square test of the environment's
// sampled directions (SampleLight with the map as the only emitter)
// against EnvPdf, for a rotated map, with significance 0.01.
func TestEnvSampleDirections(t *testing.T) {
	n := 400000
	if testing.Short() {
		n = 100000
	}
	s := envScene(16, 8, 1, rotation(mgl64.Vec3{1, 2, 0.5}, 0.8))
	mustBuild(t, s)
	test := stattest.SphereTest{
		// See TestSampleLightDirections for the quadrature tolerance.
		Options: stattest.Options{Name: "envmap", SampleCount: n, Tolerance: 1e-3},
		Sample3: func(u mgl64.Vec3) (mgl64.Vec3, bool) {
			ls, ok := s.SampleLight(mgl64.Vec3{}, u[0], u[1], u[2])
			if !ok {
				return mgl64.Vec3{}, false
			}
			if want := s.EnvRadiance(ls.Wi); ls.Le.Sub(want).Len() > 1e-12*want.Len() {
				t.Fatalf("sample radiance %v, EnvRadiance %v", ls.Le, want)
			}
			return ls.Wi, true
		},
		Pdf: s.EnvPdf,
	}
	// The quadrature's tolerance on the whole integral is 1e-3.
	if r := test.Check(t); math.Abs(r.PdfIntegral-1) > 1e-3 {
		t.Errorf("EnvPdf integrates to %.6f over the sphere", r.PdfIntegral)
	}
}
