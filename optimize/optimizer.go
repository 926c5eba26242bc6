package optimize

import (
	"fmt"
	"math"
	"sort"
)

// Block names a contiguous run x[Offset : Offset+Len] of the parameter
// vector: one scene parameter (a colour, a mesh's vertex positions, the
// field of view, ...) with its own base learning rate LR. The parameter
// vector is the concatenation of blocks; values outside every block are
// never changed by an optimiser.
type Block struct {
	Key    string  `json:"key"`
	Offset int     `json:"offset"`
	Len    int     `json:"len"`
	LR     float64 `json:"lr"`
}

// ValidateBlocks checks that the blocks have distinct non-empty keys,
// positive lengths, finite non-negative learning rates, do not overlap and,
// when n >= 0, lie within a vector of n values.
func ValidateBlocks(blocks []Block, n int) error {
	if len(blocks) == 0 {
		return fmt.Errorf("optimize: no parameter blocks")
	}
	keys := make(map[string]bool, len(blocks))
	order := make([]int, len(blocks))
	for i, b := range blocks {
		order[i] = i
		switch {
		case b.Key == "":
			return fmt.Errorf("optimize: block %d has no key", i)
		case keys[b.Key]:
			return fmt.Errorf("optimize: block key %q appears twice", b.Key)
		case b.Offset < 0 || b.Len <= 0:
			return fmt.Errorf("optimize: block %q has offset %d and length %d", b.Key, b.Offset, b.Len)
		case !(b.LR >= 0) || math.IsInf(b.LR, 0):
			return fmt.Errorf("optimize: block %q learning rate %g is not finite and non-negative", b.Key, b.LR)
		case n >= 0 && b.Offset+b.Len > n:
			return fmt.Errorf("optimize: block %q [%d, %d) exceeds the %d parameters", b.Key, b.Offset, b.Offset+b.Len, n)
		}
		keys[b.Key] = true
	}
	sort.Slice(order, func(i, j int) bool { return blocks[order[i]].Offset < blocks[order[j]].Offset })
	for i := 1; i < len(order); i++ {
		a, b := blocks[order[i-1]], blocks[order[i]]
		if a.Offset+a.Len > b.Offset {
			return fmt.Errorf("optimize: blocks %q [%d, %d) and %q [%d, %d) overlap",
				a.Key, a.Offset, a.Offset+a.Len, b.Key, b.Offset, b.Offset+b.Len)
		}
	}
	return nil
}

// blocksEnd returns the end of the last block.
func blocksEnd(blocks []Block) int {
	n := 0
	for _, b := range blocks {
		n = max(n, b.Offset+b.Len)
	}
	return n
}

// Optimizer updates a parameter vector from its gradient, block by block.
type Optimizer interface {
	// Blocks returns the layout (not to be modified).
	Blocks() []Block
	// Step takes one descent step: x moves against grad. A gradient
	// component that is NaN, infinite or so large that its square
	// overflows (|g| > 1e150) is skipped: neither its parameter nor its
	// optimiser state changes. Step returns the number of components
	// skipped. x and grad must have the same length, at least the end of
	// the last block; Step panics otherwise.
	Step(x, grad []float64) (skipped int)
	// Steps returns the number of steps taken.
	Steps() int
	// LearningRate returns block i's learning rate for the next step (its
	// base rate times the schedule's factor).
	LearningRate(i int) float64
	// State returns a deep copy of the optimiser's state.
	State() *State
	// SetState replaces the state with a copy of s, which must come from
	// an optimiser of the same kind and block layout (keys, offsets and
	// lengths; learning rates and other hyperparameters are the
	// receiver's, so a resumed run may change them).
	SetState(s *State) error
}

// State is the mutable state of an optimiser, what a checkpoint saves.
type State struct {
	Kind    string       `json:"kind"`    // "adam", "adam-uniform" or "sgd"
	Steps   int          `json:"steps"`   // steps taken: the schedule position
	Skipped int          `json:"skipped"` // gradient components skipped in total
	Blocks  []BlockState `json:"blocks"`
}

