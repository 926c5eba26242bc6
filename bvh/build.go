package bvh

import (
	"math"
	"sync"
	"sync/atomic"

	"github.com/go-gl/mathgl/mgl64"
)

// Build parameters.
const (
	// numBins is the largest number of centroid bins per axis (Wald 2007
	// uses 8-32); nodes with few triangles use fewer.
	numBins = 16
	// parallelSubtree is the smallest triangle count for which a node's
	// first child is built on another goroutine.
	parallelSubtree = 4096
	// parallelBinning is the smallest triangle count for which one node's
	// binning is split across goroutines.
	parallelBinning = 1 << 16
	// sahDepthLimit is the depth beyond which splits halve the triangle
	// range instead of following the SAH, so that no tree is deeper than
	// sahDepthLimit + 31 < deepStack whatever the input.
	sahDepthLimit = 64
)

// box3 is the builder's float64 box.
type box3 struct {
	lo, hi [3]float64
}

func emptyBox() box3 {
	inf := math.Inf(1)
	return box3{lo: [3]float64{inf, inf, inf}, hi: [3]float64{-inf, -inf, -inf}}
}

// grow extends b to contain o. Branch-free min and max: whether a box
// grows is unpredictable.
func (b *box3) grow(o *box3) {
	b.lo[0], b.lo[1], b.lo[2] = min(b.lo[0], o.lo[0]), min(b.lo[1], o.lo[1]), min(b.lo[2], o.lo[2])
	b.hi[0], b.hi[1], b.hi[2] = max(b.hi[0], o.hi[0]), max(b.hi[1], o.hi[1]), max(b.hi[2], o.hi[2])
}

// growPoint extends b to contain p.
func (b *box3) growPoint(p *[3]float64) {
	b.lo[0], b.lo[1], b.lo[2] = min(b.lo[0], p[0]), min(b.lo[1], p[1]), min(b.lo[2], p[2])
	b.hi[0], b.hi[1], b.hi[2] = max(b.hi[0], p[0]), max(b.hi[1], p[1]), max(b.hi[2], p[2])
}

// area is the surface area; 0 for an empty box.
func (b *box3) area() float64 {
	dx, dy, dz := b.hi[0]-b.lo[0], b.hi[1]-b.lo[1], b.hi[2]-b.lo[2]
	if dx < 0 || dy < 0 || dz < 0 {
		return 0
	}
	return 2 * (dx*dy + dy*dz + dz*dx)
}

// buildNode is a node of the intermediate pointer tree that the (possibly
// parallel) recursion produces; flatten lays it out depth-first.
type buildNode struct {
	bounds      box3
	left, right *buildNode
	start       int32 // first triangle of the subtree in builder.ids
	count       int32 // number of triangles in the subtree
}

// arena hands out buildNodes from chunks, one arena per goroutine.
type arena struct {
	buf []buildNode
}

func (a *arena) alloc() *buildNode {
	if len(a.buf) == cap(a.buf) {
		a.buf = make([]buildNode, 0, 1024)
	}
	a.buf = a.buf[:len(a.buf)+1]
	return &a.buf[len(a.buf)-1]
}

// builder holds the per-triangle data of a build.
type builder struct {
	boxes         []box3       // triangle bounds, by input index
	cents         [][3]float64 // centres of boxes, by input index
	ids           []int32      // permutation of triangle indices; leaves are ranges of it
	maxLeaf       int
	workers       int
	tokens        chan struct{} // one token per extra goroutine allowed
	numInterior   atomic.Int64
	rootBounds    box3
	rootCentroids box3
}

