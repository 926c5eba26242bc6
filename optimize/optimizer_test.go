package optimize

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestScheduleFactors(t *testing.T) {
	cases := []struct {
		s    Schedule
		t    int
		want float64
	}{
		{Constant(), 0, 1},
		{Constant(), 1000, 1},
		{Exponential(0.5), 0, 1},
		{Exponential(0.5), 3, 0.125},
		{Exponential(0.99), 100, math.Pow(0.99, 100)},
		{Cosine(100, 0.1), 0, 1},
		{Cosine(100, 0.1), 50, 0.55},
		{Cosine(100, 0.1), 25, 0.1 + 0.9*0.5*(1+math.Sqrt(0.5))},
		{Cosine(100, 0.1), 100, 0.1},
		{Cosine(100, 0.1), 500, 0.1},
		{Cosine(10, 0), 10, 0},
		{Constant().WithWarmup(4), 0, 0.25},
		{Constant().WithWarmup(4), 3, 1},
		{Constant().WithWarmup(4), 9, 1},
		{Exponential(0.5).WithWarmup(4), 1, 0.5},
		{Exponential(0.5).WithWarmup(4), 4, 1},
		{Exponential(0.5).WithWarmup(4), 6, 0.25},
		{Cosine(10, 0.2).WithWarmup(5), 4, 1},
		{Cosine(10, 0.2).WithWarmup(5), 10, 0.6},
		{Cosine(10, 0.2).WithWarmup(5), 15, 0.2},
	}
	for _, c := range cases {
		if err := c.s.Validate(); err != nil {
			t.Fatalf("%v: %v", c.s, err)
		}
		if got := c.s.Factor(c.t); math.Abs(got-c.want) > 1e-15 {
			t.Errorf("%v: Factor(%d) = %.17g, want %.17g", c.s, c.t, got, c.want)
		}
	}
	for _, s := range []Schedule{Exponential(0), Exponential(1.5), Cosine(0, 0.1), Cosine(10, -0.1), Cosine(10, 2), Constant().WithWarmup(-1), {Kind: 7}} {
		if err := s.Validate(); err == nil {
			t.Errorf("%v: no validation error", s)
		}
	}
}

func TestValidateBlocks(t *testing.T) {
	ok := []Block{{"a", 0, 3, 0.1}, {"b", 5, 2, 0}}
	if err := ValidateBlocks(ok, 7); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		blocks []Block
		n      int
		want   string
	}{
		{nil, -1, "no parameter blocks"},
		{[]Block{{"", 0, 1, 1}}, -1, "no key"},
		{[]Block{{"a", 0, 1, 1}, {"a", 1, 1, 1}}, -1, "twice"},
		{[]Block{{"a", 0, 0, 1}}, -1, "length 0"},
		{[]Block{{"a", -1, 2, 1}}, -1, "offset -1"},
		{[]Block{{"a", 0, 1, math.NaN()}}, -1, "learning rate NaN"},
		{[]Block{{"a", 0, 1, -1}}, -1, "learning rate -1"},
		{[]Block{{"a", 0, 4, 1}}, 3, "exceeds the 3"},
		{[]Block{{"b", 3, 2, 1}, {"a", 0, 4, 1}}, -1, `"a" [0, 4) and "b" [3, 5) overlap`},
	}
	for _, c := range cases {
		err := ValidateBlocks(c.blocks, c.n)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ValidateBlocks(%v): error %v, want %q", c.blocks, err, c.want)
		}
	}
}

// refAdam is a scalar transcription of Kingma and Ba's Algorithm 1.
type refAdam struct {
	m, v float64
	t    int
}

func (r *refAdam) step(x, g, lr float64) float64 {
	r.t++
	r.m = 0.9*r.m + 0.1*g
	r.v = 0.999*r.v + 0.001*g*g
	mh := r.m / (1 - math.Pow(0.9, float64(r.t)))
	vh := r.v / (1 - math.Pow(0.999, float64(r.t)))
	return x - lr*mh/(math.Sqrt(vh)+1e-8)
}

