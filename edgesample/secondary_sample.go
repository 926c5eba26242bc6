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
//
// Both strategies descend the same tree, and an edge is reached by one
// path from the root: the descent that draws the edge evaluates, along its
// path, the importances the other strategy's probability of the edge
// needs (the emitter strategy's descent computes the hierarchy's
// importances anyway, since it scales them; the hierarchy's descent
// records them, and the cone factors are added only when S lies inside a
// cluster's cone). The probabilities are the same products of the same
// values that Pmf computes.
func (h *Secondary) Sample(p, n mgl64.Vec3, u0, u1 float64) (SecondarySample, bool) {
	if !finite3(p) || !finite3(n) {
		return SecondarySample{}, false
	}
	if h.opts.Uniform {
		return h.sampleUniform(vec(p), vec(n), u0, u1)
	}
	if len(h.nodes) == 0 {
		return SecondarySample{}, false
	}
	var ev emitView
	q := h.emitterView(p, n, &ev)
	pv, nv := vec(p), vec(n)
	u := clampU(u0)
	var pos int32
	var s float64
	var pH float64    // the hierarchy's density at (edge, S)
	skip := skipNone  // the cluster that drew the sample
	var known float64 // its term P(c) P(edge | c) p(S | edge, c)
	var path descentPath
	if u < q {
		ci, ur := ev.pick(clampU(u / q))
		if ci < 0 {
			return SecondarySample{}, false
		}
		cone := &ev.cones[ci]
		k, pmfC, pmfH, ok := h.descendCone(pv, nv, cone, ur)
		if !ok {
			return SecondarySample{}, false
		}
		pos = k
		rec := &h.recs[pos]
		lo, hi, _ := coneIntervalV(rec.v0, rec.v1, pv, nv, cone)
		_, fr := edgeImportanceV(rec.v0, rec.v1, pv, nv, lo, hi)
		s = fr.sampleInner(clampU(u1))
		skip, known = ci, ev.prob[ci]*pmfC*fr.innerPdf(s)
		if pmfH != 0 {
			pH = pmfH * h.pointPdf(rec, pv, nv, s)
		}
	} else {
		if q > 0 {
			u = clampU((u - q) / (1 - q))
		}
		k, pmfH, ok := h.descendHierarchy(pv, nv, u, &path)
		if !ok {
			return SecondarySample{}, false
		}
		pos = k
		rec := &h.recs[pos]
		pdfS := 1.0
		if h.opts.UniformPoint {
			s = u1
		} else {
			_, fr := edgeImportanceV(rec.v0, rec.v1, pv, nv, 0, 1)
			s, pdfS = fr.samplePoint(u1)
		}
		pH = pmfH * pdfS
	}
	pdf := pH
	if q > 0 {
		// The emitter strategy's density: every cluster whose cone holds
		// the point.
		pE := 0.0
		rec := &h.recs[pos]
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
			ds := coneDensity(rec, pv, nv, cone, s)
			if !(ds > 0) {
				continue
			}
			var pm float64
			if skip == skipNone {
				pm = h.pathPmfCone(&path, pv, nv, cone, pos)
			} else {
				pm = h.pmfAt(pv, nv, cone, pos)
			}
			if pm > 0 {
				pE += pc * pm * ds
			}
		}
		pdf = q*pE + (1-q)*pH
	}
	if !(pdf > 0) || math.IsInf(pdf, 0) || !(s >= 0 && s <= 1) {
		return SecondarySample{}, false
	}
	rec := &h.recs[pos]
	return SecondarySample{Edge: rec.edge, S: s, M: lerpV(rec.v0, rec.v1, s).mgl(), Pdf: pdf}, true
}

// skipNone names no cluster: the hierarchy drew the sample.
const skipNone = -1

