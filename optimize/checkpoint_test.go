package optimize

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// resumeProblem mixes a mesh (large steps), a reflectance (clamped), a
// rotation (axis-angle) and a NaN gradient now and then, so that every
// piece of state a resume must restore is exercised.
type resumeProblem struct {
	target []float64
}

// fg is a stochastic objective: the target moves with the iteration, as a
// render's noise does with its per-iteration seed.
func (r *resumeProblem) fg(it int, grad, x []float64) (float64, error) {
	f := 0.0
	jitter := 1e-3 * math.Sin(float64(it)*1.7)
	for i := range x {
		d := x[i] - r.target[i] + jitter
		f += d * d * (1 + 0.1*math.Sin(float64(i)+x[i]))
		grad[i] = 2*d*(1+0.1*math.Sin(float64(i)+x[i])) + d*d*0.1*math.Cos(float64(i)+x[i])
	}
	// Non-finite gradients at some iterations (a resumed run sees them at
	// the same ones).
	if it%7 == 3 {
		grad[1] = math.NaN()          // a vertex: zeroed before the solve
		grad[len(x)-5] = math.Inf(-1) // a reflectance: skipped by Adam
	}
	return f, nil
}

func resumeSetup(t *testing.T, uniform bool) (Problem, []float64, func() Options) {
	pos, idx := icosphereFlat(1)
	n := len(pos) / 3
	nm := len(pos)
	x0 := append(append(append([]float64(nil), pos...), 0.2, 0.9, 0.5), 3, 0, 0)
	target := make([]float64, len(x0))
	for i := range pos {
		target[i] = 1.3*pos[i] + 0.05*math.Sin(float64(7*i))
	}
	copy(target[nm:], []float64{1.4, -0.2, 0.6, 2, 3, 1})
	rp := &resumeProblem{target: target}
	blocks := []Block{
		{"mesh.vertex_positions", 0, nm, 0.01},
		{"mat.reflectance.value", nm, 3, 0.05},
		{"mesh.rotation", nm + 3, 3, 0.3},
	}
	mk := func() Options {
		ls, err := NewLargeSteps(idx, n, 5)
		if err != nil {
			t.Fatal(err)
		}
		c := DefaultAdamConfig()
		c.Uniform = uniform
		c.Schedule = Cosine(40, 0.1).WithWarmup(3)
		opt, err := NewAdam(blocks, c)
		if err != nil {
			t.Fatal(err)
		}
		return Options{
			Optimizer:   opt,
			Constraints: DefaultConstraints(blocks),
			Reparams:    map[string]Reparam{blocks[0].Key: ls},
			Seed:        1<<63 + 12345,
			Meta:        map[string]string{"scene": "cbox.xml", "params": "mesh.vertex_positions,mat.reflectance.value"},
		}
	}
	return Problem{FuncGradAt: rp.fg}, x0, mk
}

func sameBits(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) && !(math.IsNaN(a[i]) && math.IsNaN(b[i])) {
			return false
		}
	}
	return true
}

// TestResumeBitIdentical: N iterations in one run equal k iterations, a
// checkpoint, a load into fresh objects and N-k more, bit for bit, for
// several k, including a run stopped by its callback between checkpoints.
func TestResumeBitIdentical(t *testing.T) {
	const N = 30
	for _, uniform := range []bool{false, true} {
		p, x0, mk := resumeSetup(t, uniform)
		dir := t.TempDir()
		full := mk()
		full.MaxIterations = N
		full.CheckpointPath = filepath.Join(dir, "full.json")
		want, err := Minimize(p, x0, full)
		if err != nil {
			t.Fatal(err)
		}
		wantState := full.Optimizer.State()
		if wantState.Skipped == 0 || want.Skipped != 2*wantState.Skipped {
			t.Fatalf("the problem produced %d skipped components, %d in the optimiser", want.Skipped, wantState.Skipped)
		}
		for _, k := range []int{0, 1, 7, 17, 29, 30} {
			first := mk()
			first.MaxIterations = N
			first.CheckpointPath = filepath.Join(dir, "part.json")
			first.CheckpointEvery = 5
			stopAt := k
			first.Callback = func(info *IterationInfo) error {
				if info.Iteration == stopAt {
					return ErrStop
				}
				return nil
			}
			res1, err := Minimize(p, x0, first)
			if err != nil {
				t.Fatal(err)
			}
			if k < N && (res1.Status != CallbackStop || res1.Iterations != k) {
				t.Fatalf("k=%d: first run status %v after %d iterations", k, res1.Status, res1.Iterations)
			}
			ck, err := LoadCheckpoint(first.CheckpointPath)
			if err != nil {
				t.Fatal(err)
			}
			if ck.Iteration != k || ck.Seed != 1<<63+12345 || ck.Meta["scene"] != "cbox.xml" || len(ck.Losses) != k {
				t.Fatalf("k=%d: checkpoint iteration %d, seed %d, meta %v, %d losses", k, ck.Iteration, ck.Seed, ck.Meta, len(ck.Losses))
			}
			second := mk()
			second.MaxIterations = N
			second.Resume = ck
			got, err := Minimize(p, []float64{99}, second) // x0 is ignored
			if err != nil {
				t.Fatalf("k=%d: %v", k, err)
			}
			if !sameBits(got.X, want.X) {
				t.Errorf("uniform=%v k=%d: resumed parameters differ", uniform, k)
			}
			if !sameBits(got.Losses, want.Losses) || got.Iterations != N {
				t.Errorf("uniform=%v k=%d: resumed losses differ (%d iterations)", uniform, k, got.Iterations)
			}
			if !reflect.DeepEqual(second.Optimizer.State(), wantState) {
				t.Errorf("uniform=%v k=%d: resumed optimiser state differs", uniform, k)
			}
		}
		// Resuming the finished run does nothing.
		ck, err := LoadCheckpoint(full.CheckpointPath)
		if err != nil {
			t.Fatal(err)
		}
		again := mk()
		again.MaxIterations = N
		again.Resume = ck
		got, err := Minimize(p, nil, again)
		if err != nil || got.Iterations != N || !sameBits(got.X, want.X) {
			t.Errorf("resuming a finished run: %v, %d iterations", err, got.Iterations)
		}
	}
}

