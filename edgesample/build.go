package edgesample

import (
	"math"
	"sync"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/geom"
	"github.com/invrender/invrender/render"
)

// NewSecondary builds the secondary sampler over all edges of e at the
// scene's current vertex positions: O(E log E), in parallel where the
// work is large enough. It also groups the scene's emissive triangles for
// the emitter strategy (see SecondaryOptions).
//
// The hierarchy is built top-down with binned splits (Wald, "On fast
// Construction of SAH-based Bounding Volume Hierarchies", IRT 2007) that
// minimise the sum over the two children of weighted edge length times box
// surface area, the cost that Conty Estevez and Kulla (2018, section 4.4)
// use for light trees without the orientation term: it separates compact
// clusters from long sparse ones, so that a node's importance estimate
// describes its edges well. Ranges of up to leafSize edges become leaves.
func NewSecondary(s *render.Scene, e *Edges, o SecondaryOptions) *Secondary {
	h := &Secondary{opts: o}
	if !o.Uniform && !o.NoEmitter {
		h.clusters = buildEmitters(s)
		if len(h.clusters) > 0 {
			h.q = o.EmitterFraction
			if h.q == 0 {
				h.q = DefaultEmitterFraction
			}
			h.q = math.Min(h.q, maxEmitterFraction)
			if !(h.q > 0) { // negative or NaN
				h.q, h.clusters = 0, nil
			}
		}
	}
	ne := len(e.List)
	if ne == 0 {
		return h
	}
	b := &secBuilder{
		h:     h,
		e:     e,
		s:     s,
		cent:  make([]mgl64.Vec3, ne),
		class: make([]uint8, ne),
		wA:    make([]float64, ne),
		wS:    make([]float64, ne),
		wF:    make([]float64, ne),
		cost:  make([]float64, ne),
		lo:    make([]mgl64.Vec3, ne),
		hi:    make([]mgl64.Vec3, ne),
		n0:    make([]mgl64.Vec3, ne),
		n1:    make([]mgl64.Vec3, ne),
		order: make([]int32, ne),
		recs:  make([]secEdge, ne),
	}
	b.prepare()
	if o.Uniform {
		w := make([]float64, ne)
		for i := range e.List {
			w[i] = e.Length(s, i)
		}
		h.uniform = render.NewDistribution1D(w)
		h.recs = b.recs
		return h
	}
	root := b.build(0, int32(ne), 0)
	h.nodes = make([]secNode, root.size)
	b.flatten(root, 0, 0)
	h.recs = b.recs
	permute(h.recs, b.order)
	h.edgePos = make([]int32, ne)
	for k := range h.recs {
		h.edgePos[h.recs[k].edge] = int32(k)
	}
	return h
}

// permute reorders recs in place so that recs[k] becomes the old
// recs[order[k]] (order a permutation), following its cycles.
func permute(recs []secEdge, order []int32) {
	done := make([]bool, len(recs))
	for i := range recs {
		if done[i] {
			continue
		}
		tmp := recs[i]
		j := i
		for {
			done[j] = true
			k := int(order[j])
			if k == i {
				recs[j] = tmp
				break
			}
			recs[j] = recs[k]
			j = k
		}
	}
}

// secBuilder holds the scratch state of NewSecondary.
type secBuilder struct {
	h      *Secondary
	e      *Edges
	s      *render.Scene
	cent   []mgl64.Vec3 // edge midpoints
	class  []uint8      // edgeClass of each edge
	wA     []float64    // weighted lengths of each edge in the three
	wS     []float64    // classes of nodeData (lA, lS, lF)
	wF     []float64
	cost   []float64    // the edge's weight in the split cost
	lo, hi []mgl64.Vec3 // the edge's bounding box
	n0, n1 []mgl64.Vec3 // unit face normals
	order  []int32      // edges, permuted into leaf order
	recs   []secEdge    // records in Edges.List order
}

