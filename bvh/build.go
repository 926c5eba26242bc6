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
	// binning and partition are split across goroutines.
	parallelBinning = 1 << 15
	// sahDepthLimit is the depth beyond which splits halve the triangle
	// range instead of following the SAH, so that no tree is deeper than
	// sahDepthLimit + 31 < deepStack whatever the input.
	sahDepthLimit = 64
)

// box3 is a float64 box, for Refit and the exact bounds of the mesh.
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

// key32 maps a float32 to an int32 that orders as the float does (for all
// non-NaN values, -0 before +0): the builder takes minima and maxima of
// keys, which are integer compares and conditional moves, where Go's
// float min and max spend several instructions on NaN and signed zeros.
func key32(f float32) int32 {
	b := int32(math.Float32bits(f))
	return b ^ (b >> 31 & math.MaxInt32)
}

// unkey32 inverts key32.
func unkey32(k int32) float32 {
	return math.Float32frombits(uint32(k ^ (k >> 31 & math.MaxInt32)))
}

// kbox is a float32 box as key32 keys: the min corner's x, y, z, then the
// max corner's.
type kbox [6]int32

func emptyKBox() kbox {
	return kbox{math.MaxInt32, math.MaxInt32, math.MaxInt32, math.MinInt32, math.MinInt32, math.MinInt32}
}

// grow extends b to contain o.
func (b *kbox) grow(o *kbox) {
	b[0], b[1], b[2] = min(b[0], o[0]), min(b[1], o[1]), min(b[2], o[2])
	b[3], b[4], b[5] = max(b[3], o[3]), max(b[4], o[4]), max(b[5], o[5])
}

// growPoint extends b to contain p.
func (b *kbox) growPoint(p *[3]float32) {
	x, y, z := key32(p[0]), key32(p[1]), key32(p[2])
	b[0], b[1], b[2] = min(b[0], x), min(b[1], y), min(b[2], z)
	b[3], b[4], b[5] = max(b[3], x), max(b[4], y), max(b[5], z)
}

// box32 converts b to floats; b must not be empty.
func (b *kbox) box32() (f box32) {
	for p := 0; p < 6; p++ {
		f[p] = unkey32(b[p])
	}
	return f
}

// area is the surface area of b, which must not be empty, in float32 (it
// only ranks splits).
func (b *kbox) area() float32 {
	dx := unkey32(b[3]) - unkey32(b[0])
	dy := unkey32(b[4]) - unkey32(b[1])
	dz := unkey32(b[5]) - unkey32(b[2])
	return dx*dy + dy*dz + dz*dx
}

// prim is a triangle during the build: its bounds (float32, rounded
// outwards from the float64 vertices), the keys of its centre (the centre
// of the float64 bounds, rounded to float32 and clamped to the finite
// range) and its input index. Ranges of prims are partitioned out of place,
// so each level of the build reads them sequentially.
type prim struct {
	box kbox
	c   [3]float32
	id  int32
}

// buildNode is a node of the intermediate binary tree that the (possibly
// parallel) recursion produces; flatten lays it out depth-first.
type buildNode struct {
	bounds      box32
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
	// prims[0] and prims[1] hold the triangles; a node's range is in one
	// of them and an SAH split partitions it into the other, at the same
	// indices.
	prims       [2][]prim
	ids         []int32 // input indices in leaf order, written at the leaves
	maxLeaf     int
	workers     int
	tokens      chan struct{} // one token per extra goroutine allowed
	numInterior atomic.Int64
	rootBox     kbox
	rootCents   kbox
	bounds      box3 // exact float64 bounds of all triangles
}

