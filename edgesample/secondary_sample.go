package edgesample

import (
	"math"

	"github.com/go-gl/mathgl/mgl64"
)

// SecondarySample is a point on an edge sampled from a shading point.
type SecondarySample struct {
	// Edge indexes Edges.List.
	Edge int32
	// S locates the point M = V0 + S*(V1-V0), S in [0,1].
	S float64
	M mgl64.Vec3
	// Pdf is the density of the sample in the measure (edge choice) x dS:
	// the mixture over the strategies of P(edge | p, n) times the density
	// of S on [0,1] (Secondary.Pdf).
	Pdf float64
}

// Sample picks an edge that can carry a discontinuity seen from p, with
// probability Pmf(p, n, edge), using u0, and a point on it using u1 (both
// in [0,1)). n is the unit normal of the hemisphere that matters at p: edges
// with no point strictly above the plane through p with normal n are never
// chosen. ok is false when no edge was found (a descent may end in a leaf
// whose edges are not candidates: Pmf sums to at most 1). The result
// depends only on the arguments; Sample does not allocate.
//
// With probability q(p) (SecondaryOptions.EmitterFraction where p sees an
// emitter cluster, 0 elsewhere) u0 drives the emitter strategy: a cluster
// in proportion to its power, an edge by the hierarchy's descent
// restricted to the cluster's cone of directions, S equi-angularly on the
// part of the edge inside the cone. Otherwise the hierarchy alone picks
// the edge, and S follows a mixture: uniform on [0,1] with probability
// 0.05, otherwise equi-angular on the part of the edge above the plane
// (density in arc length proportional to the angle the edge's line
// subtends at p), unless the options ask for S uniform. Pdf is the exact
// density of the whole mixture, q p_emitter + (1-q) p_hierarchy, at the
// returned (edge, S), whichever strategy drew it.
func (h *Secondary) Sample(p, n mgl64.Vec3, u0, u1 float64) (SecondarySample, bool) {
	if !finite3(p) || !finite3(n) {
		return SecondarySample{}, false
	}
	if h.opts.Uniform {
		return h.sampleUniform(p, n, u0, u1)
	}
	if len(h.nodes) == 0 {
		return SecondarySample{}, false
	}
	var ev emitView
	q := h.emitterView(p, n, &ev)
	u := clampU(u0)
	var pos int32
	var s float64
	var skip int      // the component whose density is known
	var known float64 // its density at (edge, S)
	if u < q {
		ci, ur := ev.pick(clampU(u / q))
		if ci < 0 {
			return SecondarySample{}, false
		}
		cone := &ev.cones[ci]
		k, pmf, ok := h.descend(p, n, cone, ur)
		if !ok {
			return SecondarySample{}, false
		}
		pos = k
		rec := &h.recs[pos]
		v0, v1 := h.pos[rec.v0], h.pos[rec.v1]
		lo, hi, _ := coneInterval(v0, v1, p, n, cone)
		_, fr := edgeImportanceRange(v0, v1, p, n, lo, hi)
		s = fr.sampleInner(clampU(u1))
		skip, known = ci, ev.prob[ci]*pmf*fr.innerPdf(s)
	} else {
		if q > 0 {
			u = clampU((u - q) / (1 - q))
		}
		k, pmf, ok := h.descend(p, n, nil, u)
		if !ok {
			return SecondarySample{}, false
		}
		pos = k
		rec := &h.recs[pos]
		v0, v1 := h.pos[rec.v0], h.pos[rec.v1]
		pdfS := 1.0
		if h.opts.UniformPoint {
			s = u1
		} else {
			_, fr := edgeImportance(v0, v1, p, n)
			s, pdfS = fr.samplePoint(u1)
		}
		skip, known = skipHierarchy, pmf*pdfS
	}
	pdf := h.mixturePdf(p, n, &ev, q, pos, s, skip, known)
	if !(pdf > 0) || math.IsInf(pdf, 0) {
		return SecondarySample{}, false
	}
	rec := &h.recs[pos]
	return SecondarySample{Edge: rec.edge, S: s, M: lerp3(h.pos[rec.v0], h.pos[rec.v1], s), Pdf: pdf}, true
}

const (
	// skipHierarchy names the hierarchy's component for mixturePdf.
	skipHierarchy = -1
	// skipNone names no component.
	skipNone = -2
)

