package edgesample

import (
	"math"
	"sort"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/render"
)

// Emitter-guided secondary sampling. At a shading point p the boundary
// term's integrand f * DeltaL is non-zero only on edges whose two sides
// differ in radiance. With direct lighting that happens where an edge's
// direction from p crosses an emitter: the silhouettes of occluders seen
// against a light (the shadow boundary) and the emitter's own boundary.
// The emitter strategy picks a cluster of emissive triangles in proportion
// to its power (as next-event estimation picks a light; Veach 1997, section
// 9.2, and pbrt-v4's power light sampler), bounds the directions from p to
// the cluster by a cone (the pyramid over a planar light's rectangle), and
// samples an edge point whose direction lies in that cone: the hierarchy's
// descent with every node's importance scaled by an estimate of the
// fraction of its directions inside the cone (coneFactor: zero when the
// node provably misses it), and at the leaf the importance of the part of
// each edge inside the cone, an interval of S found exactly. Combined with
// the plain hierarchy by one-sample multiple importance sampling with the
// balance heuristic (Veach and Guibas, "Optimally Combining Sampling
// Techniques for Monte Carlo Rendering", SIGGRAPH 1995): the sample's
// density is the mixture q p_emitter + (1-q) p_hierarchy whichever
// strategy drew it.

const (
	// DefaultEmitterFraction is the probability of the emitter strategy
	// when the scene has emissive triangles and the options leave it zero.
	DefaultEmitterFraction = 0.5
	// maxEmitterFraction is the largest emitter-strategy probability: the
	// hierarchy's share keeps every candidate edge samplable.
	maxEmitterFraction = 0.99
	// maxClusters bounds the number of emitter clusters (every query
	// visits all of them).
	maxClusters = 16
	// clusterNormalAngle is the normal-cone half-angle (radians) above
	// which a cluster of emissive triangles is split while maxClusters
	// allows.
	clusterNormalAngle = math.Pi / 6
	// maxConeAngle is the widest cone (half-angle, radians) of directions
	// to a cluster that the emitter strategy uses; from nearer points the
	// cluster is not guided (the cone would not be convex, and would hold
	// most of the hemisphere anyway).
	maxConeAngle = 80 * math.Pi / 180
	// coneWiden widens every cone of directions (radians) so that the
	// directions to the cluster's corners lie strictly inside.
	coneWiden = 1e-7
)

// emitCluster is a group of emissive triangles of one shape: the corners
// of an oriented box bounding them (4, in cyclic order, when the box is
// flat: a planar light's rectangle), a cone bounding their winding normals
// (the emitting side), and their power.
type emitCluster struct {
	corners [8]mgl64.Vec3
	nc      int
	nAxis   mgl64.Vec3
	// nSin is the sine of the normal cone's half-angle; anyFacing marks a
	// cone of half-angle pi/2 or more, which proves no orientation.
	nSin      float64
	anyFacing bool
	power     float64
}

// dirCone is a convex cone of directions from a shading point p: a
// circular cone (unit axis, cosine and sine of its half-angle, below pi/2)
// and, for a flat cluster, the tighter pyramid over its rectangle, the
// directions x with planes[i].x >= 0 for i < np (the inward normals of the
// planes through p and the rectangle's sides). With np > 0 the pyramid is
// the region and the circular cone bounds it; with np == 0 the circular
// cone is the region.
type dirCone struct {
	axis       mgl64.Vec3
	cosT, sinT float64
	np         int
	planes     [4]mgl64.Vec3

	// Set by prepare, for the descent: the axis and the planes as v3, the
	// half-angle theta, the solid angle over 2 pi, 1 - cos(theta), and the
	// planes' lengths.
	ax           v3
	pl           [4]v3
	theta, omega float64
	planeLen     [4]float64
}

// prepare sets the fields the descent reads besides the cone itself.
func (c *dirCone) prepare() { c.prepareAngle(math.Atan2(c.sinT, c.cosT)) }

// prepareAngle is prepare given the half-angle theta.
func (c *dirCone) prepareAngle(theta float64) {
	c.ax = vec(c.axis)
	for k := 0; k < c.np; k++ {
		c.pl[k] = vec(c.planes[k])
		c.planeLen[k] = c.pl[k].len()
	}
	c.theta = theta
	c.omega = c.sinT * c.sinT / (1 + c.cosT)
}

