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
// work is large enough.
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
	off := make([]int32, len(s.Shapes))
	for i, sh := range s.Shapes {
		off[i] = int32(len(h.pos))
		if sh != nil {
			h.pos = append(h.pos, sh.Positions...)
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
		off:   off,
		cent:  make([]mgl64.Vec3, ne),
		class: make([]uint8, ne),
		wlen:  make([]float64, ne),
		cost:  make([]float64, ne),
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
	h.recs = make([]secEdge, ne)
	for k, i := range b.order {
		h.recs[k] = b.recs[i]
	}
	h.edgePos = make([]int32, ne)
	for k, r := range h.recs {
		h.edgePos[r.edge] = int32(k)
	}
	return h
}

// secBuilder holds the scratch state of NewSecondary.
type secBuilder struct {
	h      *Secondary
	e      *Edges
	s      *render.Scene
	off    []int32
	cent   []mgl64.Vec3 // edge midpoints
	class  []uint8      // edgeClass of each edge
	wlen   []float64    // weighted length of each edge (edgeClass)
	cost   []float64    // the edge's weight in the split cost
	n0, n1 []mgl64.Vec3 // unit face normals
	order  []int32      // edges, permuted into leaf order
	recs   []secEdge    // records in Edges.List order
}

// prepare computes the per-edge data, in parallel.
func (b *secBuilder) prepare() {
	parallelRange(len(b.order), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			b.order[i] = int32(i)
			fl, n0, n1 := b.e.edgeFlags(b.s, i)
			ed := &b.e.List[i]
			o := b.off[ed.Shape]
			r := secEdge{v0: o + ed.V0, v1: o + ed.V1, o0: o + ed.Opp0, o1: o + ed.Opp0, edge: int32(i), flags: fl}
			if ed.Opp1 >= 0 {
				r.o1 = o + ed.Opp1
			}
			b.recs[i] = r
			v0, v1 := b.h.pos[r.v0], b.h.pos[r.v1]
			b.cent[i] = v0.Add(v1).Mul(0.5)
			b.n0[i], b.n1[i] = n0, n1
			c, w := edgeClass(fl, n0, n1)
			b.class[i] = c
			b.wlen[i] = w * v1.Sub(v0).Len()
			b.cost[i] = b.wlen[i]
			if c == classFront {
				b.cost[i] *= 0.5
			}
		}
	})
}

// Classes of edges in the hierarchy's nodes.
const (
	classAlways = iota // boundary, non-manifold, inconsistently wound or degenerate faces, or Sharp and two-sided
	classSmooth        // not Sharp: a candidate only where it is a silhouette
	classFront         // Sharp and one-sided: a candidate where a face faces p
)

// edgeClass returns an edge's class and the weight of its length: 1,
// except for smooth edges, whose weight is the fraction alpha/pi of
// directions from which they are silhouettes (two lunes of angle alpha,
// the angle between the face normals; redner's edge tree weighs by the
// exterior dihedral angle for the same reason), floored so that no edge's
// weight vanishes.
func edgeClass(fl uint8, n0, n1 mgl64.Vec3) (uint8, float64) {
	switch {
	case fl&(cAlways|cNoCone) != 0:
		return classAlways, 1
	case fl&cSharp != 0 && fl&cTwoSided != 0:
		return classAlways, 1
	case fl&cSharp != 0:
		return classFront, 1
	}
	alpha := math.Atan2(n0.Cross(n1).Len(), n0.Dot(n1))
	return classSmooth, math.Max(alpha/math.Pi, 1e-6)
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
	box  geom.AABB
	cost float64
	n    int32
}