// mixturePdf returns the density q p_emitter + (1-q) p_hierarchy of the
// edge recs[pos] at S seen from (p, n), ev being emitterView's clusters and
// q its result. The component skip (a cluster index, skipHierarchy or
// skipNone) is not recomputed: its density, including the cluster's
// probability, is known.
func (h *Secondary) mixturePdf(p, n mgl64.Vec3, ev *emitView, q float64, pos int32, s float64, skip int, known float64) float64 {
	if !(s >= 0 && s <= 1) {
		return 0
	}
	var pH float64
	if skip == skipHierarchy {
		pH = known
	} else {
		pH = h.hierPdf(p, n, pos, s)
	}
	if q == 0 {
		return pH
	}
	pE := 0.0
	rec := &h.recs[pos]
	v0, v1 := h.pos[rec.v0], h.pos[rec.v1]
	for ci := 0; ci < ev.n; ci++ {
		if ci == skip {
			pE += known
			continue
		}
		pc := ev.prob[ci]
		if !(pc > 0) {
			continue
		}
		cone := &ev.cones[ci]
		lo, hi, ok := coneInterval(v0, v1, p, n, cone)
		if !ok || s < lo || s > hi {
			continue
		}
		_, fr := edgeImportanceRange(v0, v1, p, n, lo, hi)
		ds := fr.innerPdf(s)
		if !(ds > 0) {
			continue
		}
		if pm := h.pmfAt(p, n, cone, pos); pm > 0 {
			pE += pc * pm * ds
		}
	}
	return q*pE + (1-q)*pH
}

// hierPdf is the hierarchy's density of the edge recs[pos] at S.
func (h *Secondary) hierPdf(p, n mgl64.Vec3, pos int32, s float64) float64 {
	pmf := h.pmfAt(p, n, nil, pos)
	if pmf == 0 {
		return 0
	}
	if h.opts.UniformPoint {
		return pmf
	}
	rec := &h.recs[pos]
	_, fr := edgeImportance(h.pos[rec.v0], h.pos[rec.v1], p, n)
	return pmf * fr.pointPdf(s)
}

// descend walks the hierarchy from the root with u, choosing children in
// proportion to their importance seen from (p, n), restricted to the cone
// c when it is not nil, and picks an edge of the leaf reached. It returns
// the edge's index in recs and its probability; ok is false when the
// descent finds no candidate.
func (h *Secondary) descend(p, n mgl64.Vec3, c *dirCone, u float64) (pos int32, pmf float64, ok bool) {
	var wa, wb [leafSize]float64
	cur := &wa
	ni := int32(0)
	pmf = 1
	if h.nodes[0].right < 0 {
		h.leafWeights(&h.nodes[0], p, n, c, cur)
	}
	for h.nodes[ni].right >= 0 {
		l, r := ni+1, h.nodes[ni].right
		il := h.childImportance(l, p, n, c, &wa)
		ir := h.childImportance(r, p, n, c, &wb)
		pl, ok := splitProb(il, ir)
		if !ok {
			return 0, 0, false
		}
		if u < pl {
			u = clampU(u / pl)
			pmf *= pl
			ni, cur = l, &wa
		} else {
			u = clampU((u - pl) / (1 - pl))
			pmf *= 1 - pl
			ni, cur = r, &wb
		}
	}
	nd := &h.nodes[ni]
	k, pk := pickLeaf(cur, int(nd.count), u)
	if k < 0 {
		return 0, 0, false
	}
	pmf *= pk
	if !(pmf > 0) {
		return 0, 0, false
	}
	return nd.start + int32(k), pmf, true
}

// pmfAt returns the probability that descend(p, n, c, .) picks recs[pos]:
// the same choices, followed towards pos.
func (h *Secondary) pmfAt(p, n mgl64.Vec3, c *dirCone, pos int32) float64 {
	var wa, wb [leafSize]float64
	cur := &wa
	ni := int32(0)
	pmf := 1.0
	if h.nodes[0].right < 0 {
		h.leafWeights(&h.nodes[0], p, n, c, cur)
	}
	for h.nodes[ni].right >= 0 {
		l, r := ni+1, h.nodes[ni].right
		il := h.childImportance(l, p, n, c, &wa)
		ir := h.childImportance(r, p, n, c, &wb)
		pl, ok := splitProb(il, ir)
		if !ok {
			return 0
		}
		if pos < h.nodes[l].start+h.nodes[l].count {
			pmf *= pl
			ni, cur = l, &wa
		} else {
			pmf *= 1 - pl
			ni, cur = r, &wb
		}
		if pmf == 0 {
			return 0
		}
	}
	nd := &h.nodes[ni]
	return pmf * leafProb(cur, int(nd.count), int(pos-nd.start))
}