func newBuilder(positions []mgl64.Vec3, indices []int32, maxLeaf, workers int) *builder {
	n := len(indices) / 3
	bl := &builder{
		boxes:   make([]box3, n),
		cents:   make([][3]float64, n),
		ids:     make([]int32, n),
		maxLeaf: maxLeaf,
		workers: workers,
	}
	if workers > 1 {
		bl.tokens = make(chan struct{}, workers-1)
		for i := 0; i < workers-1; i++ {
			bl.tokens <- struct{}{}
		}
	}
	parts := make([][2]box3, max(workers, 1))
	for k := range parts {
		parts[k] = [2]box3{emptyBox(), emptyBox()}
	}
	parallelFor(n, workers, func(k, lo, hi int) {
		bounds, cb := emptyBox(), emptyBox()
		for t := lo; t < hi; t++ {
			p0, p1, p2 := positions[indices[3*t]], positions[indices[3*t+1]], positions[indices[3*t+2]]
			var box box3
			var c [3]float64
			for a := 0; a < 3; a++ {
				box.lo[a] = min(p0[a], p1[a], p2[a])
				box.hi[a] = max(p0[a], p1[a], p2[a])
				c[a] = 0.5*box.lo[a] + 0.5*box.hi[a] // no overflow near MaxFloat64
			}
			bl.boxes[t] = box
			bl.cents[t] = c
			bl.ids[t] = int32(t)
			bounds.grow(&box)
			cb.growPoint(&c)
		}
		parts[k] = [2]box3{bounds, cb}
	})
	bl.rootBounds, bl.rootCentroids = emptyBox(), emptyBox()
	for k := range parts {
		bl.rootBounds.grow(&parts[k][0])
		bl.rootCentroids.grow(&parts[k][1])
	}
	return bl
}

// parallelFor runs f over [0, n) split into workers contiguous chunks
// (chunk k is [n*k/workers, n*(k+1)/workers)), each on its own goroutine,
// and waits for all. With one worker or a small n it calls f(0, 0, n) only.
func parallelFor(n, workers int, f func(k, lo, hi int)) {
	if workers <= 1 || n < 2*parallelSubtree {
		f(0, 0, n)
		return
	}
	var wg sync.WaitGroup
	for k := 0; k < workers; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(k, n*k/workers, n*(k+1)/workers)
		}()
	}
	wg.Wait()
}

// build runs the recursion over all triangles and returns the root.
func (bl *builder) build() *buildNode {
	var ar arena
	return bl.buildRange(&ar, 0, len(bl.ids), bl.rootBounds, bl.rootCentroids, 0)
}

// bin accumulates the triangles whose centres fall in one slab of the
// centroid bounds: their bounds and their count.
type bin struct {
	box   box3
	count int32
}

// bins holds up to numBins bins on each axis.
type bins [3][numBins]bin

// emptyBinRow is a row of empty bins, copied by reset.
var emptyBinRow = func() (r [numBins]bin) {
	for i := range r {
		r[i].box = emptyBox()
	}
	return r
}()

func (bs *bins) reset(nb int) {
	for a := range bs {
		copy(bs[a][:nb], emptyBinRow[:nb])
	}
}

func (bs *bins) merge(o *bins, nb int) {
	for a := range bs {
		for i := range bs[a][:nb] {
			bs[a][i].box.grow(&o[a][i].box)
			bs[a][i].count += o[a][i].count
		}
	}
}

// binMap maps a centre coordinate to its bin on each axis, as in Wald 2007
// section 3.2: bin = floor(k * (c - cmin)) with k = nb*(1-eps)/extent.
type binMap struct {
	cmin  [3]float64
	scale [3]float64 // 0 on an axis with no centroid extent
	nb    int
}

func newBinMap(cb *box3, nb int) binMap {
	m := binMap{cmin: cb.lo, nb: nb}
	for a := 0; a < 3; a++ {
		if ext := cb.hi[a] - cb.lo[a]; ext > 0 {
			m.scale[a] = float64(nb) * (1 - 1e-9) / ext
		}
	}
	return m
}

func (m *binMap) index(c *[3]float64, a int) int {
	i := int((c[a] - m.cmin[a]) * m.scale[a])
	return min(max(i, 0), m.nb-1)
}

// fill bins the triangles of ids[start:end].
func (bl *builder) fill(bs *bins, m *binMap, start, end int) {
	bs.reset(m.nb)
	for _, t := range bl.ids[start:end] {
		box := &bl.boxes[t]
		c := &bl.cents[t]
		for a := 0; a < 3; a++ {
			b := &bs[a][m.index(c, a)]
			b.box.grow(box)
			b.count++
		}
	}
}