// split partitions idx (more than leafSize edges) into two non-empty
// parts and returns the size of the first: the binned split of least
// cost over the three axes, or the median along the longest axis when
// binning cannot separate the midpoints or no split lowers the cost.
func (b *secBuilder) split(idx []int32) int32 {
	cb := geom.EmptyAABB()
	for _, i := range idx {
		cb = cb.Extend(b.cent[i])
	}
	bestAxis, bestBin := -1, 0
	bestCost := math.Inf(1)
	var bins [sahBins]sahBin
	var rightCost [sahBins]float64
	for axis := 0; axis < 3; axis++ {
		lo, ext := cb.Min[axis], cb.Max[axis]-cb.Min[axis]
		if !(ext > 0) {
			continue
		}
		scale := sahBins / ext
		for k := range bins {
			bins[k] = sahBin{box: geom.EmptyAABB()}
		}
		for _, i := range idx {
			k := min(int((b.cent[i][axis]-lo)*scale), sahBins-1)
			r := &b.recs[i]
			bins[k].box = bins[k].box.Extend(b.h.pos[r.v0]).Extend(b.h.pos[r.v1])
			bins[k].cost += b.cost[i]
			bins[k].n++
		}
		// Sweep from the right, then from the left.
		box, c := geom.EmptyAABB(), 0.0
		for k := sahBins - 1; k > 0; k-- {
			box = box.Union(bins[k].box)
			c += bins[k].cost
			rightCost[k] = c * box.SurfaceArea()
		}
		box, c = geom.EmptyAABB(), 0.0
		n := int32(0)
		for k := 0; k < sahBins-1; k++ {
			box = box.Union(bins[k].box)
			c += bins[k].cost
			n += bins[k].n
			if n == 0 || n == int32(len(idx)) {
				continue
			}
			if cost := c*box.SurfaceArea() + rightCost[k+1]; cost < bestCost {
				bestCost, bestAxis, bestBin = cost, axis, k
			}
		}
	}
	if bestAxis < 0 || !(bestCost > 0) {
		// All midpoints coincide, or the cost carries no information
		// (zero weights or flat boxes): split at the median.
		mid := len(idx) / 2
		selectNth(idx, mid, b.cent, cb.MaxExtent())
		return int32(mid)
	}
	lo, scale := cb.Min[bestAxis], sahBins/(cb.Max[bestAxis]-cb.Min[bestAxis])
	i, j := 0, len(idx)-1
	for i <= j {
		if min(int((b.cent[idx[i]][bestAxis]-lo)*scale), sahBins-1) <= bestBin {
			i++
		} else {
			idx[i], idx[j] = idx[j], idx[i]
			j--
		}
	}
	return int32(i)
}

// flatten writes the subtree t to h.nodes[ni:], depth first, computing
// each node's boxes, lengths and normal cone bottom-up.
func (b *secBuilder) flatten(t *tmpNode, ni int32, depth int) {
	nd := &b.h.nodes[ni]
	nd.start, nd.count = t.start, t.count
	if t.left == nil {
		nd.right = -1
		b.leaf(nd, b.order[t.start:t.start+t.count])
		return
	}
	left, right := ni+1, ni+1+t.left.size
	nd.right = right
	if t.count >= parallelBuild && depth < 10 {
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			b.flatten(t.left, left, depth+1)
		}()
		b.flatten(t.right, right, depth+1)
		wg.Wait()
	} else {
		b.flatten(t.left, left, depth+1)
		b.flatten(t.right, right, depth+1)
	}
	l, r := &b.h.nodes[left], &b.h.nodes[right]
	nd.box = l.box.Union(r.box)
	nd.lA, nd.lS, nd.lF = l.lA+r.lA, l.lS+r.lS, l.lF+r.lF
	nd.axis, nd.cosT, nd.sinT = mergeCones(l.axis, l.cosT, l.sinT, r.axis, r.cosT, r.sinT)
}

// leaf fills a leaf node from its edges.
func (b *secBuilder) leaf(nd *secNode, idx []int32) {
	nd.box = geom.EmptyAABB()
	nd.cosT = emptyCone
	for _, i := range idx {
		r := &b.recs[i]
		nd.box = nd.box.Extend(b.h.pos[r.v0]).Extend(b.h.pos[r.v1])
		switch b.class[i] {
		case classAlways:
			nd.lA += b.wlen[i]
			continue
		case classSmooth:
			nd.lS += b.wlen[i]
		case classFront:
			nd.lF += b.wlen[i]
		}
		nd.axis, nd.cosT, nd.sinT = mergeCones(nd.axis, nd.cosT, nd.sinT, b.n0[i], 1, 0)
		nd.axis, nd.cosT, nd.sinT = mergeCones(nd.axis, nd.cosT, nd.sinT, b.n1[i], 1, 0)
	}
}
