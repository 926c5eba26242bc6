package optimize_test

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/adjoint"
	"github.com/invrender/invrender/optimize"
	"github.com/invrender/invrender/render"
	"github.com/invrender/invrender/scenes"
)

// sphereScene returns SphereOnPlane with a size x size film and its
// registry.
func sphereScene(t testing.TB, size int) (*render.Scene, *adjoint.Params) {
	t.Helper()
	s := scenes.SphereOnPlane()
	s.Sensors[0].Width, s.Sensors[0].Height = size, size
	ps, err := adjoint.NewParams(s)
	if err != nil {
		t.Fatal(err)
	}
	if err := ps.Update(); err != nil {
		t.Fatal(err)
	}
	return s, ps
}

// addSideSensor gives the scene a second camera, looking at the sphere
// from the right.
func addSideSensor(s *render.Scene) {
	sn := *s.Sensors[0]
	sn.Name = "side"
	sn.Origin = mgl64.Vec3{2.8, 1.4, 1.2}
	s.Sensors = append(s.Sensors, &sn)
}

// renderTarget renders sensor i of the scene at the given sample count and
// seed: the synthetic target of a recovery test.
func renderTarget(t testing.TB, s *render.Scene, sensor, spp int, seed uint64) *render.Image {
	t.Helper()
	r, err := render.Render(context.Background(), s, render.Options{Sensor: sensor, SPP: spp, Seed: seed, SeedSet: true})
	if err != nil {
		t.Fatal(err)
	}
	return r.Image
}

// setParam sets a registered parameter and updates the scene.
func setParam(t testing.TB, ps *adjoint.Params, key string, v ...float64) {
	t.Helper()
	p, err := ps.Lookup(key)
	if err != nil {
		t.Fatal(err)
	}
	copy(p.Value, v)
	if err := ps.Update(); err != nil {
		t.Fatal(err)
	}
}

// checkRecovered fails unless the relative error |x - truth| / |truth|
// (Euclidean norms, the parameter error of Iteration.ParamError) is within
// rel.
func checkRecovered(t *testing.T, key string, res *optimize.RunResult, rel float64) {
	t.Helper()
	if e := res.ParamError[key]; !(e <= rel) {
		t.Errorf("%s = %.5f: relative error %.2f%% > %.0f%%", key, res.Values[key], 100*e, 100*rel)
	}
}

// The recovery demos share their settings. The forward renders take 8
// samples per pixel and the backward passes 2: the gradient of an image
// loss, 2 (I - T) dI/dtheta per pixel, owes most of its variance to the
// render I, so this halves the gradient's standard deviation of 4 and 4
// samples at the same cost. Adam runs with its default learning rate
// (DefaultLearningRate) under a cosine schedule; the targets are rendered
// with many samples, since their noise moves the loss's minimum (at 64
// samples per pixel on a 32x32 film the reflectance's minimum moved by
// up to 0.9 %).
const (
	demoSPP, demoBackwardSPP = 8, 2
)

// demoSize returns the film side, iterations and target sample count of
// the demos: a short version under -short.
func demoSize() (size, iters, targetSPP int) {
	if testing.Short() {
		return 24, 60, 128
	}
	return 32, 100, 256
}

