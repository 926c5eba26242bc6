package stattest

import (
	"math"

	"github.com/go-gl/mathgl/mgl64"
)

// Quadrature of a pdf over the cells of a grid: nested adaptive Simpson
// (Lyness, "Notes on the adaptive Simpson quadrature routine", JACM 16(3),
// 1969), the inner integral along the first coordinate, the outer along the
// second. Every interval is split at least simpsonMinDepth times before the
// error estimate is trusted, so that a feature between the first five nodes
// is still seen, and at most simpsonMaxDepth times, which bounds the work at
// a discontinuity (the error there shrinks with the width of the last
// interval, (b-a)/2^simpsonMaxDepth).
const (
	simpsonMinDepth = 2
	simpsonMaxDepth = 20
	// defaultTolerance is the absolute error allowed on the pdf's integral
	// over a whole grid; it is split evenly among the cells.
	defaultTolerance = 1e-8
)

// simpson integrates f over [a, b] to the absolute tolerance eps. It returns
// NaN as soon as f gives a NaN or an infinity.
func simpson(f func(float64) float64, a, b, eps float64) float64 {
	m := 0.5 * (a + b)
	fa, fm, fb := f(a), f(m), f(b)
	return simpsonStep(f, a, m, b, fa, fm, fb, (b-a)/6*(fa+4*fm+fb), eps, 0)
}

func simpsonStep(f func(float64) float64, a, m, b, fa, fm, fb, whole, eps float64, depth int) float64 {
	lm, rm := 0.5*(a+m), 0.5*(m+b)
	flm, frm := f(lm), f(rm)
	left := (m - a) / 6 * (fa + 4*flm + fm)
	right := (b - m) / 6 * (fm + 4*frm + fb)
	delta := left + right - whole
	if math.IsNaN(delta) || math.IsInf(delta, 0) {
		return math.NaN()
	}
	if depth >= simpsonMaxDepth || (depth >= simpsonMinDepth && math.Abs(delta) <= 15*eps) {
		return left + right + delta/15 // Richardson extrapolation
	}
	return simpsonStep(f, a, lm, m, fa, flm, fm, left, eps/2, depth+1) +
		simpsonStep(f, m, rm, b, fm, frm, fb, right, eps/2, depth+1)
}

// integrateCell integrates f(x, y) over [x0, x1] x [y0, y1] to the absolute
// tolerance eps, half of it spent on the inner integrals.
func integrateCell(f func(x, y float64) float64, x0, x1, y0, y1, eps float64) float64 {
	innerEps := eps / (2 * (y1 - y0))
	return simpson(func(y float64) float64 {
		return simpson(func(x float64) float64 { return f(x, y) }, x0, x1, innerEps)
	}, y0, y1, eps/2)
}

// grid is a regular nx x ny grid over [x0, x1] x [y0, y1]; cell (ix, iy) is
// stored at iy*nx + ix.
type grid struct {
	nx, ny         int
	x0, x1, y0, y1 float64
}

func (g grid) cellBounds(ix, iy int) (xa, xb, ya, yb float64) {
	dx := (g.x1 - g.x0) / float64(g.nx)
	dy := (g.y1 - g.y0) / float64(g.ny)
	xa, xb = g.x0+float64(ix)*dx, g.x0+float64(ix+1)*dx
	ya, yb = g.y0+float64(iy)*dy, g.y0+float64(iy+1)*dy
	if ix == g.nx-1 {
		xb = g.x1
	}
	if iy == g.ny-1 {
		yb = g.y1
	}
	return
}

// bin returns the cell holding (x, y) and false when the point is outside
// the closed rectangle (or NaN).
func (g grid) bin(x, y float64) (int, bool) {
	if !(x >= g.x0 && x <= g.x1 && y >= g.y0 && y <= g.y1) {
		return 0, false
	}
	ix := int((x - g.x0) / (g.x1 - g.x0) * float64(g.nx))
	iy := int((y - g.y0) / (g.y1 - g.y0) * float64(g.ny))
	ix = min(max(ix, 0), g.nx-1)
	iy = min(max(iy, 0), g.ny-1)
	return iy*g.nx + ix, true
}

