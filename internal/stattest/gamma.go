package stattest

import "math"

// Regularised incomplete gamma functions, computed as in Press, Teukolsky,
// Vetterling and Flannery, Numerical Recipes, 3rd ed., section 6.2: the
// power series for x < a+1 and Legendre's continued fraction, evaluated by
// the modified Lentz method, otherwise. Each form converges quickly where it
// is used, and the tail Q is computed directly (never as 1-P) where it is
// small, so tiny p-values keep their relative precision.

const (
	gammaEps   = 1e-15   // relative convergence threshold of both expansions
	gammaTiny  = 1e-300  // Lentz's guard against division by zero
	gammaIters = 1 << 20 // far beyond the O(sqrt(a)) terms either form needs
)

// GammaP returns the regularised lower incomplete gamma function
// P(a, x) = gamma(a, x) / Gamma(a) for a > 0 and x >= 0; NaN otherwise.
func GammaP(a, x float64) float64 {
	if !gammaArgsOK(a, x) {
		return math.NaN()
	}
	if x == 0 {
		return 0
	}
	if math.IsInf(x, 1) {
		return 1
	}
	if x < a+1 {
		return gammaSeries(a, x)
	}
	return 1 - gammaContinuedFraction(a, x)
}

// GammaQ returns the regularised upper incomplete gamma function
// Q(a, x) = 1 - P(a, x) = Gamma(a, x) / Gamma(a) for a > 0 and x >= 0; NaN
// otherwise.
func GammaQ(a, x float64) float64 {
	if !gammaArgsOK(a, x) {
		return math.NaN()
	}
	if x == 0 {
		return 1
	}
	if math.IsInf(x, 1) {
		return 0
	}
	if x < a+1 {
		return 1 - gammaSeries(a, x)
	}
	return gammaContinuedFraction(a, x)
}

// ChiSquareSurvival returns the probability that a chi-square variable with
// dof degrees of freedom exceeds chi2: the p-value of the statistic chi2.
// It is Q(dof/2, chi2/2). dof must be positive; chi2 = +Inf gives 0.
func ChiSquareSurvival(chi2 float64, dof int) float64 {
	if dof <= 0 {
		return math.NaN()
	}
	if chi2 <= 0 {
		return 1
	}
	return GammaQ(0.5*float64(dof), 0.5*chi2)
}

func gammaArgsOK(a, x float64) bool {
	return a > 0 && !math.IsInf(a, 1) && x >= 0 // NaN fails every comparison
}

// gammaPrefactor returns x^a e^-x / Gamma(a), in logarithms to survive
// large a and x.
func gammaPrefactor(a, x float64) float64 {
	lg, _ := math.Lgamma(a)
	return math.Exp(a*math.Log(x) - x - lg)
}

// gammaSeries returns P(a, x) from the series
// P(a, x) = x^a e^-x / Gamma(a) * sum_n x^n / (a (a+1) ... (a+n)),
// whose terms decrease once a+n > x (Numerical Recipes eq. 6.2.5).
func gammaSeries(a, x float64) float64 {
	ap := a
	term := 1 / a
	sum := term
	for i := 0; i < gammaIters; i++ {
		ap++
		term *= x / ap
		sum += term
		if math.Abs(term) < math.Abs(sum)*gammaEps {
			break
		}
	}
	return sum * gammaPrefactor(a, x)
}

// gammaContinuedFraction returns Q(a, x) from the even part of Legendre's
// continued fraction
// Q(a, x) = x^a e^-x / Gamma(a) * 1/(x+1-a- 1(1-a)/(x+3-a- 2(2-a)/(x+5-a- ...)))
// (Numerical Recipes eq. 6.2.7), evaluated front to back by modified Lentz.
func gammaContinuedFraction(a, x float64) float64 {
	b := x + 1 - a
	c := 1 / gammaTiny
	d := 1 / b
	h := d
	for i := 1; i < gammaIters; i++ {
		an := -float64(i) * (float64(i) - a)
		b += 2
		d = an*d + b
		if math.Abs(d) < gammaTiny {
			d = gammaTiny
		}
		c = b + an/c
		if math.Abs(c) < gammaTiny {
			c = gammaTiny
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < gammaEps {
			break
		}
	}
	return h * gammaPrefactor(a, x)
}