// BlockState is one block's layout and moments: Adam's first and second
// moment estimates M and V, or SGD's velocity M (V nil).
type BlockState struct {
	Block
	M []float64 `json:"m"`
	V []float64 `json:"v,omitempty"`
}

// clone returns a deep copy.
func (s *State) clone() *State {
	c := *s
	c.Blocks = make([]BlockState, len(s.Blocks))
	for i, b := range s.Blocks {
		c.Blocks[i] = BlockState{Block: b.Block, M: append([]float64(nil), b.M...)}
		if b.V != nil {
			c.Blocks[i].V = append([]float64(nil), b.V...)
		}
	}
	return &c
}

// check verifies that s fits an optimiser of the given kind and layout.
func (s *State) check(kind string, blocks []Block, withV bool) error {
	if s == nil {
		return fmt.Errorf("optimize: no optimiser state")
	}
	if s.Kind != kind {
		return fmt.Errorf("optimize: state of a %q optimiser given to a %q optimiser", s.Kind, kind)
	}
	if s.Steps < 0 || s.Skipped < 0 {
		return fmt.Errorf("optimize: state has %d steps and %d skipped components", s.Steps, s.Skipped)
	}
	if len(s.Blocks) != len(blocks) {
		return fmt.Errorf("optimize: state has %d blocks, optimiser %d", len(s.Blocks), len(blocks))
	}
	for i, b := range blocks {
		sb := s.Blocks[i]
		if sb.Key != b.Key || sb.Offset != b.Offset || sb.Len != b.Len {
			return fmt.Errorf("optimize: state block %d is %q [%d, %d), optimiser block is %q [%d, %d)",
				i, sb.Key, sb.Offset, sb.Offset+sb.Len, b.Key, b.Offset, b.Offset+b.Len)
		}
		if len(sb.M) != b.Len {
			return fmt.Errorf("optimize: state block %q has %d first moments, want %d", b.Key, len(sb.M), b.Len)
		}
		if withV && len(sb.V) != b.Len {
			return fmt.Errorf("optimize: state block %q has %d second moments, want %d", b.Key, len(sb.V), b.Len)
		}
		if !withV && sb.V != nil {
			return fmt.Errorf("optimize: state block %q has second moments, which %s does not use", b.Key, kind)
		}
		for j, v := range sb.M {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("optimize: state block %q moment %d is %g", b.Key, j, v)
			}
		}
		for j, v := range sb.V {
			if !(v >= 0) || math.IsInf(v, 0) {
				return fmt.Errorf("optimize: state block %q second moment %d is %g", b.Key, j, v)
			}
		}
	}
	return nil
}

// gradLimit bounds the gradient components an optimiser accepts: beyond it
// the square overflows and would poison Adam's second moment for good.
const gradLimit = 1e150

// usable reports whether a gradient component may enter the state.
func usable(g float64) bool { return math.Abs(g) <= gradLimit } // false for NaN

func checkStep(blocks []Block, x, grad []float64) {
	if len(x) != len(grad) {
		panic(fmt.Sprintf("optimize: Step with %d parameters and %d gradient values", len(x), len(grad)))
	}
	if n := blocksEnd(blocks); len(x) < n {
		panic(fmt.Sprintf("optimize: Step with %d parameters, the blocks need %d", len(x), n))
	}
}

// AdamConfig holds Adam's hyperparameters. Start from DefaultAdamConfig;
// NewAdam rejects a zero Eps.
type AdamConfig struct {
	Beta1, Beta2 float64 // moment decay rates, in [0, 1)
	Eps          float64 // added to the denominator, > 0
	// Uniform divides every component of a block by the same
	// denominator, the square root of the block's largest second moment,
	// so the step follows the (preconditioned) gradient's direction
	// unchanged: the variant Nicolet et al. pair with their Laplacian
	// reparameterisation of vertex positions ("Large Steps in Inverse
	// Rendering of Geometry", SIGGRAPH Asia 2021, section 5), as in
	// Mitsuba's Adam(uniform=True).
	Uniform  bool
	Schedule Schedule
}

