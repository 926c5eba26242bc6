package stattest

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestChiSquareHandComputed(t *testing.T) {
	tests := []struct {
		name     string
		obs, exp []float64
		chi2     float64
		dof      int
		p        float64
	}{
		{
			name: "no pooling",
			obs:  []float64{10, 20, 30}, exp: []float64{20, 20, 20},
			chi2: 10, dof: 2, p: math.Exp(-5), // Q(1, 5)
		},
		{
			// Sorted expected 1,2,3 | 4 | 40 | 50: the first three pool to
			// (6 obs, 6 exp), 4 starts a pool that ends unfinished.
			name: "pooling",
			obs:  []float64{0, 3, 3, 6, 45, 43}, exp: []float64{1, 2, 3, 4, 50, 40},
			chi2: 0 + 9.0/40 + 25.0/50 + 4.0/4, dof: 3, p: GammaQ(1.5, (9.0/40+25.0/50+1)/2),
		},
		{
			name: "empty cells skipped",
			obs:  []float64{0, 10, 0, 30}, exp: []float64{0, 20, 0, 20},
			chi2: 10, dof: 1, p: math.Erfc(math.Sqrt(5)), // Q(1/2, 5)
		},
		{
			name: "impossible observation",
			obs:  []float64{1, 10, 29}, exp: []float64{0, 20, 20},
			chi2: math.Inf(1), dof: 0, p: 0,
		},
		{
			name: "single cell",
			obs:  []float64{40}, exp: []float64{40},
			chi2: 0, dof: 0, p: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			chi2, dof, p := ChiSquare(tc.obs, tc.exp, 5)
			if relErr(chi2, tc.chi2) > 1e-14 || dof != tc.dof || relErr(p, tc.p) > 1e-12 {
				t.Errorf("got chi2=%.17g dof=%d p=%.17g, want chi2=%.17g dof=%d p=%.17g", chi2, dof, p, tc.chi2, tc.dof, tc.p)
			}
		})
	}
}

// TestChiSquareCalibrated draws multinomial histograms from their own
// expected counts and checks that the p-values are uniform: a procedure that
// miscounts the degrees of freedom (with or without pooling) would make
// them pile up at one end.
func TestChiSquareCalibrated(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const cells, samples, trials = 40, 400, 500
	// Probabilities from 0.1% to 10%: many cells are pooled.
	prob := make([]float64, cells)
	var total float64
	for i := range prob {
		prob[i] = math.Pow(100, float64(i)/(cells-1))
		total += prob[i]
	}
	cdf := make([]float64, cells)
	exp := make([]float64, cells)
	var acc float64
	for i := range prob {
		prob[i] /= total
		acc += prob[i]
		cdf[i] = acc
		exp[i] = prob[i] * samples
	}
	var below10, below1 int
	var meanP float64
	obs := make([]float64, cells)
	for range trials {
		clear(obs)
		for range samples {
			u := rng.Float64()
			i := 0
			for i < cells-1 && u >= cdf[i] {
				i++
			}
			obs[i]++
		}
		_, _, p := ChiSquare(obs, exp, 5)
		meanP += p / trials
		if p < 0.1 {
			below10++
		}
		if p < 0.01 {
			below1++
		}
	}
	// Binomial(500, 0.1) has mean 50 and standard deviation 6.7; allow four.
	if below10 < 23 || below10 > 77 {
		t.Errorf("%d of %d p-values below 0.1, want about 50", below10, trials)
	}
	if below1 > 15 { // mean 5, sd 2.2
		t.Errorf("%d of %d p-values below 0.01, want about 5", below1, trials)
	}
	if math.Abs(meanP-0.5) > 0.06 { // sd of the mean of 500 uniforms: 0.013
		t.Errorf("mean p-value %.3f, want about 0.5", meanP)
	}
}

func TestSidakAlpha(t *testing.T) {
	if a := SidakAlpha(0.01, 1); a != 0.01 {
		t.Errorf("SidakAlpha(0.01, 1) = %g", a)
	}
	for _, k := range []int{2, 10, 1000} {
		a := SidakAlpha(0.01, k)
		if family := 1 - math.Pow(1-a, float64(k)); relErr(family, 0.01) > 1e-10 {
			t.Errorf("k=%d: per-test %g gives family level %g, want 0.01", k, a, family)
		}
		if a >= 0.01 || a < 0.01/float64(k) {
			t.Errorf("k=%d: per-test %g outside [alpha/k, alpha)", k, a)
		}
	}
}
