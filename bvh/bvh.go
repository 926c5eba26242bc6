package bvh

import (
	"errors"
	"fmt"
	"math"
	"runtime"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/geom"
)

// Options tunes Build. The zero value gives the defaults.
type Options struct {
	// MaxLeafSize is the largest number of triangles in a leaf, in
	// [1, MaxLeafSizeLimit]; 0 means DefaultMaxLeafSize.
	MaxLeafSize int
	// Workers is the number of goroutines the build may use; 0 means
	// runtime.GOMAXPROCS(0). The tree does not depend on it.
	Workers int
}

// DefaultMaxLeafSize is the leaf size limit used when Options.MaxLeafSize is
// 0. Measured with the assembly traversal: 3 renders the Cornell box (large
// overlapping triangles) 8% faster than 4 and the dense scene as fast; 2
// and 1 slow the dense scene's rays.
const DefaultMaxLeafSize = 3

// MaxLeafSizeLimit is the largest accepted Options.MaxLeafSize.
const MaxLeafSizeLimit = 255

// RebuildRatio is the threshold of NeedsRebuild: a refitted tree whose SAH
// cost exceeds RebuildRatio times its cost at build time traces noticeably
// slower than a fresh build would.
const RebuildRatio = 1.5

// SAH cost constants (pbrt-v4 section 7.3.2) of SAHCost: the cost of
// visiting an interior node, which tests four boxes, relative to one
// ray-triangle test. (The build itself only compares splits, whose cost
// does not depend on them, and makes every range of at most MaxLeafSize
// triangles a leaf.)
const (
	traversalCost    = 2.0
	intersectionCost = 1.0
)

// Hit is a ray-triangle intersection.
type Hit struct {
	// T is the ray parameter of the hit point O + T*D.
	T float64
	// B1 and B2 are the barycentric weights of the triangle's second and
	// third vertex, as returned by geom.WatertightRay.Intersect.
	B1, B2 float64
	// Tri is the index of the triangle in the input: its vertices are
	// indices[3*Tri], indices[3*Tri+1], indices[3*Tri+2].
	Tri int32
}

// width is the branching factor of the flattened tree.
const width = 4

// node is an interior node of the flattened tree: 128 bytes, two cache
// lines, holding the boxes of up to four children so that one fetch serves
// four box tests, which are independent and overlap in the processor. Boxes
// are float32, rounded outwards from the float64 geometry so that they
// always contain it, and stored plane by plane (box[p][c] is plane p of
// child c: p = 0, 1, 2 the min x, y, z, p = 3, 4, 5 the max x, y, z), so
// that traversal picks a slab's near and far planes with per-ray indices
// (p or p+3) that the compiler proves in range. Nodes are stored
// depth-first: an interior child comes after its parent, and the subtrees
// of a node's children follow in child order. A child is interior (count 0,
// child = its node index), a leaf (count >= 1 triangles starting at child in
// leaf order), or unused (count 0, child -1, an inverted box that no ray
// enters).
type node struct {
	box   [6][width]float32
	child [width]int32
	count [width]uint8
	_     [12]byte
}

// emptyNode returns a node whose children are all unused.
func emptyNode() node {
	var n node
	for c := 0; c < width; c++ {
		n.setBox(c, emptyBox32())
		n.child[c] = -1
	}
	return n
}

// box32 is a float32 box: the min corner's x, y, z, then the max corner's.
type box32 [6]float32

// childBox returns the box of child c.
func (n *node) childBox(c int) (b box32) {
	for p := 0; p < 6; p++ {
		b[p] = n.box[p][c]
	}
	return b
}

// setBox sets the box of child c.
func (n *node) setBox(c int, b box32) {
	for p := 0; p < 6; p++ {
		n.box[p][c] = b[p]
	}
}

// isInterior reports whether child c is an interior node.
func (n *node) isInterior(c int) bool { return n.count[c] == 0 && n.child[c] >= 0 }

