package optimize

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/internal/meshgen"
)

// quadratic is f(x) = sum a_i (x_i - c_i)^2 with curvatures a_i from 1 to
// 100.
func quadratic(n int) (Problem, []float64) { return quadraticCond(n, 100) }

// quadraticCond is quadratic with curvatures from 1 to cond.
func quadraticCond(n int, cond float64) (Problem, []float64) {
	a := make([]float64, n)
	c := make([]float64, n)
	for i := range n {
		a[i] = math.Pow(cond, float64(i)/float64(max(n-1, 1)))
		c[i] = float64(i) - 2.5
	}
	p := Problem{FuncGrad: func(grad, x []float64) (float64, error) {
		f := 0.0
		for i := range x {
			r := x[i] - c[i]
			f += a[i] * r * r
			grad[i] = 2 * a[i] * r
		}
		return f, nil
	}}
	return p, c
}

// rosenbrock is (1-a)^2 + 100 (b-a^2)^2, minimum 0 at (1, 1), started from
// the standard (-1.2, 1).
var rosenbrock = Problem{
	Func: func(x []float64) (float64, error) {
		a, b := x[0], x[1]
		return (1-a)*(1-a) + 100*(b-a*a)*(b-a*a), nil
	},
	Grad: func(grad, x []float64) error {
		a, b := x[0], x[1]
		grad[0] = -2*(1-a) - 400*a*(b-a*a)
		grad[1] = 200 * (b - a*a)
		return nil
	},
}

