package edgesample

import (
	"math"
)

// The importance functions of the secondary sampler's descent. They only
// shape the distribution: Sample, Pmf and Pdf evaluate the same functions
// on the same stored values, so any positive function keeps the densities
// exact, and a zero is returned only where no edge below can contribute.
// They are therefore written for speed: everything that does not depend
// on the shading point is precomputed per node (secNode) and per edge
// (secEdge), the distance to a node's centre and the angular radius of
// its bounding sphere are computed once and shared by the importance and
// the cone factor (nodeGeo), the arithmetic runs on v3, and inverse
// trigonometric functions are replaced by fastAtan2 (relative error below
// 1e-7) wherever they only shape the estimate; the tests that cull nodes
// stay exact.

// nodeGeo is what the importance of a node and its cone factor share: the
// node's box [mn, mx], its centre c, the vector v from p to c and the
// bounding sphere (radius r about c). When d2 = |v|^2 exceeds r^2, dist =
// |v|, inv = 1/dist, and the sphere subtends the half-angle whose sine and
// cosine are sinV and cosV.
type nodeGeo struct {
	mn, mx, c, v v3
	d2, r, r2    float64
	dist, inv    float64
	sinV, cosV   float64
}

// geometry fills g for the node seen from p.
func (nd *secNode) geometry(p v3, g *nodeGeo) {
	g.mn = f32vec(&nd.lo)
	g.mx = f32vec(&nd.hi)
	g.c = v3{0.5 * (g.mn.x + g.mx.x), 0.5 * (g.mn.y + g.mx.y), 0.5 * (g.mn.z + g.mx.z)}
	g.v = g.c.sub(p)
	g.d2 = g.v.dot(g.v)
	g.r = float64(nd.rad)
	g.r2 = g.r * g.r
	if g.d2 > g.r2 {
		g.dist = math.Sqrt(g.d2)
		g.inv = 1 / g.dist
		g.sinV = g.r * g.inv
		g.cosV = math.Sqrt(g.d2-g.r2) * g.inv
	} else {
		g.dist, g.inv, g.sinV, g.cosV = 0, 0, 0, 0
	}
}

// nodeImportance estimates the importance of an inner node seen from p
// with normal n (g its geometry from p):
//
//	L * cosBound / dist^2,
//
// with L the node's effective edge length (effLength), dist the distance
// from p to the box's centre clamped from below to the radius R of the
// node's bounding sphere about that centre (so that nodes around or next
// to p get a finite weight comparable to their children's), and cosBound
// bounding the cosine between n and the directions to the node: the
// smaller of the cone bound of the bounding sphere (the angle to its centre
// minus its angular radius; Conty Estevez and Kulla 2018, section 5.1) and
// the node's greatest height above the plane (over the box and the sphere)
// over the clamped distance. It is zero exactly when the node lies on or
// below the plane, or when effLength proves that no edge of the node is a
// candidate from p; positive otherwise.
func nodeImportance(nd *secNode, g *nodeGeo, p, n v3) float64 {
	nv := n.dot(g.v)
	// The sphere about the centre holding the edges bounds the height too.
	hmax := min(boxMaxV(g.mn, g.mx, p, n), nv+g.r)
	if !(hmax > 0) {
		return 0
	}
	L := effLength(nd, g, p)
	if !(L > 0) {
		return 0
	}
	d2 := max(g.d2, g.r2)
	if !(d2 > 0) {
		return tinyImportance
	}
	cosB, dist := 1.0, g.r
	if g.d2 > g.r2 {
		dist = g.dist
		if cos1 := nv * g.inv; cos1 < g.cosV {
			sin1 := math.Sqrt(max(0, 1-cos1*cos1))
			cosB = max(0, cos1*g.cosV+sin1*g.sinV)
		}
	}
	cosB = min(cosB, hmax/dist)
	imp := L * cosB / d2
	if !(imp > 0) {
		return tinyImportance
	}
	if math.IsInf(imp, 1) {
		return math.MaxFloat64
	}
	return imp
}