// BVH is a bounding volume hierarchy over a triangle mesh. Queries
// (Intersect, Occluded, the accessors) are safe from many goroutines at
// once; Refit must not run concurrently with anything else.
type BVH struct {
	nodes     []node
	numLeaves int
	// The triangles in leaf order, each as its three vertices: a leaf's
	// triangles are one contiguous run of memory, which the traversal reads
	// with no index to follow.
	tris      []tri
	tidx      [][3]int32 // tidx[k] = the input vertex indices of tris[k], for Refit
	triID     []int32    // triID[k] = input index of the k-th triangle in leaf order
	numTris   int
	numVerts  int
	bounds    geom.AABB // exact float64 bounds of the referenced vertices
	cost      float64   // SAH cost of the tree as it is now
	buildCost float64   // SAH cost right after Build
}

// Build constructs a BVH over the triangles indices[3k], indices[3k+1],
// indices[3k+2] of positions. It fails, without panicking, if the index
// count is not a multiple of three, an index is out of range, a position is
// NaN or infinite, or the options are out of range. The input slices are
// copied; the caller may change them afterwards. Degenerate triangles are
// accepted (they are never hit). An empty mesh gives a BVH that no ray hits.
func Build(positions []mgl64.Vec3, indices []int32, opts Options) (*BVH, error) {
	maxLeaf := opts.MaxLeafSize
	if maxLeaf == 0 {
		maxLeaf = DefaultMaxLeafSize
	}
	if maxLeaf < 1 || maxLeaf > MaxLeafSizeLimit {
		return nil, fmt.Errorf("bvh: MaxLeafSize %d out of range [1, %d]", opts.MaxLeafSize, MaxLeafSizeLimit)
	}
	workers := opts.Workers
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if workers < 0 {
		return nil, fmt.Errorf("bvh: Workers %d is negative", opts.Workers)
	}
	if len(indices)%3 != 0 {
		return nil, fmt.Errorf("bvh: %d indices is not a multiple of 3", len(indices))
	}
	if len(indices)/3 > math.MaxInt32 {
		return nil, fmt.Errorf("bvh: %d triangles is more than %d", len(indices)/3, math.MaxInt32)
	}
	if err := checkPositions(positions); err != nil {
		return nil, err
	}
	for k, i := range indices {
		if i < 0 || int(i) >= len(positions) {
			return nil, fmt.Errorf("bvh: index %d (triangle %d) is %d, out of range [0, %d)", k, k/3, i, len(positions))
		}
	}
	b := &BVH{
		numTris:  len(indices) / 3,
		numVerts: len(positions),
		bounds:   geom.EmptyAABB(),
	}
	if len(indices) == 0 {
		return b, nil
	}
	bl := newBuilder(positions, indices, maxLeaf, workers)
	root := bl.build()
	b.nodes = flatten(root, int(bl.numInterior.Load()))
	for i := range b.nodes {
		for c := 0; c < width; c++ {
			if b.nodes[i].count[c] > 0 {
				b.numLeaves++
			}
		}
	}
	b.triID = bl.ids
	b.tidx = make([][3]int32, len(b.triID))
	for k, t := range b.triID {
		b.tidx[k] = [3]int32{indices[3*t], indices[3*t+1], indices[3*t+2]}
	}
	b.tris = make([]tri, len(b.triID))
	b.gather(positions)
	b.bounds = geom.AABB{Min: bl.bounds.lo, Max: bl.bounds.hi}
	b.cost = b.computeSAHCost()
	b.buildCost = b.cost
	return b, nil
}

// checkPositions reports the first NaN or infinite coordinate.
func checkPositions(positions []mgl64.Vec3) error {
	for i, p := range positions {
		// x-x is NaN exactly when x is NaN or infinite.
		if s := p[0] - p[0] + p[1] - p[1] + p[2] - p[2]; s != 0 {
			return fmt.Errorf("bvh: position %d is not finite: %v", i, p)
		}
	}
	return nil
}

// tri is a triangle's three vertices.
type tri [3]mgl64.Vec3

// gather copies the triangles' vertices from positions into tris.
func (b *BVH) gather(positions []mgl64.Vec3) {
	parallelFor(len(b.tris), runtime.GOMAXPROCS(0), func(_, lo, hi int) {
		tris, tidx := b.tris[lo:hi], b.tidx[lo:hi]
		for k := range tris {
			t := &tidx[k]
			tris[k] = tri{positions[t[0]], positions[t[1]], positions[t[2]]}
		}
	})
}