func TestAdamMatchesReference(t *testing.T) {
	blocks := []Block{{"a", 0, 2, 0.1}, {"b", 3, 3, 0.01}} // x[2] belongs to no block
	cfg := DefaultAdamConfig()
	cfg.Schedule = Exponential(0.9)
	opt, err := NewAdam(blocks, cfg)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	x := []float64{1, -2, 5, 0.5, 0, 3}
	ref := make([]refAdam, len(x))
	want := append([]float64(nil), x...)
	for it := range 20 {
		g := make([]float64, len(x))
		for i := range g {
			g[i] = rng.NormFloat64() * math.Pow(10, float64(i-3))
		}
		if lr0, lr1 := opt.LearningRate(0), opt.LearningRate(1); lr0 != 0.1*math.Pow(0.9, float64(it)) || lr1 != 0.01*math.Pow(0.9, float64(it)) {
			t.Fatalf("step %d: learning rates %g, %g", it, lr0, lr1)
		}
		for i := range x {
			lr := 0.1
			if i >= 3 {
				lr = 0.01
			}
			if i != 2 {
				want[i] = ref[i].step(want[i], g[i], lr*math.Pow(0.9, float64(it)))
			}
		}
		if n := opt.Step(x, g); n != 0 {
			t.Fatalf("skipped %d", n)
		}
		for i := range x {
			if math.Abs(x[i]-want[i]) > 1e-14*math.Max(1, math.Abs(want[i])) {
				t.Fatalf("step %d: x[%d] = %.17g, want %.17g", it, i, x[i], want[i])
			}
		}
	}
	if x[2] != 5 {
		t.Errorf("value outside every block changed to %g", x[2])
	}
	if opt.Steps() != 20 {
		t.Errorf("Steps() = %d", opt.Steps())
	}
}

// TestAdamFirstStep: Adam's first step moves every component by its block's
// learning rate (m/sqrt(v) = sign g after bias correction); the uniform
// variant moves them by lr g_i / max |g| over the block.
func TestAdamFirstStep(t *testing.T) {
	blocks := []Block{{"a", 0, 3, 0.5}, {"b", 3, 2, 0.02}}
	g := []float64{2, -1, 0.5, 1e-3, -4}
	for _, uniform := range []bool{false, true} {
		cfg := DefaultAdamConfig()
		cfg.Uniform = uniform
		opt, err := NewAdam(blocks, cfg)
		if err != nil {
			t.Fatal(err)
		}
		x := make([]float64, 5)
		opt.Step(x, g)
		for i := range x {
			b := blocks[0]
			gmax := 2.0
			if i >= 3 {
				b = blocks[1]
				gmax = 4
			}
			want := -b.LR * g[i] / (math.Abs(g[i]) + 1e-8)
			if uniform {
				want = -b.LR * g[i] / (gmax + 1e-8)
			}
			if math.Abs(x[i]-want) > 1e-15 {
				t.Errorf("uniform=%v: x[%d] = %g, want %g", uniform, i, x[i], want)
			}
		}
	}
}

