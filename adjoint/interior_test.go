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

// Gradient checks of the interior term (materials, emitters, textures, the
// environment) against central finite differences of the image sum with
// the same random numbers on both sides. The image is linear in these
// parameters (or smooth, for roughness), so the finite difference is
// nearly exact; the autodiff estimate uses other random numbers
// (adjoint.Gradient decorrelates the seeds), so the two agree within
// Monte Carlo error: we require |ad - fd| <= 3 standard errors (8 seeds)
// plus 1% of |fd|, as the project's gradient policy says.

func ones(w, h int) *render.Image {
	im := render.NewImage(w, h)
	for i := range im.Pix {
		im.Pix[i] = 1
	}
	return im
}

func newParams(t *testing.T, s *render.Scene) *adjoint.Params {
	t.Helper()
	if err := s.Build(); err != nil {
		t.Fatal(err)
	}
	ps, err := adjoint.NewParams(s)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

type gradCase struct {
	key     string
	indices []int
	step    float64
}

// checkAgainstFD compares GradientEstimate with FDEstimate for each case.
func checkAgainstFD(t *testing.T, ps *adjoint.Params, cases []gradCase, spp, fdSPP, seeds int, rel float64, o adjoint.Options) {
	t.Helper()
	ctx := context.Background()
	for _, c := range cases {
		o.SPP = spp
		ge, err := adjoint.GradientEstimate(ctx, ps, c.key, adjoint.SumLoss, adjoint.GradientOptions{Options: o, Linear: true}, 1000, seeds)
		if err != nil {
			t.Fatal(err)
		}
		fe, err := adjoint.FDEstimate(ctx, ps, c.key, c.indices, adjoint.SumLoss, adjoint.FDOptions{SPP: fdSPP, Step: c.step}, 2000, seeds)
		if err != nil {
			t.Fatal(err)
		}
		for j, i := range c.indices {
			ad, adSE, f, fSE := ge.Mean[i], ge.StdErr[i], fe.Mean[j], fe.StdErr[j]
			ok := adjoint.Agree(ad, adSE, f, fSE, 3, rel)
			t.Logf("%s[%d]: autodiff %.6g ± %.2g, finite difference %.6g ± %.2g", c.key, i, ad, adSE, f, fSE)
			if !ok {
				t.Errorf("%s[%d]: autodiff %.6g ± %.2g disagrees with finite difference %.6g ± %.2g", c.key, i, ad, adSE, f, fSE)
			}
			if f == 0 && ad == 0 {
				t.Errorf("%s[%d]: both estimates are 0: the test checks nothing", c.key, i)
			}
		}
	}
}

func small(s *render.Scene, n int) *render.Scene {
	s.Sensors[0].Width, s.Sensors[0].Height = n, n
	return s
}

func TestInteriorGradientsSphere(t *testing.T) {
	if testing.Short() {
		t.Skip("finite differences over 8 seeds")
	}
	ps := newParams(t, small(scenes.SphereOnPlane(), 48))
	checkAgainstFD(t, ps, []gradCase{
		{"objmat.reflectance.value", []int{0, 1, 2}, 0.01},
		{"planemat.reflectance.value", []int{0, 2}, 0.01},
		{"light.emitter.radiance.value", []int{0, 1}, 0.1},
	}, 16, 16, 8, 0.01, adjoint.Options{})
}

func TestInteriorGradientsCbox(t *testing.T) {
	if testing.Short() {
		t.Skip("finite differences over 8 seeds")
	}
	ps := newParams(t, small(scenes.CornellBox(), 48))
	checkAgainstFD(t, ps, []gradCase{
		{"white.reflectance.value", []int{0, 1, 2}, 0.01},
		{"red.reflectance.value", []int{0}, 0.01},
		{"light.emitter.radiance.value", []int{0, 2}, 0.1},
	}, 16, 16, 8, 0.01, adjoint.Options{})
}

func TestInteriorGradientsTexture(t *testing.T) {
	if testing.Short() {
		t.Skip("finite differences over 8 seeds")
	}
	ps := newParams(t, small(scenes.TexturedQuad(), 48))
	// Texels near the middle of the 16 x 12 texture (3 values per texel).
	texel := func(x, y, c int) int { return 3*(y*16+x) + c }
	checkAgainstFD(t, ps, []gradCase{
		{"quadmat.reflectance.data", []int{texel(7, 5, 0), texel(8, 6, 1), texel(3, 9, 2)}, 0.05},
	}, 32, 16, 8, 0.01, adjoint.Options{})
}

func TestInteriorGradientsEnvmap(t *testing.T) {
	if testing.Short() {
		t.Skip("finite differences over 8 seeds")
	}
	s := small(scenes.EnvLitSphere(), 48)
	ps := newParams(t, s)
	// The brightest texel (the sun) and one sky texel straight up.
	img := s.Env.Image
	sun, best := 0, -1.0
	for i := 0; i < img.Width*img.Height; i++ {
		if v := img.Pix[3*i]; v > best {
			best, sun = v, i
		}
	}
	sky := img.Width/2 + img.Width*1
	checkAgainstFD(t, ps, []gradCase{
		{"envmap.data", []int{3 * sun, 3*sun + 2, 3*sky + 2}, 0.05},
		{"envmap.scale", []int{0}, 0.01},
	}, 16, 16, 8, 0.01, adjoint.Options{})
}

func TestInteriorGradientsRoughness(t *testing.T) {
	if testing.Short() {
		t.Skip("finite differences over 8 seeds")
	}
	s := small(scenes.SphereOnPlane(), 48)
	m := s.Materials[0] // objmat
	m.Kind = render.Plastic
	m.SpecularReflectance = render.ConstTexture(mgl64.Vec3{1, 1, 1})
	m.Alpha = render.ConstScalar(0.3)
	m.IntIOR, m.ExtIOR = 1.49, 1.000277
	ps := newParams(t, s)
	checkAgainstFD(t, ps, []gradCase{
		{"objmat.alpha.value", []int{0}, 0.01},
		{"objmat.specular_reflectance.value", []int{1}, 0.01},
		{"objmat.diffuse_reflectance.value", []int{0}, 0.01},
	}, 32, 32, 8, 0.01, adjoint.Options{})
}

// The per-pixel gradient image of a reflectance matches a finite-difference
// image at high sample counts: relative L1 error below 10%.
func TestGradientImageMatchesFiniteDifferences(t *testing.T) {
	if testing.Short() {
		t.Skip("high sample counts")
	}
	ps := newParams(t, small(scenes.SphereOnPlane(), 32))
	ctx := context.Background()
	key := "objmat.reflectance.value"
	res, err := adjoint.Backward(ctx, ps, []string{key}, ones(32, 32), adjoint.Options{SPP: 256, Seed: 5, SeedSet: true, Image: &adjoint.ImageRequest{Key: key, Index: 1}})
	if err != nil {
		t.Fatal(err)
	}
	p := ps.Get(key)
	h := 0.01
	render1 := func(v float64) *render.Image {
		p.Value[1] = v
		if err := ps.Update(); err != nil {
			t.Fatal(err)
		}
		r, err := render.Render(ctx, ps.Scene, render.Options{SPP: 256, Seed: 9, SeedSet: true})
		if err != nil {
			t.Fatal(err)
		}
		return r.Image
	}
	x := p.Value[1]
	ip, im := render1(x+h), render1(x-h)
	render1(x)
	num, den := 0.0, 0.0
	for i := 0; i < 32*32; i++ {
		f := 0.0
		for c := 0; c < 3; c++ {
			f += (ip.Pix[3*i+c] - im.Pix[3*i+c]) / (2 * h)
		}
		num += math.Abs(res.Image.Pix[3*i] - f)
		den += math.Abs(f)
	}
	if den == 0 {
		t.Fatal("finite-difference image is zero")
	}
	t.Logf("relative L1 error of the gradient image: %.3f", num/den)
	if num/den > 0.1 {
		t.Errorf("gradient image differs from finite differences by %.1f%% (L1)", 100*num/den)
	}
}

// Gradients are identical bit for bit whatever the number of goroutines,
// for the interior term and for the boundary term.
func TestBackwardDeterministicAcrossThreads(t *testing.T) {
	ps := newParams(t, small(scenes.SphereOnPlane(), 24))
	keys := []string{"objmat.reflectance.value", "object.translation", "light.translation", "sensor.fov"}
	grads := func(threads int) [][]float64 {
		_, err := adjoint.Backward(context.Background(), ps, keys, ones(24, 24), adjoint.Options{SPP: 4, Seed: 1, SeedSet: true, Threads: threads})
		if err != nil {
			t.Fatal(err)
		}
		var out [][]float64
		for _, k := range keys {
			out = append(out, append([]float64(nil), ps.Get(k).Grad...))
		}
		return out
	}
	a, b, c := grads(1), grads(2), grads(3)
	for i := range keys {
		for j := range a[i] {
			if a[i][j] != b[i][j] || a[i][j] != c[i][j] {
				t.Fatalf("%s[%d]: %v (1 goroutine), %v (2), %v (3)", keys[i], j, a[i][j], b[i][j], c[i][j])
			}
		}
		nonzero := false
		for _, v := range a[i] {
			nonzero = nonzero || v != 0
		}
		if !nonzero {
			t.Errorf("%s: zero gradient", keys[i])
		}
	}
}
