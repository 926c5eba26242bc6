package edgesample

import (
	"math"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/geom"
	"github.com/invrender/invrender/render"
)

// SecondaryOptions selects the secondary sampler's strategy. The zero
// value is the recommended sampler: the hierarchy with expected-jump
// weights, mixed with the emitter strategy (probability
// DefaultEmitterFraction) when the scene has emissive triangles.
type SecondaryOptions struct {
	// Uniform is the baseline: choose among all edges in proportion to
	// their length, ignoring p and n, and S uniformly on [0,1]. Samples that
	// land on an edge that is not a candidate from p, or that lies entirely
	// below the plane through p, are rejected. The other options are then
	// ignored.
	Uniform bool
	// UniformPoint keeps the hierarchy's choice of the edge but draws S
	// uniformly on [0,1] instead of equi-angularly (the emitter strategy
	// keeps its own point sampling).
	UniformPoint bool
	// EmitterFraction is the probability q of the emitter-guided strategy
	// at shading points that see an emitter; zero selects
	// DefaultEmitterFraction, a negative value turns the strategy off (as
	// NoEmitter). Values above 0.99 count as 0.99: the hierarchy must keep
	// every candidate samplable. It has no effect in scenes without
	// emissive triangles.
	EmitterFraction float64
	// NoEmitter turns the emitter-guided strategy off: edges are sampled
	// with the hierarchy alone.
	NoEmitter bool
	// NoJumpWeight weighs candidate edges without their expected jump
	// (Edges.JumpWeight): every candidate counts by its geometric
	// importance alone, as a silhouette would.
	NoJumpWeight bool
}

// Secondary samples edges, and points on them, that can carry a
// discontinuity of the integrand over directions at a shading point
// (secondary visibility, Li et al. 2018, section 5.2). It holds a bounding
// volume hierarchy over the edges; sampling descends it from the root,
// choosing a child in proportion to an importance estimate, and at a leaf
// picks an edge in proportion to its importance (zero for edges that are
// not Candidates from the shading point). With emissive triangles in the
// scene it mixes in the emitter-guided strategy (see EmitterFraction).
// Build it with NewSecondary after the vertices move; it is read-only
// afterwards and safe for concurrent use.
type Secondary struct {
	opts SecondaryOptions
	// q is the emitter strategy's probability where it applies (0 without
	// clusters).
	q float64
	// recs are the edges in leaf order (in Edges.List order for the
	// Uniform baseline); edgePos maps an edge to its index in recs.
	recs    []secEdge
	edgePos []int32
	nodes   []secNode
	// clusters are the emissive triangles' groups of the emitter strategy.
	clusters []emitCluster

	// uniform: the baseline's distribution over Edges.List by length.
	uniform *render.Distribution1D
}

// secEdge is an edge's cached record, 128 bytes, stored in leaf order so
// that a leaf's edges are read contiguously: its end points, its side
// normals (sideNormals: the candidate test is two dot products, with the
// same signs as Edges.Candidate), its unit direction and length in
// float32 (they only shape the importance), its Jump (1 when the options
// turn the weighting off), its index in Edges.List and its
// classification flags.
type secEdge struct {
	v0, v1 v3
	m0, m1 v3
	dir    [3]float32
	length float32
	jump   float32
	edge   int32
	flags  uint8
}

// secNode is a node of the hierarchy in 80 bytes, depth first: the left
// child of an inner node follows it, right indexes the right child (-1 for
// a leaf). A node covers recs[start : start+count]. Everything the
// importance needs that does not depend on the shading point is
// precomputed, in float32 rounded conservatively (the box outwards, the
// radius up, the normal cone wider, the anchored cones' apexes outwards):
//
//   - the box [lo, hi], and rad, the radius about the box's centre of a
//     sphere holding the node's edges (tighter than half the box's
//     diagonal for curved patches);
//   - the weighted edge lengths lA, lS, lF of nodeData, lS multiplied by
//     silhouetteBoost;
//   - the normal cone (axis, cosT, sinT) bounding the faces of the lS and
//     lF edges; cosT = -1 is the whole sphere, emptyCone that there are
//     none;
//   - the apex offsets tB <= tF of the anchored normal cones along the
//     axis from the box's centre (tB > tF when the node has none).
type secNode struct {
	lo, hi     [3]float32
	rad        float32
	lA, lS, lF float32
	axis       [3]float32
	cosT, sinT float32
	tB, tF     float32
	start      int32
	count      int32
	right      int32
}