func TestOptimizersSkipNonFinite(t *testing.T) {
	blocks := []Block{{"a", 0, 4, 0.1}}
	bad := []float64{math.NaN(), math.Inf(1), math.Inf(-1), 1e200}
	for _, mk := range []func() Optimizer{
		func() Optimizer { o, _ := NewAdam(blocks, DefaultAdamConfig()); return o },
		func() Optimizer { c := DefaultAdamConfig(); c.Uniform = true; o, _ := NewAdam(blocks, c); return o },
		func() Optimizer { o, _ := NewSGD(blocks, SGDConfig{Momentum: 0.9, Nesterov: true}); return o },
	} {
		opt := mk()
		x := []float64{1, 2, 3, 4}
		opt.Step(x, []float64{1, 1, 1, 1})
		before := opt.State()
		x0 := append([]float64(nil), x...)
		for j, b := range bad {
			g := []float64{1, 1, 1, 1}
			g[j] = b
			if n := opt.Step(x, g); n != 1 {
				t.Errorf("%s: skipped %d components of %v, want 1", before.Kind, n, g)
			}
			if x[j] != x0[j] {
				t.Errorf("%s: x[%d] moved to %g on gradient %g", before.Kind, j, x[j], b)
			}
			st := opt.State()
			if st.Blocks[0].M[j] != before.Blocks[0].M[j] || (st.Blocks[0].V != nil && st.Blocks[0].V[j] != before.Blocks[0].V[j]) {
				t.Errorf("%s: state of component %d changed on gradient %g", st.Kind, j, b)
			}
			x0 = append(x0[:0], x...)
			before = st
		}
		for i, v := range x {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("%s: x[%d] = %g", before.Kind, i, v)
			}
		}
		if st := opt.State(); st.Skipped != 4 || st.Steps != 5 {
			t.Errorf("%s: state counts %d skipped in %d steps, want 4 in 5", st.Kind, st.Skipped, st.Steps)
		}
	}
}

func TestSGDMomentum(t *testing.T) {
	blocks := []Block{{"a", 0, 1, 0.1}}
	gs := []float64{1, 2, -1, 0.5}
	for _, nesterov := range []bool{false, true} {
		opt, err := NewSGD(blocks, SGDConfig{Momentum: 0.5, Nesterov: nesterov})
		if err != nil {
			t.Fatal(err)
		}
		x := []float64{0}
		want, u := 0.0, 0.0
		for _, g := range gs {
			u = 0.5*u + g
			d := u
			if nesterov {
				d = g + 0.5*u
			}
			want -= 0.1 * d
			opt.Step(x, []float64{g})
			if math.Abs(x[0]-want) > 1e-15 {
				t.Fatalf("nesterov=%v: x = %.17g, want %.17g", nesterov, x[0], want)
			}
		}
	}
	// Plain SGD with a schedule.
	opt, _ := NewSGD(blocks, SGDConfig{Schedule: Exponential(0.5)})
	x := []float64{0}
	for range 3 {
		opt.Step(x, []float64{1})
	}
	if math.Abs(x[0]+0.1*1.75) > 1e-15 {
		t.Errorf("scheduled SGD x = %g, want -0.175", x[0])
	}
}

func TestOptimizerConfigErrors(t *testing.T) {
	blocks := []Block{{"a", 0, 1, 0.1}}
	bad := []AdamConfig{{}, {Beta1: 1, Beta2: 0.9, Eps: 1e-8}, {Beta1: 0.9, Beta2: -0.1, Eps: 1e-8}, {Beta1: 0.9, Beta2: 0.99, Eps: 1e-8, Schedule: Cosine(0, 0)}}
	for _, c := range bad {
		if _, err := NewAdam(blocks, c); err == nil {
			t.Errorf("NewAdam(%+v): no error", c)
		}
	}
	for _, c := range []SGDConfig{{Momentum: 1}, {Momentum: -0.5}, {Nesterov: true}} {
		if _, err := NewSGD(blocks, c); err == nil {
			t.Errorf("NewSGD(%+v): no error", c)
		}
	}
	if _, err := NewAdam(nil, DefaultAdamConfig()); err == nil {
		t.Error("NewAdam without blocks: no error")
	}
}

