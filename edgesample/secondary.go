package edgesample

import (
	"math"
	"sync"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/geom"
	"github.com/invrender/invrender/render"
)

// SecondaryOptions selects the secondary sampler's strategy.
type SecondaryOptions struct {
	// Uniform is the baseline: choose among all edges in proportion to
	// their length, ignoring p and n, and S uniformly on [0,1]. Samples that
	// land on an edge that is not a candidate from p, or that lies entirely
	// below the plane through p, are rejected.
	Uniform bool
	// UniformPoint keeps the hierarchy's choice of the edge but draws S
	// uniformly on [0,1] instead of equi-angularly.
	UniformPoint bool
}

// Secondary samples edges, and points on them, that can carry a
// discontinuity of the integrand over directions at a shading point
// (secondary visibility, Li et al. 2018, section 5.2). It holds a bounding
// volume hierarchy over the edges; sampling descends it from the root,
// choosing a child in proportion to an importance estimate, and at a leaf
// picks an edge in proportion to its exact importance (zero for edges that
// are not Candidates from the shading point). Build it with NewSecondary
// after the vertices move; it is read-only afterwards and safe for
// concurrent use.
type Secondary struct {
	opts SecondaryOptions
	// pos holds every shape's positions, shape after shape.
	pos []mgl64.Vec3
	// recs are the edges in leaf order; edgePos maps an edge to its index
	// in recs.
	recs    []secEdge
	edgePos []int32
	nodes   []secNode

	// uniform: the baseline's distribution over Edges.List by length.
	uniform *render.Distribution1D
}

// secEdge is an edge's cached record: global indices into pos of its end
// points and opposite vertices (o1 = o0 without F1), its index in
// Edges.List and its classification flags.
type secEdge struct {
	v0, v1, o0, o1 int32
	edge           int32
	flags          uint8
}

// secNode is a node of the hierarchy, depth first: the left child of an
// inner node follows it, right indexes the right child (-1 for a leaf).
// A node covers recs[start : start+count].
type secNode struct {
	box geom.AABB
	// lw is the total length of the node's edges, each weighted by the
	// fraction of viewpoints from which it is a candidate (see edgeOmega).
	lw float64
	// The cone (axis, half-angle) bounding the unit normals of the faces
	// of the node's edges; cosT = -1 means the whole sphere.
	axis       mgl64.Vec3
	cosT, sinT float64
	start      int32
	count      int32
	right      int32
	// flags: nAnyNoCone, nAnySharp, nAnySharpTwoSided.
	flags uint8
}

const (
	nAnyNoCone        uint8 = 1 << iota // some edge can be a candidate whatever the cone says
	nAnySharp                           // some edge is Sharp
	nAnySharpTwoSided                   // some Sharp edge has a two-sided material
)

const (
	// leafSize is the largest number of edges in a leaf.
	leafSize = 4
	// splitEps is the weight of the defensive uniform component of every
	// choice between two children (and among a leaf's edges): a child
	// whose importance is positive is chosen with probability at least
	// splitEps/2, so no candidate's probability underflows to zero and a
	// poor importance estimate cannot starve a subtree.
	splitEps = 1e-3
	// cullMargin is the margin, in cosine, of the normal-cone culling test.
	cullMargin = 1e-6
	// parallelBuild is the smallest range built by its own goroutine.
	parallelBuild = 1 << 15
)

// NewSecondary builds the secondary sampler over all edges of e at the
// scene's current vertex positions: O(E log E), the upper levels built in
// parallel.
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
	if o.Uniform {
		w := make([]float64, ne)
		for i := range e.List {
			w[i] = e.Length(s, i)
		}
		if ne > 0 {
			h.uniform = render.NewDistribution1D(w)
		}
		h.recs = make([]secEdge, ne)
		for i := range e.List {
			h.recs[i] = makeRec(s, e, i, off)
		}
		return h
	}
	if ne == 0 {
		return h
	}
	b := &secBuilder{
		h:     h,
		e:     e,
		s:     s,
		off:   off,
		cent:  make([]mgl64.Vec3, ne),
		omega: make([]float64, ne),
		n0:    make([]mgl64.Vec3, ne),
		n1:    make([]mgl64.Vec3, ne),
		order: make([]int32, ne),
		recs:  make([]secEdge, ne),
		sizes: map[int32]int32{},
	}
	b.prepare()
	b.countNodes(int32(ne))
	h.nodes = make([]secNode, b.sizes[int32(ne)])
	b.build(0, 0, int32(ne), 0)
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

func makeRec(s *render.Scene, e *Edges, i int, off []int32) secEdge {
	ed := &e.List[i]
	o := off[ed.Shape]
	fl, _, _ := e.edgeFlags(s, i)
	r := secEdge{v0: o + ed.V0, v1: o + ed.V1, o0: o + ed.Opp0, o1: o + ed.Opp0, edge: int32(i), flags: fl}
	if ed.Opp1 >= 0 {
		r.o1 = o + ed.Opp1
	}
	return r
}

