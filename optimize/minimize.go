package optimize

import (
	"errors"
	"fmt"
	"math"
)

// Problem is an objective with its gradient, in the shape of gonum's
// optimize.Problem but with errors (a render can fail). Set one of
// FuncGradAt, FuncGrad, or both Func and Grad (tried in that order). The
// gradient functions write the gradient into grad (of len(x)), overwriting
// it.
type Problem struct {
	Func     func(x []float64) (float64, error)
	Grad     func(grad, x []float64) error
	FuncGrad func(grad, x []float64) (float64, error)
	// FuncGradAt also receives the iteration number (counted from 0 over
	// resumes), for stochastic objectives: a renderer seeds iteration
	// it's samples with (seed, it), so that a resumed run draws the same
	// numbers as the uninterrupted one.
	FuncGradAt func(it int, grad, x []float64) (float64, error)
}

// Reparam is a change of variables for a block: the optimiser works on
// u = M x and the block's values are x = M^-1 u, with M symmetric, so the
// gradient with respect to u is M^-1 times the gradient with respect to x.
// *LargeSteps implements it.
type Reparam interface {
	ToU(u, x []float64) error
	FromU(x, u []float64) error
	Precondition(dst, g []float64) error
}

// ErrStop, returned by an iteration callback, ends Minimize cleanly.
var ErrStop = errors.New("optimize: stop requested")

// IterationInfo describes one iteration to the callback: the objective and
// gradient at X, before the step. X and Grad belong to Minimize and must not
// be modified or kept.
type IterationInfo struct {
	Iteration int // 0 for the first
	F         float64
	X         []float64
	Grad      []float64
	GradNorm  float64 // Euclidean norm of Grad's finite components
	Skipped   int     // gradient components the previous iteration skipped
	Optimizer Optimizer
}

// Options controls Minimize.
type Options struct {
	// Optimizer updates the parameters; its blocks are the layout.
	Optimizer Optimizer
	// MaxIterations is the total number of steps, counting those taken
	// before a resumed checkpoint.
	MaxIterations int
	// Constraints maps block keys to the constraint projected after
	// each step (nil or absent: none). DefaultConstraints fills it from
	// the keys.
	Constraints map[string]Constraint
	// Reparams maps block keys to a change of variables for the block
	// (large steps for vertex positions). The optimiser then steps on u;
	// a constraint of the same block is applied to x, and u recomputed.
	Reparams map[string]Reparam
	// Callback, when set, sees every iteration before its step. Returning
	// ErrStop ends the run without the step; another error aborts it.
	Callback func(info *IterationInfo) error
	// CheckpointPath, when set, receives a checkpoint every
	// CheckpointEvery completed iterations (0: only at the end) and at the
	// end of the run.
	CheckpointPath  string
	CheckpointEvery int
	// Seed and Meta are stored in checkpoints for the caller (the
	// renderer's seed, the scene path, ...); Minimize does not use them.
	Seed uint64
	Meta map[string]string
	// Resume, when set, continues the run a checkpoint recorded: x0 is
	// ignored, the parameters, the optimiser state and the loss history
	// come from the checkpoint.
	Resume *Checkpoint
}

// Status says why Minimize ended.
type Status int

const (
	// IterationLimit: MaxIterations steps were taken.
	IterationLimit Status = iota
	// CallbackStop: the callback returned ErrStop.
	CallbackStop
)