// integrals returns the integral of f over every cell, the whole grid
// being integrated to the absolute tolerance tol.
func (g grid) integrals(f func(x, y float64) float64, tol float64) []float64 {
	if tol <= 0 {
		tol = defaultTolerance
	}
	eps := tol / float64(g.nx*g.ny)
	out := make([]float64, g.nx*g.ny)
	for iy := 0; iy < g.ny; iy++ {
		for ix := 0; ix < g.nx; ix++ {
			xa, xb, ya, yb := g.cellBounds(ix, iy)
			out[iy*g.nx+ix] = integrateCell(f, xa, xb, ya, yb, eps)
		}
	}
	return out
}

// Default grid resolutions. They are odd so that no cell boundary falls on
// the horizon z = 0 or on the middle of the plane rectangle, where sampling
// domains are commonly cut in two: a sample rounded to the wrong side of
// such a cut then still lands in a cell of positive expected count, and the
// quadrature resolves the cut inside the cell (the reason Mitsuba's default
// resolution is odd, too).
const (
	DefaultCosThetaRes = 41
	DefaultPhiRes      = 82
	DefaultRectRes     = 41
)

func sphereGrid(cosThetaRes, phiRes int) grid {
	if cosThetaRes <= 0 {
		cosThetaRes = DefaultCosThetaRes
	}
	if phiRes <= 0 {
		phiRes = DefaultPhiRes
	}
	return grid{nx: cosThetaRes, ny: phiRes, x0: -1, x1: 1, y0: -math.Pi, y1: math.Pi}
}

// SphericalDirection returns the unit direction with cos theta = z and
// azimuth phi about +z.
func SphericalDirection(z, phi float64) mgl64.Vec3 {
	z = math.Max(-1, math.Min(1, z))
	r := math.Sqrt(math.Max(0, 1-z*z))
	s, c := math.Sincos(phi)
	return mgl64.Vec3{r * c, r * s, z}
}

func spherePdf2D(pdf func(mgl64.Vec3) float64) func(z, phi float64) float64 {
	return func(z, phi float64) float64 { return pdf(SphericalDirection(z, phi)) }
}

// IntegratePdfSphere returns the integral of pdf (a density in solid angle)
// over the unit sphere, summed over a cosThetaRes x phiRes grid of
// (cos theta, phi) cells (zero selects the defaults) each integrated by
// nested adaptive Simpson quadrature. It is 1 for a normalised pdf; for a
// BSDF's f*cos it is the albedo.
func IntegratePdfSphere(pdf func(mgl64.Vec3) float64, cosThetaRes, phiRes int) float64 {
	return sum(sphereGrid(cosThetaRes, phiRes).integrals(spherePdf2D(pdf), 0))
}

// IntegratePdfRect returns the integral of pdf (a density in area) over the
// rectangle [lo, hi], summed over an xres x yres grid (zero selects
// DefaultRectRes) of cells each integrated by nested adaptive Simpson
// quadrature.
func IntegratePdfRect(pdf func(mgl64.Vec2) float64, lo, hi mgl64.Vec2, xres, yres int) float64 {
	return sum(rectGrid(lo, hi, xres, yres).integrals(rectPdf2D(pdf), 0))
}

func rectGrid(lo, hi mgl64.Vec2, xres, yres int) grid {
	if xres <= 0 {
		xres = DefaultRectRes
	}
	if yres <= 0 {
		yres = DefaultRectRes
	}
	if lo == (mgl64.Vec2{}) && hi == (mgl64.Vec2{}) {
		hi = mgl64.Vec2{1, 1}
	}
	return grid{nx: xres, ny: yres, x0: lo[0], x1: hi[0], y0: lo[1], y1: hi[1]}
}

func rectPdf2D(pdf func(mgl64.Vec2) float64) func(x, y float64) float64 {
	return func(x, y float64) float64 { return pdf(mgl64.Vec2{x, y}) }
}

// sum adds v with Neumaier's compensated summation.
func sum(v []float64) float64 {
	var s, c float64
	for _, x := range v {
		t := s + x
		if math.Abs(s) >= math.Abs(x) {
			c += (s - t) + x
		} else {
			c += (x - t) + s
		}
		s = t
	}
	return s + c
}