// fillRange bins ids[start:end], across goroutines for large ranges; the bin
// contents (exact minima and maxima, integer counts) do not depend on the
// split.
func (bl *builder) fillRange(bs *bins, m *binMap, start, end int) {
	n := end - start
	if bl.workers <= 1 || n < parallelBinning {
		bl.fill(bs, m, start, end)
		return
	}
	w := bl.workers
	part := make([]bins, w)
	for k := range part {
		part[k].reset(m.nb)
	}
	mm := *m // a copy for the goroutines, so that m stays on the caller's stack
	parallelFor(n, w, func(k, lo, hi int) {
		bl.fill(&part[k], &mm, start+lo, start+hi)
	})
	bs.reset(m.nb)
	for k := range part {
		bs.merge(&part[k], m.nb)
	}
}

// split is the outcome of sahSplit.
type split struct {
	mid int
	// Bounds and centre bounds of the two sides.
	lb, lcb, rb, rcb box3
}

// buildRange builds the subtree over ids[start:end], whose triangle bounds
// are bounds and centre bounds cb, at depth depth. A range of at most
// maxLeaf triangles is a leaf: splitting it further, into a 4-wide node
// that tests four boxes, measured slower on the benchmark rays.
func (bl *builder) buildRange(ar *arena, start, end int, bounds, cb box3, depth int) *buildNode {
	n := end - start
	nd := ar.alloc()
	nd.bounds = bounds
	nd.start, nd.count = int32(start), int32(n)
	if n <= bl.maxLeaf {
		return nd
	}
	s := split{mid: -1}
	if depth < sahDepthLimit {
		s = bl.sahSplit(start, end, &bounds, &cb)
	}
	if s.mid < 0 {
		// No usable SAH split (all centres coincide, the box has no area,
		// or the tree is too deep): halve the range.
		s.mid = start + n/2
		s.lb, s.lcb = bl.rangeBounds(start, s.mid)
		s.rb, s.rcb = bl.rangeBounds(s.mid, end)
	}
	bl.numInterior.Add(1)
	if n >= parallelSubtree && bl.tokens != nil {
		select {
		case <-bl.tokens:
			nd.left, nd.right = bl.buildPair(ar, start, end, &s, depth)
			return nd
		default:
		}
	}
	nd.left = bl.buildRange(ar, start, s.mid, s.lb, s.lcb, depth+1)
	nd.right = bl.buildRange(ar, s.mid, end, s.rb, s.rcb, depth+1)
	return nd
}

// buildPair builds the two sides of split s at once, the first on a new
// goroutine that holds a token and returns it when done.
func (bl *builder) buildPair(ar *arena, start, end int, s *split, depth int) (left, right *buildNode) {
	mid, lb, lcb := s.mid, s.lb, s.lcb
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ar2 arena
		left = bl.buildRange(&ar2, start, mid, lb, lcb, depth+1)
		bl.tokens <- struct{}{}
	}()
	right = bl.buildRange(ar, mid, end, s.rb, s.rcb, depth+1)
	wg.Wait()
	return left, right
}

// rangeBounds returns the triangle bounds and centre bounds of ids[start:end].
func (bl *builder) rangeBounds(start, end int) (bounds, cb box3) {
	bounds, cb = emptyBox(), emptyBox()
	for _, t := range bl.ids[start:end] {
		bounds.grow(&bl.boxes[t])
		cb.growPoint(&bl.cents[t])
	}
	return bounds, cb
}