// emitView holds, for one shading point, the selection probabilities of
// the clusters and their cones of directions.
type emitView struct {
	n     int
	prob  [maxClusters]float64
	cones [maxClusters]dirCone
}

// emitTri is an emissive triangle during clustering.
type emitTri struct {
	p      [3]mgl64.Vec3
	n      mgl64.Vec3 // unit winding normal
	area   float64
	power  float64
	center mgl64.Vec3
}

// buildEmitters groups the emissive triangles of s into at most
// maxClusters clusters: one per emitting shape, then the cluster with the
// widest normal cone is split at the median of its triangles' centroids
// along their longest extent while its normals spread more than
// clusterNormalAngle. A triangle's power is pi * area * luminance, the
// weight render.Scene gives it for next-event estimation.
func buildEmitters(s *render.Scene) []emitCluster {
	var groups [][]emitTri
	for _, sh := range s.Shapes {
		if sh == nil || sh.Emitter == nil {
			continue
		}
		lum := math.Max(render.Luminance(sh.Emitter.Radiance), 1e-12)
		var g []emitTri
		for t := 0; t < sh.NumTriangles(); t++ {
			i0, i1, i2 := sh.Indices[3*t], sh.Indices[3*t+1], sh.Indices[3*t+2]
			p0, p1, p2 := sh.Positions[i0], sh.Positions[i1], sh.Positions[i2]
			nrm := p1.Sub(p0).Cross(p2.Sub(p0))
			l := nrm.Len()
			if !(l > 0) || math.IsInf(l, 0) {
				continue
			}
			area := 0.5 * l
			g = append(g, emitTri{
				p: [3]mgl64.Vec3{p0, p1, p2}, n: nrm.Mul(1 / l), area: area,
				power: math.Pi * area * lum, center: p0.Add(p1).Add(p2).Mul(1.0 / 3),
			})
		}
		if len(g) > 0 {
			groups = append(groups, g)
		}
	}
	if len(groups) > maxClusters {
		// Too many emitting shapes to cluster them one by one: merge the
		// surplus into the last cluster (its box and normal cone grow, the
		// strategy stays exact).
		for _, g := range groups[maxClusters:] {
			groups[maxClusters-1] = append(groups[maxClusters-1], g...)
		}
		groups = groups[:maxClusters]
	}
	spread := make([]float64, len(groups))
	for i, g := range groups {
		_, spread[i] = normalCone(g)
	}
	for len(groups) < maxClusters {
		worst := -1
		for i, g := range groups {
			if len(g) > 1 && spread[i] > clusterNormalAngle && (worst < 0 || spread[i] > spread[worst]) {
				worst = i
			}
		}
		if worst < 0 {
			break
		}
		a, b := splitTris(groups[worst])
		groups[worst] = a
		groups = append(groups, b)
		_, spread[worst] = normalCone(a)
		_, sb := normalCone(b)
		spread = append(spread, sb)
	}
	cl := make([]emitCluster, len(groups))
	for i, g := range groups {
		cl[i] = makeCluster(g)
	}
	return cl
}

// normalCone returns the area-weighted mean of the triangles' normals and
// the largest angle between it and a normal (pi when the mean vanishes).
func normalCone(g []emitTri) (mgl64.Vec3, float64) {
	var sum mgl64.Vec3
	for _, t := range g {
		sum = sum.Add(t.n.Mul(t.area))
	}
	l := sum.Len()
	if !(l > 0) {
		return mgl64.Vec3{}, math.Pi
	}
	axis := sum.Mul(1 / l)
	theta := 0.0
	for _, t := range g {
		theta = math.Max(theta, math.Atan2(axis.Cross(t.n).Len(), axis.Dot(t.n)))
	}
	return axis, theta
}

// splitTris splits g (two triangles or more) at the median of the
// centroids along the axis of their largest extent.
func splitTris(g []emitTri) ([]emitTri, []emitTri) {
	lo, hi := g[0].center, g[0].center
	for _, t := range g {
		for k := 0; k < 3; k++ {
			lo[k] = math.Min(lo[k], t.center[k])
			hi[k] = math.Max(hi[k], t.center[k])
		}
	}
	axis := 0
	for k := 1; k < 3; k++ {
		if hi[k]-lo[k] > hi[axis]-lo[axis] {
			axis = k
		}
	}
	sort.SliceStable(g, func(i, j int) bool { return g[i].center[axis] < g[j].center[axis] })
	m := len(g) / 2
	a := append([]emitTri(nil), g[:m]...)
	b := append([]emitTri(nil), g[m:]...)
	return a, b
}

