package stattest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/go-gl/mathgl/mgl64"
)

// Options are the settings SphereTest and RectTest share. The zero value
// selects every default.
type Options struct {
	// Name labels the result (e.g. "CosineHemisphere").
	Name string
	// SampleCount is the number of samples drawn; default 1,000,000.
	SampleCount int
	// Seed seeds the uniform variates handed to the sampler.
	Seed uint64
	// Alpha is the significance level of the whole family of tests;
	// default 0.01.
	Alpha float64
	// TestCount is the number of tests in the family (e.g. the number of
	// incident directions a BSDF is tested at); Alpha is Sidak-corrected
	// for it. Default 1.
	TestCount int
	// MinExpected is the pooling threshold of ChiSquare; default 5.
	MinExpected float64
	// Tolerance is the absolute error allowed on the pdf's integral over
	// the whole grid; default 1e-8.
	Tolerance float64
}

func (o Options) withDefaults() Options {
	if o.SampleCount <= 0 {
		o.SampleCount = 1_000_000
	}
	if o.Alpha <= 0 {
		o.Alpha = 0.01
	}
	if o.TestCount <= 0 {
		o.TestCount = 1
	}
	if o.MinExpected <= 0 {
		o.MinExpected = DefaultMinExpected
	}
	if o.Tolerance <= 0 {
		o.Tolerance = defaultTolerance
	}
	return o
}

// SphereTest is a chi-square test of a sampler of unit directions against
// its pdf in solid angle, over a (cos theta, phi) grid of the sphere.
type SphereTest struct {
	Options
	// Sample maps a uniform point of [0,1)^2 to a unit direction; ok is
	// false when the sampler produces no direction. Set Sample or Sample3.
	Sample func(u mgl64.Vec2) (dir mgl64.Vec3, ok bool)
	// Sample3 is Sample for samplers that consume three variates (a BSDF
	// choosing a lobe with the first).
	Sample3 func(u mgl64.Vec3) (dir mgl64.Vec3, ok bool)
	// Pdf is the claimed density of Sample in solid angle. Its integral
	// over the sphere is the probability that Sample succeeds.
	Pdf func(dir mgl64.Vec3) float64
	// CosThetaRes and PhiRes are the grid resolution; defaults
	// DefaultCosThetaRes and DefaultPhiRes.
	CosThetaRes, PhiRes int
}

// RectTest is a chi-square test of a sampler of points of the plane against
// its pdf in area, over a grid of the rectangle [Min, Max]. Points outside
// the rectangle count with rejected samples, so the rectangle need not cover
// the pdf's support; for a disk use [-1,1]^2, for a triangle sample its
// barycentric coordinates (b1, b2) over [0,1]^2 with pdf 2 where b1+b2 <= 1.
type RectTest struct {
	Options
	// Sample maps a uniform point of [0,1)^2 to a point; ok is false when
	// the sampler produces no point. Set Sample or Sample3.
	Sample func(u mgl64.Vec2) (p mgl64.Vec2, ok bool)
	// Sample3 is Sample for samplers that consume three variates.
	Sample3 func(u mgl64.Vec3) (p mgl64.Vec2, ok bool)
	// Pdf is the claimed density of Sample in area.
	Pdf func(p mgl64.Vec2) float64
	// Min and Max bound the histogrammed rectangle; both zero selects
	// [0,1]^2.
	Min, Max mgl64.Vec2
	// XRes and YRes are the grid resolution; default DefaultRectRes.
	XRes, YRes int
}

// Cell is one histogram cell of a Result.
type Cell struct {
	// Label says where the cell is, in the domain's coordinates.
	Label string
	// Observed and Expected are the sample counts.
	Observed, Expected float64
	// Contribution is (Observed-Expected)^2/Expected before pooling
	// (+Inf for an observation where none is expected).
	Contribution float64
}

// Result is the outcome of a SphereTest or RectTest.
type Result struct {
	Name string
	// Passed is false when the sampler failed the test; Reason says why.
	Passed bool
	Reason string
	// Chi2, Dof and PValue are ChiSquare's results; Alpha is the
	// Sidak-corrected level PValue was compared with.
	Chi2   float64
	Dof    int
	PValue float64
	Alpha  float64
	// Samples is the number of samples drawn; Elsewhere counts those
	// rejected by the sampler or falling outside the grid, Invalid those
	// that were NaN or (on the sphere) not of unit length.
	Samples, Elsewhere, Invalid int
	// PdfIntegral is the pdf's integral over the grid.
	PdfIntegral float64
	// Observed and Expected are the histograms, cell (ix, iy) at
	// iy*nx + ix (ix along cos theta or x, iy along phi or y); the
	// elsewhere category is not included.
	Observed, Expected []float64
	// Worst lists the cells that contribute most to the statistic.
	Worst []Cell
}

