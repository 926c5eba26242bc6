package optimize

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/invrender/invrender/adjoint"
	"github.com/invrender/invrender/render"
)

// KeyRate names a parameter of the registry to optimise and its base
// learning rate, in the parameter's units per step (0: DefaultLearningRate).
type KeyRate struct {
	Key string
	LR  float64
}

// Config describes a render-in-the-loop optimisation for Run.
type Config struct {
	// Params is the scene's parameter registry. Run writes the optimised
	// values into it and into the scene (Params.Update).
	Params *adjoint.Params
	// Keys are the parameters to optimise, with their learning rates.
	Keys []KeyRate
	// Targets are the views to match, at least one.
	Targets []Target
	// Loss compares a render with its target (nil: L2).
	Loss Loss
	// SPP is the sample count of the forward renders (0: the sensors'),
	// BackwardSPP that of the backward passes (0: SPP).
	SPP, BackwardSPP int
	// Iterations is the total number of steps, resumed ones included.
	Iterations int
	// Optimizer is "adam" (the default when empty) or "sgd"; Momentum is
	// SGD's heavy-ball momentum in [0, 1).
	Optimizer string
	Momentum  float64
	// Schedule scales the learning rates over the iterations.
	Schedule Schedule
	// Seed drives every random choice of the run: the views of each
	// iteration (ChooseViews) and the samples of each render (ViewSeed).
	Seed uint64
	// ViewsPerIteration is the number of targets rendered per iteration,
	// a minibatch chosen by ChooseViews (0: all).
	ViewsPerIteration int
	// Smoothness, when positive, adds Smoothness/2 sum_c x_c^T L x_c (L the
	// uniform Laplacian of the mesh, see Smoothness) to the loss of every
	// optimised SHAPE.vertex_positions key.
	Smoothness float64
	// LargeSteps, when positive, is the lambda of the large-steps
	// reparameterisation (see LargeSteps) of every optimised
	// SHAPE.vertex_positions key; Adam then uses its uniform variant
	// (AdamConfig.Uniform) for all blocks, as Nicolet et al. do.
	LargeSteps float64
	// CheckpointPath, when set, receives a checkpoint every
	// CheckpointEvery iterations (0: only at the end), at the end, and
	// when the context is cancelled.
	CheckpointPath  string
	CheckpointEvery int
	// Resume continues the run a checkpoint of the same configuration
	// recorded (LoadCheckpoint); the starting values come from it.
	Resume *Checkpoint
	// Threads is the number of goroutines of each render and backward
	// pass (0: GOMAXPROCS). Results do not depend on it.
	Threads int
	// Boundary selects the edge-sampling term of the backward passes.
	Boundary adjoint.Boundary
	// Callback, when set, sees every iteration before its step. Returning
	// ErrStop ends the run cleanly (with a checkpoint when
	// CheckpointPath is set); another error aborts it.
	Callback func(it *Iteration) error
	// Truth optionally gives the true values of some optimised keys, for
	// the parameter error reported per iteration.
	Truth map[string][]float64
	// Meta is stored in checkpoints (with the run's own entries, prefixed
	// "run."): the scene's path, the command line, ...
	Meta map[string]string
}

// ViewRender is one view rendered in an iteration.
type ViewRender struct {
	Target int           // index into Config.Targets
	Sensor int           // the sensor it was rendered from
	Loss   float64       // the view's loss
	Image  *render.Image // the forward render (the callback may keep it)
}

// Iteration describes one iteration to the callback: the loss at the
// current values, before the optimiser's step. Everything in it is a copy
// that the callback may keep.
type Iteration struct {
	Iteration int     // from 0, counting resumed iterations
	Loss      float64 // sum of the views' losses plus the regularisers
	// Regularizer is the part of Loss that the smoothness term makes.
	Regularizer float64
	// Seconds is the wall time of the iteration's renders and backward
	// passes.
	Seconds float64
	// Values and Grad map each optimised key to its current values and
	// the gradient of Loss with respect to them.
	Values, Grad map[string][]float64
	// GradNorm is the Euclidean norm of the whole gradient.
	GradNorm float64
	// ParamError maps each key of Config.Truth to the relative error
	// |x - truth| / |truth| (Euclidean norms; the absolute error where
	// the truth is zero).
	ParamError map[string]float64
	// Views are the renders of the views used, in target order.
	Views []ViewRender
	// LearningRates are the blocks' rates for the coming step.
	LearningRates map[string]float64
}

