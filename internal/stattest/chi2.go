package stattest

import (
	"math"
	"sort"
)

// DefaultMinExpected is the expected count below which cells are pooled.
const DefaultMinExpected = 5

// ChiSquare returns Pearson's statistic sum (O-E)^2/E of the observed counts
// against the expected counts, its degrees of freedom and its p-value (the
// probability that a correct sampler gives a statistic at least as large).
//
// Cells are visited in increasing order of expected count; cells whose
// expected count is below minExpected (DefaultMinExpected when minExpected
// <= 0) are pooled, a pool being closed as soon as its expected count exceeds
// minExpected, and a final partial pool counting as one cell, as Mitsuba's
// chi2 does. Cells with zero expected and zero observed count are skipped.
// The degrees of freedom are the number of cells after pooling minus one
// (the totals are fixed). A cell with zero expected count but a positive
// observed count is an impossible outcome: the statistic is +Inf and the
// p-value 0. With fewer than two cells after pooling there is nothing to
// test: dof is 0 and the p-value 1.
//
// observed and expected must have the same length; the expected counts must
// sum to the number of samples (add a cell for samples that fall nowhere).
func ChiSquare(observed, expected []float64, minExpected float64) (chi2 float64, dof int, pvalue float64) {
	if len(observed) != len(expected) {
		panic("stattest: ChiSquare: observed and expected differ in length")
	}
	if minExpected <= 0 {
		minExpected = DefaultMinExpected
	}
	idx := make([]int, 0, len(expected))
	for i, e := range expected {
		if e <= 0 || math.IsNaN(e) {
			if observed[i] > 0 {
				return math.Inf(1), 0, 0
			}
			continue
		}
		idx = append(idx, i)
	}
	sort.SliceStable(idx, func(a, b int) bool { return expected[idx[a]] < expected[idx[b]] })

	cells := 0
	var poolObs, poolExp float64
	pooling := false
	for _, i := range idx {
		o, e := observed[i], expected[i]
		if e < minExpected {
			poolObs += o
			poolExp += e
			pooling = true
			if poolExp > minExpected {
				chi2 += (poolObs - poolExp) * (poolObs - poolExp) / poolExp
				cells++
				poolObs, poolExp, pooling = 0, 0, false
			}
			continue
		}
		chi2 += (o - e) * (o - e) / e
		cells++
	}
	if pooling {
		chi2 += (poolObs - poolExp) * (poolObs - poolExp) / poolExp
		cells++
	}
	dof = cells - 1
	if dof < 1 {
		return chi2, 0, 1
	}
	return chi2, dof, ChiSquareSurvival(chi2, dof)
}

// SidakAlpha returns the per-test significance level that keeps the chance
// of at least one false rejection among tests independent tests at alpha:
// 1 - (1-alpha)^(1/tests) (Sidak, "Rectangular confidence regions for the
// means of multivariate normal distributions", JASA 62, 1967).
func SidakAlpha(alpha float64, tests int) float64 {
	if tests <= 1 {
		return alpha
	}
	// -expm1(log1p(-alpha)/k) keeps precision for small alpha.
	return -math.Expm1(math.Log1p(-alpha) / float64(tests))
}