// prepare computes the per-edge data, in parallel.
func (b *secBuilder) prepare() {
	parallelRange(len(b.order), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			b.order[i] = int32(i)
			fl, n0, n1, jump := b.e.edgeFlags(b.s, i)
			if b.h.opts.NoJumpWeight {
				jump = 1
			}
			v0, v1, o0, o1 := b.e.corners(b.s, i)
			m0, m1 := sideNormals(v0, v1, o0, o1)
			ev := v1.Sub(v0)
			l := ev.Len()
			r := secEdge{v0: vec(v0), v1: vec(v1), m0: vec(m0), m1: vec(m1), length: float32(l), edge: int32(i), flags: fl, jump: float32(jump)}
			if l > 0 && !math.IsInf(l, 0) {
				u := ev.Mul(1 / l)
				r.dir = [3]float32{float32(u[0]), float32(u[1]), float32(u[2])}
			}
			b.recs[i] = r
			b.cent[i] = v0.Add(v1).Mul(0.5)
			b.lo[i] = mgl64.Vec3{min(v0[0], v1[0]), min(v0[1], v1[1]), min(v0[2], v1[2])}
			b.hi[i] = mgl64.Vec3{max(v0[0], v1[0]), max(v0[1], v1[1]), max(v0[2], v1[2])}
			b.n0[i], b.n1[i] = n0, n1
			c, wA, wS, wF := edgeClass(fl, n0, n1, jump, !b.h.opts.NoJumpWeight)
			b.class[i] = c
			b.wA[i], b.wS[i], b.wF[i] = wA*l, wS*l, wF*l
			b.cost[i] = b.wA[i] + b.wS[i] + 0.5*b.wF[i]
		}
	})
}

// Classes of edges in the hierarchy's nodes.
const (
	classAlways = iota // boundary, non-manifold, inconsistently wound or degenerate faces, or Sharp and two-sided
	classSmooth        // not Sharp: a candidate only where it is a silhouette
	classFront         // Sharp and one-sided: a candidate where a face faces p
)

// edgeClass returns an edge's class and the weights of its length in the
// node classes lA, lS and lF. A smooth edge counts in lS with the fraction
// alpha/pi of directions from which it is a silhouette (two lunes of angle
// alpha, the angle between the face normals; redner's edge tree weighs by
// the exterior dihedral angle for the same reason), floored so that no
// edge's weight vanishes. Edges that are candidates whatever the cone says
// count 1 in lA, and a one-sided Sharp edge counts 1 in lF. With the
// expected-jump weighting (jumpW), a Sharp edge is a silhouette (weight 1)
// from a fraction alpha/pi of the directions and a candidate of weight jump
// from most others: a one-sided one counts alpha/pi in lS and jump in lF,
// a two-sided one min(1, alpha/pi + jump) in lA.
func edgeClass(fl uint8, n0, n1 mgl64.Vec3, jump float64, jumpW bool) (class uint8, wA, wS, wF float64) {
	if fl&(cAlways|cNoCone) != 0 {
		return classAlways, 1, 0, 0
	}
	alpha := math.Atan2(n0.Cross(n1).Len(), n0.Dot(n1))
	frac := math.Max(alpha/math.Pi, 1e-6)
	switch {
	case fl&cSharp == 0:
		return classSmooth, 0, frac, 0
	case !jumpW && fl&cTwoSided != 0:
		return classAlways, 1, 0, 0
	case !jumpW:
		return classFront, 0, 0, 1
	case fl&cTwoSided != 0:
		return classAlways, math.Min(1, frac+jump), 0, 0
	}
	return classFront, 0, frac, jump
}

// tmpNode is a node of the tree before flattening.
type tmpNode struct {
	start, count int32
	size         int32 // nodes in the subtree
	left, right  *tmpNode
}

// build splits order[start : start+count] recursively.
func (b *secBuilder) build(start, count int32, depth int) *tmpNode {
	t := &tmpNode{start: start, count: count, size: 1}
	if count <= leafSize {
		return t
	}
	mid := b.split(b.order[start : start+count])
	if count >= parallelBuild && depth < 10 {
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.left = b.build(start, mid, depth+1)
		}()
		t.right = b.build(start+mid, count-mid, depth+1)
		wg.Wait()
	} else {
		t.left = b.build(start, mid, depth+1)
		t.right = b.build(start+mid, count-mid, depth+1)
	}
	t.size += t.left.size + t.right.size
	return t
}

// sahBin accumulates the edges whose midpoints fall in one bin.
type sahBin struct {
	lo, hi mgl64.Vec3
	cost   float64
	n      int32
}