// triangle returns the vertices of the k-th triangle in leaf order.
func (b *BVH) triangle(k int32) [3]mgl64.Vec3 { return b.tris[k] }

// ErrVertexCount is wrapped by the error Refit returns when the number of
// positions differs from the one the BVH was built with.
var ErrVertexCount = errors.New("bvh: vertex count changed")

// Refit updates the BVH to new vertex positions with the same triangles: it
// copies the vertices into the BVH and recomputes every box bottom-up in
// linear time (refitNodes), keeping the tree's topology. It fails, leaving
// the BVH unchanged, if len(positions) is not the vertex count given to
// Build or a position is NaN or infinite. Refit must not run concurrently
// with queries.
func (b *BVH) Refit(positions []mgl64.Vec3) error {
	if len(positions) != b.numVerts {
		return fmt.Errorf("%w: %d positions, built with %d", ErrVertexCount, len(positions), b.numVerts)
	}
	if err := checkPositions(positions); err != nil {
		return err
	}
	if len(b.nodes) == 0 {
		return nil
	}
	b.gather(positions)
	b.refitNodes()
	b.cost = b.computeSAHCost()
	return nil
}

// refitNodes recomputes all boxes in two linear passes: the leaves' boxes,
// which are independent (split across goroutines for large trees), then the
// interior children's boxes in one backward sweep, which sees every child
// node before its parent because children follow their parent in the
// depth-first array. Min and max are exact, so the result does not depend
// on the split.
func (b *BVH) refitNodes() {
	nodes := b.nodes
	workers := runtime.GOMAXPROCS(0)
	roots := make([]box3, max(workers, 1))
	for k := range roots {
		roots[k] = emptyBox()
	}
	parallelFor(len(nodes), workers, func(k, lo, hi int) {
		root := emptyBox()
		for i := lo; i < hi; i++ {
			n := &nodes[i]
			for c := 0; c < width; c++ {
				if n.count[c] == 0 {
					continue
				}
				box := emptyBox()
				leaf := b.tris[n.child[c] : n.child[c]+int32(n.count[c])]
				for k := range leaf {
					t := &leaf[k]
					box.growPoint((*[3]float64)(&t[0]))
					box.growPoint((*[3]float64)(&t[1]))
					box.growPoint((*[3]float64)(&t[2]))
				}
				n.setBox(c, roundOut(box))
				root.grow(&box)
			}
		}
		roots[k] = root
	})
	for i := len(nodes) - 1; i >= 0; i-- {
		n := &nodes[i]
		for c := 0; c < width; c++ {
			if !n.isInterior(c) {
				continue
			}
			// The union of the child node's boxes; unused (inverted) boxes
			// drop out of the min and max.
			ch := &nodes[n.child[c]]
			for p := 0; p < 3; p++ {
				n.box[p][c] = min(ch.box[p][0], ch.box[p][1], ch.box[p][2], ch.box[p][3])
				n.box[p+3][c] = max(ch.box[p+3][0], ch.box[p+3][1], ch.box[p+3][2], ch.box[p+3][3])
			}
		}
	}
	root := emptyBox()
	for k := range roots {
		root.grow(&roots[k])
	}
	b.bounds = geom.AABB{Min: root.lo, Max: root.hi}
}

// emptyBox32 is the inverted float32 box of an empty child.
func emptyBox32() box32 {
	inf := float32(math.Inf(1))
	return box32{inf, inf, inf, -inf, -inf, -inf}
}

// roundOut converts a float64 box to the smallest float32 box containing it.
func roundOut(box box3) (b box32) {
	for a := 0; a < 3; a++ {
		b[a], b[a+3] = roundDown32(box.lo[a]), roundUp32(box.hi[a])
	}
	return b
}

// roundDown32 returns the largest float32 <= x (x not NaN).
func roundDown32(x float64) float32 { return unkey32(keyDown32(x)) }

