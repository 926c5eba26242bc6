package render_test

import (
	"fmt"
	"math"
	"sort"
	"testing"

	"github.com/invrender/invrender/geom"
	"github.com/invrender/invrender/render"
	"github.com/invrender/invrender/scenes"
)

var testFilters = []render.Filter{
	{Kind: render.FilterBox},
	{Kind: render.FilterBox, Radius: 1.5},
	{Kind: render.FilterTent},
	{Kind: render.FilterTent, Radius: 2},
	{Kind: render.FilterGaussian},
	{Kind: render.FilterGaussian, Stddev: 0.3, Radius: 1},
	{Kind: render.FilterGaussian, Stddev: 1, Radius: 0.5},
}

func filterName(f render.Filter) string {
	return fmt.Sprintf("%v(r=%g,s=%g)", f.Kind, f.SupportRadius(), f.Stddev)
}

// filterCDF tabulates the integral of Eval1D from -r by the composite
// Simpson rule on n intervals (n even, x = 0 a node, so that the tent's
// kink sits on a node and every piece is smooth). Its error is below 1e-12
// for n = 20000.
type filterCDF struct {
	r  float64
	xs []float64
	cs []float64
}

func newFilterCDF(f render.Filter, n int) filterCDF {
	r := f.SupportRadius()
	h := 2 * r / float64(n)
	c := filterCDF{r: r, xs: make([]float64, n/2+1), cs: make([]float64, n/2+1)}
	acc := 0.0
	c.xs[0] = -r
	for i := 0; i < n/2; i++ {
		a := -r + float64(2*i)*h
		acc += h / 3 * (f.Eval1D(a) + 4*f.Eval1D(a+h) + f.Eval1D(a+2*h))
		c.xs[i+1], c.cs[i+1] = a+2*h, acc
	}
	return c
}

// at interpolates the table at x by cubic Hermite interpolation with
// Eval1D as the slope. Between nodes (2h apart) the CDF is smooth (the
// tent's kink at 0 is a node), so the interpolation error is O(h^4), below
// 1e-12 here.
func (c filterCDF) at(f render.Filter, x float64) float64 {
	if x <= -c.r {
		return 0
	}
	if x >= c.r {
		return c.cs[len(c.cs)-1]
	}
	i := sort.SearchFloat64s(c.xs, x) - 1
	i = max(0, min(i, len(c.xs)-2))
	x0, x1 := c.xs[i], c.xs[i+1]
	h := x1 - x0
	t := (x - x0) / h
	y0, y1 := c.cs[i], c.cs[i+1]
	m0, m1 := f.Eval1D(x0)*h, f.Eval1D(x1)*h
	t2, t3 := t*t, t*t*t
	return (2*t3-3*t2+1)*y0 + (t3-2*t2+t)*m0 + (-2*t3+3*t2)*y1 + (t3-t2)*m1
}

// TestFilterEval1DIntegratesToOne: Eval1D is a normalised density on its
// support and zero outside.
func TestFilterEval1DIntegratesToOne(t *testing.T) {
	for _, f := range testFilters {
		c := newFilterCDF(f, 20000)
		if tot := c.cs[len(c.cs)-1]; math.Abs(tot-1) > 1e-10 {
			t.Errorf("%s: Eval1D integrates to %.12f", filterName(f), tot)
		}
		r := f.SupportRadius()
		for _, x := range []float64{-r * 1.0001, r * 1.0001, -10, 10} {
			if v := f.Eval1D(x); v != 0 {
				t.Errorf("%s: Eval1D(%g) = %g outside the support", filterName(f), x, v)
			}
		}
		if v := f.Eval1D(0); !(v > 0) {
			t.Errorf("%s: Eval1D(0) = %g", filterName(f), v)
		}
	}
	defaults := map[render.FilterKind]float64{render.FilterBox: 0.5, render.FilterTent: 1, render.FilterGaussian: 2}
	for k, r := range defaults {
		if got := (render.Filter{Kind: k}).SupportRadius(); got != r {
			t.Errorf("%v: default radius %g, want %g (Mitsuba's)", k, got, r)
		}
	}
}