func (h *Secondary) sampleUniform(p, n mgl64.Vec3, u0, u1 float64) (SecondarySample, bool) {
	if h.uniform == nil {
		return SecondarySample{}, false
	}
	i, pmf, _ := h.uniform.SampleDiscrete(clampU(u0))
	rec := &h.recs[i]
	if !(pmf > 0) || !h.recContributes(rec, p, n) {
		return SecondarySample{}, false
	}
	v0, v1 := h.pos[rec.v0], h.pos[rec.v1]
	return SecondarySample{Edge: rec.edge, S: u1, M: lerp3(v0, v1, u1), Pdf: pmf}, true
}

// recContributes reports whether an edge is a candidate from p with a
// point strictly above the plane through p with normal n.
func (h *Secondary) recContributes(rec *secEdge, p, n mgl64.Vec3) bool {
	v0, v1 := h.pos[rec.v0], h.pos[rec.v1]
	if !(n.Dot(v0.Sub(p)) > 0 || n.Dot(v1.Sub(p)) > 0) {
		return false
	}
	return candidate(rec.flags, v0, v1, h.pos[rec.o0], h.pos[rec.o1], p)
}

// Pmf returns the probability that Sample(p, n, ., .) picks edge (an index
// into Edges.List), whichever strategy: (1-q) times the hierarchy's
// probability plus q times the sum over emitter clusters of the cluster's
// probability times that of the restricted descent. It is zero for edges
// that are not candidates from p or lie entirely below the plane.
func (h *Secondary) Pmf(p, n mgl64.Vec3, edge int) float64 {
	if !finite3(p) || !finite3(n) || edge < 0 {
		return 0
	}
	if h.opts.Uniform {
		if h.uniform == nil || edge >= len(h.recs) || !h.recContributes(&h.recs[edge], p, n) {
			return 0
		}
		return h.uniform.PMF(edge)
	}
	if edge >= len(h.edgePos) {
		return 0
	}
	pos := h.edgePos[edge]
	var ev emitView
	q := h.emitterView(p, n, &ev)
	pmf := h.pmfAt(p, n, nil, pos)
	if q == 0 {
		return pmf
	}
	pE := 0.0
	for ci := 0; ci < ev.n; ci++ {
		if pc := ev.prob[ci]; pc > 0 {
			pE += pc * h.pmfAt(p, n, &ev.cones[ci], pos)
		}
	}
	return q*pE + (1-q)*pmf
}

// Pdf returns the density of Sample(p, n, ., .) returning edge at S, in the
// measure (edge choice) x dS: the mixture of the two strategies (see
// Sample).
func (h *Secondary) Pdf(p, n mgl64.Vec3, edge int, s float64) float64 {
	if !finite3(p) || !finite3(n) || edge < 0 || !(s >= 0 && s <= 1) {
		return 0
	}
	if h.opts.Uniform {
		return h.Pmf(p, n, edge)
	}
	if edge >= len(h.edgePos) {
		return 0
	}
	var ev emitView
	q := h.emitterView(p, n, &ev)
	return h.mixturePdf(p, n, &ev, q, h.edgePos[edge], s, skipNone, 0)
}

// EmitterFraction returns the probability of the emitter strategy at
// shading points that see an emitter cluster (0 when it is off or the
// scene has no emissive triangles).
func (h *Secondary) EmitterFraction() float64 { return h.q }

// childImportance returns the importance of node ni seen from (p, n),
// restricted to the cone c when it is not nil: the sum of its edges'
// exact importances for a leaf (written to w), the bound of nodeImportance
// (times coneFactor) for an inner node.
func (h *Secondary) childImportance(ni int32, p, n mgl64.Vec3, c *dirCone, w *[leafSize]float64) float64 {
	nd := &h.nodes[ni]
	if nd.right < 0 {
		return h.leafWeights(nd, p, n, c, w)
	}
	d := h.nodeData(ni)
	imp := nodeImportance(&d, p, n)
	if c == nil || imp == 0 {
		return imp
	}
	f := coneFactor(&d, p, c)
	if f == 0 {
		return 0
	}
	imp *= f
	if !(imp > 0) {
		return tinyImportance
	}
	return imp
}