// effLength returns the length of a node's edges that may be candidates
// from p, estimated with the normal cone of their faces (Sander et al.
// 2000, sections 4.1 and 4.2): lA always counts; lS (edges that are
// candidates where they are silhouettes, stored with the factor
// pi/(2 theta) of silhouetteBoost, theta the normal cone's half-angle: see
// the package documentation) counts unless the cones prove that all faces
// face p or all face away (then none is a silhouette), times the relative
// length of the arc that the silhouette's normals (those perpendicular to
// the direction to p) cut across the cone, sqrt(1 - (cos(phi)/sin(theta'))^2);
// the one-sided Sharp edges' lF counts in proportion to an estimate of the
// fraction of faces facing p: 1 when all do, 0 when none does, and in
// between 1/2 + cos(phi)/(2 sin(theta')) clamped to [minFront, 1]. The
// proofs: p inside the node's back (front) anchored cone; or, the
// directions from the node's bounding sphere (radius R about the box's
// centre) to p lying in a cone about p - centre of half-angle
// asin(R/|p - centre|), phi the angle between that axis and the normal
// cone's and theta' the sum of the two half-angles, all faces face p when
// phi + theta' < pi/2 and all face away when phi - theta' > pi/2. The
// stored sine of the normal cone's half-angle is rounded up, which only
// widens the cone. It is zero only when no edge of the node can be a
// candidate.
func effLength(nd *secNode, g *nodeGeo, p v3) float64 {
	cosT := float64(nd.cosT)
	lA := float64(nd.lA)
	if cosT == emptyCone {
		return lA
	}
	lS, lF := float64(nd.lS), float64(nd.lF)
	if cosT <= -1 {
		return lA + lS + 0.5*lF
	}
	sinT := float64(nd.sinT)
	axis := f32vec(&nd.axis)
	if nd.hasAnchors() {
		// The anchored cones (secBuilder.anchors): p inside the back one
		// sees every face from behind, inside the front one from the
		// front. The margin covers the rounding of the tests.
		sinM := sinT + anchorMargin
		s2 := sinM * sinM
		v := p.sub(g.c.add(axis.mul(float64(nd.tB))))
		if x := -axis.dot(v); x > 0 && x*x > s2*v.dot(v) {
			return lA // all face away
		}
		v = p.sub(g.c.add(axis.mul(float64(nd.tF))))
		if x := axis.dot(v); x > 0 && x*x > s2*v.dot(v) {
			return lA + lF // all face p
		}
	}
	if !(g.d2 > g.r2*(1+1e-9)) {
		return lA + lS + 0.5*lF
	}
	cosTh := cosT*g.cosV - sinT*g.sinV
	sinTh := sinT*g.cosV + cosT*g.sinV
	cosPhi := -axis.dot(g.v) * g.inv
	if !(cosTh > cullMargin) {
		// theta' >= pi/2: nothing is proven.
		return lA + lS + max(minFront, 0.5+0.5*cosPhi)*lF
	}
	sinPhi := math.Sqrt(max(0, 1-cosPhi*cosPhi))
	if cosPhi*cosTh-sinPhi*sinTh > cullMargin {
		return lA + lF // all face p
	}
	if cosPhi*cosTh+sinPhi*sinTh < -cullMargin {
		return lA // all face away
	}
	x := cosPhi / sinTh
	f := min(1, max(minFront, 0.5+0.5*x))
	// The silhouette runs where the normals turn away from p: the great
	// circle of normals perpendicular to the direction to p crosses the
	// cone (of half-angle theta') along an arc of relative length
	// sqrt(1 - (cos(phi)/sin(theta'))^2).
	gs := max(minFront, math.Sqrt(max(0, 1-x*x)))
	return lA + gs*lS + f*lF
}

// candWeight is candidateWeightN on v3: the expected jump of a cached edge
// (flags fl, Jump jump, side normals m0 and m1) seen from p, a = v0-p.
func candWeight(fl uint8, jump float64, a, m0, m1 v3) float64 {
	if fl&cAlways != 0 {
		return 1
	}
	s0, s1 := a.dot(m0), a.dot(m1)
	if silhouetteSides(s0, s1) {
		return 1
	}
	if fl&cSharp != 0 && sharpFacing(fl, s0, s1) {
		return jump
	}
	return 0
}

// edgeWeight returns the importance of the part lo <= S <= hi of the leaf
// edge rec seen from p with normal n, given a = v0-p, za = n.a, zb =
// n.(v1-p) and its expected jump jw > 0: jw times the clipped,
// cosine-weighted angular measure of edgeImportanceRange (same closed
// form, the edge clipped to the upper half-space, the distance to its line
// clamped to minDistFrac of its length), evaluated with the record's
// float32 direction and length and fastAtan2. It is zero when no point of
// the part lies above the plane and positive otherwise.
func edgeWeight(rec *secEdge, a, n v3, za, zb, lo, hi, jw float64) float64 {
	sa, sb := lo, hi
	if za < 0 {
		sa = max(sa, za/(za-zb))
	} else if zb < 0 {
		sb = min(sb, za/(za-zb))
	}
	if !(sb > sa) {
		return 0
	}
	L := float64(rec.length)
	w := f32vec(&rec.dir)
	lbase := a.dot(w)
	vo := a.sub(w.mul(lbase))
	dc := max(vo.len(), minDistFrac*L)
	inv := 1 / dc
	c := n.dot(vo) * inv
	wz := n.dot(w)
	t0 := (lbase + sa*L) * inv
	t1 := (lbase + sb*L) * inv
	dt := t1 - t0
	tt := t0 * t1
	dtheta := fastAtan2(dt, 1+tt)
	iq := 1 / ((1 + t0*t0) * (1 + t1*t1))
	dH := c*(dtheta+(1-tt)*dt*iq) + wz*dt*(t0+t1)*iq
	imp := jw * dH * 0.5 * inv
	if !(imp > 0) || math.IsInf(imp, 0) {
		// A point above the plane exists, so the true measure is positive:
		// keep the edge samplable, however rarely.
		return tinyImportance
	}
	return imp
}

// fastAtan2 approximates math.Atan2(y, x) with a relative error below
// 1e-7 (a degree-15 odd polynomial on [0, 1], fitted to the relative
// error, after the usual octant reduction); 0 at the origin.
func fastAtan2(y, x float64) float64 {
	ax, ay := math.Abs(x), math.Abs(y)
	var r float64
	switch {
	case ay <= ax:
		if ax == 0 {
			return 0
		}
		r = atanPoly(ay / ax)
	default:
		r = 0.5*math.Pi - atanPoly(ax/ay)
	}
	if x < 0 {
		r = math.Pi - r
	}
	if y < 0 {
		r = -r
	}
	return r
}

// atanPoly approximates atan(t) for t in [0, 1].
func atanPoly(t float64) float64 {
	z := t * t
	return t * (0.9999999016500557 + z*(-0.33331994721338709+z*(0.19969778701761526+
		z*(-0.14019784892708009+z*(0.099151186257305401+z*(-0.059498078419310201+
			z*(0.02426067443569033+z*-0.0046955893921879792)))))))
}