// RunResult is the outcome of Run.
type RunResult struct {
	// Keys are the optimised keys in block order; Blocks their layout in X.
	Keys   []string
	Blocks []Block
	// X holds the final values, Values the same per key.
	X      []float64
	Values map[string][]float64
	// Iterations is the number of steps taken, resumed ones included.
	Iterations int
	Status     Status
	// Losses are the losses of every iteration, resumed ones included.
	Losses []float64
	// ParamError is the error of the final values against Config.Truth.
	ParamError map[string]float64
	// Skipped counts non-finite gradient components dropped (this call).
	Skipped int
	// Interrupted reports that the context ended the run (Run then also
	// returns an error wrapping the context's).
	Interrupted bool
	// Resized lists the targets that were resampled to their film.
	Resized []int
}

// DefaultLearningRate returns a learning rate for key that suits Adam over
// a few dozen to a few hundred iterations, chosen from the parameter's kind
// and magnitude: lengths (vertex positions, translations, camera and light
// positions) 0.5 % of the scene's bounding-box diagonal per step,
// rotations 0.01 rad, the field of view 0.25 degrees, directions and
// normals 0.01, UVs 0.005, and values (colours, radiance, roughness,
// texels, environment scale) 5 % of the parameter's largest magnitude
// (0.01 where it is zero).
func DefaultLearningRate(ps *adjoint.Params, key string) (float64, error) {
	p, err := ps.Lookup(key)
	if err != nil {
		return 0, err
	}
	has := func(suffixes ...string) bool {
		for _, s := range suffixes {
			if strings.HasSuffix(key, s) {
				return true
			}
		}
		return false
	}
	switch {
	case has(".vertex_positions", ".translation", ".origin", ".target", ".position"):
		s := ps.Scene
		if !s.Built() {
			if err := s.Build(); err != nil {
				return 0, err
			}
		}
		d := s.Bounds().Diagonal().Len()
		if !(d > 0) || math.IsInf(d, 0) {
			d = 1
		}
		return 0.005 * d, nil
	case has(".rotation", ".up", ".direction", ".vertex_normals"):
		return 0.01, nil
	case has(".fov"):
		return 0.25, nil
	case has(".uvs"):
		return 0.005, nil
	}
	m := 0.0
	for _, v := range p.Value {
		m = math.Max(m, math.Abs(v))
	}
	if m == 0 {
		return 0.01, nil
	}
	return 0.05 * m, nil
}

// loopState is what the objective shares with the callback.
type loopState struct {
	cfg    *Config
	ps     *adjoint.Params
	params []*adjoint.Param
	blocks []Block
	keys   []string
	views  []view
	smooth map[string]*Smoothness
	ctx    context.Context

	// Per iteration, set by the objective.
	renders     []ViewRender
	seconds     float64
	regularizer float64
	interrupted error
}

// setValues writes x into the registry and the scene.
func (st *loopState) setValues(x []float64) error {
	for i, b := range st.blocks {
		copy(st.params[i].Value, x[b.Offset:b.Offset+b.Len])
	}
	if err := st.ps.Update(); err != nil {
		return err
	}
	return nil
}

