package stattest

import (
	"math"
	"testing"
)

func relErr(got, want float64) float64 {
	if got == want {
		return 0
	}
	return math.Abs(got-want) / math.Max(math.Abs(want), 1e-300)
}

// TestGammaQInteger checks Q(n, x) for integer n against the Poisson sum
// Q(n, x) = e^-x sum_{k<n} x^k/k!, an expression independent of both
// expansions of the implementation.
func TestGammaQInteger(t *testing.T) {
	for _, n := range []int{1, 2, 3, 5, 8, 13, 21, 34, 55} {
		for _, x := range []float64{1e-3, 0.1, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 150} {
			var want float64
			for k := 0; k < n; k++ {
				lg, _ := math.Lgamma(float64(k + 1))
				want += math.Exp(-x + float64(k)*math.Log(x) - lg)
			}
			got := GammaQ(float64(n), x)
			if relErr(got, want) > 1e-12 {
				t.Errorf("Q(%d, %g) = %.17g, want %.17g (rel err %.2g)", n, x, got, want, relErr(got, want))
			}
			if p := GammaP(float64(n), x); math.Abs(p+got-1) > 1e-15 {
				t.Errorf("P(%d, %g) + Q = %.17g, want 1", n, x, p+got)
			}
		}
	}
}

// TestGammaQHalfInteger checks half-integer a (odd chi-square degrees of
// freedom) against Q(1/2, x) = erfc(sqrt x) and the upward recurrence
// Q(a+1, x) = Q(a, x) + x^a e^-x / Gamma(a+1).
func TestGammaQHalfInteger(t *testing.T) {
	for _, x := range []float64{1e-4, 0.3, 1, 3, 7.5, 12, 30, 60} {
		want := math.Erfc(math.Sqrt(x))
		for a := 0.5; a < 40; a++ {
			got := GammaQ(a, x)
			if relErr(got, want) > 1e-11 {
				t.Errorf("Q(%g, %g) = %.17g, want %.17g (rel err %.2g)", a, x, got, want, relErr(got, want))
			}
			lg, _ := math.Lgamma(a + 1)
			want += math.Exp(a*math.Log(x) - x - lg)
		}
	}
}

// TestGammaQSwitch checks that the series and the continued fraction agree
// where the implementation switches between them (x = a+1), through the
// recurrence across the switch.
func TestGammaQSwitch(t *testing.T) {
	for _, a := range []float64{0.7, 3.3, 17.25, 250.5, 4000.1} {
		for _, dx := range []float64{-1e-9, 0, 1e-9, 0.5, -0.5} {
			x := a + 1 + dx
			lg, _ := math.Lgamma(a + 1)
			lhs := GammaQ(a+1, x)
			rhs := GammaQ(a, x) + math.Exp(a*math.Log(x)-x-lg)
			if relErr(lhs, rhs) > 1e-11 {
				t.Errorf("a=%g x=%g: Q(a+1,x) = %.17g, Q(a,x)+term = %.17g", a, x, lhs, rhs)
			}
		}
	}
}

// TestChiSquareSurvivalTable checks p-values against printed upper critical
// values of the chi-square distribution (NIST/SEMATECH e-Handbook of
// Statistical Methods, section 1.3.6.7.4). The table rounds to three
// decimals, which moves p by at most a few parts in 1e4.
func TestChiSquareSurvivalTable(t *testing.T) {
	alphas := []float64{0.10, 0.05, 0.025, 0.01, 0.001}
	table := []struct {
		dof  int
		crit [5]float64
	}{
		{1, [5]float64{2.706, 3.841, 5.024, 6.635, 10.828}},
		{2, [5]float64{4.605, 5.991, 7.378, 9.210, 13.816}},
		{5, [5]float64{9.236, 11.070, 12.833, 15.086, 20.515}},
		{10, [5]float64{15.987, 18.307, 20.483, 23.209, 29.588}},
		{20, [5]float64{28.412, 31.410, 34.170, 37.566, 45.315}},
		{50, [5]float64{63.167, 67.505, 71.420, 76.154, 86.661}},
		{100, [5]float64{118.498, 124.342, 129.561, 135.807, 149.449}},
	}
	for _, row := range table {
		for i, x := range row.crit {
			if p := ChiSquareSurvival(x, row.dof); relErr(p, alphas[i]) > 2e-3 {
				t.Errorf("p(chi2=%g, dof=%d) = %.6g, want %g", x, row.dof, p, alphas[i])
			}
		}
	}
}

// TestChiSquareSurvivalLargeDof checks the large-dof regime a histogram of
// thousands of cells lives in, against two asymptotic results: the median
// expansion Q(a, a) = 1/2 - 1/(3 sqrt(2 pi a)) + O(1/a) (Ramanujan's
// problem on the Poisson median: the median of Gamma(a) is near a - 1/3), and the
// Wilson-Hilferty cube-root normal approximation of the chi-square quantile.
func TestChiSquareSurvivalLargeDof(t *testing.T) {
	for _, a := range []float64{1e4, 1e6} {
		want := 0.5 - 1/(3*math.Sqrt(2*math.Pi*a))
		if got := GammaQ(a, a); math.Abs(got-want) > 2/a {
			t.Errorf("Q(%g, %g) = %.12g, want %.12g", a, a, got, want)
		}
	}
	for _, k := range []int{1000, 3000, 10000} {
		for _, c := range []struct{ alpha, z float64 }{{0.01, 2.326347874}, {0.5, 0}, {0.99, -2.326347874}} {
			h := 2 / (9 * float64(k))
			x := float64(k) * math.Pow(1-h+c.z*math.Sqrt(h), 3)
			if p := ChiSquareSurvival(x, k); math.Abs(p-c.alpha) > 2e-3*c.alpha+1e-4 {
				t.Errorf("p(chi2=%g, dof=%d) = %.6g, want about %g", x, k, p, c.alpha)
			}
		}
	}
}

func TestGammaEdgeCases(t *testing.T) {
	if q := GammaQ(2, 0); q != 1 {
		t.Errorf("Q(2, 0) = %g, want 1", q)
	}
	if q := GammaQ(2, math.Inf(1)); q != 0 {
		t.Errorf("Q(2, Inf) = %g, want 0", q)
	}
	if p := ChiSquareSurvival(math.Inf(1), 5); p != 0 {
		t.Errorf("p(Inf) = %g, want 0", p)
	}
	if p := ChiSquareSurvival(0, 5); p != 1 {
		t.Errorf("p(0) = %g, want 1", p)
	}
	if q := GammaQ(1, 745); !(q >= 0 && q < 1e-300) {
		t.Errorf("Q(1, 745) = %g, want a tiny non-negative number", q)
	}
	for _, c := range [][2]float64{{0, 1}, {-1, 1}, {1, -1}, {math.NaN(), 1}, {1, math.NaN()}, {math.Inf(1), 1}} {
		if q := GammaQ(c[0], c[1]); !math.IsNaN(q) {
			t.Errorf("Q(%g, %g) = %g, want NaN", c[0], c[1], q)
		}
		if p := GammaP(c[0], c[1]); !math.IsNaN(p) {
			t.Errorf("P(%g, %g) = %g, want NaN", c[0], c[1], p)
		}
	}
}
