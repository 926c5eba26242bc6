package bvh

import (
	"sync"
	"sync/atomic"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/geom"
)

// Build parameters.
const (
	// numBins is the number of centroid bins per axis (Wald 2007 uses 8-32).
	numBins = 16
	// parallelSubtree is the smallest triangle count for which a node's
	// first child is built on another goroutine.
	parallelSubtree = 4096
	// parallelBinning is the smallest triangle count for which one node's
	// binning is split across goroutines.
	parallelBinning = 1 << 16
	// sahDepthLimit is the depth beyond which splits halve the triangle
	// range instead of following the SAH, so that no tree is deeper than
	// sahDepthLimit + 31 < stackSize whatever the input.
	sahDepthLimit = 64
)

// buildNode is a node of the intermediate pointer tree that the (possibly
// parallel) recursion produces; flatten lays it out depth-first.
type buildNode struct {
	bounds      geom.AABB
	left, right *buildNode
	start       int32 // leaf: first triangle in builder.ids
	count       int32 // leaf: number of triangles; 0 for interior nodes
	axis        uint8
}

// builder holds the per-triangle data of a build.
type builder struct {
	boxes      []geom.AABB  // triangle bounds, by input index
	cents      []mgl64.Vec3 // centres of boxes, by input index
	ids        []int32      // permutation of triangle indices; leaves are ranges of it
	maxLeaf    int
	workers    int
	tokens     chan struct{} // one token per extra goroutine allowed
	numNodes   atomic.Int64
	rootBounds geom.AABB
}

func newBuilder(positions []mgl64.Vec3, indices []int32, maxLeaf, workers int) *builder {
	n := len(indices) / 3
	bl := &builder{
		boxes:   make([]geom.AABB, n),
		cents:   make([]mgl64.Vec3, n),
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
	parallelFor(n, workers, func(_, lo, hi int) {
		for t := lo; t < hi; t++ {
			p0, p1, p2 := positions[indices[3*t]], positions[indices[3*t+1]], positions[indices[3*t+2]]
			var box geom.AABB
			for a := 0; a < 3; a++ {
				box.Min[a] = min(p0[a], p1[a], p2[a])
				box.Max[a] = max(p0[a], p1[a], p2[a])
			}
			bl.boxes[t] = box
			bl.cents[t] = box.Centroid()
			bl.ids[t] = int32(t)
		}
	})
	return bl
}

// parallelFor runs f over [0, n) split into workers contiguous chunks
// (chunk k is [n*k/workers, n*(k+1)/workers)), each on its own goroutine,
// and waits for all. With one worker or a small n it calls f(0, 0, n).
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
	bounds, cb := bl.rangeBounds(0, len(bl.ids))
	bl.rootBounds = bounds
	return bl.buildRange(0, len(bl.ids), bounds, cb, 0)
}

// rangeBounds returns the union of the triangle boxes of ids[start:end] and
// the bounds of their centres. Min and max are exact, so splitting the range
// across goroutines gives the same boxes.
func (bl *builder) rangeBounds(start, end int) (bounds, cb geom.AABB) {
	n := end - start
	if bl.workers <= 1 || n < parallelBinning {
		return bl.rangeBoundsSerial(start, end)
	}
	w := bl.workers
	bs := make([]geom.AABB, 2*w)
	for k := range bs {
		bs[k] = geom.EmptyAABB()
	}
	parallelFor(n, w, func(k, lo, hi int) {
		bs[2*k], bs[2*k+1] = bl.rangeBoundsSerial(start+lo, start+hi)
	})
	bounds, cb = geom.EmptyAABB(), geom.EmptyAABB()
	for k := 0; k < w; k++ {
		bounds = bounds.Union(bs[2*k])
		cb = cb.Union(bs[2*k+1])
	}
	return bounds, cb
}

func (bl *builder) rangeBoundsSerial(start, end int) (bounds, cb geom.AABB) {
	bounds, cb = geom.EmptyAABB(), geom.EmptyAABB()
	for _, t := range bl.ids[start:end] {
		bounds = bounds.Union(bl.boxes[t])
		cb = cb.Extend(bl.cents[t])
	}
	return bounds, cb
}

// bin accumulates the triangles whose centres fall in one slab of the
// centroid bounds.
type bin struct {
	box   geom.AABB
	count int32
}

// bins holds numBins bins on each axis.
type bins [3][numBins]bin

func (bs *bins) reset() {
	for a := range bs {
		for i := range bs[a] {
			bs[a][i] = bin{box: geom.EmptyAABB()}
		}
	}
}

func (bs *bins) merge(o *bins) {
	for a := range bs {
		for i := range bs[a] {
			bs[a][i].box = bs[a][i].box.Union(o[a][i].box)
			bs[a][i].count += o[a][i].count
		}
	}
}

// binMap maps a centre coordinate to its bin on each axis, as in Wald 2007
// section 3.2: bin = floor(k * (c - cmin)) with k = numBins*(1-eps)/extent.
type binMap struct {
	cmin  mgl64.Vec3
	scale mgl64.Vec3 // 0 on an axis with no centroid extent
}

func newBinMap(cb geom.AABB) binMap {
	var m binMap
	m.cmin = cb.Min
	for a := 0; a < 3; a++ {
		if ext := cb.Max[a] - cb.Min[a]; ext > 0 {
			m.scale[a] = numBins * (1 - 1e-9) / ext
		}
	}
	return m
}

func (m *binMap) index(c mgl64.Vec3, a int) int {
	i := int((c[a] - m.cmin[a]) * m.scale[a])
	return min(max(i, 0), numBins-1)
}