// makeCluster bounds a group by an oriented box whose third axis is the
// mean normal (so that a planar light's box is its flat rectangle when an
// edge of its largest triangle runs along a side) and by its normal cone.
func makeCluster(g []emitTri) emitCluster {
	var c emitCluster
	axis, theta := normalCone(g)
	for _, t := range g {
		c.power += t.power
	}
	if theta >= math.Pi/2 {
		c.anyFacing = true
	} else {
		c.nAxis, c.nSin = axis, math.Sin(theta+coneWiden)
	}
	// The box's frame: w the mean normal (or z), t along the side of the
	// largest triangle that gives the smallest rectangle across w (a
	// rectangle's side, not its diagonal), b = w x t.
	w := axis
	if w == (mgl64.Vec3{}) {
		w = mgl64.Vec3{0, 0, 1}
	}
	big := 0
	for i, t := range g {
		if t.area > g[big].area {
			big = i
		}
	}
	var tv, bv mgl64.Vec3
	var lo, hi [3]float64
	bestArea := math.Inf(1)
	for k := 0; k < 4; k++ {
		var e mgl64.Vec3
		if k < 3 {
			e = g[big].p[(k+1)%3].Sub(g[big].p[k])
		} else {
			// Any vector off w (the fallback when the sides are
			// parallel to w).
			e = mgl64.Vec3{1, 0, 0}
			if math.Abs(w[0]) > 0.9 {
				e = mgl64.Vec3{0, 1, 0}
			}
		}
		e = e.Sub(w.Mul(e.Dot(w)))
		l := e.Len()
		if !(l > 0) {
			continue
		}
		t := e.Mul(1 / l)
		b := w.Cross(t)
		frame := [3]mgl64.Vec3{t, b, w}
		var l3, h3 [3]float64
		for j := range l3 {
			l3[j], h3[j] = math.Inf(1), math.Inf(-1)
		}
		for _, tri := range g {
			for _, q := range tri.p {
				for j := 0; j < 3; j++ {
					x := q.Dot(frame[j])
					l3[j] = math.Min(l3[j], x)
					h3[j] = math.Max(h3[j], x)
				}
			}
		}
		if a := (h3[0] - l3[0]) * (h3[1] - l3[1]); a < bestArea {
			bestArea, tv, bv, lo, hi = a, t, b, l3, h3
		}
	}
	// Pad by a relative epsilon so that the box holds its triangles
	// despite rounding, and their sides lie strictly inside the pyramid
	// of a flat box; a box thinner than that along w is flat.
	size := math.Max(hi[0]-lo[0], math.Max(hi[1]-lo[1], hi[2]-lo[2]))
	pad := 1e-7 * size
	for k := 0; k < 3; k++ {
		lo[k] -= pad
		hi[k] += pad
	}
	flat := hi[2]-lo[2] <= 4*pad
	if flat {
		mid := 0.5 * (lo[2] + hi[2])
		lo[2], hi[2] = mid, mid
	}
	for i := 0; i < 8; i++ {
		if flat && i >= 4 {
			break
		}
		// Corners 0..3 go round the rectangle z = lo: (lo, lo), (hi,
		// lo), (hi, hi), (lo, hi); 4..7 likewise at z = hi.
		x, y := lo[0], lo[1]
		if i&3 == 1 || i&3 == 2 {
			x = hi[0]
		}
		if i&3 >= 2 {
			y = hi[1]
		}
		z := lo[2]
		if i&4 != 0 {
			z = hi[2]
		}
		c.corners[i] = tv.Mul(x).Add(bv.Mul(y)).Add(w.Mul(z))
		c.nc = i + 1
	}
	return c
}

// facing reports whether some triangle of the cluster may face p (p on the
// emitting side of its plane): some point y of the box and some normal m
// of the cone with m.(p - y) > 0. For the cone of axis a and half-angle
// theta this holds at y exactly when a.(p - y) + sin(theta) |p - y| > 0, a
// convex function of y whose maximum over the box is at a corner.
func (c *emitCluster) facing(p mgl64.Vec3) bool {
	return c.facingV(vec(p))
}