// DefaultAdamConfig returns the defaults of Kingma and Ba: beta1 0.9, beta2
// 0.999, eps 1e-8, constant schedule, per-component denominators.
func DefaultAdamConfig() AdamConfig {
	return AdamConfig{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
}

// Adam is the optimiser of Kingma and Ba ("Adam: A Method for Stochastic
// Optimization", ICLR 2015, Algorithm 1) with bias-corrected moments, one
// pair of moment vectors per block and a per-block learning rate:
//
//	m = b1 m + (1-b1) g,  v = b2 v + (1-b2) g^2
//	x -= lr m/(1-b1^t) / (sqrt(v/(1-b2^t)) + eps)
//
// where t counts steps from 1. A skipped component keeps its moments.
type Adam struct {
	cfg     AdamConfig
	blocks  []Block
	m, v    [][]float64
	t       int
	skipped int
}

// NewAdam returns an Adam optimiser over blocks.
func NewAdam(blocks []Block, cfg AdamConfig) (*Adam, error) {
	if err := ValidateBlocks(blocks, -1); err != nil {
		return nil, err
	}
	if !(cfg.Beta1 >= 0 && cfg.Beta1 < 1) || !(cfg.Beta2 >= 0 && cfg.Beta2 < 1) {
		return nil, fmt.Errorf("optimize: Adam betas %g, %g are not in [0, 1)", cfg.Beta1, cfg.Beta2)
	}
	if !(cfg.Eps > 0) || math.IsInf(cfg.Eps, 0) {
		return nil, fmt.Errorf("optimize: Adam eps %g is not positive (DefaultAdamConfig gives 1e-8)", cfg.Eps)
	}
	if err := cfg.Schedule.Validate(); err != nil {
		return nil, err
	}
	a := &Adam{cfg: cfg, blocks: append([]Block(nil), blocks...)}
	for _, b := range blocks {
		a.m = append(a.m, make([]float64, b.Len))
		a.v = append(a.v, make([]float64, b.Len))
	}
	return a, nil
}

func (a *Adam) kind() string {
	if a.cfg.Uniform {
		return "adam-uniform"
	}
	return "adam"
}

// Blocks implements Optimizer.
func (a *Adam) Blocks() []Block { return a.blocks }

// Steps implements Optimizer.
func (a *Adam) Steps() int { return a.t }

// LearningRate implements Optimizer.
func (a *Adam) LearningRate(i int) float64 {
	return a.blocks[i].LR * a.cfg.Schedule.Factor(a.t)
}

// Step implements Optimizer.
func (a *Adam) Step(x, grad []float64) int {
	checkStep(a.blocks, x, grad)
	b1, b2, eps := a.cfg.Beta1, a.cfg.Beta2, a.cfg.Eps
	factor := a.cfg.Schedule.Factor(a.t)
	t := float64(a.t + 1)
	bc1 := 1 - math.Pow(b1, t)
	bc2 := 1 - math.Pow(b2, t)
	skipped := 0
	for bi, b := range a.blocks {
		lr := b.LR * factor
		xs := x[b.Offset : b.Offset+b.Len]
		gs := grad[b.Offset : b.Offset+b.Len]
		m, v := a.m[bi], a.v[bi]
		for i, g := range gs {
			if !usable(g) {
				skipped++
				continue
			}
			m[i] = b1*m[i] + (1-b1)*g
			v[i] = b2*v[i] + (1-b2)*g*g
		}
		if a.cfg.Uniform {
			vmax := 0.0
			for _, vi := range v {
				vmax = max(vmax, vi)
			}
			scale := lr / bc1 / (math.Sqrt(vmax/bc2) + eps)
			for i, g := range gs {
				if usable(g) {
					xs[i] -= scale * m[i]
				}
			}
			continue
		}
		for i, g := range gs {
			if usable(g) {
				xs[i] -= lr * (m[i] / bc1) / (math.Sqrt(v[i]/bc2) + eps)
			}
		}
	}
	a.t++
	a.skipped += skipped
	return skipped
}

// State implements Optimizer.
func (a *Adam) State() *State {
	s := &State{Kind: a.kind(), Steps: a.t, Skipped: a.skipped}
	for i, b := range a.blocks {
		s.Blocks = append(s.Blocks, BlockState{Block: b, M: a.m[i], V: a.v[i]})
	}
	return s.clone()
}

// SetState implements Optimizer.
func (a *Adam) SetState(s *State) error {
	if err := s.check(a.kind(), a.blocks, true); err != nil {
		return err
	}
	for i, b := range s.Blocks {
		copy(a.m[i], b.M)
		copy(a.v[i], b.V)
	}
	a.t, a.skipped = s.Steps, s.Skipped
	return nil
}

// SGDConfig holds the hyperparameters of SGD. The zero value is plain
// gradient descent with a constant schedule.
type SGDConfig struct {
	Momentum float64 // in [0, 1)
	Nesterov bool    // needs Momentum > 0
	Schedule Schedule
}

// SGD is gradient descent with heavy-ball momentum (Polyak 1964) or
// Nesterov momentum in the form of Sutskever, Martens, Dahl and Hinton ("On
// the importance of initialization and momentum in deep learning", ICML
// 2013), the convention of PyTorch:
//
//	u = mu u + g;  d = u (heavy ball) or g + mu u (Nesterov);  x -= lr d
type SGD struct {
	cfg     SGDConfig
	blocks  []Block
	u       [][]float64
	t       int
	skipped int
}

// NewSGD returns an SGD optimiser over blocks.
func NewSGD(blocks []Block, cfg SGDConfig) (*SGD, error) {
	if err := ValidateBlocks(blocks, -1); err != nil {
		return nil, err
	}
	if !(cfg.Momentum >= 0 && cfg.Momentum < 1) {
		return nil, fmt.Errorf("optimize: SGD momentum %g is not in [0, 1)", cfg.Momentum)
	}
	if cfg.Nesterov && cfg.Momentum == 0 {
		return nil, fmt.Errorf("optimize: Nesterov SGD needs a positive momentum")
	}
	if err := cfg.Schedule.Validate(); err != nil {
		return nil, err
	}
	s := &SGD{cfg: cfg, blocks: append([]Block(nil), blocks...)}
	for _, b := range blocks {
		s.u = append(s.u, make([]float64, b.Len))
	}
	return s, nil
}

// Blocks implements Optimizer.
func (s *SGD) Blocks() []Block { return s.blocks }

// Steps implements Optimizer.
func (s *SGD) Steps() int { return s.t }

// LearningRate implements Optimizer.
func (s *SGD) LearningRate(i int) float64 {
	return s.blocks[i].LR * s.cfg.Schedule.Factor(s.t)
}

// Step implements Optimizer.
func (s *SGD) Step(x, grad []float64) int {
	checkStep(s.blocks, x, grad)
	mu := s.cfg.Momentum
	factor := s.cfg.Schedule.Factor(s.t)
	skipped := 0
	for bi, b := range s.blocks {
		lr := b.LR * factor
		xs := x[b.Offset : b.Offset+b.Len]
		gs := grad[b.Offset : b.Offset+b.Len]
		u := s.u[bi]
		for i, g := range gs {
			if !usable(g) {
				skipped++
				continue
			}
			d := g
			if mu > 0 {
				u[i] = mu*u[i] + g
				d = u[i]
				if s.cfg.Nesterov {
					d = g + mu*u[i]
				}
			}
			xs[i] -= lr * d
		}
	}
	s.t++
	s.skipped += skipped
	return skipped
}

// State implements Optimizer.
func (s *SGD) State() *State {
	st := &State{Kind: "sgd", Steps: s.t, Skipped: s.skipped}
	for i, b := range s.blocks {
		st.Blocks = append(st.Blocks, BlockState{Block: b, M: s.u[i]})
	}
	return st.clone()
}

// SetState implements Optimizer.
func (s *SGD) SetState(st *State) error {
	if err := st.check("sgd", s.blocks, false); err != nil {
		return err
	}
	for i, b := range st.Blocks {
		copy(s.u[i], b.M)
	}
	s.t, s.skipped = st.Steps, st.Skipped
	return nil
}