// nodeData is a node's description in float64 during the build.
type nodeData struct {
	box geom.AABB
	// The node's edge lengths in three classes (see edgeClass): lA, edges
	// that are candidates whatever the normal cone says; lS, edges that are
	// candidates where they are silhouettes, each weighted by the fraction
	// alpha/pi of directions from which it is one; lF, one-sided Sharp
	// edges, candidates when a face faces the shading point (weighted by
	// their Jump).
	lA, lS, lF float64
	// The cone (axis, half-angle) bounding the unit normals of the faces
	// of the node's lS and lF edges; cosT = -1 means the whole sphere,
	// emptyCone that there are none.
	axis       mgl64.Vec3
	cosT, sinT float64
}

// anchorMinCos is the smallest cosine of a normal cone's half-angle for
// which the anchored cones are kept (beyond it their half-angle pi/2 -
// theta leaves too little to prove anything).
const anchorMinCos = 0.05

// anchorMaxCount is the largest node, in edges, given anchored cones and
// a bounding radius tighter than half its box's diagonal.
const anchorMaxCount = 1 << 12

// hasAnchors reports whether the node has anchored cones.
func (nd *secNode) hasAnchors() bool { return nd.tB <= nd.tF }

// centre returns the centre of the node's box, in float64 (the point its
// radius and anchored cones refer to).
func (nd *secNode) centre() mgl64.Vec3 {
	return mgl64.Vec3{
		0.5 * (float64(nd.lo[0]) + float64(nd.hi[0])),
		0.5 * (float64(nd.lo[1]) + float64(nd.hi[1])),
		0.5 * (float64(nd.lo[2]) + float64(nd.hi[2])),
	}
}

// box returns the node's box in float64.
func (nd *secNode) box() geom.AABB {
	return geom.AABB{
		Min: mgl64.Vec3{float64(nd.lo[0]), float64(nd.lo[1]), float64(nd.lo[2])},
		Max: mgl64.Vec3{float64(nd.hi[0]), float64(nd.hi[1]), float64(nd.hi[2])},
	}
}

// coneAxis returns the normal cone's axis in float64.
func (nd *secNode) coneAxis() mgl64.Vec3 {
	return mgl64.Vec3{float64(nd.axis[0]), float64(nd.axis[1]), float64(nd.axis[2])}
}

// silhouetteBoost returns the factor pi/(2 theta), at least 1, by which a
// node whose normal cone has the half-angle theta weighs its silhouette
// length where it may straddle the silhouette (see effLength).
func silhouetteBoost(cosT, sinT float64) float64 {
	if !(cosT >= -1 && cosT <= 1) {
		return 1
	}
	return math.Max(1, 0.5*math.Pi/math.Atan2(sinT, cosT))
}

// pack stores d in the node (all but the radius and the anchored cones),
// rounding the box outwards, the lengths to the nearest float32 (keeping
// positive ones positive), widening the cone by more than the rounding of
// its axis and rounding the sine of its half-angle up, and folding the
// silhouette boost of the stored cone into lS. The radius is set to half
// the box's diagonal, rounded up, and the anchored cones to none.
func (nd *secNode) pack(d *nodeData) {
	for k := 0; k < 3; k++ {
		nd.lo[k] = roundDown32(d.box.Min[k])
		nd.hi[k] = roundUp32(d.box.Max[k])
	}
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
	nd.sinT = 0
	boost := 1.0
	if c := float64(nd.cosT); c >= -1 && c <= 1 {
		nd.sinT = roundUp32(math.Sqrt(max(0, 1-c*c)))
		boost = silhouetteBoost(c, float64(nd.sinT))
	}
	nd.lA, nd.lS, nd.lF = length32(d.lA), length32(d.lS*boost), length32(d.lF)
	nd.rad = roundUp32(0.5 * nd.box().Diagonal().Len())
	nd.tB, nd.tF = 1, -1
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
	leafSize = 16
	// splitEps is the weight of the defensive uniform component of every
	// choice between two children (and among a leaf's edges): a child
	// whose importance is positive is chosen with probability at least
	// splitEps/2, so no candidate's probability underflows to zero and a
	// poor importance estimate cannot starve a subtree.
	splitEps = 1e-3
	// cullMargin is the margin, in cosine, of the normal-cone orientation
	// tests.
	cullMargin = 1e-6
	// anchorMargin is the margin, in sine, of the anchored-cone tests.
	anchorMargin = 1e-6
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