func (bn *sahBin) reset() {
	inf := math.Inf(1)
	*bn = sahBin{lo: mgl64.Vec3{inf, inf, inf}, hi: mgl64.Vec3{-inf, -inf, -inf}}
}

// add extends the bin by the box [lo, hi] of weight c.
func (bn *sahBin) add(lo, hi *mgl64.Vec3, c float64) {
	bn.lo = mgl64.Vec3{min(bn.lo[0], lo[0]), min(bn.lo[1], lo[1]), min(bn.lo[2], lo[2])}
	bn.hi = mgl64.Vec3{max(bn.hi[0], hi[0]), max(bn.hi[1], hi[1]), max(bn.hi[2], hi[2])}
	bn.cost += c
}

// area is the surface area of the bin's box (0 when empty).
func (bn *sahBin) area() float64 {
	dx, dy, dz := bn.hi[0]-bn.lo[0], bn.hi[1]-bn.lo[1], bn.hi[2]-bn.lo[2]
	if dx < 0 {
		return 0
	}
	return 2 * (dx*dy + dy*dz + dz*dx)
}

// split partitions idx (more than leafSize edges) into two non-empty
// parts and returns the size of the first: the binned split of least
// cost over the three axes, or the median along the longest axis when
// binning cannot separate the midpoints or the cost carries no
// information.
func (b *secBuilder) split(idx []int32) int32 {
	if len(idx) <= medianBelow {
		return b.median(idx)
	}
	inf := math.Inf(1)
	cmin, cmax := mgl64.Vec3{inf, inf, inf}, mgl64.Vec3{-inf, -inf, -inf}
	for _, i := range idx {
		c := &b.cent[i]
		cmin = mgl64.Vec3{min(cmin[0], c[0]), min(cmin[1], c[1]), min(cmin[2], c[2])}
		cmax = mgl64.Vec3{max(cmax[0], c[0]), max(cmax[1], c[1]), max(cmax[2], c[2])}
	}
	var bins [3][sahBins]sahBin
	var scale [3]float64
	for axis := 0; axis < 3; axis++ {
		for k := range bins[axis] {
			bins[axis][k].reset()
		}
		if ext := cmax[axis] - cmin[axis]; ext > 0 {
			scale[axis] = sahBins / ext
		}
	}
	for _, i := range idx {
		c, lo, hi, w := &b.cent[i], &b.lo[i], &b.hi[i], b.cost[i]
		for axis := 0; axis < 3; axis++ {
			k := min(int((c[axis]-cmin[axis])*scale[axis]), sahBins-1)
			bn := &bins[axis][k]
			bn.add(lo, hi, w)
			bn.n++
		}
	}
	bestAxis, bestBin := -1, 0
	bestCost := inf
	var rightCost [sahBins]float64
	for axis := 0; axis < 3; axis++ {
		if scale[axis] == 0 {
			continue
		}
		// Sweep from the right, then from the left.
		var acc sahBin
		acc.reset()
		for k := sahBins - 1; k > 0; k-- {
			bn := &bins[axis][k]
			acc.add(&bn.lo, &bn.hi, bn.cost)
			rightCost[k] = acc.cost * acc.area()
		}
		acc.reset()
		n := int32(0)
		for k := 0; k < sahBins-1; k++ {
			bn := &bins[axis][k]
			acc.add(&bn.lo, &bn.hi, bn.cost)
			n += bn.n
			if n == 0 || n == int32(len(idx)) {
				continue
			}
			if cost := acc.cost*acc.area() + rightCost[k+1]; cost < bestCost {
				bestCost, bestAxis, bestBin = cost, axis, k
			}
		}
	}
	if bestAxis < 0 || !(bestCost > 0) {
		return b.median(idx)
	}
	lo, sc := cmin[bestAxis], scale[bestAxis]
	i, j := 0, len(idx)-1
	for i <= j {
		if min(int((b.cent[idx[i]][bestAxis]-lo)*sc), sahBins-1) <= bestBin {
			i++
		} else {
			idx[i], idx[j] = idx[j], idx[i]
			j--
		}
	}
	return int32(i)
}

