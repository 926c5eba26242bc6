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
// picks an edge in proportion to its exact importance (zero for edges that
// are not Candidates from the shading point). With emissive triangles in
// the scene it mixes in the emitter-guided strategy (see EmitterFraction).
// Build it with NewSecondary after the vertices move; it is read-only
// afterwards and safe for concurrent use.
type Secondary struct {
	opts SecondaryOptions
	// q is the emitter strategy's probability where it applies (0 without
	// clusters).
	q float64
	// pos holds every shape's positions, shape after shape.
	pos []mgl64.Vec3
	// recs are the edges in leaf order; edgePos maps an edge to its index
	// in recs.
	recs    []secEdge
	edgePos []int32
	nodes   []secNode
	// anch holds each node's anchored normal cones (anchorOK).
	anch []anchor
	// clusters are the emissive triangles' groups of the emitter strategy.
	clusters []emitCluster

	// uniform: the baseline's distribution over Edges.List by length.
	uniform *render.Distribution1D
}

// secEdge is an edge's cached record: global indices into pos of its end
// points and opposite vertices (o1 = o0 without F1), its index in
// Edges.List, its classification flags and its Jump (1 when the options
// turn the weighting off).
type secEdge struct {
	v0, v1, o0, o1 int32
	edge           int32
	jump           float32
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
	// tB and tF place the apexes c + tB axis and c + tF axis of the
	// anchored cones (c the box's centre) when anch is set.
	tB, tF float64
	anch   bool
	// rad is the radius of a sphere about the box's centre holding the
	// node's edges: at most half the box's diagonal (set by nodeData).
	rad float64
	// boost is silhouetteBoost of the normal cone (set by nodeData).
	boost float64
}

// anchor holds the apex offsets of a node's anchored normal cones, in
// float32 rounded conservatively (tB down, tF up), the radius about the
// box's centre of the sphere holding the node's edge end points (rounded
// up; 0 when not computed) and the node's silhouetteBoost (0 when not
// computed).
type anchor struct{ tB, tF, rad, boost float32 }

// noAnchor marks a node without anchored cones (tB > tF) or radius.
var noAnchor = anchor{tB: 1, tF: -1}

// anchorMinCos is the smallest cosine of a normal cone's half-angle for
// which the anchored cones are kept (beyond it their half-angle pi/2 -
// theta leaves too little to prove anything).
const anchorMinCos = 0.05

// anchorMaxCount is the largest node, in edges, given anchored cones.
const anchorMaxCount = 1 << 12

// anchorOK reports whether a decoded node has anchored cones.
func (d *nodeData) anchorOK() bool {
	return d.cosT != emptyCone && d.cosT >= anchorMinCos && d.cosT <= 1
}

// nodeData decodes node ni with its anchored cones and bounding radius.
func (h *Secondary) nodeData(ni int32) nodeData {
	d := h.nodes[ni].data()
	if int(ni) < len(h.anch) {
		a := &h.anch[ni]
		if d.anchorOK() && a.tB <= a.tF {
			d.tB, d.tF, d.anch = float64(a.tB), float64(a.tF), true
		}
		if a.rad > 0 {
			d.rad = float64(a.rad)
		}
		if a.boost > 0 {
			d.boost = float64(a.boost)
		}
	}
	if d.rad == 0 {
		d.rad = 0.5 * d.box.Diagonal().Len()
	}
	if d.boost == 0 {
		d.boost = silhouetteBoost(d.cosT, d.sinT)
	}
	return d
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

// data decodes the node (without its anchored cones).
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
