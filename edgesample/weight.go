package edgesample

import (
	"math"

	"github.com/go-gl/mathgl/mgl64"
)

// The leaf importance of an edge seen from a shading point p with unit
// normal n. The boundary term of edge sampling at p integrates, along the
// edge, the jump of the incident radiance times the cosine at p times the
// measure that converts a length on the edge into an angle on the sphere of
// directions times the angular speed of the edge (Li et al. 2018, section
// 5.2). For an edge point x at distance r from p, with theta the angle
// between x-p and n and phi the angle between x-p and the edge, the
// geometric part is
//
//	g(x) = sin(phi) cos(theta) / r^2,
//
// the integrand redner integrates in closed form for its leaf importance
// (edge.cpp, leaf_importance, with the identity linearly transformed
// cosine). Writing the edge's line as x(l) = p + vo + l w, with w the unit
// direction, vo the foot of the perpendicular from p (|vo| = d) and z(l) =
// n.(x(l)-p) = vo_z + l w_z, g = d z(l) / (d^2 + l^2)^2. Substituting
// t = l/d and theta = atan(t),
//
//	int g dl = 1/(2d) [H(theta1) - H(theta0)],
//	H(theta) = c (theta + sin theta cos theta) + w_z sin^2 theta,
//
// with c = vo_z/d. The edge is first clipped to the half-space z >= 0 above
// p's tangent plane (nothing below it contributes). Differences of H are
// formed from the rational forms of sin and cos of atan(t) to avoid
// cancelling large terms.
//
// d is clamped from below to minDistFrac times the edge's length: as p
// approaches the edge's line the integral grows like 1/d, and an edge that
// passes (numerically) through p, such as an edge of p's own triangle,
// would otherwise swallow the whole distribution. The clamp only changes
// the importance function, which stays exact in the sampler's pmf.
const minDistFrac = 1e-3

// edgeFrame holds what the point sampler needs of an edge clipped to the
// upper half-space: the clipped parameter range [sa, sb] of S, the line
// parameters and the clamped distance.
type edgeFrame struct {
	sa, sb float64 // clipped range of S in [0,1]
	lbase  float64 // l at S = 0: l(S) = lbase + S*length
	length float64
	dc     float64 // clamped distance from p to the edge's line
	t0, t1 float64 // l/dc at sa and sb
	dtheta float64 // atan(t1) - atan(t0)
}

// edgeImportance returns the clipped, cosine-weighted angular measure of
// the edge (v0, v1) seen from p with normal n (zero when no point of the
// edge lies strictly above the plane through p with normal n), and the
// frame for sampling a point on it.
func edgeImportance(v0, v1, p, n mgl64.Vec3) (float64, edgeFrame) {
	return edgeImportanceRange(v0, v1, p, n, 0, 1)
}

// edgeImportanceRange is edgeImportance for the part lo <= S <= hi of the
// edge: the measure of the points of that part above the plane, and the
// frame of that part (its S range is [lo, hi] clipped to the upper
// half-space).
func edgeImportanceRange(v0, v1, p, n mgl64.Vec3, lo, hi float64) (float64, edgeFrame) {
	return edgeImportanceV(vec(v0), vec(v1), vec(p), vec(n), lo, hi)
}

// edgeImportanceV is edgeImportanceRange on v3.
func edgeImportanceV(v0, v1, p, n v3, lo, hi float64) (float64, edgeFrame) {
	var f edgeFrame
	a := v0.sub(p)
	b := v1.sub(p)
	za, zb := n.dot(a), n.dot(b)
	if !(za > 0 || zb > 0) {
		return 0, f
	}
	e := b.sub(a)
	length := e.len()
	if !(length > 0) || math.IsInf(length, 0) {
		return 0, f
	}
	w := e.mul(1 / length)
	sa, sb := lo, hi
	if za < 0 {
		sa = max(sa, za/(za-zb))
	} else if zb < 0 {
		sb = min(sb, za/(za-zb))
	}
	if !(sb > sa) {
		return 0, f
	}
	lbase := a.dot(w)
	vo := a.sub(w.mul(lbase))
	d := vo.len()
	dc := math.Max(d, minDistFrac*length)
	c := n.dot(vo) / dc
	wz := n.dot(w)
	l0 := lbase + sa*length
	l1 := lbase + sb*length
	t0, t1 := l0/dc, l1/dc
	dt := t1 - t0
	dtheta := math.Atan2(dt, 1+t0*t1)
	q := (1 + t0*t0) * (1 + t1*t1)
	dH := c*(dtheta+(1-t0*t1)*dt/q) + wz*dt*(t0+t1)/q
	f = edgeFrame{sa: sa, sb: sb, lbase: lbase, length: length, dc: dc, t0: t0, t1: t1, dtheta: dtheta}
	imp := dH / (2 * dc)
	if !(imp > 0) || math.IsInf(imp, 0) {
		// A point above the plane exists, so the true measure is positive:
		// keep the edge samplable, however rarely.
		imp = tinyImportance
	}
	return imp, f
}