// leafWeights writes the importance of each of a leaf's edges and returns
// their sum: zero for edges that are not candidates from p, otherwise the
// edge's clipped angular measure (edgeImportance) times its expected jump
// (candidateWeight with the record's Jump). With a cone c only the part of
// the edge whose directions lie inside c counts (coneInterval).
func (h *Secondary) leafWeights(nd *secNode, p, n mgl64.Vec3, c *dirCone, w *[leafSize]float64) float64 {
	sum := 0.0
	for k := 0; k < leafSize; k++ {
		w[k] = 0
		if k >= int(nd.count) {
			continue
		}
		rec := &h.recs[nd.start+int32(k)]
		v0, v1 := h.pos[rec.v0], h.pos[rec.v1]
		jw := candidateWeight(rec.flags, float64(rec.jump), v0, v1, h.pos[rec.o0], h.pos[rec.o1], p)
		if !(jw > 0) {
			continue
		}
		lo, hi := 0.0, 1.0
		if c != nil {
			var ok bool
			if lo, hi, ok = coneInterval(v0, v1, p, n, c); !ok {
				continue
			}
		}
		imp, _ := edgeImportanceRange(v0, v1, p, n, lo, hi)
		if !(imp > 0) {
			continue
		}
		imp *= jw
		if !(imp > 0) {
			imp = tinyImportance
		}
		w[k] = imp
		sum += imp
	}
	if math.IsInf(sum, 1) {
		sum = math.MaxFloat64
	}
	return sum
}

// splitProb returns the probability of the left child given the two
// children's importances: proportional, mixed with splitEps of a uniform
// choice among the children of positive importance. ok is false when
// neither child can contribute.
func splitProb(il, ir float64) (pl float64, ok bool) {
	pa, pb := il > 0, ir > 0
	switch {
	case !pa && !pb:
		return 0, false
	case !pa:
		return 0, true
	case !pb:
		return 1, true
	}
	// Scale before adding so that the sum cannot overflow.
	m := max(il, ir)
	a, b := il/m, ir/m
	return (1-splitEps)*a/(a+b) + 0.5*splitEps, true
}

// leafProb is the probability that pickLeaf picks edge k of weights w.
func leafProb(w *[leafSize]float64, count, k int) float64 {
	if k < 0 || k >= count || !(w[k] > 0) {
		return 0
	}
	sum, npos := 0.0, 0
	m := 0.0
	for i := 0; i < count; i++ {
		m = max(m, w[i])
	}
	for i := 0; i < count; i++ {
		if w[i] > 0 {
			sum += w[i] / m
			npos++
		}
	}
	return (1-splitEps)*(w[k]/m)/sum + splitEps/float64(npos)
}

// pickLeaf picks an edge of a leaf with probability leafProb; -1 when no
// weight is positive.
func pickLeaf(w *[leafSize]float64, count int, u float64) (int, float64) {
	last := -1
	acc := 0.0
	for k := 0; k < count; k++ {
		pk := leafProb(w, count, k)
		if pk == 0 {
			continue
		}
		last = k
		if u < acc+pk {
			return k, pk
		}
		acc += pk
	}
	if last < 0 {
		return -1, 0
	}
	// Rounding left u beyond the last cumulative sum.
	return last, leafProb(w, count, last)
}

