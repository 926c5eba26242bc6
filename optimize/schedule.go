package optimize

import (
	"fmt"
	"math"
)

// ScheduleKind selects the decay of a Schedule.
type ScheduleKind int

const (
	// ScheduleConstant keeps every learning rate at its base value.
	ScheduleConstant ScheduleKind = iota
	// ScheduleExponential multiplies the rates by Gamma every iteration.
	ScheduleExponential
	// ScheduleCosine anneals the rates along half a cosine from 1 to Floor
	// over Iterations iterations, then holds Floor (Loshchilov and Hutter,
	// "SGDR: Stochastic Gradient Descent with Warm Restarts", ICLR 2017,
	// without the restarts).
	ScheduleCosine
)

// String returns the kind's name.
func (k ScheduleKind) String() string {
	switch k {
	case ScheduleConstant:
		return "constant"
	case ScheduleExponential:
		return "exponential"
	case ScheduleCosine:
		return "cosine"
	}
	return fmt.Sprintf("ScheduleKind(%d)", int(k))
}

// Schedule scales every block's base learning rate by a factor that depends
// on the step count only, so resuming from a checkpoint at step t continues
// the schedule exactly. The zero value is the constant schedule.
//
// With Warmup = W > 0 the factor of step t < W (t counts from 0) is
// (t+1)/W, and the decay then starts at step W as if it were step 0.
type Schedule struct {
	Kind       ScheduleKind
	Gamma      float64 // ScheduleExponential: factor per iteration, in (0, 1]
	Iterations int     // ScheduleCosine: length of the annealing, > 0
	Floor      float64 // ScheduleCosine: final factor, in [0, 1]
	Warmup     int     // iterations of linear warm-up, >= 0
}

// Constant returns the constant schedule (factor 1).
func Constant() Schedule { return Schedule{} }

// Exponential returns the schedule with factor gamma^t at step t.
func Exponential(gamma float64) Schedule {
	return Schedule{Kind: ScheduleExponential, Gamma: gamma}
}

// Cosine returns cosine annealing from factor 1 at step 0 to floor at step
// iters: floor + (1-floor) (1 + cos(pi t/iters)) / 2, then floor.
func Cosine(iters int, floor float64) Schedule {
	return Schedule{Kind: ScheduleCosine, Iterations: iters, Floor: floor}
}

// WithWarmup returns s with a linear warm-up over the first n steps.
func (s Schedule) WithWarmup(n int) Schedule {
	s.Warmup = n
	return s
}

// Validate reports a parameter out of range.
func (s Schedule) Validate() error {
	if s.Warmup < 0 {
		return fmt.Errorf("optimize: schedule warm-up %d is negative", s.Warmup)
	}
	switch s.Kind {
	case ScheduleConstant:
	case ScheduleExponential:
		if !(s.Gamma > 0 && s.Gamma <= 1) {
			return fmt.Errorf("optimize: exponential schedule gamma %g is not in (0, 1]", s.Gamma)
		}
	case ScheduleCosine:
		if s.Iterations <= 0 {
			return fmt.Errorf("optimize: cosine schedule length %d is not positive", s.Iterations)
		}
		if !(s.Floor >= 0 && s.Floor <= 1) {
			return fmt.Errorf("optimize: cosine schedule floor %g is not in [0, 1]", s.Floor)
		}
	default:
		return fmt.Errorf("optimize: unknown schedule kind %d", int(s.Kind))
	}
	return nil
}

// Factor returns the learning-rate factor of step t (the number of steps
// taken before it; 0 for the first step).
func (s Schedule) Factor(t int) float64 {
	f := 1.0
	if t < 0 {
		t = 0
	}
	if s.Warmup > 0 {
		if t < s.Warmup {
			return float64(t+1) / float64(s.Warmup)
		}
		t -= s.Warmup
	}
	switch s.Kind {
	case ScheduleExponential:
		f = math.Pow(s.Gamma, float64(t))
	case ScheduleCosine:
		tt := min(t, s.Iterations)
		f = s.Floor + (1-s.Floor)*0.5*(1+math.Cos(math.Pi*float64(tt)/float64(s.Iterations)))
	}
	return f
}

// String describes the schedule.
func (s Schedule) String() string {
	var d string
	switch s.Kind {
	case ScheduleExponential:
		d = fmt.Sprintf("exponential(gamma=%g)", s.Gamma)
	case ScheduleCosine:
		d = fmt.Sprintf("cosine(iterations=%d, floor=%g)", s.Iterations, s.Floor)
	default:
		d = s.Kind.String()
	}
	if s.Warmup > 0 {
		d += fmt.Sprintf(" after %d warm-up steps", s.Warmup)
	}
	return d
}
