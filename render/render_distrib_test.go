package render_test

import (
	"math"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/geom"
	"github.com/invrender/invrender/internal/stattest"
	"github.com/invrender/invrender/render"
)

// TestDistribution1DPMF checks the probabilities against the weights by
// hand, including the weights read as zero (negative, NaN) and the uniform
// fallback when every weight is zero.
func TestDistribution1DPMF(t *testing.T) {
	cases := []struct {
		f    []float64
		want []float64
	}{
		{[]float64{1, 0, 3, 2, 0, 4}, []float64{0.1, 0, 0.3, 0.2, 0, 0.4}},
		{[]float64{-1, math.NaN(), 2, 6}, []float64{0, 0, 0.25, 0.75}},
		{[]float64{0, 0, 0, 0}, []float64{0.25, 0.25, 0.25, 0.25}},
		{[]float64{5}, []float64{1}},
		{[]float64{0, 0, 7}, []float64{0, 0, 1}},
	}
	for _, c := range cases {
		d := render.NewDistribution1D(c.f)
		if d.Len() != len(c.f) || d.CDF[0] != 0 || d.CDF[len(c.f)] != 1 {
			t.Errorf("%v: Len %d, CDF ends %v, %v", c.f, d.Len(), d.CDF[0], d.CDF[len(c.f)])
		}
		for i, w := range c.want {
			if p := d.PMF(i); math.Abs(p-w) > 1e-15 {
				t.Errorf("%v: PMF(%d) = %v, want %v", c.f, i, p, w)
			}
		}
		// The extreme variates pick the first and last items with a
		// non-zero probability, never a zero-probability one.
		for _, u := range []float64{0, 1e-300, 0.1, 0.3, 0.4, 0.6, 1 - 0x1p-53} {
			i, pmf, ur := d.SampleDiscrete(u)
			if c.want[i] == 0 || pmf != d.PMF(i) || !(ur >= 0 && ur < 1) {
				t.Errorf("%v: SampleDiscrete(%v) = %d, %v, %v", c.f, u, i, pmf, ur)
			}
		}
	}
}

// TestDistribution1DSampling is a chi-square test of SampleDiscrete's item
// frequencies against PMF, and of the remapped variate's uniformity within
// the item (ten bins per item), at significance 1e-3 each; and a check
// that SampleContinuous returns the density PMF * n of the segment its x
// falls in.
func TestDistribution1DSampling(t *testing.T) {
	f := []float64{0.5, 3, 0, 1, 7, 0.01, 2, 0, 4}
	d := render.NewDistribution1D(f)
	const n = 200000
	obs := make([]float64, len(f)*10)
	rng := geom.NewRNG(11, 0, 0, 0)
	for k := 0; k < n; k++ {
		u := rng.Float64()
		i, pmf, ur := d.SampleDiscrete(u)
		if pmf != d.PMF(i) {
			t.Fatalf("SampleDiscrete(%v): pmf %v, PMF %v", u, pmf, d.PMF(i))
		}
		obs[10*i+min(int(ur*10), 9)]++
		x, pdf, j := d.SampleContinuous(u)
		if j != i || int(x*float64(len(f))) != i || math.Abs(pdf-d.PMF(i)*float64(len(f))) > 1e-12 {
			t.Fatalf("SampleContinuous(%v) = %v, %v, %d; SampleDiscrete gave %d", u, x, pdf, j, i)
		}
	}
	exp := make([]float64, len(obs))
	for i := range f {
		for b := 0; b < 10; b++ {
			exp[10*i+b] = n * d.PMF(i) / 10
		}
	}
	if chi2, dof, p := stattest.ChiSquare(obs, exp, 0); p < 1e-3 {
		t.Errorf("chi-square %.1f with %d dof, p = %.3g", chi2, dof, p)
	}
}

// TestDistribution2D tests the 2D distribution's samples against its Pdf
// with the chi-square test of package stattest over a 41 x 41 grid whose
// cells do not line up with the distribution's, and checks that Sample's
// density is Pdf at the sampled point.
func TestDistribution2D(t *testing.T) {
	const nu, nv = 7, 5
	f := make([]float64, nu*nv)
	for v := 0; v < nv; v++ {
		for u := 0; u < nu; u++ {
			f[v*nu+u] = float64((u*3+v*5)%7) + 0.5*float64(u)
		}
	}
	f[2*nu+3] = 0
	for u := 0; u < nu; u++ {
		f[4*nu+u] = 0 // an empty row
	}
	d := render.NewDistribution2D(f, nu, nv)
	if got := stattest.IntegratePdfRect(func(p mgl64.Vec2) float64 { return d.Pdf(p[0], p[1]) }, mgl64.Vec2{0, 0}, mgl64.Vec2{1, 1}, 0, 0); math.Abs(got-1) > 1e-6 {
		t.Errorf("Pdf integrates to %v", got)
	}
	test := stattest.RectTest{
		Options: stattest.Options{Name: "Distribution2D", SampleCount: 200000},
		Sample: func(u mgl64.Vec2) (mgl64.Vec2, bool) {
			uv, pdf := d.Sample(u[0], u[1])
			if want := d.Pdf(uv[0], uv[1]); math.Abs(pdf-want) > 1e-12*want {
				t.Fatalf("Sample(%v) = %v with density %v, Pdf says %v", u, uv, pdf, want)
			}
			return mgl64.Vec2{uv[0], uv[1]}, true
		},
		Pdf: func(p mgl64.Vec2) float64 { return d.Pdf(p[0], p[1]) },
	}
	test.Check(t)
}