// String formats the result for a test log.
func (r Result) String() string {
	var b strings.Builder
	verdict := "passed"
	if !r.Passed {
		verdict = "FAILED: " + r.Reason
	}
	fmt.Fprintf(&b, "chi-square test %q %s\n", r.Name, verdict)
	fmt.Fprintf(&b, "  chi2 = %.6g, dof = %d, p = %.4g (alpha = %.3g)\n", r.Chi2, r.Dof, r.PValue, r.Alpha)
	fmt.Fprintf(&b, "  samples = %d, elsewhere = %d, invalid = %d, pdf integral over grid = %.9g\n",
		r.Samples, r.Elsewhere, r.Invalid, r.PdfIntegral)
	if len(r.Worst) > 0 {
		b.WriteString("  largest contributions:\n")
		for _, c := range r.Worst {
			fmt.Fprintf(&b, "    %-48s observed %9.0f expected %11.3f  (o-e)^2/e = %.4g\n",
				c.Label, c.Observed, c.Expected, c.Contribution)
		}
	}
	return b.String()
}

// Run draws the samples and tests them.
func (s *SphereTest) Run() Result {
	g := sphereGrid(s.CosThetaRes, s.PhiRes)
	if (s.Sample == nil) == (s.Sample3 == nil) || s.Pdf == nil {
		panic("stattest: SphereTest needs a Pdf and exactly one of Sample and Sample3")
	}
	draw := func(u mgl64.Vec3) (float64, float64, sampleStatus, string) {
		var d mgl64.Vec3
		var ok bool
		if s.Sample != nil {
			d, ok = s.Sample(mgl64.Vec2{u[0], u[1]})
		} else {
			d, ok = s.Sample3(u)
		}
		if !ok {
			return 0, 0, sampleElsewhere, ""
		}
		l := d.Len()
		if math.IsNaN(l) || math.Abs(l-1) > 1e-6 {
			return 0, 0, sampleInvalid, fmt.Sprintf("direction %v for u = %v is not a unit vector", d, u)
		}
		return d[2], math.Atan2(d[1], d[0]), sampleOK, ""
	}
	label := func(ix, iy int) string {
		za, zb, pa, pb := g.cellBounds(ix, iy)
		return fmt.Sprintf("cos theta [%+.3f, %+.3f] phi [%+.3f, %+.3f]", za, zb, pa, pb)
	}
	return run(s.Options, g, draw, spherePdf2D(s.Pdf), label)
}

// Check runs the test and reports a failure through tb; it returns the
// result for further checks.
func (s *SphereTest) Check(tb testing.TB) Result {
	tb.Helper()
	return report(tb, s.Run())
}

// Run draws the samples and tests them.
func (s *RectTest) Run() Result {
	g := rectGrid(s.Min, s.Max, s.XRes, s.YRes)
	if (s.Sample == nil) == (s.Sample3 == nil) || s.Pdf == nil {
		panic("stattest: RectTest needs a Pdf and exactly one of Sample and Sample3")
	}
	if !(g.x1 > g.x0 && g.y1 > g.y0) {
		panic("stattest: RectTest needs Min < Max")
	}
	draw := func(u mgl64.Vec3) (float64, float64, sampleStatus, string) {
		var p mgl64.Vec2
		var ok bool
		if s.Sample != nil {
			p, ok = s.Sample(mgl64.Vec2{u[0], u[1]})
		} else {
			p, ok = s.Sample3(u)
		}
		if !ok {
			return 0, 0, sampleElsewhere, ""
		}
		if math.IsNaN(p[0]) || math.IsNaN(p[1]) || math.IsInf(p[0], 0) || math.IsInf(p[1], 0) {
			return 0, 0, sampleInvalid, fmt.Sprintf("point %v for u = %v is not finite", p, u)
		}
		return p[0], p[1], sampleOK, ""
	}
	label := func(ix, iy int) string {
		xa, xb, ya, yb := g.cellBounds(ix, iy)
		return fmt.Sprintf("x [%+.4g, %+.4g] y [%+.4g, %+.4g]", xa, xb, ya, yb)
	}
	return run(s.Options, g, draw, rectPdf2D(s.Pdf), label)
}

// Check runs the test and reports a failure through tb; it returns the
// result for further checks.
func (s *RectTest) Check(tb testing.TB) Result {
	tb.Helper()
	return report(tb, s.Run())
}