// String returns the status's description.
func (s Status) String() string {
	switch s {
	case IterationLimit:
		return "iteration limit"
	case CallbackStop:
		return "stopped by callback"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// Result is the outcome of Minimize.
type Result struct {
	X          []float64 // parameters after the last step
	F          float64   // objective at the last evaluated point (NaN if none)
	Iterations int       // steps taken in all, resumed ones included
	Status     Status
	Skipped    int       // gradient components skipped by this call (those of reparameterised blocks zeroed before their solve included)
	Losses     []float64 // objective of every evaluated iterate, resumed ones included
}

// DefaultConstraints returns DefaultConstraint of every block's key, for
// Options.Constraints.
func DefaultConstraints(blocks []Block) map[string]Constraint {
	m := map[string]Constraint{}
	for _, b := range blocks {
		if c := DefaultConstraint(b.Key); c != nil {
			m[b.Key] = c
		}
	}
	return m
}

// Minimize runs the optimiser on p from x0 (not modified; its constrained
// blocks are projected onto their constraints first) until MaxIterations
// steps were taken or the callback stops it. Each iteration
// evaluates the objective and gradient at x, calls the callback, maps the
// gradient of reparameterised blocks to their variables u, takes an
// optimiser step, recovers x from u, projects the constraints and writes a
// checkpoint when one is due. An error of the objective aborts the run with
// the iteration number; the result then holds the last parameters.
//
// Runs are deterministic: resuming from the checkpoint of iteration k
// continues bit-identically with the run that did not stop.
func Minimize(p Problem, x0 []float64, opts Options) (Result, error) {
	res := Result{F: math.NaN()}
	if p.FuncGradAt == nil && p.FuncGrad == nil && (p.Func == nil || p.Grad == nil) {
		return res, fmt.Errorf("optimize: the problem needs FuncGradAt, FuncGrad, or Func and Grad")
	}
	opt := opts.Optimizer
	if opt == nil {
		return res, fmt.Errorf("optimize: no optimiser")
	}
	if opts.MaxIterations < 0 || opts.CheckpointEvery < 0 {
		return res, fmt.Errorf("optimize: %d iterations with checkpoints every %d", opts.MaxIterations, opts.CheckpointEvery)
	}
	blocks := opt.Blocks()
	n := len(x0)
	if opts.Resume != nil {
		n = len(opts.Resume.X)
	}
	if err := ValidateBlocks(blocks, n); err != nil {
		return res, err
	}
	byKey := map[string]Block{}
	for _, b := range blocks {
		byKey[b.Key] = b
	}
	for k, c := range opts.Constraints {
		b, ok := byKey[k]
		if !ok {
			return res, fmt.Errorf("optimize: constraint for %q, which is no block", k)
		}
		if c != nil {
			if err := CheckConstraint(c, b.Len); err != nil {
				return res, fmt.Errorf("optimize: block %q: %w", k, err)
			}
		}
	}
	for k, r := range opts.Reparams {
		if _, ok := byKey[k]; !ok || r == nil {
			return res, fmt.Errorf("optimize: reparameterisation for %q, which is no block", k)
		}
	}

	x := make([]float64, n)
	// u is the optimiser's variable vector: x itself without reparams.
	u := x
	if len(opts.Reparams) > 0 {
		u = make([]float64, n)
	}
	start := 0
	if ck := opts.Resume; ck != nil {
		if err := ck.Validate(); err != nil {
			return res, err
		}
		if err := opt.SetState(ck.Optimizer); err != nil {
			return res, fmt.Errorf("optimize: resuming: %w", err)
		}
		copy(x, ck.X)
		if len(opts.Reparams) > 0 {
			if len(ck.U) != n {
				return res, fmt.Errorf("optimize: resuming with reparameterised blocks from a checkpoint with %d variables, want %d", len(ck.U), n)
			}
			copy(u, ck.U)
		} else if ck.U != nil {
			return res, fmt.Errorf("optimize: the checkpoint has reparameterised variables but no block is reparameterised")
		}
		start = ck.Iteration
		res.Losses = append(res.Losses, ck.Losses...)
		if opt.Steps() != start {
			return res, fmt.Errorf("optimize: checkpoint at iteration %d holds an optimiser state of %d steps", start, opt.Steps())
		}
	} else {
		copy(x, x0)
		for _, b := range blocks {
			if c := opts.Constraints[b.Key]; c != nil {
				c.Project(x[b.Offset : b.Offset+b.Len])
			}
		}
		if len(opts.Reparams) > 0 {
			copy(u, x)
			for _, b := range blocks {
				if r := opts.Reparams[b.Key]; r != nil {
					if err := r.ToU(u[b.Offset:b.Offset+b.Len], x[b.Offset:b.Offset+b.Len]); err != nil {
						return res, fmt.Errorf("optimize: block %q: %w", b.Key, err)
					}
				}
			}
		}
	}
	res.X = x
	res.Iterations = start

	grad := make([]float64, n)
	var info IterationInfo
	lastSkipped := 0
	// save writes a checkpoint after it completed iterations with the
	// losses of those iterations (a stopped run has evaluated iteration it
	// without stepping, and a resume evaluates it again).
	save := func(it int, losses []float64) error {
		if opts.CheckpointPath == "" {
			return nil
		}
		ck := &Checkpoint{Iteration: it, Seed: opts.Seed, X: x, Losses: losses, Optimizer: opt.State(), Meta: opts.Meta}
		if len(opts.Reparams) > 0 {
			ck.U = u
		}
		return SaveCheckpoint(opts.CheckpointPath, ck)
	}
	for it := start; it < opts.MaxIterations; it++ {
		var f float64
		var err error
		if p.FuncGradAt != nil {
			f, err = p.FuncGradAt(it, grad, x)
		} else if p.FuncGrad != nil {
			f, err = p.FuncGrad(grad, x)
		} else if f, err = p.Func(x); err == nil {
			err = p.Grad(grad, x)
		}
		if err != nil {
			return res, fmt.Errorf("optimize: iteration %d: %w", it, err)
		}
		res.F = f
		res.Losses = append(res.Losses, f)
		if opts.Callback != nil {
			gn := 0.0
			for _, g := range grad {
				if usable(g) {
					gn += g * g
				}
			}
			info = IterationInfo{Iteration: it, F: f, X: x, Grad: grad, GradNorm: math.Sqrt(gn), Skipped: lastSkipped, Optimizer: opt}
			if err := opts.Callback(&info); err != nil {
				if errors.Is(err, ErrStop) {
					res.Status = CallbackStop
					return res, save(it, res.Losses[:len(res.Losses)-1])
				}
				return res, fmt.Errorf("optimize: iteration %d: %w", it, err)
			}
		}
		// Gradients of reparameterised blocks with respect to u.
		zeroed := 0
		for k, r := range opts.Reparams {
			b := byKey[k]
			g := grad[b.Offset : b.Offset+b.Len]
			zeroed += sanitize(g)
			if err := r.Precondition(g, g); err != nil {
				return res, fmt.Errorf("optimize: iteration %d: block %q: %w", it, k, err)
			}
		}
		lastSkipped = opt.Step(u, grad) + zeroed
		res.Skipped += lastSkipped
		// Back to parameters, then onto the feasible set. Without a
		// reparameterisation u is x (the same slice or a copy kept equal);
		// with one, u is recomputed from the projected x.
		for _, b := range blocks {
			ub, xb := u[b.Offset:b.Offset+b.Len], x[b.Offset:b.Offset+b.Len]
			c := opts.Constraints[b.Key]
			r := opts.Reparams[b.Key]
			if r == nil {
				if c != nil {
					c.Project(ub)
				}
				copy(xb, ub) // no-op when u is x
				continue
			}
			if err := r.FromU(xb, ub); err != nil {
				return res, fmt.Errorf("optimize: iteration %d: block %q: %w", it, b.Key, err)
			}
			if c != nil {
				c.Project(xb)
				if err := r.ToU(ub, xb); err != nil {
					return res, fmt.Errorf("optimize: iteration %d: block %q: %w", it, b.Key, err)
				}
			}
		}
		res.Iterations = it + 1
		if opts.CheckpointEvery > 0 && (it+1)%opts.CheckpointEvery == 0 && it+1 < opts.MaxIterations {
			if err := save(it+1, res.Losses); err != nil {
				return res, err
			}
		}
	}
	res.Status = IterationLimit
	return res, save(res.Iterations, res.Losses)
}

// sanitize zeroes the gradient components an optimiser would skip, so that
// one NaN does not spread through a reparameterisation's solve to the
// whole block, and returns their count.
func sanitize(g []float64) int {
	n := 0
	for i, v := range g {
		if !usable(v) {
			g[i] = 0
			n++
		}
	}
	return n
}