// fill bins the triangles of ids[start:end].
func (bl *builder) fill(bs *bins, m *binMap, start, end int) {
	bs.reset()
	for _, t := range bl.ids[start:end] {
		box := &bl.boxes[t]
		c := bl.cents[t]
		for a := 0; a < 3; a++ {
			b := &bs[a][m.index(c, a)]
			b.box = b.box.Union(*box)
			b.count++
		}
	}
}

// fillRange bins ids[start:end], across goroutines for large ranges; the bin
// contents (exact unions and integer counts) do not depend on the split.
func (bl *builder) fillRange(bs *bins, m *binMap, start, end int) {
	n := end - start
	if bl.workers <= 1 || n < parallelBinning {
		bl.fill(bs, m, start, end)
		return
	}
	w := bl.workers
	part := make([]bins, w)
	for k := range part {
		part[k].reset()
	}
	parallelFor(n, w, func(k, lo, hi int) {
		bl.fill(&part[k], m, start+lo, start+hi)
	})
	bs.reset()
	for k := range part {
		bs.merge(&part[k])
	}
}

// buildRange builds the subtree over ids[start:end], whose triangle bounds
// are bounds and centre bounds cb, at depth depth.
func (bl *builder) buildRange(start, end int, bounds, cb geom.AABB, depth int) *buildNode {
	bl.numNodes.Add(1)
	n := end - start
	nd := &buildNode{bounds: bounds}
	leaf := func() *buildNode {
		nd.start, nd.count = int32(start), int32(n)
		return nd
	}
	if n == 1 {
		return leaf()
	}
	mid, axis := -1, 0
	if depth < sahDepthLimit {
		var leafCheaper bool
		mid, axis, leafCheaper = bl.sahSplit(start, end, bounds, cb)
		if leafCheaper {
			return leaf()
		}
	}
	if mid < 0 {
		// No usable SAH split (all centres coincide, the box has no area,
		// or the tree is too deep): halve the range.
		if n <= bl.maxLeaf {
			return leaf()
		}
		mid = start + n/2
		axis = cb.MaxExtent()
	}
	nd.axis = uint8(axis)
	lb, lcb := bl.rangeBounds(start, mid)
	rb, rcb := bl.rangeBounds(mid, end)
	if n >= parallelSubtree && bl.tokens != nil {
		select {
		case <-bl.tokens:
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				nd.left = bl.buildRange(start, mid, lb, lcb, depth+1)
				bl.tokens <- struct{}{}
			}()
			nd.right = bl.buildRange(mid, end, rb, rcb, depth+1)
			wg.Wait()
			return nd
		default:
		}
	}
	nd.left = bl.buildRange(start, mid, lb, lcb, depth+1)
	nd.right = bl.buildRange(mid, end, rb, rcb, depth+1)
	return nd
}

// sahSplit chooses the cheapest binned SAH split of ids[start:end] over the
// three axes (Wald 2007; pbrt-v4 section 7.3.2) and partitions ids around
// it, returning the partition point and the axis. It returns leafCheaper
// when the range fits in a leaf that costs no more than the best split, and
// mid = -1 when no split exists (all centres coincide or the box has no
// area); ids is untouched in both cases.
func (bl *builder) sahSplit(start, end int, bounds, cb geom.AABB) (mid, axis int, leafCheaper bool) {
	n := end - start
	area := bounds.SurfaceArea()
	m := newBinMap(cb)
	if area <= 0 || m.scale == (mgl64.Vec3{}) {
		return -1, 0, false
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
		box, cnt := geom.EmptyAABB(), int32(0)
		for i := numBins - 1; i > 0; i-- {
			box = box.Union(bs[a][i].box)
			cnt += bs[a][i].count
			rightArea[i], rightCount[i] = box.SurfaceArea(), cnt
		}
		box, cnt = geom.EmptyAABB(), 0
		for i := 1; i < numBins; i++ {
			// Split between bin i-1 and bin i.
			box = box.Union(bs[a][i-1].box)
			cnt += bs[a][i-1].count
			if cnt == 0 || rightCount[i] == 0 {
				continue
			}
			c := float64(cnt)*box.SurfaceArea() + float64(rightCount[i])*rightArea[i]
			if bestAxis < 0 || c < best {
				best, bestAxis, bestBin = c, a, i
			}
		}
	}
	if bestAxis < 0 {
		return -1, 0, false
	}
	splitCost := traversalCost + intersectionCost*best/area
	if n <= bl.maxLeaf && intersectionCost*float64(n) <= splitCost {
		return -1, 0, true
	}
	// Partition: centres in bins below bestBin go left (Hoare-style, in
	// place; the order it leaves depends only on the data).
	ids := bl.ids
	i, j := start, end-1
	for {
		for i <= j && m.index(bl.cents[ids[i]], bestAxis) < bestBin {
			i++
		}
		for i <= j && m.index(bl.cents[ids[j]], bestAxis) >= bestBin {
			j--
		}
		if i >= j {
			break
		}
		ids[i], ids[j] = ids[j], ids[i]
		i++
		j--
	}
	return i, bestAxis, false
}

// flatten appends the subtree at nd to nodes depth-first and returns the
// extended slice.
func flatten(nodes []node, nd *buildNode) []node {
	i := len(nodes)
	nodes = append(nodes, node{box: roundOut(nd.bounds)})
	if nd.left == nil {
		nodes[i].offset = nd.start
		nodes[i].count = uint16(nd.count)
		return nodes
	}
	nodes[i].axis = nd.axis
	nodes = flatten(nodes, nd.left)
	nodes[i].offset = int32(len(nodes))
	return flatten(nodes, nd.right)
}