// facingV is facing on v3.
func (c *emitCluster) facingV(p v3) bool {
	if c.anyFacing {
		return true
	}
	ax := vec(c.nAxis)
	for k := 0; k < c.nc; k++ {
		v := p.sub(vec(c.corners[k]))
		if ax.dot(v)+c.nSin*v.len() > 0 {
			return true
		}
	}
	return false
}

// cone returns the cone of directions from p holding the cluster's box:
// the circular cone whose axis is the normalised sum of the unit
// directions to the corners and whose half-angle is the largest angle to
// them (widened by coneWiden), and for a flat box the pyramid over its
// rectangle. ok is false when p lies at a corner, in the plane of a flat
// box, or when the half-angle exceeds maxConeAngle. The cone is prepared
// for the descent.
func (c *emitCluster) cone(p mgl64.Vec3) (dirCone, bool) {
	var cn dirCone
	ok := c.coneV(vec(p), &cn)
	return cn, ok
}

// coneV is cone on v3, writing the cone to cn.
func (c *emitCluster) coneV(p v3, cn *dirCone) bool {
	var dirs [8]v3
	var sum v3
	for k := 0; k < c.nc; k++ {
		d := vec(c.corners[k]).sub(p)
		l := d.len()
		if !(l > 0) || math.IsInf(l, 0) {
			return false
		}
		dirs[k] = d.mul(1 / l)
		sum = sum.add(dirs[k])
	}
	l := sum.len()
	if !(l > 0) {
		return false
	}
	axis := sum.mul(1 / l)
	// The largest angle is that of the smallest cosine; its sine comes
	// from the cross product, accurate for small angles.
	far, cosFar := 0, axis.dot(dirs[0])
	for k := 1; k < c.nc; k++ {
		if ck := axis.dot(dirs[k]); ck < cosFar {
			far, cosFar = k, ck
		}
	}
	theta := math.Atan2(cross(axis, dirs[far]).len(), cosFar) + coneWiden
	if !(theta <= maxConeAngle) {
		return false
	}
	sinT, cosT := math.Sincos(theta)
	*cn = dirCone{axis: axis.mgl(), cosT: cosT, sinT: sinT}
	if c.nc == 4 {
		// The planes through p and the rectangle's sides, oriented
		// towards the rectangle's centre (every corner direction lies
		// within maxConeAngle of the axis, so the rectangle subtends less
		// than a hemisphere and the four half-spaces meet in its
		// pyramid).
		for k := 0; k < 4; k++ {
			m := cross(dirs[k], dirs[(k+1)%4])
			s := m.dot(axis)
			if !(math.Abs(s) > 0) {
				return false // p in the rectangle's plane
			}
			if s < 0 {
				m = m.mul(-1)
			}
			cn.planes[k] = m.mgl()
		}
		cn.np = 4
	}
	cn.prepareAngle(theta)
	return true
}

// inside reports whether direction x (not necessarily unit) lies in the
// cone.
func (c *dirCone) inside(x mgl64.Vec3) bool {
	cc := *c
	cc.prepare()
	return cc.insideV(vec(x))
}

// insideV is inside on a prepared cone.
func (c *dirCone) insideV(x v3) bool {
	if c.np == 0 {
		return c.ax.dot(x) >= c.cosT*x.len()
	}
	for k := 0; k < c.np; k++ {
		if c.pl[k].dot(x) < 0 {
			return false
		}
	}
	return true
}

// emitterView fills v with the clusters' probabilities and cones seen from
// p with normal n, and returns the probability of the emitter strategy at
// p: h.q when some cluster may face p with a usable cone whose directions
// reach above the plane, 0 otherwise. A cluster's probability is its power
// over the total power of those clusters.
func (h *Secondary) emitterView(p, n mgl64.Vec3, v *emitView) float64 {
	v.n = len(h.clusters)
	if h.q == 0 || v.n == 0 {
		v.n = 0
		return 0
	}
	pv, nv := vec(p), vec(n)
	total := 0.0
	for i := range h.clusters {
		c := &h.clusters[i]
		v.prob[i] = 0
		if !c.facingV(pv) {
			continue
		}
		cn := &v.cones[i]
		if !c.coneV(pv, cn) {
			continue
		}
		// The cone must reach above the plane: the angle between n and
		// the axis below pi/2 plus the half-angle.
		if !(nv.dot(cn.ax) > -cn.sinT) {
			continue
		}
		v.prob[i] = c.power
		total += c.power
	}
	if !(total > 0) {
		return 0
	}
	for i := 0; i < v.n; i++ {
		v.prob[i] /= total
	}
	return h.q
}