// nodeImportance estimates the importance of an inner node seen from p
// with normal n:
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
func nodeImportance(nd *nodeData, p, n mgl64.Vec3) float64 {
	mn, mx := nd.box.Min, nd.box.Max
	hmax := 0.0
	for k := 0; k < 3; k++ {
		lo, hi := n[k]*(mn[k]-p[k]), n[k]*(mx[k]-p[k])
		hmax += max(lo, hi)
	}
	c := mgl64.Vec3{0.5 * (mn[0] + mx[0]), 0.5 * (mn[1] + mx[1]), 0.5 * (mn[2] + mx[2])}
	v := c.Sub(p)
	// The sphere about the centre holding the edges bounds the height too.
	hmax = min(hmax, n.Dot(v)+nd.rad)
	if !(hmax > 0) {
		return 0
	}
	L := effLength(nd, p)
	if !(L > 0) {
		return 0
	}
	r2 := nd.rad * nd.rad
	dc2 := v.Dot(v)
	d2 := max(dc2, r2)
	if !(d2 > 0) {
		return tinyImportance
	}
	cosB := 1.0
	if dc2 > r2 {
		dc := math.Sqrt(dc2)
		cos1 := n.Dot(v) / dc
		cos2 := math.Sqrt(dc2-r2) / dc
		if cos1 < cos2 {
			sin1 := math.Sqrt(max(0, 1-cos1*cos1))
			sin2 := math.Sqrt(r2) / dc
			cosB = max(0, cos1*cos2+sin1*sin2)
		}
	}
	cosB = min(cosB, hmax/math.Sqrt(d2))
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
// candidates where they are silhouettes) counts unless the cones prove
// that all faces face p or all face away (then none is a silhouette), and
// then counts pi/(2 theta) times, theta the normal cone's half-angle (see
// the package documentation), times the relative length of the arc that
// the silhouette's normals (those perpendicular to the direction to p)
// cut across the cone, sqrt(1 - (cos(phi)/sin(theta'))^2); the one-sided Sharp edges' lF counts in
// proportion to an estimate of the fraction of faces facing p: 1 when all
// do, 0 when none does, and in between 1/2 + cos(phi)/(2 sin(theta'))
// clamped to [minFront, 1]. The proofs: p inside the node's back (front)
// anchored cone; or, the directions from the node's bounding sphere (radius
// R about the box's centre) to p lying in a cone about p - centre of
// half-angle asin(R/|p - centre|), phi the angle between that axis and the
// normal cone's and theta' the sum of the two half-angles, all faces face p
// when phi + theta' < pi/2 and all face away when phi - theta' > pi/2. It
// is zero only when no edge of the node can be a candidate.
func effLength(nd *nodeData, p mgl64.Vec3) float64 {
	if nd.cosT == emptyCone {
		return nd.lA
	}
	if nd.cosT <= -1 {
		return nd.lA + nd.lS + 0.5*nd.lF
	}
	if nd.anch {
		// The anchored cones (secBuilder.anchors): p inside the back one
		// sees every face from behind, inside the front one from the
		// front. The margin covers the rounding of the tests.
		c := nd.box.Centroid()
		sinM := nd.sinT + anchorMargin
		v := p.Sub(c.Add(nd.axis.Mul(nd.tB)))
		if -nd.axis.Dot(v) > sinM*v.Len() {
			return nd.lA // all face away
		}
		v = p.Sub(c.Add(nd.axis.Mul(nd.tF)))
		if nd.axis.Dot(v) > sinM*v.Len() {
			return nd.lA + nd.lF // all face p
		}
	}
	// Where the node may straddle the silhouette its smooth length counts
	// more: an edge with dihedral angle alpha is a silhouette from the
	// fraction alpha/pi of all directions (the weight in lS) but from
	// about alpha/(2 theta) of the directions from which a patch whose
	// normals span 2 theta shows both sides. Since alpha <= 2 theta for
	// every edge in the cone, lS scaled so never exceeds the length.
	lS := nd.lS * nd.boost
	v := p.Sub(nd.box.Centroid())
	dist2 := v.Dot(v)
	r2 := nd.rad * nd.rad
	if !(dist2 > r2*(1+1e-9)) {
		return nd.lA + lS + 0.5*nd.lF
	}
	dist := math.Sqrt(dist2)
	cosV := math.Sqrt(dist2-r2) / dist
	sinV := math.Sqrt(r2) / dist
	cosTh := nd.cosT*cosV - nd.sinT*sinV
	sinTh := nd.sinT*cosV + nd.cosT*sinV
	cosPhi := nd.axis.Dot(v) / dist
	if !(cosTh > cullMargin) {
		// theta >= pi/2: nothing is proven.
		return nd.lA + lS + max(minFront, 0.5+0.5*cosPhi)*nd.lF
	}
	sinPhi := math.Sqrt(max(0, 1-cosPhi*cosPhi))
	if cosPhi*cosTh-sinPhi*sinTh > cullMargin {
		return nd.lA + nd.lF // all face p
	}
	if cosPhi*cosTh+sinPhi*sinTh < -cullMargin {
		return nd.lA // all face away
	}
	f := min(1, max(minFront, 0.5+0.5*cosPhi/sinTh))
	// The silhouette runs where the normals turn away from p: the great
	// circle of normals perpendicular to the direction to p crosses the
	// cone (of half-angle theta') along an arc of relative length
	// sqrt(1 - (cos(phi)/sin(theta'))^2).
	x := cosPhi / sinTh
	g := max(minFront, math.Sqrt(max(0, 1-x*x)))
	return nd.lA + g*lS + f*nd.lF
}

// clampU keeps a remapped random number in [0, 1).
func clampU(u float64) float64 {
	if !(u >= 0) {
		return 0
	}
	if u >= 1 {
		return 0x1.fffffffffffffp-1
	}
	return u
}

func lerp3(a, b mgl64.Vec3, s float64) mgl64.Vec3 {
	return mgl64.Vec3{a[0] + s*(b[0]-a[0]), a[1] + s*(b[1]-a[1]), a[2] + s*(b[2]-a[2])}
}

func finite3(v mgl64.Vec3) bool {
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}