// roundUp32 returns the smallest float32 >= x (x not NaN).
func roundUp32(x float64) float32 { return unkey32(keyUp32(x)) }

// keyDown32 is key32(roundDown32(x)): the nearest float32 to x, stepped
// down once in key order (to the next float32 below, through -0 and the
// denormals) if it lies above x. No branch: the direction of rounding is
// unpredictable.
func keyDown32(x float64) int32 {
	f := float32(x)
	return key32(f) - int32(b2i(float64(f) > x))
}

// keyUp32 is key32(roundUp32(x)).
func keyUp32(x float64) int32 {
	f := float32(x)
	return key32(f) + int32(b2i(float64(f) < x))
}

// area32 is the surface area of a float32 box, in float64; 0 for an empty
// box.
func area32(b *box32) float64 {
	dx := float64(b[3]) - float64(b[0])
	dy := float64(b[4]) - float64(b[1])
	dz := float64(b[5]) - float64(b[2])
	if !(dx >= 0 && dy >= 0 && dz >= 0) {
		return 0
	}
	return 2 * (dx*dy + dy*dz + dz*dx)
}

// union32 is the smallest box containing a and b.
func union32(a, b *box32) (u box32) {
	for k := 0; k < 3; k++ {
		u[k] = min(a[k], b[k])
		u[k+3] = max(a[k+3], b[k+3])
	}
	return u
}

// computeSAHCost evaluates the surface area heuristic of the whole tree
// (pbrt-v4 section 7.3.2; MacDonald and Booth 1990): the expected cost of a
// ray that hits the root box, sum over interior nodes of traversalCost times
// the node's area, plus sum over leaves of intersectionCost times the
// triangle count times the leaf's area, all divided by the root's area. If
// the root box has no area (every triangle collapsed to a point or a
// segment), every node counts with weight 1.
func (b *BVH) computeSAHCost() float64 {
	if len(b.nodes) == 0 {
		return 0
	}
	r := &b.nodes[0]
	rootBox := emptyBox32()
	for c := 0; c < width; c++ {
		cb := r.childBox(c)
		rootBox = union32(&rootBox, &cb)
	}
	rootArea := area32(&rootBox)
	weight := func(box *box32) float64 {
		if rootArea > 0 {
			return area32(box) / rootArea
		}
		return 1
	}
	cost := traversalCost * weight(&rootBox)
	for i := range b.nodes {
		n := &b.nodes[i]
		for c := 0; c < width; c++ {
			cb := n.childBox(c)
			if n.count[c] > 0 {
				cost += weight(&cb) * intersectionCost * float64(n.count[c])
			} else if n.child[c] >= 0 {
				cost += weight(&cb) * traversalCost
			}
		}
	}
	if math.IsNaN(cost) || math.IsInf(cost, 0) {
		// Only reachable with boxes beyond the float32 range; report the
		// tree as needing no rebuild rather than a non-number.
		return b.buildCost
	}
	return cost
}

// SAHCost returns the surface area heuristic cost of the tree in its current
// state (after the last Build or Refit), in units of one ray-triangle test
// per ray that hits the root box.
func (b *BVH) SAHCost() float64 { return b.cost }

// BuildSAHCost returns the SAH cost the tree had right after Build.
func (b *BVH) BuildSAHCost() float64 { return b.buildCost }

// NeedsRebuild reports whether refits have degraded the tree so much that
// rebuilding would pay: its SAH cost exceeds RebuildRatio times the cost at
// build time.
func (b *BVH) NeedsRebuild() bool {
	return b.buildCost > 0 && b.cost > RebuildRatio*b.buildCost
}

// Bounds returns the exact bounding box of the vertices of all triangles
// (vertices no triangle uses are not included). It is empty for an empty
// mesh.
func (b *BVH) Bounds() geom.AABB { return b.bounds }

// NumNodes returns the number of nodes in the tree, leaves included (0 for
// an empty mesh).
func (b *BVH) NumNodes() int { return len(b.nodes) + b.numLeaves }

// NumTriangles returns the number of triangles the tree was built over.
func (b *BVH) NumTriangles() int { return b.numTris }