// pick chooses a cluster with probability prob using u, and returns it and
// u remapped to [0,1).
func (v *emitView) pick(u float64) (int, float64) {
	acc := 0.0
	last := -1
	for i := 0; i < v.n; i++ {
		pi := v.prob[i]
		if !(pi > 0) {
			continue
		}
		last = i
		if u < acc+pi {
			return i, clampU((u - acc) / pi)
		}
		acc += pi
	}
	// Rounding left u beyond the last cumulative sum.
	return last, 0x1.fffffffffffffp-1
}

// coneInterval returns the range [s0, s1] of S over which the direction
// from p to M = v0 + S (v1 - v0) lies inside the cone c and M lies strictly
// above the plane through p with normal n; ok is false when no S in [0,1]
// qualifies. The set is convex (a line meets a convex cone and a
// half-space in an interval): it is found from the sign changes of
// a.(M-p) - cos(theta) |M-p| (roots of the quadratic
// (a.x)^2 - cos^2(theta) |x|^2 with x = M - p, and the zero of a.x) and of
// n.(M-p), testing each piece between consecutive breakpoints at its
// middle.
func coneInterval(v0, v1, p, n mgl64.Vec3, c *dirCone) (s0, s1 float64, ok bool) {
	cc := *c
	cc.prepare()
	return coneIntervalV(vec(v0), vec(v1), vec(p), vec(n), &cc)
}

// coneIntervalV is coneInterval on a prepared cone.
func coneIntervalV(v0, v1, p, n v3, c *dirCone) (s0, s1 float64, ok bool) {
	A := v0.sub(p)
	E := v1.sub(v0)
	nA, nE := n.dot(A), n.dot(E)
	if c.np > 0 {
		// The pyramid and the half-space are linear in S.
		s0, s1 = 0, 1
		for k := 0; k <= c.np; k++ {
			var a, b float64 // a + s b >= 0 (> 0 for the half-space)
			if k < c.np {
				a, b = c.pl[k].dot(A), c.pl[k].dot(E)
			} else {
				a, b = nA, nE
			}
			switch {
			case b > 0:
				s0 = math.Max(s0, -a/b)
			case b < 0:
				s1 = math.Min(s1, -a/b)
			case a < 0 || (k == c.np && a == 0):
				return 0, 0, false
			}
		}
		if !(s1 > s0) {
			return 0, 0, false
		}
		return s0, s1, true
	}
	aA, aE := c.ax.dot(A), c.ax.dot(E)
	c2 := c.cosT * c.cosT
	qa := aE*aE - c2*E.dot(E)
	qb := aA*aE - c2*A.dot(E)
	qc := aA*aA - c2*A.dot(A)
	var bp breakpoints
	bp.s[0], bp.s[1] = 0, 1
	bp.n = 2
	// Roots of qa s^2 + 2 qb s + qc, in the cancellation-free form.
	scale := math.Max(math.Abs(qa), math.Max(math.Abs(qb), math.Abs(qc)))
	if scale > 0 {
		if math.Abs(qa) > 1e-12*scale {
			disc := qb*qb - qa*qc
			if disc >= 0 {
				sq := math.Sqrt(disc)
				if r := -(qb + math.Copysign(sq, qb)); r != 0 {
					bp.add(r / qa)
					bp.add(qc / r)
				}
			}
		} else if qb != 0 {
			bp.add(-qc / (2 * qb))
		}
	}
	if aE != 0 {
		bp.add(-aA / aE)
	}
	if nE != 0 {
		bp.add(-nA / nE)
	}
	bp.sort()
	s0, s1 = 2, -1
	for i := 0; i+1 < bp.n; i++ {
		lo, hi := bp.s[i], bp.s[i+1]
		if !(hi > lo) {
			continue
		}
		m := 0.5 * (lo + hi)
		x := v3{A.x + m*E.x, A.y + m*E.y, A.z + m*E.z}
		if n.dot(x) > 0 && c.insideV(x) {
			s0 = math.Min(s0, lo)
			s1 = math.Max(s1, hi)
		}
	}
	if !(s1 > s0) {
		return 0, 0, false
	}
	return s0, s1, true
}

// breakpoints are the few parameters at which coneInterval's conditions
// may change.
type breakpoints struct {
	s [6]float64
	n int
}