// sahSplit chooses the cheapest binned SAH split of ids[start:end] over the
// three axes (Wald 2007; pbrt-v4 section 7.3.2), partitions ids around it
// and returns the partition point and the two sides' bounds. It returns
// s.mid = -1, with ids untouched, when no split exists (all centres
// coincide or the box has no area).
func (bl *builder) sahSplit(start, end int, bounds, cb *box3) (s split) {
	s.mid = -1
	n := end - start
	area := bounds.area()
	nb := min(numBins, max(4, n))
	m := newBinMap(cb, nb)
	if area <= 0 || m.scale == [3]float64{} {
		return s
	}
	var bs bins
	bl.fillRange(&bs, &m, start, end)

	// Sweep each axis: right-to-left suffix areas, then left-to-right.
	best, bestAxis, bestBin := 0.0, -1, 0
	var rightArea [numBins]float64
	var rightCount [numBins]int32
	for a := 0; a < 3; a++ {
		if m.scale[a] == 0 {
			continue
		}
		box, cnt := emptyBox(), int32(0)
		for i := nb - 1; i > 0; i-- {
			box.grow(&bs[a][i].box)
			cnt += bs[a][i].count
			rightArea[i], rightCount[i] = box.area(), cnt
		}
		box, cnt = emptyBox(), 0
		for i := 1; i < nb; i++ {
			// Split between bin i-1 and bin i.
			box.grow(&bs[a][i-1].box)
			cnt += bs[a][i-1].count
			if cnt == 0 || rightCount[i] == 0 {
				continue
			}
			c := float64(cnt)*box.area() + float64(rightCount[i])*rightArea[i]
			if bestAxis < 0 || c < best {
				best, bestAxis, bestBin = c, a, i
			}
		}
	}
	if bestAxis < 0 {
		return s
	}
	// The two sides' bounds are unions of whole bins; their centre bounds
	// come out of the partition, a serial in-place pass (Lomuto's) whose
	// result depends only on the data.
	s.lb, s.lcb, s.rb, s.rcb = emptyBox(), emptyBox(), emptyBox(), emptyBox()
	for i := 0; i < nb; i++ {
		if i < bestBin {
			s.lb.grow(&bs[bestAxis][i].box)
		} else {
			s.rb.grow(&bs[bestAxis][i].box)
		}
	}
	ids := bl.ids
	i := start
	for j := start; j < end; j++ {
		t := ids[j]
		c := &bl.cents[t]
		if m.index(c, bestAxis) < bestBin {
			ids[i], ids[j] = t, ids[i]
			i++
			s.lcb.growPoint(c)
		} else {
			s.rcb.growPoint(c)
		}
	}
	s.mid = i
	return s
}

// flatten collapses the binary tree under root into 4-wide nodes laid out
// depth-first: each node takes its binary node's two children and then
// repeatedly replaces the interior child with the largest surface area by
// its two children, until it has 4 children or only leaves (the collapse of
// Wald, Benthin and Boulos, "Getting Rid of Packets", 2008, and Embree). A
// tree that is a single leaf becomes a root with one leaf child.
func flatten(root *buildNode, numInterior int) []node {
	if isLeaf(root) {
		n := emptyNode()
		n.setBox(0, roundOut(root.bounds))
		n.child[0], n.count[0] = root.start, uint8(root.count)
		return []node{n}
	}
	// Each 4-wide node absorbs at least one binary interior node.
	return flattenInterior(make([]node, 0, numInterior/2+1), root)
}

// isLeaf reports whether nd is a leaf.
func isLeaf(nd *buildNode) bool { return nd.left == nil }

func flattenInterior(nodes []node, nd *buildNode) []node {
	var kids [width]*buildNode
	kids[0], kids[1] = nd.left, nd.right
	k := 2
	for k < width {
		best, bestArea := -1, -1.0
		for c := 0; c < k; c++ {
			if !isLeaf(kids[c]) {
				if a := kids[c].bounds.area(); a > bestArea {
					best, bestArea = c, a
				}
			}
		}
		if best < 0 {
			break
		}
		// Replace the child by its two children, keeping their order.
		e := kids[best]
		copy(kids[best+2:k+1], kids[best+1:k])
		kids[best], kids[best+1] = e.left, e.right
		k++
	}
	i := len(nodes)
	nodes = append(nodes, emptyNode())
	for c, ch := range kids[:k] {
		nodes[i].setBox(c, roundOut(ch.bounds))
		if isLeaf(ch) {
			nodes[i].child[c], nodes[i].count[c] = ch.start, uint8(ch.count)
			continue
		}
		nodes[i].child[c] = int32(len(nodes))
		nodes = flattenInterior(nodes, ch)
	}
	return nodes
}
