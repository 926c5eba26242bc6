package adjoint

import (
	"context"
	"fmt"
	"math"

	"github.com/invrender/invrender/geom"
	"github.com/invrender/invrender/render"
)

// LossFunc is a scalar loss of a rendered image and its gradient dL/dI.
// (Package optimize provides L1, L2, ...; adjoint does not depend on it.)
type LossFunc func(img *render.Image) (value float64, dLdI *render.Image, err error)

// SumLoss is the sum of all pixel values: its gradient is 1 everywhere. It
// is the loss gradient checks use, since its derivative is the image's.
func SumLoss(img *render.Image) (float64, *render.Image, error) {
	g := render.NewImage(img.Width, img.Height)
	for i := range g.Pix {
		g.Pix[i] = 1
	}
	return img.Sum(), g, nil
}

// GradientOptions control Gradient.
type GradientOptions struct {
	Options
	// ForwardSPP is the sample count of the forward render that feeds the
	// loss (0: the backward's).
	ForwardSPP int
	// Linear says the loss gradient does not depend on the image (the sum
	// loss): the forward render is then skipped and dLdI computed on a
	// black image.
	Linear bool
}

// Gradient renders the scene, evaluates the loss and runs Backward for the
// parameters named by keys. The forward render uses seed Seed and the
// backward pass a decorrelated seed derived from it (as Mitsuba does), so
// gradients of nonlinear losses are unbiased. It returns the loss value
// (NaN when Linear skipped the render).
func Gradient(ctx context.Context, ps *Params, keys []string, loss LossFunc, o GradientOptions) (float64, *Result, error) {
	s := ps.Scene
	if !s.Built() {
		if err := s.Build(); err != nil {
			return 0, nil, err
		}
	}
	if o.Sensor < 0 || o.Sensor >= len(s.Sensors) {
		return 0, nil, fmt.Errorf("adjoint: sensor %d does not exist", o.Sensor)
	}
	sn := s.Sensors[o.Sensor]
	seed := sn.Seed
	if o.SeedSet {
		seed = o.Seed
	}
	value := math.NaN()
	var img *render.Image
	if o.Linear {
		img = render.NewImage(sn.Width, sn.Height)
	} else {
		spp := o.ForwardSPP
		if spp <= 0 {
			spp = o.SPP
		}
		r, err := render.Render(ctx, s, render.Options{Sensor: o.Sensor, SPP: spp, Seed: seed, SeedSet: true, Threads: o.Threads})
		if err != nil {
			return 0, nil, err
		}
		img = r.Image
	}
	v, dLdI, err := loss(img)
	if err != nil {
		return 0, nil, err
	}
	if !o.Linear {
		value = v
	}
	bo := o.Options
	bo.Seed, bo.SeedSet = BackwardSeed(seed), true
	res, err := Backward(ctx, ps, keys, dLdI, bo)
	return value, res, err
}

// BackwardSeed derives the backward pass's seed from the forward's.
func BackwardSeed(seed uint64) uint64 { return geom.Mix64(seed ^ 0x6a09e667f3bcc909) }

// Estimate is a Monte Carlo estimate per component: the mean over
// independent runs and its standard error.
type Estimate struct {
	Mean, StdErr []float64
	Runs         int
}

// accumulateRuns turns per-run vectors into an Estimate.
func accumulateRuns(runs [][]float64) Estimate {
	n := len(runs[0])
	e := Estimate{Mean: make([]float64, n), StdErr: make([]float64, n), Runs: len(runs)}
	for i := 0; i < n; i++ {
		sum := 0.0
		for _, r := range runs {
			sum += r[i]
		}
		m := sum / float64(len(runs))
		e.Mean[i] = m
		if len(runs) > 1 {
			ss := 0.0
			for _, r := range runs {
				ss += (r[i] - m) * (r[i] - m)
			}
			e.StdErr[i] = math.Sqrt(ss / float64(len(runs)-1) / float64(len(runs)))
		}
	}
	return e
}

// GradientEstimate runs Gradient with seeds seed, seed+1, ... and returns
// the mean and standard error of key's gradient.
func GradientEstimate(ctx context.Context, ps *Params, key string, loss LossFunc, o GradientOptions, seed uint64, seeds int) (Estimate, error) {
	if seeds < 1 {
		seeds = 1
	}
	var runs [][]float64
	for k := 0; k < seeds; k++ {
		o.Seed, o.SeedSet = seed+uint64(k), true
		if _, _, err := Gradient(ctx, ps, []string{key}, loss, o); err != nil {
			return Estimate{}, err
		}
		runs = append(runs, append([]float64(nil), ps.Get(key).Grad...))
	}
	return accumulateRuns(runs), nil
}

// FDOptions control a finite-difference estimate.
type FDOptions struct {
	Sensor  int
	SPP     int
	Threads int
	// Step is the central difference's half step h, in the parameter's
	// units.
	Step float64
}

// FiniteDifference returns the central difference (L(x+h) - L(x-h)) / 2h
// of the loss of renders with the same seed (the same random numbers on
// both sides) for each listed component of key. The parameter is restored
// afterwards.
func FiniteDifference(ctx context.Context, ps *Params, key string, indices []int, loss LossFunc, o FDOptions, seed uint64) ([]float64, error) {
	p, err := ps.Lookup(key)
	if err != nil {
		return nil, err
	}
	if !(o.Step > 0) {
		return nil, fmt.Errorf("adjoint: finite difference step %g is not positive", o.Step)
	}
	eval := func() (float64, error) {
		if err := ps.Update(); err != nil {
			return 0, err
		}
		r, err := render.Render(ctx, ps.Scene, render.Options{Sensor: o.Sensor, SPP: o.SPP, Seed: seed, SeedSet: true, Threads: o.Threads})
		if err != nil {
			return 0, err
		}
		v, _, err := loss(r.Image)
		return v, err
	}
	out := make([]float64, len(indices))
	for j, i := range indices {
		if i < 0 || i >= p.Size() {
			return nil, fmt.Errorf("adjoint: %s has %d components; index %d is out of range", key, p.Size(), i)
		}
		x := p.Value[i]
		p.Value[i] = x + o.Step
		fp, err := eval()
		if err == nil {
			p.Value[i] = x - o.Step
			var fm float64
			fm, err = eval()
			out[j] = (fp - fm) / (2 * o.Step)
		}
		p.Value[i] = x
		if uerr := ps.Update(); err == nil {
			err = uerr
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// FDEstimate repeats FiniteDifference over seeds seed, seed+1, ...
func FDEstimate(ctx context.Context, ps *Params, key string, indices []int, loss LossFunc, o FDOptions, seed uint64, seeds int) (Estimate, error) {
	if seeds < 1 {
		seeds = 1
	}
	var runs [][]float64
	for k := 0; k < seeds; k++ {
		r, err := FiniteDifference(ctx, ps, key, indices, loss, o, seed+uint64(k))
		if err != nil {
			return Estimate{}, err
		}
		runs = append(runs, r)
	}
	return accumulateRuns(runs), nil
}

// Agree reports whether an autodiff and a finite-difference estimate of
// one component agree within k combined standard errors plus a relative
// tolerance rel of the finite difference's magnitude.
func Agree(ad, adSE, fd, fdSE, k, rel float64) bool {
	se := math.Sqrt(adSE*adSE + fdSE*fdSE)
	return math.Abs(ad-fd) <= k*se+rel*math.Abs(fd)
}
