package optimize_test

import (
	"math"
	"testing"

	"github.com/invrender/invrender/optimize"
)

// The material demos recover values the image is linear in: scenes.SphereOnPlane
// renders direct light only (maxDepth 2), so every pixel is linear in the
// sphere's reflectance and in the light's radiance, and L2 against the
// target has its minimum where the expected render matches it. Their
// gradients are all interior term.
//
// The forward renders take 8 samples per pixel and the backward passes 2:
// the gradient of L2, 2 (I - T) dI/dtheta per pixel, owes most of its
// variance to the render I, so this halves the gradient's standard
// deviation of 4 and 4 samples at the same cost. The targets take 1024
// samples, since their noise moves the loss's minimum (at 64 samples per
// pixel on a 32 x 32 film the reflectance's minimum moved by up to 0.9 %).
// Adam runs with DefaultLearningRate (5 % of the largest channel per
// step) under a cosine schedule.
//
// The full versions (a 32-pixel film, 100 iterations) recover the values
// to within 2 %, as the issue asks. The short versions (a 24-pixel film,
// 60 iterations) are held to 4 %: fewer pixels and fewer iterations
// average less of the gradient's noise. Over six run seeds their error
// reached 1.9 % (2.1 % in the worst channel), the full versions' 0.6 %
// (over four).

// materialDemoSize returns the film side, iterations, target sample count
// and tolerance of the material demos.
func materialDemoSize() (size, iters, targetSPP int, tol float64) {
	if testing.Short() {
		return 24, 60, 1024, 0.04
	}
	return 32, 100, 1024, 0.02
}

// maxRelError returns max_i |x_i - t_i| / |t_i|.
func maxRelError(x, t []float64) float64 {
	e := 0.0
	for i := range t {
		e = math.Max(e, math.Abs(x[i]-t[i])/math.Abs(t[i]))
	}
	return e
}

// runMaterialDemo recovers key of the sphere scene from start, with the
// truth as the scene has it, to within 2 % (|x - truth| / |truth|; 4 %
// under -short).
func runMaterialDemo(t *testing.T, key string, start []float64, targetSeed, seed uint64) {
	t.Helper()
	size, iters, tspp, tol := materialDemoSize()
	s, ps := sphereScene(t, size)
	truth := append([]float64(nil), ps.Get(key).Value...)
	target := renderTarget(t, s, 0, tspp, targetSeed)
	setParam(t, ps, key, start...)
	e0 := dist(start, truth) / math.Sqrt(dot(truth, truth))
	if e0 < 0.2 {
		t.Fatalf("the start %.4g is only %.1f%% off the truth %.4g", start, 100*e0, truth)
	}
	res, spi := demoRun(t, optimize.Config{
		Params:      ps,
		Keys:        []optimize.KeyRate{{Key: key}},
		Targets:     []optimize.Target{{Image: target}},
		SPP:         8,
		BackwardSPP: 2,
		Iterations:  iters,
		Schedule:    optimize.Cosine(iters, 0.05),
		Seed:        seed + *demoSeed,
		Truth:       map[string][]float64{key: truth},
	})
	got := res.Values[key]
	e := res.ParamError[key]
	t.Logf("%dx%d film, %d iterations, %.4f s/iteration (%s): %s = %.4f, truth %.4g: error %.2f%% (%.2f%% in the worst component), start %.4g %.0f%% off (at least %.0f%% in every component)",
		size, size, res.Iterations, spi, threadsLabel(), key, got, truth, 100*e, 100*maxRelError(got, truth), start, 100*e0, 100*minRelError(start, truth))
	if !(e < tol) {
		t.Errorf("%s = %.4f: error %.2f%%, want < %.0f%%", key, got, 100*e, 100*tol)
	}
	// The registry holds the result.
	if p := ps.Get(key); p.Value[0] != got[0] {
		t.Errorf("the registry holds %v, the result is %v", p.Value, got)
	}
}

// minRelError returns min_i |x_i - t_i| / |t_i|.
func minRelError(x, t []float64) float64 {
	e := math.Inf(1)
	for i := range t {
		e = math.Min(e, math.Abs(x[i]-t[i])/math.Abs(t[i]))
	}
	return e
}

// dot returns the dot product of a and b.
func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// TestDemoReflectance is demo 1: the sphere's diffuse colour (0.7, 0.3,
// 0.2) to within 2 % from (0.5, 0.39, 0.26), each channel 28-30 % off
// (29 % as a vector).
func TestDemoReflectance(t *testing.T) {
	runMaterialDemo(t, "objmat.reflectance.value", []float64{0.5, 0.39, 0.26}, 1234, 7)
}

// TestDemoRadiance is demo 2: the area light's radiance (20, 20, 20) to
// within 2 % from (15, 25, 15), each channel 25 % off and of another
// colour: the whole image is linear in it.
func TestDemoRadiance(t *testing.T) {
	runMaterialDemo(t, "light.emitter.radiance.value", []float64{15, 25, 15}, 99, 3)
}