func mustAdam(t testing.TB, blocks []Block, mod func(*AdamConfig)) *Adam {
	t.Helper()
	c := DefaultAdamConfig()
	if mod != nil {
		mod(&c)
	}
	o, err := NewAdam(blocks, c)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func mustSGD(t testing.TB, blocks []Block, c SGDConfig) *SGD {
	t.Helper()
	o, err := NewSGD(blocks, c)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestMinimizeConverges runs each optimiser from a standard start and
// checks the largest distance to the minimiser. The runs are deterministic
// and reach 1e-15 to 5e-8 (logged); the tolerances leave a margin of 20x
// or more and still fail on any real regression (a wrong bias correction
// or momentum stalls far above them).
func TestMinimizeConverges(t *testing.T) {
	quad, c := quadratic(7)
	iso, _ := quadraticCond(7, 1)
	blocks7 := []Block{{"x", 0, 7, 0.1}}
	blocks2 := func(lr float64) []Block { return []Block{{"p", 0, 2, lr}} }
	cases := []struct {
		name  string
		p     Problem
		x0    []float64
		want  []float64
		opt   Optimizer
		iters int
		tol   float64
	}{
		// Adam's fixed rate leaves an oscillation of the order of lr;
		// the cosine schedule anneals it away.
		{"adam quadratic", quad, make([]float64, 7), c, mustAdam(t, blocks7, func(c *AdamConfig) { c.Schedule = Cosine(2000, 0) }), 2000, 1e-6},
		{"adam rosenbrock", rosenbrock, []float64{-1.2, 1}, []float64{1, 1}, mustAdam(t, blocks2(0.05), func(c *AdamConfig) { c.Schedule = Cosine(5000, 0) }), 5000, 1e-5},
		// Uniform Adam divides the whole block by its largest gradient
		// scale, gradient descent with a normalised step: meant for
		// preconditioned (well-conditioned) problems, tested on one.
		{"uniform adam isotropic quadratic", iso, make([]float64, 7), c, mustAdam(t, []Block{{"x", 0, 7, 0.05}}, func(c *AdamConfig) { c.Uniform = true; c.Schedule = Cosine(3000, 0) }), 3000, 1e-6},
		// Heavy ball on the quadratic: lr below 2(1+mu)/L with L = 200.
		{"sgd momentum quadratic", quad, make([]float64, 7), c, mustSGD(t, []Block{{"x", 0, 7, 0.005}}, SGDConfig{Momentum: 0.9}), 2000, 1e-10},
		{"sgd momentum rosenbrock", rosenbrock, []float64{-1.2, 1}, []float64{1, 1}, mustSGD(t, blocks2(1e-3), SGDConfig{Momentum: 0.9}), 20000, 1e-8},
		{"sgd nesterov rosenbrock", rosenbrock, []float64{-1.2, 1}, []float64{1, 1}, mustSGD(t, blocks2(1e-3), SGDConfig{Momentum: 0.9, Nesterov: true}), 20000, 1e-8},
	}
	for _, tc := range cases {
		res, err := Minimize(tc.p, tc.x0, Options{Optimizer: tc.opt, MaxIterations: tc.iters})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if res.Iterations != tc.iters || res.Status != IterationLimit || len(res.Losses) != tc.iters {
			t.Errorf("%s: %d iterations, status %v, %d losses", tc.name, res.Iterations, res.Status, len(res.Losses))
		}
		d := 0.0
		for i := range res.X {
			d = max(d, math.Abs(res.X[i]-tc.want[i]))
		}
		t.Logf("%s: max |x - x*| = %.3g after %d iterations, f = %.3g", tc.name, d, tc.iters, res.F)
		if d > tc.tol {
			t.Errorf("%s: max |x - x*| = %g, tolerance %g (x = %v)", tc.name, d, tc.tol, res.X)
		}
	}
}

func TestMinimizeConstraintsAndBlocks(t *testing.T) {
	// f = sum (x - target)^2 with targets outside the feasible sets.
	target := []float64{2, -1, 5, 0.5, 7, 7, 7}
	p := Problem{FuncGrad: func(grad, x []float64) (float64, error) {
		f := 0.0
		for i := range x {
			r := x[i] - target[i]
			f += r * r
			grad[i] = 2 * r
		}
		return f, nil
	}}
	blocks := []Block{
		{"mat.reflectance.value", 0, 3, 0.05},
		{"rough.alpha.value", 3, 1, 0.05},
		{"obj.rotation", 4, 3, 0.5},
	}
	opt := mustAdam(t, blocks, nil)
	cons := DefaultConstraints(blocks)
	if len(cons) != 3 {
		t.Fatalf("default constraints %v", cons)
	}
	check := func(info *IterationInfo) error {
		x := info.X
		for i := range 3 {
			if x[i] < 0 || x[i] > 1 {
				return fmt.Errorf("reflectance %g outside [0, 1]", x[i])
			}
		}
		if th := math.Sqrt(x[4]*x[4] + x[5]*x[5] + x[6]*x[6]); th > math.Pi+1e-12 {
			return fmt.Errorf("rotation angle %g", th)
		}
		return nil
	}
	res, err := Minimize(p, []float64{0.5, 0.5, 0.5, 0.2, 0, 0, 0}, Options{Optimizer: opt, MaxIterations: 400, Constraints: cons, Callback: check})
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{1, 0, 1, 0.5}
	for i, w := range want {
		if math.Abs(res.X[i]-w) > 1e-3 {
			t.Errorf("x[%d] = %g, want %g", i, res.X[i], w)
		}
	}
	if err := check(&IterationInfo{X: res.X}); err != nil {
		t.Error(err)
	}

	// Per-block learning rates: one SGD step moves each block by its own
	// rate times the gradient; values outside the blocks stay.
	sblocks := []Block{{"a", 0, 2, 0.1}, {"b", 3, 1, 0.001}}
	res, err = Minimize(p, make([]float64, 7), Options{Optimizer: mustSGD(t, sblocks, SGDConfig{}), MaxIterations: 1})
	if err != nil {
		t.Fatal(err)
	}
	wantX := []float64{0.1 * 4, 0.1 * -2, 0, 0.001 * 1, 0, 0, 0}
	for i := range wantX {
		if math.Abs(res.X[i]-wantX[i]) > 1e-15 {
			t.Errorf("one SGD step: x[%d] = %g, want %g", i, res.X[i], wantX[i])
		}
	}
}

func TestMinimizeCallbackAndErrors(t *testing.T) {
	quad, _ := quadratic(3)
	blocks := []Block{{"x", 0, 3, 0.1}}
	calls := 0
	res, err := Minimize(quad, make([]float64, 3), Options{
		Optimizer: mustAdam(t, blocks, nil), MaxIterations: 100,
		Callback: func(info *IterationInfo) error {
			if info.Iteration != calls {
				t.Errorf("callback iteration %d, want %d", info.Iteration, calls)
			}
			if info.Optimizer.Steps() != calls || info.GradNorm <= 0 {
				t.Errorf("callback: %d steps, gradient norm %g", info.Optimizer.Steps(), info.GradNorm)
			}
			calls++
			if info.Iteration == 5 {
				return ErrStop
			}
			return nil
		},
	})
	if err != nil || res.Status != CallbackStop || res.Iterations != 5 || len(res.Losses) != 6 {
		t.Errorf("stopped run: err %v, status %v, %d iterations, %d losses", err, res.Status, res.Iterations, len(res.Losses))
	}
	boom := errors.New("boom")
	_, err = Minimize(quad, make([]float64, 3), Options{Optimizer: mustAdam(t, blocks, nil), MaxIterations: 10,
		Callback: func(info *IterationInfo) error {
			if info.Iteration == 2 {
				return boom
			}
			return nil
		}})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "iteration 2") {
		t.Errorf("callback error: %v", err)
	}
	failing := Problem{FuncGrad: func(grad, x []float64) (float64, error) {
		if x[0] != 0 {
			return 0, boom
		}
		grad[0] = 1
		return 1, nil
	}}
	res, err = Minimize(failing, make([]float64, 3), Options{Optimizer: mustAdam(t, blocks, nil), MaxIterations: 10})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "iteration 1") || res.Iterations != 1 {
		t.Errorf("objective error: %v after %d iterations", err, res.Iterations)
	}
	bad := []struct {
		p    Problem
		x0   []float64
		opts Options
		want string
	}{
		{Problem{}, make([]float64, 3), Options{Optimizer: mustAdam(t, blocks, nil)}, "needs FuncGrad"},
		{quad, make([]float64, 3), Options{}, "no optimiser"},
		{quad, make([]float64, 2), Options{Optimizer: mustAdam(t, blocks, nil)}, "exceeds the 2 parameters"},
		{quad, make([]float64, 3), Options{Optimizer: mustAdam(t, blocks, nil), Constraints: map[string]Constraint{"y": NonNegative()}}, `"y", which is no block`},
		{quad, make([]float64, 3), Options{Optimizer: mustAdam(t, []Block{{"x", 0, 2, 0.1}}, nil), Constraints: map[string]Constraint{"x": AxisAngle()}}, "multiple of 3"},
		{quad, make([]float64, 3), Options{Optimizer: mustAdam(t, blocks, nil), Reparams: map[string]Reparam{"z": nil}}, `"z", which is no block`},
	}
	for _, c := range bad {
		if _, err := Minimize(c.p, c.x0, c.opts); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Minimize: error %v, want %q", err, c.want)
		}
	}
}