// median splits idx at the median of the midpoints along the longest axis
// of their bounds.
func (b *secBuilder) median(idx []int32) int32 {
	inf := math.Inf(1)
	cmin, cmax := mgl64.Vec3{inf, inf, inf}, mgl64.Vec3{-inf, -inf, -inf}
	for _, i := range idx {
		c := &b.cent[i]
		cmin = mgl64.Vec3{min(cmin[0], c[0]), min(cmin[1], c[1]), min(cmin[2], c[2])}
		cmax = mgl64.Vec3{max(cmax[0], c[0]), max(cmax[1], c[1]), max(cmax[2], c[2])}
	}
	d := cmax.Sub(cmin)
	axis := 0
	if d[1] > d[axis] {
		axis = 1
	}
	if d[2] > d[axis] {
		axis = 2
	}
	mid := len(idx) / 2
	selectNth(idx, mid, b.cent, axis)
	return int32(mid)
}

// flatten writes the subtree t to h.nodes[ni:], depth first, computing
// each node's box, lengths and normal cone bottom-up, and returns the
// root's description.
func (b *secBuilder) flatten(t *tmpNode, ni int32, depth int) nodeData {
	nd := &b.h.nodes[ni]
	idx := b.order[t.start : t.start+t.count]
	if t.left == nil {
		d := b.leaf(idx)
		nd.pack(&d)
		nd.start, nd.count, nd.right = t.start, t.count, -1
		b.radius(nd, idx)
		return d
	}
	left, right := ni+1, ni+1+t.left.size
	var l, r nodeData
	if t.count >= parallelBuild && depth < 10 {
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			l = b.flatten(t.left, left, depth+1)
		}()
		r = b.flatten(t.right, right, depth+1)
		wg.Wait()
	} else {
		l = b.flatten(t.left, left, depth+1)
		r = b.flatten(t.right, right, depth+1)
	}
	d := nodeData{box: l.box.Union(r.box), lA: l.lA + r.lA, lS: l.lS + r.lS, lF: l.lF + r.lF}
	d.axis, d.cosT, d.sinT = mergeCones(l.axis, l.cosT, l.sinT, r.axis, r.cosT, r.sinT)
	nd.pack(&d)
	nd.start, nd.count, nd.right = t.start, t.count, right
	if t.count <= anchorMaxCount {
		b.anchors(nd, idx)
		b.radius(nd, idx)
	}
	return d
}

// anchors computes the anchored normal cones of the inner node nd holding
// the edges idx (Sander, Gu, Gortler, Hoppe and Snyder, "Silhouette
// Clipping", SIGGRAPH 2000, section 4.2). With a and theta the node's
// stored normal cone and c its stored box's centre, every face f (unit
// normal m_f within theta of a, plane through the point y_f) faces away
// from every point of the cone of apex c + tB a, axis -a and half-angle
// pi/2 - theta when
//
//	tB <= min over f of m_f.(y_f - c) / (m_f.a),
//
// since for x in that cone m_f.(x - y_f) = m_f.(x - apex) + m_f.(apex -
// y_f), the first term at most 0 (the angle between m_f and x - apex is
// at least pi/2) and the second too. Likewise every face faces every point
// of the cone of apex c + tF a, axis a, with tF at least the maximum. The
// offsets are computed from the float32 axis and box that the queries
// use, and rounded outwards.
//
// Nodes of more than anchorMaxCount edges get none: the work is linear in a
// node's size at every level, and such large nodes rarely have a normal
// cone narrow enough for the anchored cones to prove anything.
func (b *secBuilder) anchors(nd *secNode, idx []int32) {
	cosT := float64(nd.cosT)
	if !(cosT >= anchorMinCos && cosT <= 1) {
		return
	}
	c := nd.centre()
	axis := nd.coneAxis()
	tB, tF := math.Inf(1), math.Inf(-1)
	for _, i := range idx {
		if b.class[i] == classAlways {
			continue
		}
		y := b.recs[i].v0.mgl().Sub(c)
		for _, m := range [2]mgl64.Vec3{b.n0[i], b.n1[i]} {
			ma := m.Dot(axis)
			if !(ma > 0) {
				// The cone does not bound this normal after all (it
				// always does; guard against rounding): no anchors.
				return
			}
			t := m.Dot(y) / ma
			tB = math.Min(tB, t)
			tF = math.Max(tF, t)
		}
	}
	if math.IsInf(tB, 0) || math.IsInf(tF, 0) {
		return
	}
	// Margins for the rounding of the terms above, relative to the box.
	pad := 1e-6 * (nd.box().Diagonal().Len() + math.Abs(tB) + math.Abs(tF))
	nd.tB, nd.tF = roundDown32(tB-pad), roundUp32(tF+pad)
}

