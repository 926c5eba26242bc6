package edgesample

import (
	"math"

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

// secNode is a node of the hierarchy in 64 bytes (one cache line),
// depth first: the left child of an inner node follows it, right indexes
// the right child (-1 for a leaf). A node covers recs[start :
// start+count]. Its float64 description (nodeData) is rounded
// conservatively: the box outwards, the normal cone wider.
type secNode struct {
	lo, hi     [3]float32
	lA, lS, lF float32
	axis       [3]float32
	cosT       float32
	start      int32
	count      int32
	right      int32
}

// nodeData is a node's description in float64.
type nodeData struct {
	box geom.AABB
	// The node's edge lengths in three classes (see edgeClass): lA, edges
	// that are candidates whatever the normal cone says; lS, smooth edges,
	// each weighted by the fraction alpha/pi of directions from which it
	// is a silhouette; lF, one-sided Sharp edges, candidates when a face
	// faces the shading point.
	lA, lS, lF float64
	// The cone (axis, half-angle) bounding the unit normals of the faces
	// of the node's lS and lF edges; cosT = -1 means the whole sphere,
	// emptyCone that there are none.
	axis       mgl64.Vec3
	cosT, sinT float64
}

// data decodes the node.
func (nd *secNode) data() nodeData {
	d := nodeData{
		lA: float64(nd.lA), lS: float64(nd.lS), lF: float64(nd.lF),
		axis: mgl64.Vec3{float64(nd.axis[0]), float64(nd.axis[1]), float64(nd.axis[2])},
		cosT: float64(nd.cosT),
	}
	d.box.Min = mgl64.Vec3{float64(nd.lo[0]), float64(nd.lo[1]), float64(nd.lo[2])}
	d.box.Max = mgl64.Vec3{float64(nd.hi[0]), float64(nd.hi[1]), float64(nd.hi[2])}
	if d.cosT >= -1 && d.cosT <= 1 {
		d.sinT = math.Sqrt(max(0, 1-d.cosT*d.cosT))
	}
	return d
}

// pack stores d in the node, rounding the box outwards, the lengths to the
// nearest float32 (keeping positive ones positive), and widening the cone
// by more than the rounding of its axis.
func (nd *secNode) pack(d *nodeData) {
	for k := 0; k < 3; k++ {
		nd.lo[k] = roundDown32(d.box.Min[k])
		nd.hi[k] = roundUp32(d.box.Max[k])
	}
	nd.lA, nd.lS, nd.lF = length32(d.lA), length32(d.lS), length32(d.lF)
	switch {
	case d.cosT == emptyCone:
		nd.cosT = emptyCone
	case d.cosT <= -1:
		nd.cosT = -1
	default:
		theta := math.Atan2(d.sinT, d.cosT) + 1e-6
		if theta >= math.Pi {
			nd.cosT = -1
			break
		}
		nd.cosT = roundDown32(math.Cos(theta))
		a := mgl64.Vec3{float64(float32(d.axis[0])), float64(float32(d.axis[1])), float64(float32(d.axis[2]))}
		a = a.Normalize()
		nd.axis = [3]float32{float32(a[0]), float32(a[1]), float32(a[2])}
	}
}

// roundDown32 returns the largest float32 not above x.
func roundDown32(x float64) float32 {
	f := float32(x)
	if float64(f) > x {
		f = math.Nextafter32(f, float32(math.Inf(-1)))
	}
	return f
}

// roundUp32 returns the smallest float32 not below x.
func roundUp32(x float64) float32 {
	f := float32(x)
	if float64(f) < x {
		f = math.Nextafter32(f, float32(math.Inf(1)))
	}
	return f
}

// length32 rounds a non-negative weight to float32, keeping positive
// weights positive and finite.
func length32(x float64) float32 {
	if !(x > 0) {
		return 0
	}
	f := float32(min(x, math.MaxFloat32))
	if f == 0 {
		f = math.SmallestNonzeroFloat32
	}
	return f
}

const (
	// leafSize is the largest number of edges in a leaf.
	leafSize = 4
	// splitEps is the weight of the defensive uniform component of every
	// choice between two children (and among a leaf's edges): a child
	// whose importance is positive is chosen with probability at least
	// splitEps/2, so no candidate's probability underflows to zero and a
	// poor importance estimate cannot starve a subtree.
	splitEps = 1e-3
	// cullMargin is the margin, in cosine, of the normal-cone orientation
	// tests.
	cullMargin = 1e-6
	// minFront is the smallest fraction of a node's one-sided Sharp edges
	// counted as facing the shading point when the cone proves nothing.
	minFront = 0.02
	// parallelBuild is the smallest range built by its own goroutine.
	parallelBuild = 1 << 14
	// sahBins is the number of bins per axis of the split search.
	sahBins = 12
	// medianBelow is the largest range split at the median instead.
	medianBelow = 16
)