// TestRunReflectance drives the loop on demo 1's problem (the sphere's
// diffuse colour from a start 30 % off) and checks the loop's own
// contract: one view per iteration in the callback, and the result held
// by the registry and the scene. The demo itself, with its reporting and
// short/full versions, is TestDemoReflectance; the light's radiance is
// TestDemoRadiance.
func TestRunReflectance(t *testing.T) {
	size, iters, tspp := demoSize()
	s, ps := sphereScene(t, size)
	truth := []float64{0.7, 0.3, 0.2}
	target := renderTarget(t, s, 0, tspp, 1234)
	setParam(t, ps, "objmat.reflectance.value", 0.91, 0.39, 0.26)
	var first, last float64
	res, err := optimize.Run(context.Background(), optimize.Config{
		Params:      ps,
		Keys:        []optimize.KeyRate{{Key: "objmat.reflectance.value"}},
		Targets:     []optimize.Target{{Image: target}},
		SPP:         demoSPP,
		BackwardSPP: demoBackwardSPP,
		Iterations:  iters,
		Schedule:    optimize.Cosine(iters, 0.05),
		Seed:        7,
		Truth:       map[string][]float64{"objmat.reflectance.value": truth},
		Callback: func(it *optimize.Iteration) error {
			if it.Iteration == 0 {
				first = it.ParamError["objmat.reflectance.value"]
			}
			last = it.Loss
			if len(it.Views) != 1 || it.Views[0].Image.Width != size || it.Views[0].Loss != it.Loss {
				t.Errorf("iteration %d: views %+v", it.Iteration, it.Views)
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := res.Values["objmat.reflectance.value"]
	t.Logf("%dx%d, %d iterations: %.4f (error %.3g%%, started at %.3g%%), last loss %.3g", size, size, res.Iterations, got, 100*res.ParamError["objmat.reflectance.value"], 100*first, last)
	if first < 0.2 {
		t.Errorf("start error %.3g, want >= 20%%", first)
	}
	checkRecovered(t, "objmat.reflectance.value", res, 0.02)
	// The registry and the scene hold the result.
	if p := ps.Get("objmat.reflectance.value"); p.Value[0] != got[0] || s.Materials[0].Reflectance.Value[0] != got[0] {
		t.Errorf("registry %v, scene %v, result %v", p.Value, s.Materials[0].Reflectance.Value, got)
	}
}

// multiViewConfig is a two-view run on the sphere scene with a minibatch
// of one view per iteration.
func multiViewConfig(t *testing.T, iters int) optimize.Config {
	s, ps := sphereScene(t, 16)
	addSideSensor(s)
	t0 := renderTarget(t, s, 0, 16, 5)
	t1 := renderTarget(t, s, 1, 16, 6)
	setParam(t, ps, "objmat.reflectance.value", 0.4, 0.4, 0.4)
	setParam(t, ps, "light.emitter.radiance.value", 15, 15, 15)
	return optimize.Config{
		Params: ps,
		Keys: []optimize.KeyRate{
			{Key: "objmat.reflectance.value", LR: 0.05},
			{Key: "light.emitter.radiance.value"},
		},
		Targets:           []optimize.Target{{Sensor: 0, Image: t0}, {Sensor: 1, Image: t1}},
		SPP:               2,
		Iterations:        iters,
		ViewsPerIteration: 1,
		Schedule:          optimize.Cosine(iters, 0.1),
		Seed:              11,
		Loss:              optimize.L1(),
	}
}

// TestRunResume checks that a run resumed from a checkpoint ends bit for
// bit where the uninterrupted run does, with another thread count, and
// that an interrupted run writes a checkpoint it can resume from.
func TestRunResume(t *testing.T) {
	const iters = 6
	dir := t.TempDir()

	full := multiViewConfig(t, iters)
	full.Threads = 1
	var views [][]int
	full.Callback = func(it *optimize.Iteration) error {
		var v []int
		for _, r := range it.Views {
			v = append(v, r.Target)
		}
		views = append(views, v)
		return nil
	}
	want, err := optimize.Run(context.Background(), full)
	if err != nil {
		t.Fatal(err)
	}
	saw := map[int]bool{}
	for _, v := range views {
		if len(v) != 1 {
			t.Fatalf("views per iteration: %v", views)
		}
		saw[v[0]] = true
	}
	if !saw[0] || !saw[1] {
		t.Errorf("six iterations chose only views %v", views)
	}

	// Stop after 3 iterations, as a short run with a checkpoint.
	half := multiViewConfig(t, iters)
	half.Iterations = 3
	half.CheckpointPath = filepath.Join(dir, "half.json")
	if _, err := optimize.Run(context.Background(), half); err != nil {
		t.Fatal(err)
	}
	ck, err := optimize.LoadCheckpoint(half.CheckpointPath)
	if err != nil {
		t.Fatal(err)
	}
	if ck.Iteration != 3 || ck.Meta["run.keys"] != "objmat.reflectance.value,light.emitter.radiance.value" {
		t.Fatalf("checkpoint at %d, meta %v", ck.Iteration, ck.Meta)
	}
	rest := multiViewConfig(t, iters)
	rest.Threads = 2
	rest.Resume = ck
	got, err := optimize.Run(context.Background(), rest)
	if err != nil {
		t.Fatal(err)
	}
	sameRun(t, "resumed", got, want)

	// Interrupted by a cancelled context during iteration 4 (seen as the
	// callback of iteration 3 cancelling it).
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	intr := multiViewConfig(t, iters)
	intr.CheckpointPath = filepath.Join(dir, "intr.json")
	intr.Callback = func(it *optimize.Iteration) error {
		if it.Iteration == 3 {
			cancel()
		}
		return nil
	}
	r, err := optimize.Run(ctx, intr)
	if !errors.Is(err, context.Canceled) || !r.Interrupted || r.Iterations != 4 || len(r.Losses) != 4 {
		t.Fatalf("interrupted run: err %v, result %+v", err, r)
	}
	ck, err = optimize.LoadCheckpoint(intr.CheckpointPath)
	if err != nil {
		t.Fatal(err)
	}
	if ck.Iteration != 4 {
		t.Fatalf("interrupted checkpoint at iteration %d, want 4", ck.Iteration)
	}
	again := multiViewConfig(t, iters)
	again.Resume = ck
	got, err = optimize.Run(context.Background(), again)
	if err != nil {
		t.Fatal(err)
	}
	sameRun(t, "resumed after an interrupt", got, want)

	// A checkpoint of another configuration is refused.
	other := multiViewConfig(t, iters)
	other.Keys = other.Keys[:1]
	other.Resume = ck
	if _, err := optimize.Run(context.Background(), other); err == nil || !strings.Contains(err.Error(), "checkpoint") {
		t.Errorf("resuming with other keys: %v", err)
	}
	other = multiViewConfig(t, iters)
	other.Seed++
	other.Resume = ck
	if _, err := optimize.Run(context.Background(), other); err == nil || !strings.Contains(err.Error(), "seed") {
		t.Errorf("resuming with another seed: %v", err)
	}
}

func sameRun(t *testing.T, what string, got, want *optimize.RunResult) {
	t.Helper()
	if got.Iterations != want.Iterations || len(got.X) != len(want.X) || len(got.Losses) != len(want.Losses) {
		t.Fatalf("%s: %d iterations, %d values, %d losses; want %d, %d, %d", what,
			got.Iterations, len(got.X), len(got.Losses), want.Iterations, len(want.X), len(want.Losses))
	}
	for i := range want.X {
		if math.Float64bits(got.X[i]) != math.Float64bits(want.X[i]) {
			t.Errorf("%s: x[%d] = %v, uninterrupted %v", what, i, got.X[i], want.X[i])
		}
	}
	for i := range want.Losses {
		if math.Float64bits(got.Losses[i]) != math.Float64bits(want.Losses[i]) {
			t.Errorf("%s: loss %d = %v, uninterrupted %v", what, i, got.Losses[i], want.Losses[i])
		}
	}
}

// TestChooseViews checks the minibatch choice: k distinct sorted views,
// reproducible, all views when k is 0 or too large, and every view about
// equally often.
func TestChooseViews(t *testing.T) {
	if got := optimize.ChooseViews(1, 0, 3, 0); len(got) != 3 || got[0] != 0 || got[2] != 2 {
		t.Errorf("k=0: %v", got)
	}
	if got := optimize.ChooseViews(1, 0, 3, 5); len(got) != 3 {
		t.Errorf("k=5 of 3: %v", got)
	}
	count := make([]int, 5)
	for it := 0; it < 2000; it++ {
		v := optimize.ChooseViews(42, it, 5, 2)
		w := optimize.ChooseViews(42, it, 5, 2)
		if len(v) != 2 || v[0] >= v[1] || v[0] != w[0] || v[1] != w[1] {
			t.Fatalf("iteration %d: %v then %v", it, v, w)
		}
		for _, i := range v {
			count[i]++
		}
	}
	// Each view is chosen with probability 2/5: 800 of 2000 times, with a
	// binomial standard deviation of sqrt(2000 0.4 0.6) ~ 22; 5 sigma.
	for i, c := range count {
		if math.Abs(float64(c)-800) > 110 {
			t.Errorf("view %d chosen %d times of 2000, want about 800", i, c)
		}
	}
	if optimize.ViewSeed(1, 2, 3) == optimize.ViewSeed(1, 3, 2) || optimize.ViewSeed(1, 2, 3) == optimize.ViewSeed(2, 2, 3) {
		t.Error("view seeds collide")
	}
}

// TestRunErrors checks the messages of bad configurations.
func TestRunErrors(t *testing.T) {
	s, ps := sphereScene(t, 16)
	good := render.NewImage(16, 16)
	cases := []struct {
		name string
		edit func(c *optimize.Config)
		want string
	}{
		{"unknown key", func(c *optimize.Config) { c.Keys = []optimize.KeyRate{{Key: "objmat.reflectanse.value"}} }, `no parameter "objmat.reflectanse.value"`},
		{"key twice", func(c *optimize.Config) { c.Keys = append(c.Keys, c.Keys[0]) }, "listed twice"},
		{"no keys", func(c *optimize.Config) { c.Keys = nil }, "no parameters"},
		{"no targets", func(c *optimize.Config) { c.Targets = nil }, "no target"},
		{"aspect", func(c *optimize.Config) { c.Targets[0].Image = render.NewImage(32, 20) }, "another aspect ratio"},
		{"sensor", func(c *optimize.Config) { c.Targets[0].Sensor = 2 }, "sensor 2 does not exist"},
		{"mask", func(c *optimize.Config) { c.Targets[0].Mask = make([]float64, 10) }, "mask has 10 weights"},
		{"nan target", func(c *optimize.Config) {
			im := render.NewImage(16, 16)
			im.Pix[5] = math.NaN()
			c.Targets[0].Image = im
		}, "non-finite"},
		{"truth size", func(c *optimize.Config) { c.Truth = map[string][]float64{"objmat.reflectance.value": {1}} }, "1 components"},
		{"truth key", func(c *optimize.Config) { c.Truth = map[string][]float64{"planemat.reflectance.value": {1, 1, 1}} }, "not optimised"},
		{"optimiser", func(c *optimize.Config) { c.Optimizer = "lbfgs" }, "unknown optimiser"},
		{"large steps", func(c *optimize.Config) { c.LargeSteps = 10 }, "vertex_positions"},
		{"lr", func(c *optimize.Config) { c.Keys[0].LR = -1 }, "learning rate"},
	}
	for _, tc := range cases {
		c := optimize.Config{
			Params:     ps,
			Keys:       []optimize.KeyRate{{Key: "objmat.reflectance.value"}},
			Targets:    []optimize.Target{{Image: good}},
			SPP:        1,
			Iterations: 1,
		}
		tc.edit(&c)
		_, err := optimize.Run(context.Background(), c)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to mention %q", tc.name, err, tc.want)
		}
	}
	// A target of the film's aspect ratio but another size is resampled.
	res, err := optimize.Run(context.Background(), optimize.Config{
		Params:     ps,
		Keys:       []optimize.KeyRate{{Key: "objmat.reflectance.value"}},
		Targets:    []optimize.Target{{Image: render.NewImage(40, 40)}},
		SPP:        1,
		Iterations: 1,
	})
	if err != nil || len(res.Resized) != 1 {
		t.Errorf("40x40 target for a 16x16 film: %v, resized %v", err, res)
	}
	_ = s
}

// TestRunLargeSteps runs the reparameterised vertex positions with the
// smoothness term for a few iterations: the variables of the large-steps
// block are checkpointed and the regulariser is part of the loss.
func TestRunLargeSteps(t *testing.T) {
	s, ps := sphereScene(t, 12)
	target := renderTarget(t, s, 0, 4, 1)
	setParam(t, ps, "object.translation", 0, 0.05, 0)
	dir := t.TempDir()
	sawReg := false
	res, err := optimize.Run(context.Background(), optimize.Config{
		Params:         ps,
		Keys:           []optimize.KeyRate{{Key: "object.vertex_positions", LR: 0.002}},
		Targets:        []optimize.Target{{Image: target}},
		SPP:            1,
		Iterations:     2,
		LargeSteps:     10,
		Smoothness:     0.1,
		CheckpointPath: filepath.Join(dir, "ck.json"),
		Callback: func(it *optimize.Iteration) error {
			sawReg = sawReg || (it.Regularizer > 0 && it.Regularizer < it.Loss)
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ck, err := optimize.LoadCheckpoint(filepath.Join(dir, "ck.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ck.U) != len(res.X) || ck.Optimizer.Kind != "adam-uniform" || !sawReg {
		t.Errorf("checkpoint u %d values for %d parameters, optimiser %s, regulariser seen %v", len(ck.U), len(res.X), ck.Optimizer.Kind, sawReg)
	}
}

// TestRunResumeGeometry checks resumes of geometry: the resumed run
// builds its BVH afresh from the checkpointed positions where the
// uninterrupted one refitted its tree, and the boundary term's edge
// structures are rebuilt too; the values must still agree bit for bit
// (for the translation and for large-steps vertex positions).
func TestRunResumeGeometry(t *testing.T) {
	for _, key := range []string{"object.translation", "object.vertex_positions"} {
		cfg := func() optimize.Config {
			s, ps := sphereScene(t, 16)
			target := renderTarget(t, s, 0, 8, 5)
			setParam(t, ps, "object.translation", 0.05, 0, 0.03)
			c := optimize.Config{Params: ps, Keys: []optimize.KeyRate{{Key: key, LR: 0.01}},
				Targets: []optimize.Target{{Image: target}}, SPP: 2, BackwardSPP: 1, Iterations: 6, Seed: 9}
			if key == "object.vertex_positions" {
				c.LargeSteps = 10
			}
			return c
		}
		want, err := optimize.Run(context.Background(), cfg())
		if err != nil {
			t.Fatal(err)
		}
		c := cfg()
		c.Iterations = 3
		c.CheckpointPath = filepath.Join(t.TempDir(), "ck.json")
		if _, err := optimize.Run(context.Background(), c); err != nil {
			t.Fatal(err)
		}
		ck, err := optimize.LoadCheckpoint(c.CheckpointPath)
		if err != nil {
			t.Fatal(err)
		}
		c = cfg()
		c.Resume = ck
		got, err := optimize.Run(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		sameRun(t, key, got, want)
	}
}