func report(tb testing.TB, r Result) Result {
	tb.Helper()
	if r.Passed {
		tb.Logf("%q: chi2 = %.6g, dof = %d, p = %.4g (alpha = %.3g)", r.Name, r.Chi2, r.Dof, r.PValue, r.Alpha)
	} else {
		tb.Error(r.String())
	}
	return r
}

type sampleStatus int

const (
	sampleOK sampleStatus = iota
	sampleElsewhere
	sampleInvalid
)

// pdfExcessTolerance is how far above 1 the pdf's integral over the grid may
// be before the pdf is declared not normalised: well above the quadrature's
// error, well below any real normalisation bug.
const pdfExcessTolerance = 1e-4

func run(opt Options, g grid, draw func(u mgl64.Vec3) (x, y float64, st sampleStatus, why string),
	pdf func(x, y float64) float64, label func(ix, iy int) string) Result {
	opt = opt.withDefaults()
	res := Result{
		Name:    opt.Name,
		Samples: opt.SampleCount,
		Alpha:   SidakAlpha(opt.Alpha, opt.TestCount),
		PValue:  math.NaN(),
		Chi2:    math.NaN(),
	}
	n := g.nx * g.ny

	// Histogram.
	obs := make([]float64, n)
	rng := rand.New(rand.NewPCG(opt.Seed, 0x9e3779b97f4a7c15))
	firstInvalid := ""
	for i := 0; i < opt.SampleCount; i++ {
		u := mgl64.Vec3{rng.Float64(), rng.Float64(), rng.Float64()}
		x, y, st, why := draw(u)
		switch st {
		case sampleElsewhere:
			res.Elsewhere++
		case sampleInvalid:
			if res.Invalid == 0 {
				firstInvalid = why
			}
			res.Invalid++
		default:
			if c, ok := g.bin(x, y); ok {
				obs[c]++
			} else {
				res.Elsewhere++
			}
		}
	}
	res.Observed = obs

	// Expected counts.
	integ := g.integrals(pdf, opt.Tolerance)
	res.PdfIntegral = sum(integ)
	exp := make([]float64, n)
	for i, v := range integ {
		if math.IsNaN(v) || v < 0 {
			ix, iy := i%g.nx, i/g.nx
			res.Reason = fmt.Sprintf("pdf integral over cell %s is %g (a NaN, infinite or negative pdf)", label(ix, iy), v)
			return res
		}
		exp[i] = v * float64(opt.SampleCount)
	}
	res.Expected = exp
	if res.Invalid > 0 {
		res.Reason = fmt.Sprintf("%d invalid samples, the first: %s", res.Invalid, firstInvalid)
		return res
	}
	if res.PdfIntegral > 1+pdfExcessTolerance {
		res.Reason = fmt.Sprintf("pdf integrates to %.9g over the domain, more than 1", res.PdfIntegral)
		return res
	}

	// Chi-square over the cells plus the elsewhere category.
	allObs := append(append([]float64(nil), obs...), float64(res.Elsewhere))
	allExp := append(append([]float64(nil), exp...), math.Max(0, 1-res.PdfIntegral)*float64(opt.SampleCount))
	res.Chi2, res.Dof, res.PValue = ChiSquare(allObs, allExp, opt.MinExpected)
	res.Worst = worstCells(allObs, allExp, 6, func(i int) string {
		if i == n {
			return "elsewhere (rejected or outside the grid)"
		}
		return label(i%g.nx, i/g.nx)
	})
	switch {
	case math.IsInf(res.Chi2, 1):
		res.Reason = "samples fall where the pdf integrates to zero"
	case res.Dof < 1:
		res.Reason = "fewer than two cells after pooling: nothing to test (too few samples?)"
	case !(res.PValue >= res.Alpha):
		res.Reason = fmt.Sprintf("p-value %.4g below the significance level %.3g", res.PValue, res.Alpha)
	default:
		res.Passed = true
	}
	return res
}

func worstCells(obs, exp []float64, k int, label func(i int) string) []Cell {
	type ranked struct {
		i int
		c float64
	}
	rs := make([]ranked, 0, len(obs))
	for i := range obs {
		switch {
		case exp[i] > 0:
			rs = append(rs, ranked{i, (obs[i] - exp[i]) * (obs[i] - exp[i]) / exp[i]})
		case obs[i] > 0:
			rs = append(rs, ranked{i, math.Inf(1)})
		}
	}
	sort.SliceStable(rs, func(a, b int) bool { return rs[a].c > rs[b].c })
	if len(rs) > k {
		rs = rs[:k]
	}
	cells := make([]Cell, len(rs))
	for j, r := range rs {
		cells[j] = Cell{Label: label(r.i), Observed: obs[r.i], Expected: exp[r.i], Contribution: r.c}
	}
	return cells
}