// add records s when it lies strictly inside (0, 1).
func (b *breakpoints) add(s float64) {
	if s > 0 && s < 1 {
		b.s[b.n] = s
		b.n++
	}
}

// sort orders the breakpoints (insertion sort: there are at most six).
func (b *breakpoints) sort() {
	for i := 1; i < b.n; i++ {
		x := b.s[i]
		j := i
		for j > 0 && b.s[j-1] > x {
			b.s[j] = b.s[j-1]
			j--
		}
		b.s[j] = x
	}
}

// coneFactor scales an inner node's importance for the emitter strategy
// (g is the node's geometry from p, c a cone made by emitCluster.cone): 0
// when the node's box provably misses the cone c, otherwise an estimate
// of the fraction of the node's edges whose directions fall inside c: the
// solid angle of the overlap of c and the cone of directions from p to the
// node's bounding sphere (estimated from the depth of the overlap) over the
// latter's solid angle. The box misses c when the cone of
// directions to its bounding sphere does (their axes further apart than
// the sum of the half-angles), or when a plane through p that holds c
// leaves the whole box on its other side: the plane normal to c's axis
// (the box behind the apex) or c's tangent plane on the side of the box's
// centre (the box beside the cone). The culling tests are exact; the
// estimate uses fastAtan2.
func coneFactor(nd *secNode, g *nodeGeo, p v3, c *dirCone) float64 {
	mn, mx, v := g.mn, g.mx, g.v
	// Separating planes through p.
	if boxMaxV(mn, mx, p, c.ax) <= 0 {
		return 0
	}
	for k := 0; k < c.np; k++ {
		if boxMaxV(mn, mx, p, c.pl[k]) < 0 {
			return 0
		}
	}
	av := c.ax.dot(v)
	perp := v.sub(c.ax.mul(av))
	if l := perp.len(); l > 0 {
		m := c.ax.mul(c.sinT).sub(perp.mul(c.cosT / l))
		if boxMaxV(mn, mx, p, m) < 0 {
			return 0
		}
	}
	// The sphere about the centre holding the edges: outside a plane of
	// the pyramid, it misses it too.
	for k := 0; k < c.np; k++ {
		if c.pl[k].dot(v)+g.r*c.planeLen[k] < 0 {
			return 0
		}
	}
	if !(g.d2 > g.r2) {
		return math.Min(1, 0.5*c.omega)
	}
	sinB, cosB := g.sinV, g.cosV
	cosPhi := av * g.inv
	if cosPhi < c.cosT*cosB-c.sinT*sinB-1e-9 {
		return 0
	}
	// The two caps (half-angles theta and beta, axes phi apart) overlap
	// by delta = theta + beta - phi; the smaller one lies inside the
	// larger when delta >= 2 min(theta, beta). In between, the fraction of
	// the smaller cap inside the larger is about that of a disk cut at
	// depth delta, x^2 (3 - 2x) with x = delta / (2 min), a smooth stand-in
	// for the circular segment's area.
	theta := c.theta
	beta := fastAtan2(sinB, cosB)
	phi := fastAtan2(math.Sqrt(max(0, 1-cosPhi*cosPhi)), cosPhi)
	small := math.Min(theta, beta)
	x := 1.0
	if small > 0 {
		x = math.Min(1, math.Max(0, (theta+beta-phi)/(2*small)))
	}
	lens := x * x * (3 - 2*x)
	// A pyramid cuts the cap further: for each face, the part of the
	// node's cap on the inner side of the face's plane (the direction to
	// the centre at the angle delta inside the plane, the cap's radius
	// beta) is about that of a disk cut at depth delta + beta.
	// (Only for caps smaller than the pyramid: a larger cap holds most of
	// it, and its share is the ratio of the solid angles below.)
	for k := 0; k < c.np && beta > 0 && beta < theta; k++ {
		sd := math.Min(1, math.Max(-1, c.pl[k].dot(v)*g.inv/c.planeLen[k]))
		delta := fastAtan2(sd, math.Sqrt(1-sd*sd))
		y := math.Min(1, math.Max(0, (delta+beta)/(2*beta)))
		lens *= y * y * (3 - 2*y)
	}
	omegaB := sinB * sinB / (1 + cosB)
	f := lens * math.Min(omegaB, c.omega) / omegaB
	if !(f > 0) {
		// The bounding test says they overlap: keep the node samplable.
		return 1e-6
	}
	return math.Min(1, f)
}
