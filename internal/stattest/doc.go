// Package stattest holds the statistical tests the renderer's sampling
// routines are checked with: Pearson's chi-square goodness-of-fit test of a
// sampler against the density it claims, on the sphere of directions and on
// a rectangle of the plane.
//
// The method follows Mitsuba's ChiSquareTest (mitsuba/python/chi2.py) and
// pbrt's sampling tests. N samples are drawn from the sampler with a fixed
// seed and histogrammed over a grid; the expected count of each cell is N
// times the integral of the claimed pdf over the cell, computed by nested
// adaptive Simpson quadrature (so that discontinuities inside a cell, such as
// a hemisphere's horizon or a disk's rim, are resolved); cells whose expected
// count is below a threshold are pooled (five by default, the usual rule of
// thumb of Cochran, "Some methods for strengthening the common chi-square
// tests", Biometrics 10(4), 1954); and the p-value of the statistic is the
// regularised upper incomplete gamma function Q(dof/2, chi2/2) (Press et al.,
// Numerical Recipes, 3rd ed., section 6.2). When a test is repeated k times
// the significance level alpha is Sidak-corrected to 1-(1-alpha)^(1/k), so
// that the chance of any false alarm over all k tests stays alpha.
//
// Samples the sampler rejects (its ok result is false) and, on the plane,
// samples that fall outside the histogrammed rectangle form one more
// category, "elsewhere", whose expected count is N times one minus the pdf's
// integral over the grid. A sampler that may fail (a BSDF that sometimes
// returns no direction) is therefore tested against a pdf that integrates to
// its success probability.
//
// Sphere coordinates. A unit direction d is binned by (cos theta, phi) =
// (d.z, atan2(d.y, d.x)) over [-1, 1] x [-pi, pi]; a cell of that rectangle
// has a solid angle equal to its area, so the integrals are plain area
// integrals in (z, phi).
//
// The package is for tests only; it allocates freely and is not tuned for
// speed beyond keeping a million-sample test well under a second.
package stattest