// coneDensity is the density at S of the emitter strategy's point sampler
// on edge rec for the cone c (0 when S lies outside the part of the edge
// inside the cone).
func coneDensity(rec *secEdge, p, n v3, c *dirCone, s float64) float64 {
	lo, hi, ok := coneIntervalV(rec.v0, rec.v1, p, n, c)
	if !ok || s < lo || s > hi {
		return 0
	}
	_, fr := edgeImportanceV(rec.v0, rec.v1, p, n, lo, hi)
	return fr.innerPdf(s)
}

// pointPdf is the density at S of the hierarchy's point sampler on edge
// rec.
func (h *Secondary) pointPdf(rec *secEdge, p, n v3, s float64) float64 {
	if h.opts.UniformPoint {
		return 1
	}
	_, fr := edgeImportanceV(rec.v0, rec.v1, p, n, 0, 1)
	return fr.pointPdf(s)
}

// mixturePdf returns the density q p_emitter + (1-q) p_hierarchy of the
// edge recs[pos] at S seen from (p, n), ev being emitterView's clusters and
// q its result, each strategy's probability of the edge recomputed by
// pmfAt.
func (h *Secondary) mixturePdf(p, n v3, ev *emitView, q float64, pos int32, s float64) float64 {
	if !(s >= 0 && s <= 1) {
		return 0
	}
	rec := &h.recs[pos]
	var pH float64
	if pmf := h.pmfAt(p, n, nil, pos); pmf != 0 {
		pH = pmf * h.pointPdf(rec, p, n, s)
	}
	if q == 0 {
		return pH
	}
	pE := 0.0
	for ci := 0; ci < ev.n; ci++ {
		pc := ev.prob[ci]
		if !(pc > 0) {
			continue
		}
		cone := &ev.cones[ci]
		ds := coneDensity(rec, p, n, cone, s)
		if !(ds > 0) {
			continue
		}
		if pm := h.pmfAt(p, n, cone, pos); pm > 0 {
			pE += pc * pm * ds
		}
	}
	return q*pE + (1-q)*pH
}

// maxPath is the deepest descent whose importances descentPath records
// (deeper trees, which the binned build can make only from degenerate
// input, fall back to recomputing them).
const maxPath = 64

// descentPath records the hierarchy's importances of the two children at
// every level of a descent (n < 0 when the descent was deeper than
// maxPath).
type descentPath struct {
	n      int
	il, ir [maxPath]float64
}