// secBuilder holds the scratch state of NewSecondary.
type secBuilder struct {
	h      *Secondary
	e      *Edges
	s      *render.Scene
	off    []int32
	cent   []mgl64.Vec3 // edge midpoints
	omega  []float64    // edge weights (edgeOmega)
	n0, n1 []mgl64.Vec3 // unit face normals
	order  []int32      // edges, permuted into leaf order
	recs   []secEdge    // records in Edges.List order
	sizes  map[int32]int32
}

// prepare computes the per-edge data, in parallel.
func (b *secBuilder) prepare() {
	ne := len(b.order)
	recs := make([]secEdge, ne)
	parallelRange(ne, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			b.order[i] = int32(i)
			recs[i] = makeRec(b.s, b.e, i, b.off)
			fl, n0, n1 := b.e.edgeFlags(b.s, i)
			v0, v1 := b.e.Vertices(b.s, i)
			b.cent[i] = v0.Add(v1).Mul(0.5)
			b.n0[i], b.n1[i] = n0, n1
			b.omega[i] = edgeOmega(fl, n0, n1) * v1.Sub(v0).Len()
		}
	})
	b.recs = recs
}

// edgeOmega is the fraction of directions from which an edge is a
// candidate, used to weigh its length in the inner nodes: 1 for edges that
// always are; for a Sharp edge the measure of the union of its faces' front
// hemispheres, 1/2 + alpha/(2 pi), alpha being the angle between the face
// normals (1 when two-sided); otherwise the silhouette fraction alpha/pi
// (two lunes of angle alpha), floored so that no edge's weight vanishes.
func edgeOmega(fl uint8, n0, n1 mgl64.Vec3) float64 {
	if fl&(cAlways|cNoCone) != 0 {
		return 1
	}
	alpha := math.Acos(math.Max(-1, math.Min(1, n0.Dot(n1))))
	if fl&cSharp != 0 {
		if fl&cTwoSided != 0 {
			return 1
		}
		return 0.5 + alpha/(2*math.Pi)
	}
	return math.Max(alpha/math.Pi, 1e-6)
}

// countNodes records the node count of every range size the build meets.
func (b *secBuilder) countNodes(n int32) int32 {
	if c, ok := b.sizes[n]; ok {
		return c
	}
	c := int32(1)
	if n > leafSize {
		c += b.countNodes(n/2) + b.countNodes(n-n/2)
	}
	b.sizes[n] = c
	return c
}

// build fills node ni with the subtree over order[start : start+count].
func (b *secBuilder) build(ni, start, count int32, depth int) {
	nd := &b.h.nodes[ni]
	nd.start, nd.count = start, count
	idx := b.order[start : start+count]
	if count <= leafSize {
		nd.right = -1
		b.leaf(nd, idx)
		return
	}
	// Split at the median of the midpoints along the longest axis of their
	// bounds.
	cb := geom.EmptyAABB()
	for _, i := range idx {
		cb = cb.Extend(b.cent[i])
	}
	axis := cb.MaxExtent()
	mid := count / 2
	selectNth(idx, int(mid), b.cent, axis)
	left := ni + 1
	right := ni + 1 + b.sizes[mid]
	nd.right = right
	if count >= parallelBuild && depth < 8 {
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			b.build(left, start, mid, depth+1)
		}()
		b.build(right, start+mid, count-mid, depth+1)
		wg.Wait()
	} else {
		b.build(left, start, mid, depth+1)
		b.build(right, start+mid, count-mid, depth+1)
	}
	l, r := &b.h.nodes[left], &b.h.nodes[right]
	nd.box = l.box.Union(r.box)
	nd.lw = l.lw + r.lw
	nd.flags = l.flags | r.flags
	nd.axis, nd.cosT, nd.sinT = mergeCones(l.axis, l.cosT, l.sinT, r.axis, r.cosT, r.sinT)
}

// leaf fills a leaf node from its edges.
func (b *secBuilder) leaf(nd *secNode, idx []int32) {
	nd.box = geom.EmptyAABB()
	nd.cosT = emptyCone
	for _, i := range idx {
		r := &b.recs[i]
		nd.box = nd.box.Extend(b.h.pos[r.v0]).Extend(b.h.pos[r.v1])
		nd.lw += b.omega[i]
		if r.flags&cNoCone != 0 {
			nd.flags |= nAnyNoCone
		} else {
			nd.axis, nd.cosT, nd.sinT = mergeCones(nd.axis, nd.cosT, nd.sinT, b.n0[i], 1, 0)
			nd.axis, nd.cosT, nd.sinT = mergeCones(nd.axis, nd.cosT, nd.sinT, b.n1[i], 1, 0)
		}
		if r.flags&cSharp != 0 {
			nd.flags |= nAnySharp
			if r.flags&cTwoSided != 0 {
				nd.flags |= nAnySharpTwoSided
			}
		}
	}
}