// TestMinimizeLargeSteps fits a sphere's vertices to a larger sphere (an
// L2 loss on positions) with plain Adam and with the large-steps
// reparameterisation and uniform Adam. Per-component Adam normalises each
// coordinate's step separately, which makes the surface rough on the way
// (the Rayleigh quotient x^T L x / x^T x of the positions, constant for
// any sphere, grows); large steps keep it a sphere. Both reach the target.
func TestMinimizeLargeSteps(t *testing.T) {
	pos, idx := icosphereFlat(3)
	n := len(pos) / 3
	target := make([]float64, len(pos))
	for i := range pos {
		target[i] = 1.5 * pos[i]
	}
	// A NaN in one gradient component is skipped (zeroed before the
	// solve with large steps).
	p := Problem{FuncGrad: func(grad, x []float64) (float64, error) {
		f := 0.0
		for i := range x {
			r := x[i] - target[i]
			f += r * r
			grad[i] = 2 * r
		}
		grad[7] = math.NaN()
		return f, nil
	}}
	l, _ := UniformLaplacian(idx, n)
	sphereQ := rayleigh(l, pos)
	blocks := []Block{{"sphere.vertex_positions", 0, len(pos), 0.01}}
	ls, err := NewLargeSteps(idx, n, 10)
	if err != nil {
		t.Fatal(err)
	}
	rough := map[bool]float64{}
	for _, withLS := range []bool{false, true} {
		opts := Options{MaxIterations: 300}
		if withLS {
			opts.Optimizer = mustAdam(t, blocks, func(c *AdamConfig) { c.Uniform = true })
			opts.Reparams = map[string]Reparam{blocks[0].Key: ls}
		} else {
			opts.Optimizer = mustAdam(t, blocks, nil)
		}
		opts.Callback = func(info *IterationInfo) error {
			rough[withLS] = max(rough[withLS], rayleigh(l, info.X)/sphereQ-1)
			return nil
		}
		res, err := Minimize(p, pos, opts)
		if err != nil {
			t.Fatal(err)
		}
		dist := 0.0
		for i := range res.X {
			if i != 7 || withLS {
				dist = max(dist, math.Abs(res.X[i]-target[i]))
			}
		}
		t.Logf("large steps %v: max distance %.3g, max roughness %.3g, skipped %d", withLS, dist, rough[withLS], res.Skipped)
		if dist > 0.05 {
			t.Errorf("large steps %v: max distance to target %g", withLS, dist)
		}
		if res.Skipped != 300 {
			t.Errorf("large steps %v: %d components skipped, want 300", withLS, res.Skipped)
		}
	}
	if rough[true] > rough[false]/10 {
		t.Errorf("large steps roughness %g, plain Adam %g", rough[true], rough[false])
	}
}

func icosphereFlat(subdiv int) ([]float64, []int32) {
	pos, idx := meshgen.Icosphere(subdiv, 1, mgl64.Vec3{}, 0)
	return flatten(pos), idx
}