// TestFilterSample1DInvertsCDF: Sample1D is the inverse of Eval1D's CDF, so
// CDF(Sample1D(u)) = u for every u. This is exact up to the quadrature and
// root-finding error of the filter's own formulas (1e-9 covers erfinv's).
func TestFilterSample1DInvertsCDF(t *testing.T) {
	for _, f := range testFilters {
		c := newFilterCDF(f, 20000)
		r := f.SupportRadius()
		prev := math.Inf(-1)
		for i := 0; i <= 1000; i++ {
			u := float64(i) / 1000 * (1 - 1e-12)
			x := f.Sample1D(u)
			if x < -r || x > r {
				t.Fatalf("%s: Sample1D(%g) = %g outside [-%g, %g]", filterName(f), u, x, r, r)
			}
			if x < prev {
				t.Fatalf("%s: Sample1D not monotone at u = %g", filterName(f), u)
			}
			prev = x
			if got := c.at(f, x); math.Abs(got-u) > 1e-9 {
				t.Fatalf("%s: CDF(Sample1D(%g)) = %.12f", filterName(f), u, got)
			}
		}
	}
}

// TestFilterSample1DKS is the Kolmogorov-Smirnov test of Sample1D against
// Eval1D with independent uniform variates: with n samples, the maximum
// distance between the empirical and the true CDF exceeds
// sqrt(ln(2/alpha)/2)/sqrt(n) with probability alpha (the asymptotic
// Kolmogorov distribution; Press et al., Numerical Recipes, 3rd ed., 14.3.3).
// alpha = 1e-4 over the seven filters.
func TestFilterSample1DKS(t *testing.T) {
	const n = 20000
	crit := math.Sqrt(math.Log(2/1e-4)/2) / math.Sqrt(n)
	for fi, f := range testFilters {
		c := newFilterCDF(f, 20000)
		rng := geom.NewRNG(7, uint64(fi), 0, 0)
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = f.Sample1D(rng.Float64())
		}
		sort.Float64s(xs)
		d := 0.0
		for i, x := range xs {
			cdf := c.at(f, x)
			d = math.Max(d, math.Max(float64(i+1)/n-cdf, cdf-float64(i)/n))
		}
		if d > crit {
			t.Errorf("%s: KS distance %.4g > %.4g", filterName(f), d, crit)
		}
	}
}

// TestFilterImageSum renders the emissive triangle (scenes.EmissiveTriangle)
// with box and tent filters. Translates of these filters by whole pixels
// sum to 1 at every film point (a partition of unity; true of a box of
// radius 0.5 and of tents of integer radius), so the image sum is the
// triangle's projected area in pixels, about 723.5 (see EmissiveTriangle),
// whatever the filter: the check that every sample counts once, with weight
// one, in some pixel, wherever the filter sends it (no samples lost or
// counted twice across tiles, no filter weight applied on top of filter
// importance sampling). The distribution of the offsets is
// TestFilterSample1DKS's business. The triangle stays at least 8 pixels
// inside the film, so no filter footprint is cut by the border. Tolerance:
// nSigma standard errors of the sum over seeds.
func TestFilterImageSum(t *testing.T) {
	want := (0.585 / 6.25) / math.Pow(2*math.Tan(20*math.Pi/180)/64, 2)
	k := scaled(16, 8)
	for _, f := range []render.Filter{{Kind: render.FilterBox}, {Kind: render.FilterTent}, {Kind: render.FilterTent, Radius: 2}} {
		s := scenes.EmissiveTriangle()
		s.Sensors[0].Filter = f
		s.Sensors[0].SPP = 4
		ps := renderSeeds(t, s, render.Options{}, k, 500)
		m, se, n := ps.regionMean(0, 0, ps.W, ps.H, 1, nil)
		sum, seSum := m*float64(n), se*float64(n)
		t.Logf("%s: image sum %.3f (se %.3f), want %.3f", filterName(f), sum, seSum, want)
		if math.Abs(sum-want) > nSigma*seSum {
			t.Errorf("%s: image sum %.3f, want %.3f (se %.3f)", filterName(f), sum, want, seSum)
		}
	}
}
