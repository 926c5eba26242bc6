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
	// Pdf is the density of the sample in the measure dS: P(edge | p, n)
	// times the density of S on [0,1].
	Pdf float64
}

// Sample picks an edge that can carry a discontinuity seen from p, with
// probability Pmf(p, n, edge), using u0, and a point on it using u1 (both
// in [0,1)). n is the unit normal of the hemisphere that matters at p: edges
// with no point strictly above the plane through p with normal n are never
// chosen. ok is false when no edge was found (the descent may end in a
// leaf whose edges are not candidates: Pmf sums to at most 1). The result
// depends only on the arguments; Sample does not allocate.
//
// S follows a mixture: uniform on [0,1] with probability 0.05, otherwise
// equi-angular on the part of the edge above the plane (density in arc
// length proportional to the angle the edge's line subtends at p), unless
// the options ask for S uniform. Pdf is exact for the mixture.
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
	var wa, wb [leafSize]float64
	cur := &wa
	ni := int32(0)
	pmf := 1.0
	u := clampU(u0)
	if h.nodes[0].right < 0 {
		h.leafWeights(&h.nodes[0], p, n, cur)
	}
	for h.nodes[ni].right >= 0 {
		l, r := ni+1, h.nodes[ni].right
		il := h.childImportance(l, p, n, &wa)
		ir := h.childImportance(r, p, n, &wb)
		pl, ok := splitProb(il, ir)
		if !ok {
			return SecondarySample{}, false
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
		return SecondarySample{}, false
	}
	pmf *= pk
	rec := &h.recs[nd.start+int32(k)]
	v0, v1 := h.pos[rec.v0], h.pos[rec.v1]
	var s, pdfS float64
	if h.opts.UniformPoint {
		s, pdfS = u1, 1
	} else {
		_, fr := edgeImportance(v0, v1, p, n)
		s, pdfS = fr.samplePoint(u1)
	}
	pdf := pmf * pdfS
	if !(pdf > 0) {
		return SecondarySample{}, false
	}
	return SecondarySample{Edge: rec.edge, S: s, M: lerp3(v0, v1, s), Pdf: pdf}, true
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
// into Edges.List); zero for edges that are not candidates from p or lie
// entirely below the plane.
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
	var wa, wb [leafSize]float64
	cur := &wa
	ni := int32(0)
	pmf := 1.0
	if h.nodes[0].right < 0 {
		h.leafWeights(&h.nodes[0], p, n, cur)
	}
	for h.nodes[ni].right >= 0 {
		l, r := ni+1, h.nodes[ni].right
		il := h.childImportance(l, p, n, &wa)
		ir := h.childImportance(r, p, n, &wb)
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

// Pdf returns the density of Sample(p, n, ., .) returning edge at S: Pmf
// times the density of S.
func (h *Secondary) Pdf(p, n mgl64.Vec3, edge int, s float64) float64 {
	pmf := h.Pmf(p, n, edge)
	if pmf == 0 || !(s >= 0 && s <= 1) {
		return 0
	}
	if h.opts.Uniform || h.opts.UniformPoint {
		return pmf
	}
	rec := &h.recs[h.edgePos[edge]]
	_, fr := edgeImportance(h.pos[rec.v0], h.pos[rec.v1], p, n)
	return pmf * fr.pointPdf(s)
}

// childImportance returns the importance of node ni seen from (p, n): the
// sum of its edges' exact importances for a leaf (written to w), the
// bound of nodeImportance for an inner node.
func (h *Secondary) childImportance(ni int32, p, n mgl64.Vec3, w *[leafSize]float64) float64 {
	nd := &h.nodes[ni]
	if nd.right < 0 {
		return h.leafWeights(nd, p, n, w)
	}
	d := nd.data()
	return nodeImportance(&d, p, n)
}

// leafWeights writes the importance of each of a leaf's edges (zero for
// those that are not candidates from p) and returns their sum.
func (h *Secondary) leafWeights(nd *secNode, p, n mgl64.Vec3, w *[leafSize]float64) float64 {
	sum := 0.0
	for k := 0; k < leafSize; k++ {
		w[k] = 0
		if k >= int(nd.count) {
			continue
		}
		rec := &h.recs[nd.start+int32(k)]
		v0, v1 := h.pos[rec.v0], h.pos[rec.v1]
		imp, _ := edgeImportance(v0, v1, p, n)
		if imp > 0 && candidate(rec.flags, v0, v1, h.pos[rec.o0], h.pos[rec.o1], p) {
			w[k] = imp
			sum += imp
		}
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
// from p to the box's centre clamped from below to half the box's
// diagonal (so that boxes around or next to p get a finite weight
// comparable to their children's), and cosBound bounding the cosine
// between n and the directions to the box: the smaller of the cone bound of
// the box's bounding sphere (the angle to its centre minus its angular
// radius; Conty Estevez and Kulla 2018, section 5.1) and the box's greatest
// height above the plane over the clamped distance. It is zero exactly when
// the box lies on or below the plane, or when effLength proves that no edge
// of the node is a candidate from p; positive otherwise.
func nodeImportance(nd *nodeData, p, n mgl64.Vec3) float64 {
	mn, mx := nd.box.Min, nd.box.Max
	hmax, diag2 := 0.0, 0.0
	for k := 0; k < 3; k++ {
		lo, hi := n[k]*(mn[k]-p[k]), n[k]*(mx[k]-p[k])
		hmax += max(lo, hi)
		ek := mx[k] - mn[k]
		diag2 += ek * ek
	}
	if !(hmax > 0) {
		return 0
	}
	L := effLength(nd, p, diag2)
	if !(L > 0) {
		return 0
	}
	r2 := 0.25 * diag2
	c := mgl64.Vec3{0.5 * (mn[0] + mx[0]), 0.5 * (mn[1] + mx[1]), 0.5 * (mn[2] + mx[2])}
	v := c.Sub(p)
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
// 2000, section 4.1): lA always counts; the smooth edges' lS counts unless
// the cone proves that all faces face p or all face away (then none is a
// silhouette); the one-sided Sharp edges' lF counts in proportion to an
// estimate of the fraction of faces facing p: 1 when all do, 0 when none
// does, and in between 1/2 + cos(phi)/(2 sin(theta)) clamped to
// [minFront, 1]. Here the directions from the node's box to p lie in a
// cone about p - centre of half-angle asin(R/|p - centre|), R the box's
// half-diagonal, phi is the angle between that axis and the normal cone's,
// and theta the sum of the two half-angles: all faces face p when
// phi + theta < pi/2 and all face away when phi - theta > pi/2. It is zero
// only when no edge of the node can be a candidate.
func effLength(nd *nodeData, p mgl64.Vec3, diag2 float64) float64 {
	if nd.cosT == emptyCone {
		return nd.lA
	}
	if nd.cosT <= -1 {
		return nd.lA + nd.lS + 0.5*nd.lF
	}
	v := p.Sub(nd.box.Centroid())
	dist2 := v.Dot(v)
	r2 := 0.25 * diag2
	if !(dist2 > r2*(1+1e-9)) {
		return nd.lA + nd.lS + 0.5*nd.lF
	}
	dist := math.Sqrt(dist2)
	cosV := math.Sqrt(dist2-r2) / dist
	sinV := math.Sqrt(r2) / dist
	cosTh := nd.cosT*cosV - nd.sinT*sinV
	sinTh := nd.sinT*cosV + nd.cosT*sinV
	cosPhi := nd.axis.Dot(v) / dist
	if !(cosTh > cullMargin) {
		// theta >= pi/2: nothing is proven.
		return nd.lA + nd.lS + max(minFront, 0.5+0.5*cosPhi)*nd.lF
	}
	sinPhi := math.Sqrt(max(0, 1-cosPhi*cosPhi))
	if cosPhi*cosTh-sinPhi*sinTh > cullMargin {
		return nd.lA + nd.lF // all face p
	}
	if cosPhi*cosTh+sinPhi*sinTh < -cullMargin {
		return nd.lA // all face away
	}
	f := min(1, max(minFront, 0.5+0.5*cosPhi/sinTh))
	return nd.lA + nd.lS + f*nd.lF
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