// TestReparamLeavesOtherBlocks: the loss is separable, so reparameterising
// the mesh block must not change the trajectory of a constrained colour
// block by a single bit.
func TestReparamLeavesOtherBlocks(t *testing.T) {
	pos, idx := icosphereFlat(1)
	nm := len(pos)
	x0 := append(append([]float64(nil), pos...), 0.5, 0.5, 0.5)
	target := []float64{0.98, 0.03, 0.7} // Adam overshoots the bounds
	p := Problem{FuncGrad: func(grad, x []float64) (float64, error) {
		f := 0.0
		for i := range nm {
			r := x[i] - 2*pos[i]
			f += r * r
			grad[i] = 2 * r
		}
		for c := range 3 {
			r := x[nm+c] - target[c]
			f += r * r * r * r
			grad[nm+c] = 4 * r * r * r
		}
		return f, nil
	}}
	blocks := []Block{{"mesh.vertex_positions", 0, nm, 0.01}, {"mat.reflectance.value", nm, 3, 0.05}}
	var colours [2][][]float64
	for k, withLS := range []bool{false, true} {
		opts := Options{Optimizer: mustAdam(t, blocks, nil), MaxIterations: 150, Constraints: DefaultConstraints(blocks)}
		if withLS {
			ls, err := NewLargeSteps(idx, nm/3, 3)
			if err != nil {
				t.Fatal(err)
			}
			opts.Reparams = map[string]Reparam{blocks[0].Key: ls}
		}
		opts.Callback = func(info *IterationInfo) error {
			colours[k] = append(colours[k], append([]float64(nil), info.X[nm:]...))
			return nil
		}
		res, err := Minimize(p, x0, opts)
		if err != nil {
			t.Fatal(err)
		}
		colours[k] = append(colours[k], res.X[nm:])
	}
	for it := range colours[0] {
		if !sameBits(colours[0][it], colours[1][it]) {
			t.Fatalf("iteration %d: colour %v without reparameterisation, %v with", it, colours[0][it], colours[1][it])
		}
	}
	// The test needs the colour to hit a bound and leave it again.
	clamped, left := 0, 0
	for _, c := range colours[0] {
		if c[0] == 1 || c[1] == 0 {
			clamped++
		} else if clamped > 0 {
			left++
		}
	}
	if clamped == 0 || left == 0 {
		t.Errorf("the colour was clamped in %d iterations and left the bound in %d", clamped, left)
	}
}

// TestMinimizeProjectsStartAndResumesShortHistory: an infeasible start is
// projected before the first evaluation, and a checkpoint whose loss
// history is shorter than its iteration count (written by another driver)
// resumes and stops cleanly.
func TestMinimizeProjectsStartAndResumesShortHistory(t *testing.T) {
	quad, _ := quadratic(3)
	blocks := []Block{{"mat.reflectance.value", 0, 3, 0.01}}
	var first []float64
	opts := Options{Optimizer: mustAdam(t, blocks, nil), MaxIterations: 4, Constraints: DefaultConstraints(blocks),
		Callback: func(info *IterationInfo) error {
			if first == nil {
				first = append([]float64(nil), info.X...)
			}
			return nil
		}}
	x0 := []float64{1.5, -2, 0.5}
	if _, err := Minimize(quad, x0, opts); err != nil {
		t.Fatal(err)
	}
	if first[0] != 1 || first[1] != 0 || first[2] != 0.5 || x0[0] != 1.5 {
		t.Errorf("first evaluated point %v (x0 now %v), want [1 0 0.5]", first, x0)
	}
	ck := &Checkpoint{Iteration: 4, X: []float64{0.2, 0.3, 0.4}, Losses: []float64{1}, Optimizer: opts.Optimizer.State()}
	path := filepath.Join(t.TempDir(), "ck.json")
	res, err := Minimize(quad, nil, Options{Optimizer: mustAdam(t, blocks, nil), MaxIterations: 10, Resume: ck, CheckpointPath: path,
		Callback: func(info *IterationInfo) error {
			if info.Iteration == 6 {
				return ErrStop
			}
			return nil
		}})
	if err != nil || res.Iterations != 6 || len(res.Losses) != 4 {
		t.Fatalf("resume: %v, %d iterations, %d losses", err, res.Iterations, len(res.Losses))
	}
	saved, err := LoadCheckpoint(path)
	if err != nil || saved.Iteration != 6 || len(saved.Losses) != 3 {
		t.Errorf("saved checkpoint: %v, iteration %d, %d losses", err, saved.Iteration, len(saved.Losses))
	}
}