// tinyImportance stands in for an importance that rounds to zero (or
// overflows) although the edge can contribute.
const tinyImportance = 1e-300

// uniformPointFrac is the weight of the uniform component of the point
// sampler: S is uniform on [0,1] with this probability, and follows the
// equi-angular density on the clipped range otherwise. The uniform
// component keeps every point of the edge samplable whatever the caller's
// integrand, and bounds the weight where the equi-angular density is small.
const uniformPointFrac = 0.05

// samplePoint draws S on the edge: with probability uniformPointFrac
// uniformly on [0,1], otherwise equi-angularly on [sa, sb] (the density in
// l proportional to dc / (dc^2 + l^2), the angle the edge's line subtends
// at p; Kulla and Fajardo, "Importance Sampling Techniques for Path
// Tracing in Participating Media", EGSR 2012, section 4). It returns S and
// its density on [0,1].
func (f *edgeFrame) samplePoint(u float64) (s, pdf float64) {
	if u < uniformPointFrac {
		s = u / uniformPointFrac
		return s, f.pointPdf(s)
	}
	s = f.sampleInner((u - uniformPointFrac) / (1 - uniformPointFrac))
	return s, f.pointPdf(s)
}

// sampleInner draws S by the non-uniform component of samplePoint alone:
// equi-angularly on [sa, sb] (uniformly when the angle is degenerate, on
// [0,1] when the range is).
func (f *edgeFrame) sampleInner(u float64) float64 {
	switch f.mode() {
	case pointEquiAngular:
		th0 := math.Atan(f.t0)
		t := math.Tan(th0 + u*f.dtheta)
		t = math.Min(math.Max(t, f.t0), f.t1)
		s := (t*f.dc - f.lbase) / f.length
		return math.Min(math.Max(s, f.sa), f.sb)
	case pointClipped:
		return math.Min(f.sa+u*(f.sb-f.sa), f.sb)
	}
	return u
}

// How the non-uniform component of samplePoint draws S.
const (
	pointEquiAngular = iota // equi-angular on [sa, sb]
	pointClipped            // uniform on [sa, sb] (the angle is degenerate)
	pointWhole              // uniform on [0, 1] (the range is degenerate)
)

func (f *edgeFrame) mode() int {
	if !(f.sb > f.sa) {
		return pointWhole
	}
	if f.dtheta > 0 && f.dc > 0 && !math.IsInf(f.t0, 0) && !math.IsInf(f.t1, 0) {
		return pointEquiAngular
	}
	return pointClipped
}

// pointPdf is the density of samplePoint at S.
func (f *edgeFrame) pointPdf(s float64) float64 {
	if !(s >= 0 && s <= 1) {
		return 0
	}
	return uniformPointFrac + (1-uniformPointFrac)*f.innerPdf(s)
}

// innerPdf is the density of sampleInner at S.
func (f *edgeFrame) innerPdf(s float64) float64 {
	switch f.mode() {
	case pointEquiAngular:
		if s >= f.sa && s <= f.sb {
			t := (f.lbase + s*f.length) / f.dc
			return f.length / (f.dc * (1 + t*t) * f.dtheta)
		}
	case pointClipped:
		if s >= f.sa && s <= f.sb {
			return 1 / (f.sb - f.sa)
		}
	default:
		if s >= 0 && s <= 1 {
			return 1
		}
	}
	return 0
}