func TestSetState(t *testing.T) {
	blocks := []Block{{"a", 0, 2, 0.1}, {"b", 2, 1, 0.1}}
	a, _ := NewAdam(blocks, DefaultAdamConfig())
	a.Step([]float64{1, 2, 3}, []float64{1, -1, 0.5})
	st := a.State()
	b, _ := NewAdam(blocks, DefaultAdamConfig())
	if err := b.SetState(st); err != nil {
		t.Fatal(err)
	}
	st.Blocks[0].M[0] = 99 // State returns a copy; SetState copied too
	x1, x2 := []float64{1, 2, 3}, []float64{1, 2, 3}
	a.Step(x1, []float64{0.3, 0.2, 0.1})
	b.Step(x2, []float64{0.3, 0.2, 0.1})
	for i := range x1 {
		if x1[i] != x2[i] {
			t.Fatalf("restored optimiser differs at %d: %g vs %g", i, x1[i], x2[i])
		}
	}
	u := DefaultAdamConfig()
	u.Uniform = true
	au, _ := NewAdam(blocks, u)
	s, _ := NewSGD(blocks, SGDConfig{})
	other, _ := NewAdam([]Block{{"a", 0, 2, 0.1}, {"c", 2, 1, 0.1}}, DefaultAdamConfig())
	short := a.State()
	short.Blocks[1].V = nil
	nan := a.State()
	nan.Blocks[0].M[1] = math.NaN()
	cases := []struct {
		opt  Optimizer
		st   *State
		want string
	}{
		{au, a.State(), `"adam" optimiser given to a "adam-uniform"`},
		{s, a.State(), `"adam" optimiser given to a "sgd"`},
		{a, s.State(), `"sgd" optimiser given to a "adam"`},
		{other, a.State(), `state block 1 is "b" [2, 3), optimiser block is "c" [2, 3)`},
		{b, short, `"b" has 0 second moments, want 1`},
		{b, nan, `"a" moment 1 is NaN`},
		{b, nil, "no optimiser state"},
	}
	for _, c := range cases {
		err := c.opt.SetState(c.st)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("SetState: error %v, want %q", err, c.want)
		}
	}
}

func TestStepPanicsOnMisuse(t *testing.T) {
	opt, _ := NewAdam([]Block{{"a", 0, 3, 0.1}}, DefaultAdamConfig())
	for _, args := range [][2][]float64{{make([]float64, 3), make([]float64, 2)}, {make([]float64, 2), make([]float64, 2)}} {
		func() {
			defer func() {
				if r := recover(); r == nil {
					t.Errorf("Step(%d, %d values) did not panic", len(args[0]), len(args[1]))
				}
			}()
			opt.Step(args[0], args[1])
		}()
	}
}

func TestConstraints(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	cases := []struct {
		c       Constraint
		in, out []float64
	}{
		{Clamp(0, 1), []float64{-0.5, 0, 0.3, 1, 1.2, nan, inf, -inf}, []float64{0, 0, 0.3, 1, 1, 0, 1, 0}},
		{Min(1e-3), []float64{-1, 0, 1e-4, 0.5, nan, inf}, []float64{1e-3, 1e-3, 1e-3, 0.5, 1e-3, inf}},
		{NonNegative(), []float64{-1, 0, 2, nan}, []float64{0, 0, 2, 0}},
		{Range(0, 180), []float64{-5, 0, 45, 180, 200, nan}, []float64{1.8e-4, 1.8e-4, 45, 180 - 1.8e-4, 180 - 1.8e-4, 1.8e-4}},
	}
	for _, c := range cases {
		x := append([]float64(nil), c.in...)
		c.c.Project(x)
		for i := range x {
			if math.Abs(x[i]-c.out[i]) > 1e-12 && x[i] != c.out[i] {
				t.Errorf("%s: %g -> %g, want %g", c.c, c.in[i], x[i], c.out[i])
			}
		}
	}
	for _, f := range []func(){func() { Clamp(1, 0) }, func() { Clamp(nan, 1) }, func() { Min(inf) }, func() { Range(1, 1) }, func() { Range(0, inf) }} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("invalid bounds did not panic")
				}
			}()
			f()
		}()
	}
}