// descendHierarchy walks the hierarchy from the root with u, choosing
// children in proportion to their importance seen from (p, n), and picks
// an edge of the leaf reached, recording the importances in path. It
// returns the edge's index in recs and its probability; ok is false when
// the descent finds no candidate.
func (h *Secondary) descendHierarchy(p, n v3, u float64, path *descentPath) (pos int32, pmf float64, ok bool) {
	var wa, wb [leafSize]float64
	cur := &wa
	ni := int32(0)
	pmf = 1
	if h.nodes[0].right < 0 {
		h.leafWeights(&h.nodes[0], p, n, nil, cur, nil)
	}
	depth := 0
	for h.nodes[ni].right >= 0 {
		l, r := ni+1, h.nodes[ni].right
		il := h.childImportance(l, p, n, &wa)
		ir := h.childImportance(r, p, n, &wb)
		if depth < maxPath {
			path.il[depth], path.ir[depth] = il, ir
		}
		depth++
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
	path.n = depth
	if depth > maxPath {
		path.n = -1
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

// descendCone walks the hierarchy from the root with u, choosing children
// in proportion to their importance restricted to the cone c, and picks
// an edge of the leaf reached by its importance inside the cone. It
// returns the edge's index in recs, its probability pmfC and the
// probability pmfH that descendHierarchy picks the same edge (the product
// of the hierarchy's choices along the same path, whose importances the
// restricted ones scale); ok is false when the descent finds no candidate.
func (h *Secondary) descendCone(p, n v3, c *dirCone, u float64) (pos int32, pmfC, pmfH float64, ok bool) {
	var ca, cb, ha, hb [leafSize]float64
	curC, curH := &ca, &ha
	ni := int32(0)
	pmfC, pmfH = 1, 1
	if h.nodes[0].right < 0 {
		h.leafWeights(&h.nodes[0], p, n, c, curH, curC)
	}
	for h.nodes[ni].right >= 0 {
		l, r := ni+1, h.nodes[ni].right
		ilH, ilC := h.childImportanceCone(l, p, n, c, &ha, &ca)
		irH, irC := h.childImportanceCone(r, p, n, c, &hb, &cb)
		pl, ok := splitProb(ilC, irC)
		if !ok {
			return 0, 0, 0, false
		}
		// A child of positive restricted importance has a positive
		// importance: the hierarchy's split exists.
		plH, _ := splitProb(ilH, irH)
		if u < pl {
			u = clampU(u / pl)
			pmfC *= pl
			pmfH *= plH
			ni, curC, curH = l, &ca, &ha
		} else {
			u = clampU((u - pl) / (1 - pl))
			pmfC *= 1 - pl
			pmfH *= 1 - plH
			ni, curC, curH = r, &cb, &hb
		}
	}
	nd := &h.nodes[ni]
	k, pk := pickLeaf(curC, int(nd.count), u)
	if k < 0 {
		return 0, 0, 0, false
	}
	pmfC *= pk
	if !(pmfC > 0) {
		return 0, 0, 0, false
	}
	pmfH *= leafProb(curH, int(nd.count), k)
	return nd.start + int32(k), pmfC, pmfH, true
}

// pmfAt returns the probability that the descent (descendHierarchy when c
// is nil, descendCone's restricted choices otherwise) picks recs[pos]: the
// same choices, followed towards pos.
func (h *Secondary) pmfAt(p, n v3, c *dirCone, pos int32) float64 {
	return h.pmfAlong(nil, p, n, c, pos)
}

// pathPmfCone is pmfAt(p, n, c, pos) for the edge that descendHierarchy
// drew with the record path: it reuses the hierarchy's importances of the
// path's nodes and computes only their cone factors.
func (h *Secondary) pathPmfCone(path *descentPath, p, n v3, c *dirCone, pos int32) float64 {
	if path.n < 0 {
		return h.pmfAt(p, n, c, pos)
	}
	return h.pmfAlong(path, p, n, c, pos)
}

// pmfAlong descends to the leaf holding pos, multiplying the choice
// probabilities: the hierarchy's (c nil) or within cone c, reusing the
// importances a recorded path holds when path is non-nil.
func (h *Secondary) pmfAlong(path *descentPath, p, n v3, c *dirCone, pos int32) float64 {
	var wa, wb [leafSize]float64
	cur := &wa
	ni := int32(0)
	pmf := 1.0
	if h.nodes[0].right < 0 {
		h.leafWeightsFor(&h.nodes[0], p, n, c, cur)
	}
	for depth := 0; h.nodes[ni].right >= 0; depth++ {
		l, r := ni+1, h.nodes[ni].right
		var il, ir float64
		switch {
		case c == nil:
			il = h.childImportance(l, p, n, &wa)
			ir = h.childImportance(r, p, n, &wb)
		case path != nil:
			il = h.coneChild(l, path.il[depth], p, n, c, &wa)
			ir = h.coneChild(r, path.ir[depth], p, n, c, &wb)
		default:
			il = h.coneChild(l, -1, p, n, c, &wa)
			ir = h.coneChild(r, -1, p, n, c, &wb)
		}
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

func (h *Secondary) sampleUniform(p, n v3, u0, u1 float64) (SecondarySample, bool) {
	if h.uniform == nil {
		return SecondarySample{}, false
	}
	i, pmf, _ := h.uniform.SampleDiscrete(clampU(u0))
	rec := &h.recs[i]
	if !(pmf > 0) || !recContributes(rec, p, n) {
		return SecondarySample{}, false
	}
	return SecondarySample{Edge: rec.edge, S: u1, M: lerpV(rec.v0, rec.v1, u1).mgl(), Pdf: pmf}, true
}

// recContributes reports whether an edge is a candidate from p with a
// point strictly above the plane through p with normal n.
func recContributes(rec *secEdge, p, n v3) bool {
	a, b := rec.v0.sub(p), rec.v1.sub(p)
	if !(n.dot(a) > 0 || n.dot(b) > 0) {
		return false
	}
	return candWeight(rec.flags, 1, a, rec.m0, rec.m1) > 0
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
		if h.uniform == nil || edge >= len(h.recs) || !recContributes(&h.recs[edge], vec(p), vec(n)) {
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
	pv, nv := vec(p), vec(n)
	pmf := h.pmfAt(pv, nv, nil, pos)
	if q == 0 {
		return pmf
	}
	pE := 0.0
	for ci := 0; ci < ev.n; ci++ {
		if pc := ev.prob[ci]; pc > 0 {
			pE += pc * h.pmfAt(pv, nv, &ev.cones[ci], pos)
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
	return h.mixturePdf(vec(p), vec(n), &ev, q, h.edgePos[edge], s)
}

// EmitterFraction returns the probability of the emitter strategy at
// shading points that see an emitter cluster (0 when it is off or the
// scene has no emissive triangles).
func (h *Secondary) EmitterFraction() float64 { return h.q }

// childImportance returns the hierarchy's importance of node ni seen from
// (p, n): the sum of its edges' importances for a leaf (written to w),
// nodeImportance for an inner node.
func (h *Secondary) childImportance(ni int32, p, n v3, w *[leafSize]float64) float64 {
	nd := &h.nodes[ni]
	if nd.right < 0 {
		sum, _ := h.leafWeights(nd, p, n, nil, w, nil)
		return sum
	}
	var g nodeGeo
	nd.geometry(p, &g)
	return nodeImportance(nd, &g, p, n)
}

// childImportanceCone returns the hierarchy's importance of node ni (iH)
// and its importance restricted to the cone c (iC), writing a leaf's
// edges' importances to wH and wC.
func (h *Secondary) childImportanceCone(ni int32, p, n v3, c *dirCone, wH, wC *[leafSize]float64) (iH, iC float64) {
	nd := &h.nodes[ni]
	if nd.right < 0 {
		return h.leafWeights(nd, p, n, c, wH, wC)
	}
	var g nodeGeo
	nd.geometry(p, &g)
	iH = nodeImportance(nd, &g, p, n)
	if iH == 0 {
		return 0, 0
	}
	return iH, restricted(iH, coneFactor(nd, &g, p, c))
}

// coneChild returns node ni's importance restricted to the cone c, given
// its hierarchy importance iH when ni is an inner node (iH < 0: compute
// it), writing a leaf's edges' importances to w.
func (h *Secondary) coneChild(ni int32, iH float64, p, n v3, c *dirCone, w *[leafSize]float64) float64 {
	nd := &h.nodes[ni]
	if nd.right < 0 {
		_, sum := h.leafWeights(nd, p, n, c, nil, w)
		return sum
	}
	var g nodeGeo
	nd.geometry(p, &g)
	if iH < 0 {
		iH = nodeImportance(nd, &g, p, n)
	}
	if iH == 0 {
		return 0
	}
	return restricted(iH, coneFactor(nd, &g, p, c))
}

// restricted is an inner node's importance imp scaled by its cone factor
// f, kept positive when f is.
func restricted(imp, f float64) float64 {
	if f == 0 {
		return 0
	}
	imp *= f
	if !(imp > 0) {
		return tinyImportance
	}
	return imp
}

// leafWeightsFor writes a leaf's edges' importances, restricted to the
// cone c when it is not nil, to w and returns their sum.
func (h *Secondary) leafWeightsFor(nd *secNode, p, n v3, c *dirCone, w *[leafSize]float64) float64 {
	if c == nil {
		sum, _ := h.leafWeights(nd, p, n, nil, w, nil)
		return sum
	}
	_, sum := h.leafWeights(nd, p, n, c, nil, w)
	return sum
}

// leafWeights writes the importance of each of a leaf's edges to wH (when
// not nil) and their importance restricted to the cone c to wC (when c and
// wC are not nil), and returns the sums. An edge's importance is zero when
// it is not a candidate from p or has no point above the plane through p,
// otherwise its clipped angular measure (edgeWeight) times its expected
// jump (candidateWeightN with the record's Jump); restricted to c, only
// the part of the edge whose directions lie inside c counts
// (coneInterval).
func (h *Secondary) leafWeights(nd *secNode, p, n v3, c *dirCone, wH, wC *[leafSize]float64) (sumH, sumC float64) {
	if wH != nil {
		*wH = [leafSize]float64{}
	}
	if c == nil {
		wC = nil
	}
	if wC != nil {
		*wC = [leafSize]float64{}
	}
	recs := h.recs[nd.start : nd.start+nd.count]
	for k := range recs {
		rec := &recs[k]
		a := rec.v0.sub(p)
		za, zb := n.dot(a), n.dot(rec.v1.sub(p))
		if !(za > 0 || zb > 0) {
			continue
		}
		jw := candWeight(rec.flags, float64(rec.jump), a, rec.m0, rec.m1)
		if !(jw > 0) {
			continue
		}
		if wH != nil {
			if imp := edgeWeight(rec, a, n, za, zb, 0, 1, jw); imp > 0 {
				wH[k] = imp
				sumH += imp
			}
		}
		if wC != nil {
			if lo, hi, ok := coneIntervalV(rec.v0, rec.v1, p, n, c); ok {
				if imp := edgeWeight(rec, a, n, za, zb, lo, hi, jw); imp > 0 {
					wC[k] = imp
					sumC += imp
				}
			}
		}
	}
	if math.IsInf(sumH, 1) {
		sumH = math.MaxFloat64
	}
	if math.IsInf(sumC, 1) {
		sumC = math.MaxFloat64
	}
	return sumH, sumC
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

// leafNorm returns the largest of a leaf's weights, the sum of the
// weights divided by it and the number of positive weights.
func leafNorm(w *[leafSize]float64, count int) (m, sum float64, npos int) {
	for i := 0; i < count; i++ {
		m = max(m, w[i])
	}
	for i := 0; i < count; i++ {
		if w[i] > 0 {
			sum += w[i] / m
			npos++
		}
	}
	return m, sum, npos
}

// leafProb is the probability that pickLeaf picks edge k of weights w:
// proportional to the weights, mixed with splitEps of a uniform choice
// among the positive ones.
func leafProb(w *[leafSize]float64, count, k int) float64 {
	if k < 0 || k >= count || !(w[k] > 0) {
		return 0
	}
	m, sum, npos := leafNorm(w, count)
	return (1-splitEps)*(w[k]/m)/sum + splitEps/float64(npos)
}

// pickLeaf picks an edge of a leaf with probability leafProb; -1 when no
// weight is positive.
func pickLeaf(w *[leafSize]float64, count int, u float64) (int, float64) {
	m, sum, npos := leafNorm(w, count)
	last := -1
	lastP := 0.0
	acc := 0.0
	for k := 0; k < count; k++ {
		if !(w[k] > 0) {
			continue
		}
		pk := (1-splitEps)*(w[k]/m)/sum + splitEps/float64(npos)
		last, lastP = k, pk
		if u < acc+pk {
			return k, pk
		}
		acc += pk
	}
	// Rounding left u beyond the last cumulative sum (or no weight is
	// positive: last is -1).
	return last, lastP
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

func finite3(v mgl64.Vec3) bool {
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}