func newBuilder(positions []mgl64.Vec3, indices []int32, maxLeaf, workers int) *builder {
	n := len(indices) / 3
	bl := &builder{
		prims:   [2][]prim{make([]prim, n), make([]prim, n)},
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
	type part struct {
		bounds    box3
		box, cent kbox
	}
	parts := make([]part, max(workers, 1))
	prims := bl.prims[0]
	parallelFor(n, workers, func(k, lo, hi int) {
		bounds, kb, cb := emptyBox(), emptyKBox(), emptyKBox()
		for t := lo; t < hi; t++ {
			p0, p1, p2 := &positions[indices[3*t]], &positions[indices[3*t+1]], &positions[indices[3*t+2]]
			var box box3
			pr := &prims[t]
			for a := 0; a < 3; a++ {
				box.lo[a] = min(p0[a], p1[a], p2[a])
				box.hi[a] = max(p0[a], p1[a], p2[a])
				pr.box[a] = keyDown32(box.lo[a])
				pr.box[a+3] = keyUp32(box.hi[a])
				c := 0.5*box.lo[a] + 0.5*box.hi[a] // no overflow near MaxFloat64
				pr.c[a] = float32(min(max(c, -math.MaxFloat32), math.MaxFloat32))
			}
			pr.id = int32(t)
			bounds.grow(&box)
			kb.grow(&pr.box)
			cb.growPoint(&pr.c)
		}
		parts[k] = part{bounds, kb, cb}
	})
	bl.bounds, bl.rootBox, bl.rootCents = emptyBox(), emptyKBox(), emptyKBox()
	for k := range parts {
		bl.bounds.grow(&parts[k].bounds)
		bl.rootBox.grow(&parts[k].box)
		bl.rootCents.grow(&parts[k].cent)
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
	return bl.buildRange(&ar, 0, 0, len(bl.ids), bl.rootBox, bl.rootCents, 0)
}

// bin accumulates the triangles whose centres fall in one slab of the
// centroid bounds: their bounds and their count.
type bin struct {
	box   kbox
	count int32
}

// bins holds up to numBins bins on each axis.
type bins [3][numBins]bin

// emptyBinRow is a row of empty bins, copied by reset.
var emptyBinRow = func() (r [numBins]bin) {
	for i := range r {
		r[i].box = emptyKBox()
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
// section 3.2: bin = floor(k * (c - cmin)) with k = nb*(1-eps)/extent,
// clamped to the bins.
type binMap struct {
	cmin  [3]float32
	scale [3]float32 // 0 on an axis with no centroid extent
	nb    int
}

func newBinMap(cb *kbox, nb int) binMap {
	m := binMap{nb: nb}
	for a := 0; a < 3; a++ {
		lo, hi := unkey32(cb[a]), unkey32(cb[a+3])
		m.cmin[a] = lo
		if ext := float64(hi) - float64(lo); ext > 0 {
			m.scale[a] = float32(float64(nb) * (1 - 1e-6) / ext)
		}
	}
	return m
}

// index returns the bin of the centre coordinate c on axis a.
func (m *binMap) index(c float32, a int) int {
	i := int((c - m.cmin[a]) * m.scale[a])
	return min(max(i, 0), m.nb-1)
}

// fill bins the triangles of ps.
func fill(bs *bins, m *binMap, ps []prim) {
	bs.reset(m.nb)
	// The three axes written out, with the map's constants in locals.
	last := m.nb - 1
	cx, cy, cz := m.cmin[0], m.cmin[1], m.cmin[2]
	sx, sy, sz := m.scale[0], m.scale[1], m.scale[2]
	bx, by, bz := &bs[0], &bs[1], &bs[2]
	for k := range ps {
		p := &ps[k]
		ix := min(max(int((p.c[0]-cx)*sx), 0), last)
		iy := min(max(int((p.c[1]-cy)*sy), 0), last)
		iz := min(max(int((p.c[2]-cz)*sz), 0), last)
		b := &bx[ix&(numBins-1)]
		b.box.grow(&p.box)
		b.count++
		b = &by[iy&(numBins-1)]
		b.box.grow(&p.box)
		b.count++
		b = &bz[iz&(numBins-1)]
		b.box.grow(&p.box)
		b.count++
	}
}

// split is the outcome of sahSplit.
type split struct {
	mid int
	// Bounds and centre bounds of the two sides.
	lb, lcb, rb, rcb kbox
}

// buildRange builds the subtree over the triangles at [start, end) of
// prims[cur], whose bounds are box and centre bounds cb, at depth depth. A
// range of at most maxLeaf triangles is a leaf (DefaultMaxLeafSize says
// why 3). Deciding between a leaf and a split by their SAH costs, with
// leaves of up to 8 triangles, was measured and not kept: it was no faster
// on the Cornell box than leaves of 2 or 3, and slower on the dense scene.
func (bl *builder) buildRange(ar *arena, cur, start, end int, box, cb kbox, depth int) *buildNode {
	n := end - start
	nd := ar.alloc()
	nd.bounds = box.box32()
	nd.start, nd.count = int32(start), int32(n)
	if n <= bl.maxLeaf {
		for i, p := range bl.prims[cur][start:end] {
			bl.ids[start+i] = p.id
		}
		return nd
	}
	s := split{mid: -1}
	next := 1 - cur
	if depth < sahDepthLimit {
		s = bl.sahSplit(cur, start, end, &box, &cb)
	}
	if s.mid < 0 {
		// No usable SAH split (all centres coincide, the box has no area,
		// or the tree is too deep): halve the range where it lies.
		next = cur
		s.mid = start + n/2
		s.lb, s.lcb = rangeBounds(bl.prims[cur][start:s.mid])
		s.rb, s.rcb = rangeBounds(bl.prims[cur][s.mid:end])
	}
	bl.numInterior.Add(1)
	if n >= parallelSubtree && bl.tokens != nil {
		select {
		case <-bl.tokens:
			nd.left, nd.right = bl.buildPair(ar, next, start, end, &s, depth)
			return nd
		default:
		}
	}
	nd.left = bl.buildRange(ar, next, start, s.mid, s.lb, s.lcb, depth+1)
	nd.right = bl.buildRange(ar, next, s.mid, end, s.rb, s.rcb, depth+1)
	return nd
}

// buildPair builds the two sides of split s at once, the first on a new
// goroutine that holds a token and returns it when done.
func (bl *builder) buildPair(ar *arena, cur, start, end int, s *split, depth int) (left, right *buildNode) {
	mid, lb, lcb := s.mid, s.lb, s.lcb
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ar2 arena
		left = bl.buildRange(&ar2, cur, start, mid, lb, lcb, depth+1)
		bl.tokens <- struct{}{}
	}()
	right = bl.buildRange(ar, cur, mid, end, s.rb, s.rcb, depth+1)
	wg.Wait()
	return left, right
}

// rangeBounds returns the bounds and centre bounds of ps.
func rangeBounds(ps []prim) (box, cb kbox) {
	box, cb = emptyKBox(), emptyKBox()
	for k := range ps {
		box.grow(&ps[k].box)
		cb.growPoint(&ps[k].c)
	}
	return box, cb
}

// sahSplit chooses the cheapest binned SAH split of the range [start, end)
// of prims[cur] over the three axes (Wald 2007; pbrt-v4 section 7.3.2),
// partitions the range into the same indices of prims[1-cur], left side
// first, each side in its original order (a stable partition, whose result
// depends only on the data), and returns the partition point and the two
// sides' bounds. It returns s.mid = -1, and moves nothing, when no split
// exists (all centres coincide or the box has no area).
//
// Large ranges are binned and partitioned in chunks on several goroutines:
// each chunk has its own bins, whose counts on the chosen split's left side
// give the chunk's place in each side, and bins and centre bounds merge by
// exact min, max and sum, so the outcome is the same for any split into
// chunks.
func (bl *builder) sahSplit(cur, start, end int, box, cb *kbox) (s split) {
	s.mid = -1
	n := end - start
	nb := min(numBins, max(4, n))
	m := newBinMap(cb, nb)
	if box.area() <= 0 || m.scale == [3]float32{} {
		return s
	}
	src, dst := bl.prims[cur][start:end], bl.prims[1-cur][start:end]
	w := 1
	if bl.workers > 1 && n >= parallelBinning {
		w = bl.workers
	}
	var bs bins
	var part []bins
	if w == 1 {
		fill(&bs, &m, src)
	} else {
		part = make([]bins, w)
		mm := m // a copy for the goroutines, so that m stays on the caller's stack
		parallelFor(n, w, func(k, lo, hi int) {
			fill(&part[k], &mm, src[lo:hi])
		})
		bs.reset(nb)
		for k := range part {
			bs.merge(&part[k], nb)
		}
	}

	// Sweep each axis: right-to-left suffix areas, then left-to-right.
	best, bestAxis, bestBin := float32(0), -1, 0
	var rightArea [numBins]float32
	var rightCount [numBins]int32
	for a := 0; a < 3; a++ {
		if m.scale[a] == 0 {
			continue
		}
		// An empty bin leaves the sides' boxes, and so their areas, as
		// they were.
		acc, cnt, area := emptyKBox(), int32(0), float32(0)
		for i := nb - 1; i > 0; i-- {
			if b := &bs[a][i]; b.count > 0 {
				acc.grow(&b.box)
				cnt += b.count
				area = acc.area()
			}
			rightCount[i], rightArea[i] = cnt, area
		}
		acc, cnt, area = emptyKBox(), 0, 0
		for i := 1; i < nb; i++ {
			// Split between bin i-1 and bin i.
			if b := &bs[a][i-1]; b.count > 0 {
				acc.grow(&b.box)
				cnt += b.count
				area = acc.area()
			}
			if cnt == 0 || rightCount[i] == 0 {
				continue
			}
			c := float32(cnt)*area + float32(rightCount[i])*rightArea[i]
			if bestAxis < 0 || c < best {
				best, bestAxis, bestBin = c, a, i
			}
		}
	}
	if bestAxis < 0 {
		return s
	}
	s.lb, s.rb = emptyKBox(), emptyKBox()
	left := 0
	for i := 0; i < nb; i++ {
		if i < bestBin {
			s.lb.grow(&bs[bestAxis][i].box)
			left += int(bs[bestAxis][i].count)
		} else {
			s.rb.grow(&bs[bestAxis][i].box)
		}
	}
	s.mid = start + left
	if w == 1 {
		s.lcb, s.rcb = partition(dst, src, &m, bestAxis, bestBin, 0, left)
		return s
	}
	// Each chunk's first places on the left and on the right.
	type place struct {
		l, r     int
		lcb, rcb kbox
	}
	places := make([]place, w)
	l, r := 0, left
	for k := range part {
		places[k].l, places[k].r = l, r
		nl := 0
		for i := 0; i < bestBin; i++ {
			nl += int(part[k][bestAxis][i].count)
		}
		l += nl
		r += n*(k+1)/w - n*k/w - nl
	}
	parallelFor(n, w, func(k, lo, hi int) {
		pl := &places[k]
		pl.lcb, pl.rcb = partition(dst, src[lo:hi], &m, bestAxis, bestBin, pl.l, pl.r)
	})
	s.lcb, s.rcb = emptyKBox(), emptyKBox()
	for k := range places {
		s.lcb.grow(&places[k].lcb)
		s.rcb.grow(&places[k].rcb)
	}
	return s
}

// partition copies the prims of src whose bin on axis a is below bin into
// dst from index l on, and the others from index r on, in order, and
// returns the centre bounds of the two sides. It does not branch on the
// side, which follows the geometry and is unpredictable.
func partition(dst, src []prim, m *binMap, a, bin, l, r int) (lcb, rcb kbox) {
	var cb [2]kbox // left, right
	cb[0], cb[1] = emptyKBox(), emptyKBox()
	pos := [2]int{l, r}
	a %= 3
	cmin, scale, last := m.cmin[a], m.scale[a], m.nb-1
	for k := range src {
		p := &src[k]
		side := b2i(min(max(int((p.c[a]-cmin)*scale), 0), last) >= bin)
		dst[pos[side]] = *p
		pos[side]++
		cb[side].growPoint(&p.c)
	}
	return cb[0], cb[1]
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
		n.setBox(0, root.bounds)
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
				if a := area32(&kids[c].bounds); a > bestArea {
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
		nodes[i].setBox(c, ch.bounds)
		if isLeaf(ch) {
			nodes[i].child[c], nodes[i].count[c] = ch.start, uint8(ch.count)
			continue
		}
		nodes[i].child[c] = int32(len(nodes))
		nodes = flattenInterior(nodes, ch)
	}
	return nodes
}