func TestCheckpointRoundTrip(t *testing.T) {
	opt := mustAdam(t, []Block{{"a", 0, 2, 0.1}, {"b", 2, 1, 0.01}}, nil)
	opt.Step([]float64{1, 2, 3}, []float64{0.1, -1e-300, 5e-324})
	ck := &Checkpoint{
		Iteration: 3, Seed: math.MaxUint64,
		X:         []float64{math.Copysign(0, -1), 1.0 / 3, 1e308},
		Losses:    []float64{0.5, math.NaN(), math.Inf(1)},
		Optimizer: opt.State(),
		Meta:      map[string]string{"scene": "a \"quoted\" path/ü.xml"},
	}
	path := filepath.Join(t.TempDir(), "ck.json")
	if err := SaveCheckpoint(path, ck); err != nil {
		t.Fatal(err)
	}
	got, err := LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	if !sameBits(got.X, ck.X) || got.Seed != ck.Seed || got.Iteration != 3 || got.Meta["scene"] != ck.Meta["scene"] || got.U != nil {
		t.Errorf("round trip: %+v", got)
	}
	if got.Losses[0] != 0.5 || !math.IsNaN(got.Losses[1]) || !math.IsNaN(got.Losses[2]) {
		t.Errorf("losses %v", got.Losses)
	}
	if !reflect.DeepEqual(got.Optimizer, ck.Optimizer) {
		t.Errorf("optimiser state %+v, want %+v", got.Optimizer, ck.Optimizer)
	}
	// A failed save leaves the previous file.
	bad := *ck
	bad.X = []float64{math.NaN(), 0, 0}
	if err := SaveCheckpoint(path, &bad); err == nil || !strings.Contains(err.Error(), "x[0] is NaN") || !strings.Contains(err.Error(), path) {
		t.Errorf("saving NaN parameters: %v", err)
	}
	if _, err := LoadCheckpoint(path); err != nil {
		t.Errorf("previous checkpoint damaged: %v", err)
	}
}

func TestCheckpointErrors(t *testing.T) {
	dir := t.TempDir()
	opt := mustSGD(t, []Block{{"a", 0, 2, 0.1}}, SGDConfig{Momentum: 0.5})
	opt.Step([]float64{0, 0}, []float64{0.1, 0.1}) // velocity (0.1, 0.1)
	good := &Checkpoint{Iteration: 1, X: []float64{1, 2}, Losses: []float64{3}, Optimizer: opt.State()}
	goodPath := filepath.Join(dir, "good.json")
	if err := SaveCheckpoint(goodPath, good); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(goodPath)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	cases := []struct {
		name, content string
		want          []string
	}{
		{"truncated.json", text[:len(text)/2], []string{"truncated.json", "corrupt JSON", "byte"}},
		{"empty.json", "", []string{"empty.json", "corrupt JSON"}},
		{"other.json", `{"format": "something-else", "version": 1}`, []string{"other.json", "not an optimisation checkpoint"}},
		{"newer.json", strings.Replace(text, `"version":1`, `"version":2`, 1), []string{"newer.json", "version 2 is not supported"}},
		{"type.json", strings.Replace(text, `"iteration":1`, `"iteration":"one"`, 1), []string{"type.json", `field "iteration"`}},
		{"unknown.json", strings.Replace(text, `"iteration":1`, `"iteration":1,"extra":true`, 1), []string{"unknown.json", "extra"}},
		{"short.json", strings.Replace(text, `"x":[1,2]`, `"x":[1]`, 1), []string{"short.json", "exceeds the 1 parameters"}},
		{"moments.json", strings.Replace(text, `"m":[0.1,0.1]`, `"m":[0.1]`, 1), []string{"moments.json", "1 first moments, want 2"}},
		{"kind.json", strings.Replace(text, `"kind":"sgd"`, `"kind":"lbfgs"`, 1), []string{"kind.json", `kind "lbfgs"`}},
	}
	for _, c := range cases {
		p := filepath.Join(dir, c.name)
		if err := os.WriteFile(p, []byte(c.content), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadCheckpoint(p)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", c.name, err, w)
			}
		}
	}
	if _, err := LoadCheckpoint(filepath.Join(dir, "missing.json")); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("missing file: %v", err)
	}

	// Resuming with a different layout or optimiser names the mismatch.
	ck, err := LoadCheckpoint(goodPath)
	if err != nil {
		t.Fatal(err)
	}
	quad, _ := quadratic(2)
	for _, o := range []Optimizer{
		mustSGD(t, []Block{{"b", 0, 2, 0.1}}, SGDConfig{}),
		mustAdam(t, []Block{{"a", 0, 2, 0.1}}, nil),
	} {
		if _, err := Minimize(quad, nil, Options{Optimizer: o, MaxIterations: 5, Resume: ck}); err == nil || !strings.Contains(err.Error(), "resuming") {
			t.Errorf("mismatched resume: %v", err)
		}
	}
}