// objective renders the views of iteration it at x and returns the loss
// and its gradient. A cancelled context is not an error here: it is
// recorded and the callback stops the run, so that Minimize writes the
// checkpoint of the iteration.
func (st *loopState) objective(it int, grad, x []float64) (float64, error) {
	start := time.Now()
	for i := range grad {
		grad[i] = 0
	}
	st.renders = st.renders[:0]
	st.regularizer = 0
	if err := st.ctx.Err(); err != nil {
		st.interrupted = err
		return math.NaN(), nil
	}
	if err := st.setValues(x); err != nil {
		return 0, err
	}
	cfg := st.cfg
	total := 0.0
	for _, v := range ChooseViews(cfg.Seed, it, len(st.views), cfg.ViewsPerIteration) {
		vw := &st.views[v]
		seed := ViewSeed(cfg.Seed, it, v)
		res, err := render.Render(st.ctx, st.ps.Scene, render.Options{Sensor: vw.sensor, SPP: cfg.SPP, Seed: seed, SeedSet: true, Threads: cfg.Threads})
		if err != nil {
			if st.ctx.Err() != nil {
				st.interrupted = st.ctx.Err()
				return math.NaN(), nil
			}
			return 0, fmt.Errorf("%s: %w", vw.label, err)
		}
		val, dLdI, err := vw.loss.Eval(res.Image, vw.target)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", vw.label, err)
		}
		bspp := cfg.BackwardSPP
		if bspp <= 0 {
			bspp = cfg.SPP
		}
		_, err = adjoint.Backward(st.ctx, st.ps, st.keys, dLdI, adjoint.Options{
			Sensor: vw.sensor, SPP: bspp, Seed: adjoint.BackwardSeed(seed), SeedSet: true,
			Threads: cfg.Threads, Boundary: cfg.Boundary,
		})
		if err != nil {
			if st.ctx.Err() != nil {
				st.interrupted = st.ctx.Err()
				return math.NaN(), nil
			}
			return 0, fmt.Errorf("%s: %w", vw.label, err)
		}
		for i, b := range st.blocks {
			g := grad[b.Offset : b.Offset+b.Len]
			for j, d := range st.params[i].Grad {
				g[j] += d
			}
		}
		total += val
		st.renders = append(st.renders, ViewRender{Target: v, Sensor: vw.sensor, Loss: val, Image: res.Image})
	}
	for _, b := range st.blocks {
		if sm := st.smooth[b.Key]; sm != nil {
			e := sm.Energy(x[b.Offset:b.Offset+b.Len], grad[b.Offset:b.Offset+b.Len])
			st.regularizer += e
			total += e
		}
	}
	st.seconds = time.Since(start).Seconds()
	return total, nil
}

// paramErrors returns the relative error of x against the truth.
func paramErrors(truth map[string][]float64, blocks []Block, x []float64) map[string]float64 {
	if len(truth) == 0 {
		return nil
	}
	out := map[string]float64{}
	for _, b := range blocks {
		t, ok := truth[b.Key]
		if !ok {
			continue
		}
		var d2, t2 float64
		for i, v := range x[b.Offset : b.Offset+b.Len] {
			d2 += (v - t[i]) * (v - t[i])
			t2 += t[i] * t[i]
		}
		e := math.Sqrt(d2)
		if t2 > 0 {
			e /= math.Sqrt(t2)
		}
		out[b.Key] = e
	}
	return out
}

// blockValues copies x's blocks into a map.
func blockValues(blocks []Block, x []float64) map[string][]float64 {
	m := make(map[string][]float64, len(blocks))
	for _, b := range blocks {
		m[b.Key] = append([]float64(nil), x[b.Offset:b.Offset+b.Len]...)
	}
	return m
}