// radius stores the radius about the node's box centre of the sphere
// holding the end points of its edges idx (tighter than half the box's
// diagonal for curved patches), padded and rounded up.
func (b *secBuilder) radius(nd *secNode, idx []int32) {
	c := nd.centre()
	r2 := 0.0
	for _, i := range idx {
		r := &b.recs[i]
		r2 = math.Max(r2, r.v0.mgl().Sub(c).LenSqr())
		r2 = math.Max(r2, r.v1.mgl().Sub(c).LenSqr())
	}
	half := 0.5 * nd.box().Diagonal().Len()
	r := math.Min(math.Sqrt(r2)+1e-6*half, half)
	nd.rad = roundUp32(r)
}

// leaf describes a leaf of the edges idx. Its normal cone is centred on
// the normalised sum of the face normals, with the largest angle to them
// as its half-angle.
func (b *secBuilder) leaf(idx []int32) nodeData {
	var d nodeData
	d.box = geom.EmptyAABB()
	d.cosT = emptyCone
	var sum mgl64.Vec3
	cones := 0
	for _, i := range idx {
		d.box.Min = mgl64.Vec3{min(d.box.Min[0], b.lo[i][0]), min(d.box.Min[1], b.lo[i][1]), min(d.box.Min[2], b.lo[i][2])}
		d.box.Max = mgl64.Vec3{max(d.box.Max[0], b.hi[i][0]), max(d.box.Max[1], b.hi[i][1]), max(d.box.Max[2], b.hi[i][2])}
		d.lA += b.wA[i]
		d.lS += b.wS[i]
		d.lF += b.wF[i]
		if b.class[i] == classAlways {
			continue
		}
		sum = sum.Add(b.n0[i]).Add(b.n1[i])
		cones++
	}
	if cones == 0 {
		return d
	}
	l := sum.Len()
	if !(l > 1e-9*float64(2*cones)) {
		d.cosT, d.sinT = -1, 0
		return d
	}
	axis := sum.Mul(1 / l)
	theta := 0.0
	for _, i := range idx {
		if b.class[i] == classAlways {
			continue
		}
		for _, n := range [2]mgl64.Vec3{b.n0[i], b.n1[i]} {
			theta = max(theta, math.Atan2(axis.Cross(n).Len(), axis.Dot(n)))
		}
	}
	theta += coneMargin
	if theta >= math.Pi {
		d.cosT, d.sinT = -1, 0
		return d
	}
	d.axis, d.cosT, d.sinT = axis, math.Cos(theta), math.Sin(theta)
	return d
}

// selectNth partially sorts idx so that idx[k] holds the element whose key
// (key[idx[.]][axis]) is k-th smallest, with no larger key before it and
// no smaller key after it (Hoare's FIND with a median-of-three pivot).
func selectNth(idx []int32, k int, key []mgl64.Vec3, axis int) {
	lo, hi := 0, len(idx)-1
	kv := func(i int) float64 { return key[idx[i]][axis] }
	for hi > lo {
		if hi-lo < 16 {
			for i := lo + 1; i <= hi; i++ {
				x := idx[i]
				xv := key[x][axis]
				j := i
				for j > lo && key[idx[j-1]][axis] > xv {
					idx[j] = idx[j-1]
					j--
				}
				idx[j] = x
			}
			return
		}
		mid := lo + (hi-lo)/2
		if kv(mid) < kv(lo) {
			idx[mid], idx[lo] = idx[lo], idx[mid]
		}
		if kv(hi) < kv(lo) {
			idx[hi], idx[lo] = idx[lo], idx[hi]
		}
		if kv(hi) < kv(mid) {
			idx[hi], idx[mid] = idx[mid], idx[hi]
		}
		pivot := kv(mid)
		i, j := lo, hi
		for i <= j {
			for kv(i) < pivot {
				i++
			}
			for kv(j) > pivot {
				j--
			}
			if i <= j {
				idx[i], idx[j] = idx[j], idx[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return
		}
	}
}