// rotate applies the axis-angle rotation r to v (Rodrigues' formula).
func rotate(r, v [3]float64) [3]float64 {
	th := math.Sqrt(r[0]*r[0] + r[1]*r[1] + r[2]*r[2])
	if th == 0 {
		return v
	}
	k := [3]float64{r[0] / th, r[1] / th, r[2] / th}
	c, s := math.Cos(th), math.Sin(th)
	kv := k[0]*v[0] + k[1]*v[1] + k[2]*v[2]
	kxv := [3]float64{k[1]*v[2] - k[2]*v[1], k[2]*v[0] - k[0]*v[2], k[0]*v[1] - k[1]*v[0]}
	var out [3]float64
	for i := range 3 {
		out[i] = v[i]*c + kxv[i]*s + k[i]*kv*(1-c)
	}
	return out
}

func TestAxisAngle(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	c := AxisAngle()
	for range 200 {
		var r [3]float64
		scale := 20 * rng.Float64()
		for i := range r {
			r[i] = scale * rng.NormFloat64()
		}
		x := []float64{r[0], r[1], r[2]}
		c.Project(x)
		th := math.Sqrt(x[0]*x[0] + x[1]*x[1] + x[2]*x[2])
		if th > math.Pi+1e-12 {
			t.Fatalf("%v -> angle %g > pi", r, th)
		}
		orig := math.Sqrt(r[0]*r[0] + r[1]*r[1] + r[2]*r[2])
		if orig <= math.Pi && (x[0] != r[0] || x[1] != r[1] || x[2] != r[2]) {
			t.Fatalf("%v within pi changed to %v", r, x)
		}
		v := [3]float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}
		a, b := rotate(r, v), rotate([3]float64{x[0], x[1], x[2]}, v)
		for i := range 3 {
			if math.Abs(a[i]-b[i]) > 1e-12*(1+orig) {
				t.Fatalf("%v -> %v is a different rotation: %v vs %v", r, x, a, b)
			}
		}
	}
	x := []float64{1, math.NaN(), 2, 4, 0, 0, math.Inf(1), 0, 0, 2 * math.Pi, 0, 0}
	c.Project(x)
	want := []float64{0, 0, 0, 4 - 2*math.Pi, 0, 0, 0, 0, 0, 0, 0, 0}
	for i := range x {
		if math.Abs(x[i]-want[i]) > 1e-15 {
			t.Errorf("x[%d] = %g, want %g", i, x[i], want[i])
		}
	}
	if err := CheckConstraint(c, 4); err == nil {
		t.Error("axis-angle on 4 values: no error")
	}
	if err := CheckConstraint(c, 6); err != nil {
		t.Error(err)
	}
	if err := CheckConstraint(Clamp(0, 1), 4); err != nil {
		t.Error(err)
	}
}

func TestDefaultConstraint(t *testing.T) {
	cases := map[string]string{
		"objmat.reflectance.value":           "clamp [0, 1]",
		"objmat.diffuse_reflectance.value":   "clamp [0, 1]",
		"objmat.specular_reflectance.value":  "clamp [0, 1]",
		"objmat.reflectance.data":            "clamp [0, 1]",
		"plastic.diffuse_reflectance.data":   "clamp [0, 1]",
		"rough.alpha.value":                  "min 0.001",
		"rough.alpha.data":                   "min 0.001",
		"sensor.fov":                         "range (0, 180)",
		"cam2.fov":                           "range (0, 180)",
		"light.emitter.radiance.value":       "nonnegative",
		"envmap.scale":                       "nonnegative",
		"bunny.rotation":                     "axis-angle",
		"bunny.translation":                  "",
		"bunny.vertex_positions":             "",
		"sensor.origin":                      "",
		"objmat.eta":                         "",
		"reflectance.value.extra":            "",
		"objmat.specular_transmittance.data": "",
	}
	for key, want := range cases {
		c := DefaultConstraint(key)
		got := ""
		if c != nil {
			got = c.String()
		}
		if got != want {
			t.Errorf("DefaultConstraint(%q) = %q, want %q", key, got, want)
		}
	}
}