// Run optimises the parameters cfg.Keys of cfg.Params so that renders of
// the scene match cfg.Targets: Minimize with an objective that, at each
// iteration, writes the values into the scene (Params.Update, which
// refits or rebuilds the BVH), renders each view chosen for the iteration
// (ChooseViews) with the seed ViewSeed(seed, iteration, view), evaluates
// the loss and its image gradient, runs adjoint.Backward with the
// decorrelated seed adjoint.BackwardSeed (so that the gradient of a
// nonlinear loss is unbiased), and sums the gradients over the views (the
// loss too), adding the smoothness regulariser of vertex positions. The
// optimiser then steps, constraints (DefaultConstraints) are projected and
// vertex positions pass through the large-steps reparameterisation when
// cfg.LargeSteps is set.
//
// Runs are deterministic: the same configuration gives the same values bit
// for bit with any number of threads, and a run resumed from a checkpoint
// continues exactly as the uninterrupted run. When ctx is cancelled, the
// iteration in progress is abandoned, a checkpoint of the completed ones
// is written (when CheckpointPath is set) and Run returns the result so
// far with an error wrapping ctx.Err(). On return the registry and the
// scene hold the final values.
func Run(ctx context.Context, cfg Config) (*RunResult, error) {
	ps := cfg.Params
	if ps == nil || ps.Scene == nil {
		return nil, fmt.Errorf("optimize: no parameter registry")
	}
	if len(cfg.Keys) == 0 {
		return nil, fmt.Errorf("optimize: no parameters to optimise")
	}
	if cfg.Iterations < 0 {
		return nil, fmt.Errorf("optimize: %d iterations", cfg.Iterations)
	}
	if cfg.SPP < 0 || cfg.BackwardSPP < 0 || cfg.ViewsPerIteration < 0 || cfg.Threads < 0 {
		return nil, fmt.Errorf("optimize: negative sample count, views per iteration or thread count")
	}
	for _, v := range []struct {
		name string
		v    float64
	}{{"smoothness weight", cfg.Smoothness}, {"large-steps lambda", cfg.LargeSteps}} {
		if !(v.v >= 0) || math.IsInf(v.v, 0) {
			return nil, fmt.Errorf("optimize: %s %g is not finite and non-negative", v.name, v.v)
		}
	}
	st := &loopState{cfg: &cfg, ps: ps, ctx: ctx, smooth: map[string]*Smoothness{}}
	if st.ctx == nil {
		st.ctx = context.Background()
	}
	s := ps.Scene
	if !s.Built() {
		if err := s.Build(); err != nil {
			return nil, err
		}
	}

	// Blocks, in the order given.
	var x0 []float64
	reparams := map[string]Reparam{}
	vertexKeys := 0
	for _, kr := range cfg.Keys {
		p, err := ps.Lookup(kr.Key)
		if err != nil {
			return nil, fmt.Errorf("optimize: %w", err)
		}
		for _, b := range st.blocks {
			if b.Key == p.Key {
				return nil, fmt.Errorf("optimize: parameter %q is listed twice", p.Key)
			}
		}
		if p.Flags&adjoint.Differentiable == 0 {
			return nil, fmt.Errorf("optimize: parameter %q is not differentiable", p.Key)
		}
		lr := kr.LR
		if lr == 0 {
			if lr, err = DefaultLearningRate(ps, p.Key); err != nil {
				return nil, err
			}
		}
		if !(lr > 0) || math.IsInf(lr, 0) {
			return nil, fmt.Errorf("optimize: learning rate %g of %q is not positive and finite", kr.LR, p.Key)
		}
		b := Block{Key: p.Key, Offset: len(x0), Len: p.Size(), LR: lr}
		if b.Len == 0 {
			return nil, fmt.Errorf("optimize: parameter %q has no values", p.Key)
		}
		st.blocks = append(st.blocks, b)
		st.params = append(st.params, p)
		st.keys = append(st.keys, p.Key)
		x0 = append(x0, p.Value...)
		if name, ok := strings.CutSuffix(p.Key, ".vertex_positions"); ok && (cfg.LargeSteps > 0 || cfg.Smoothness > 0) {
			si := shapeIndex(ps, name)
			if si < 0 {
				return nil, fmt.Errorf("optimize: no shape for %q", p.Key)
			}
			sh := s.Shapes[si]
			vertexKeys++
			if cfg.LargeSteps > 0 {
				ls, err := NewLargeSteps(sh.Indices, len(sh.Positions), cfg.LargeSteps)
				if err != nil {
					return nil, fmt.Errorf("optimize: %s: %w", p.Key, err)
				}
				reparams[p.Key] = ls
			}
			if cfg.Smoothness > 0 {
				sm, err := NewSmoothness(sh.Indices, len(sh.Positions), cfg.Smoothness)
				if err != nil {
					return nil, fmt.Errorf("optimize: %s: %w", p.Key, err)
				}
				st.smooth[p.Key] = sm
			}
		}
	}
	if (cfg.LargeSteps > 0 || cfg.Smoothness > 0) && vertexKeys == 0 {
		return nil, fmt.Errorf("optimize: large steps and smoothness act on SHAPE.vertex_positions keys, and none is optimised")
	}
	for k, t := range cfg.Truth {
		found := false
		for _, b := range st.blocks {
			if b.Key == k {
				found = true
				if len(t) != b.Len {
					return nil, fmt.Errorf("optimize: the true value of %q has %d components, the parameter %d", k, len(t), b.Len)
				}
			}
		}
		if !found {
			return nil, fmt.Errorf("optimize: a true value is given for %q, which is not optimised", k)
		}
	}

	loss := cfg.Loss
	if loss == nil {
		loss = L2()
	}
	views, resized, err := prepareViews(s, cfg.Targets, loss)
	if err != nil {
		return nil, err
	}
	st.views = views

	var opt Optimizer
	switch strings.ToLower(cfg.Optimizer) {
	case "", "adam":
		ac := DefaultAdamConfig()
		ac.Schedule = cfg.Schedule
		ac.Uniform = len(reparams) > 0
		opt, err = NewAdam(st.blocks, ac)
	case "sgd":
		opt, err = NewSGD(st.blocks, SGDConfig{Momentum: cfg.Momentum, Schedule: cfg.Schedule})
	default:
		return nil, fmt.Errorf("optimize: unknown optimiser %q (adam or sgd)", cfg.Optimizer)
	}
	if err != nil {
		return nil, err
	}

	meta := map[string]string{}
	for k, v := range cfg.Meta {
		meta[k] = v
	}
	meta["run.keys"] = strings.Join(st.keys, ",")
	meta["run.loss"] = loss.Name()
	if ck := cfg.Resume; ck != nil && ck.Seed != cfg.Seed {
		return nil, fmt.Errorf("optimize: the checkpoint was made with seed %d, the run has seed %d", ck.Seed, cfg.Seed)
	}
	if ck := cfg.Resume; ck != nil && ck.Meta != nil {
		if k, ok := ck.Meta["run.keys"]; ok && k != meta["run.keys"] {
			return nil, fmt.Errorf("optimize: the checkpoint optimised %s, the run optimises %s", k, meta["run.keys"])
		}
	}

	res, err := Minimize(Problem{FuncGradAt: st.objective}, x0, Options{
		Optimizer:       opt,
		MaxIterations:   cfg.Iterations,
		Constraints:     DefaultConstraints(st.blocks),
		Reparams:        reparams,
		CheckpointPath:  cfg.CheckpointPath,
		CheckpointEvery: cfg.CheckpointEvery,
		Seed:            cfg.Seed,
		Meta:            meta,
		Resume:          cfg.Resume,
		Callback: func(info *IterationInfo) error {
			if st.interrupted != nil {
				return ErrStop
			}
			if cfg.Callback == nil {
				return nil
			}
			itn := &Iteration{
				Iteration:     info.Iteration,
				Loss:          info.F,
				Regularizer:   st.regularizer,
				Seconds:       st.seconds,
				Values:        blockValues(st.blocks, info.X),
				Grad:          blockValues(st.blocks, info.Grad),
				GradNorm:      info.GradNorm,
				ParamError:    paramErrors(cfg.Truth, st.blocks, info.X),
				Views:         append([]ViewRender(nil), st.renders...),
				LearningRates: map[string]float64{},
			}
			for i, b := range st.blocks {
				itn.LearningRates[b.Key] = info.Optimizer.LearningRate(i)
			}
			return cfg.Callback(itn)
		},
	})
	out := &RunResult{
		Keys: st.keys, Blocks: st.blocks, Iterations: res.Iterations, Status: res.Status,
		Losses: res.Losses, Skipped: res.Skipped, Resized: resized,
	}
	if res.X != nil {
		out.X = append([]float64(nil), res.X...)
		out.Values = blockValues(st.blocks, out.X)
		out.ParamError = paramErrors(cfg.Truth, st.blocks, out.X)
		if uerr := st.setValues(out.X); uerr != nil && err == nil {
			err = uerr
		}
	}
	if err != nil {
		return out, err
	}
	if st.interrupted != nil {
		out.Interrupted = true
		out.Losses = out.Losses[:len(out.Losses)-1] // the abandoned iteration
		where := ""
		if cfg.CheckpointPath != "" {
			where = fmt.Sprintf(" (checkpoint written to %s)", cfg.CheckpointPath)
		}
		return out, fmt.Errorf("optimize: interrupted after %d iterations%s: %w", out.Iterations, where, st.interrupted)
	}
	return out, nil
}
