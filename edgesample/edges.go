package edgesample

import (
	"math"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/render"
)

// Edge is a mesh edge that can carry a discontinuity of the rendering
// integrand.
type Edge struct {
	// Shape is the index of the edge's shape in Scene.Shapes.
	Shape int32
	// V0 and V1 are the shape-local vertex indices of the end points, in the
	// order in which they appear in F0's winding. Gradients with respect to
	// the edge's position go to these two vertices.
	V0, V1 int32
	// F0 and F1 are the shape-local indices of the adjacent triangles; F1 is
	// -1 for a boundary edge.
	F0, F1 int32
	// Opp0 and Opp1 are the vertices of F0 and F1 that are not on the edge
	// (shape-local, in each face's own numbering); Opp1 is -1 without F1.
	Opp0, Opp1 int32
	// NonManifold marks an edge shared by more than two faces (F0 and F1 are
	// two of them): it is always a candidate.
	NonManifold bool
}

// Per-edge topology flags kept beside Edges.List.
const (
	// edgeFlip: F1 runs along the edge in the same direction as F0, so the
	// two faces' windings disagree (an inconsistently oriented mesh).
	edgeFlip uint8 = 1 << iota
)

// Edges holds the unique edges of every shape of a scene with their
// adjacent faces. It depends on the meshes' topology only, never on the
// current vertex positions: classify edges with Silhouette, Sharp and
// Candidate, which read the positions each time. Extract again when a
// shape's index buffer changes. Make it with Extract only: it keeps per-edge
// data beside List.
type Edges struct {
	// List holds the edges, shape after shape.
	List []Edge

	// w[i] holds F1's own vertex indices of List[i].V0 and V1 (they differ
	// from V0, V1 along seams of duplicated vertices); -1 without F1.
	w [][2]int32
	// flags[i] holds the edgeFlip bit of List[i].
	flags []uint8
}

// Len returns the number of edges.
func (e *Edges) Len() int { return len(e.List) }

// Extract collects the unique edges of every shape of s.
//
// Vertices with bit-identical positions are welded first (+0 and -0 count
// as equal), so that the duplicated vertices OBJ files carry along texture
// and normal seams do not turn interior edges into boundaries; each Edge
// keeps F0's own vertex indices. Degenerate triangles (flagged in
// Shape.Degenerate, or with a repeated index or zero area) and zero-length
// edges are skipped. An edge shared by more than two faces becomes one Edge
// with two of them and NonManifold set. Coplanar edges are kept: whether an
// edge can carry a discontinuity depends on the current positions and is
// decided at query time.
//
// The order is deterministic: shape after shape, and within a shape by the
// welded index of the lower end point, then of the higher.
func Extract(s *render.Scene) *Edges {
	e := &Edges{}
	for si, sh := range s.Shapes {
		if sh == nil {
			continue
		}
		extractShape(e, int32(si), sh)
	}
	return e
}

// halfEdge is one side of a triangle during extraction.
type halfEdge struct {
	hi   int32 // welded index of the higher end point
	face int32
	k    int8 // the side runs from corner k to corner k+1 (mod 3)
}

func extractShape(e *Edges, si int32, sh *render.Shape) {
	nv := len(sh.Positions)
	nt := sh.NumTriangles()
	if nv == 0 || nt == 0 {
		return
	}
	// Weld: canon[v] is the first vertex with v's position.
	canon := make([]int32, nv)
	seen := make(map[[3]uint64]int32, nv)
	for v, p := range sh.Positions {
		k := [3]uint64{posBits(p[0]), posBits(p[1]), posBits(p[2])}
		if c, ok := seen[k]; ok {
			canon[v] = c
		} else {
			seen[k] = int32(v)
			canon[v] = int32(v)
		}
	}
	seen = nil

	idx := sh.Indices
	degenerate := func(t int) bool {
		if len(sh.Degenerate) == nt && sh.Degenerate[t] {
			return true
		}
		a, b, c := canon[idx[3*t]], canon[idx[3*t+1]], canon[idx[3*t+2]]
		if a == b || b == c || c == a {
			return true
		}
		p0, p1, p2 := sh.Positions[idx[3*t]], sh.Positions[idx[3*t+1]], sh.Positions[idx[3*t+2]]
		return p1.Sub(p0).Cross(p2.Sub(p0)).Len() == 0
	}

	// Bucket the half-edges by their lower welded end point (a counting
	// sort, stable in face order), then order each small bucket by the
	// higher end point.
	count := make([]int32, nv+1)
	for t := 0; t < nt; t++ {
		if degenerate(t) {
			continue
		}
		for k := 0; k < 3; k++ {
			a, b := canon[idx[3*t+k]], canon[idx[3*t+(k+1)%3]]
			count[min(a, b)+1]++
		}
	}
	for v := 0; v < nv; v++ {
		count[v+1] += count[v]
	}
	half := make([]halfEdge, count[nv])
	fill := append([]int32(nil), count[:nv]...)
	for t := 0; t < nt; t++ {
		if degenerate(t) {
			continue
		}
		for k := 0; k < 3; k++ {
			a, b := canon[idx[3*t+k]], canon[idx[3*t+(k+1)%3]]
			lo := min(a, b)
			half[fill[lo]] = halfEdge{hi: max(a, b), face: int32(t), k: int8(k)}
			fill[lo]++
		}
	}
	for v := 0; v < nv; v++ {
		bucket := half[count[v]:count[v+1]]
		// Insertion sort by hi: buckets hold a vertex's few edges, and the
		// sort is stable, so faces stay in increasing order.
		for i := 1; i < len(bucket); i++ {
			h := bucket[i]
			j := i
			for j > 0 && bucket[j-1].hi > h.hi {
				bucket[j] = bucket[j-1]
				j--
			}
			bucket[j] = h
		}
		for i := 0; i < len(bucket); {
			j := i + 1
			for j < len(bucket) && bucket[j].hi == bucket[i].hi {
				j++
			}
			if bucket[i].hi != int32(v) { // zero-length edges cannot occur after welding, but guard
				e.addEdge(si, sh, canon, bucket[i:j])
			}
			i = j
		}
	}
}

// addEdge appends the edge formed by the half-edges g (all with the same
// welded end points, faces in increasing order).
func (e *Edges) addEdge(si int32, sh *render.Shape, canon []int32, g []halfEdge) {
	idx := sh.Indices
	h0 := g[0]
	f0 := int(h0.face)
	k0 := int(h0.k)
	ed := Edge{
		Shape: si,
		V0:    idx[3*f0+k0],
		V1:    idx[3*f0+(k0+1)%3],
		F0:    h0.face,
		F1:    -1,
		Opp0:  idx[3*f0+(k0+2)%3],
		Opp1:  -1,
	}
	w := [2]int32{-1, -1}
	var fl uint8
	if len(g) >= 2 {
		h1 := g[1]
		f1 := int(h1.face)
		k1 := int(h1.k)
		x, y := idx[3*f1+k1], idx[3*f1+(k1+1)%3]
		ed.F1 = h1.face
		ed.Opp1 = idx[3*f1+(k1+2)%3]
		if canon[x] == canon[ed.V0] {
			// F1 runs V0 -> V1 as F0 does: the windings disagree.
			w = [2]int32{x, y}
			fl |= edgeFlip
		} else {
			w = [2]int32{y, x}
		}
		ed.NonManifold = len(g) > 2
	}
	e.List = append(e.List, ed)
	e.w = append(e.w, w)
	e.flags = append(e.flags, fl)
}

// posBits returns the bits of a coordinate with -0 mapped to +0.
func posBits(x float64) uint64 {
	if x == 0 {
		return 0
	}
	return math.Float64bits(x)
}

// Vertices returns the current positions of edge i's end points V0 and V1.
func (e *Edges) Vertices(s *render.Scene, i int) (v0, v1 mgl64.Vec3) {
	ed := &e.List[i]
	pos := s.Shapes[ed.Shape].Positions
	return pos[ed.V0], pos[ed.V1]
}

// Length returns the current length of edge i.
func (e *Edges) Length(s *render.Scene, i int) float64 {
	v0, v1 := e.Vertices(s, i)
	return v1.Sub(v0).Len()
}

// corners returns the current positions of edge i's end points and of the
// two opposite vertices (o1 = o0 without F1).
func (e *Edges) corners(s *render.Scene, i int) (v0, v1, o0, o1 mgl64.Vec3) {
	ed := &e.List[i]
	pos := s.Shapes[ed.Shape].Positions
	v0, v1, o0 = pos[ed.V0], pos[ed.V1], pos[ed.Opp0]
	o1 = o0
	if ed.Opp1 >= 0 {
		o1 = pos[ed.Opp1]
	}
	return
}

// Silhouette reports whether edge i is a silhouette seen from p: a boundary
// or non-manifold edge, or an edge whose two faces' opposite vertices lie
// strictly on the same side of the plane through p and the edge (the faces
// fold towards the same side as seen from p). The test does not depend on
// the faces' winding. When exactly one opposite vertex lies in that plane
// (p sees one face edge-on) the edge counts as a silhouette; when both do
// (p lies in the plane of two coplanar faces) it does not.
func (e *Edges) Silhouette(s *render.Scene, i int, p mgl64.Vec3) bool {
	ed := &e.List[i]
	if ed.F1 < 0 || ed.NonManifold {
		return true
	}
	v0, v1, o0, o1 := e.corners(s, i)
	s0, s1 := sides(v0, v1, o0, o1, p)
	return silhouetteSides(s0, s1)
}

// Sharp reports whether the shading jumps across edge i even where the
// edge is not a silhouette:
//
//   - a shape without vertex normals (flat shading) whose two faces'
//     normals differ, the cosine of their angle being below 1 - 1e-6; a
//     face that has become degenerate counts as differing;
//   - a shape with vertex normals whose faces carry different normals at a
//     welded end point (a hard edge stored as a seam of duplicated
//     vertices), the cosine being below 1 - 1e-6.
//
// Boundary edges are not Sharp (they are silhouettes anyway).
func (e *Edges) Sharp(s *render.Scene, i int) bool {
	if e.List[i].F1 < 0 {
		return false
	}
	v0, v1, o0, o1 := e.corners(s, i)
	n0, n1, ok := faceNormals(v0, v1, o0, o1, e.flags[i]&edgeFlip != 0)
	return e.sharp(s, i, n0, n1, ok)
}

// sharp is Sharp given the faces' unit normals (ok false when a face is
// degenerate) for an edge with two faces.
func (e *Edges) sharp(s *render.Scene, i int, n0, n1 mgl64.Vec3, ok bool) bool {
	ed := &e.List[i]
	sh := s.Shapes[ed.Shape]
	if hasNormals(sh) {
		w := e.w[i]
		return normalsDiffer(sh.Normals[ed.V0], sh.Normals[w[0]]) ||
			normalsDiffer(sh.Normals[ed.V1], sh.Normals[w[1]])
	}
	if !ok {
		return true
	}
	return n0.Dot(n1) < 1-sharpCosTol
}

// Candidate reports whether edge i can carry a discontinuity of the
// integrand seen from p: it is a Silhouette from p, or it is Sharp and at
// least one adjacent face faces p (p lies strictly on the front side of
// its winding normal, or on either side when the shape's material is
// two-sided: one-sided materials are black from behind).
func (e *Edges) Candidate(s *render.Scene, i int, p mgl64.Vec3) bool {
	ed := &e.List[i]
	if ed.F1 < 0 || ed.NonManifold {
		return true
	}
	v0, v1, o0, o1 := e.corners(s, i)
	var fl uint8
	if e.flags[i]&edgeFlip != 0 {
		fl |= cFlip
	}
	if e.Sharp(s, i) {
		fl |= cSharp
	}
	if twoSided(s, ed.Shape) {
		fl |= cTwoSided
	}
	return candidate(fl, v0, v1, o0, o1, p)
}

// Classification flags shared by Edges.Candidate and the samplers' cached
// per-edge records.
const (
	cAlways   uint8 = 1 << iota // boundary or non-manifold: always a candidate
	cFlip                       // F1's winding disagrees with F0's
	cSharp                      // Sharp (evaluated when the flags were made)
	cTwoSided                   // the shape's material is two-sided
	// cNoCone: the edge's faces give no usable normal cone (always, flip
	// or degenerate faces), so a node holding it is never culled.
	cNoCone
)

// sharpCosTol is the tolerance, in cosine, under which two face normals
// (or two vertex normals) count as equal.
const sharpCosTol = 1e-6

// sides returns the signed volumes s0 = ((v0-p) x (v1-p)) . (o0-p) and
// likewise s1 for o1: which side of the plane through p and the edge each
// opposite vertex lies on. With F0 = (v0, v1, o0) counter-clockwise, F0
// faces p (p on the side its winding normal points to) exactly when
// s0 < 0; a consistently wound F1 = (v1, v0, o1) faces p when s1 > 0.
//
// They are evaluated as (v0-p) . m0 and (v0-p) . m1 with the side normals
// of sideNormals (the same triple products, reordered), so that the
// secondary sampler, which caches m0 and m1, gets bit-identical signs.
func sides(v0, v1, o0, o1, p mgl64.Vec3) (s0, s1 float64) {
	m0, m1 := sideNormals(v0, v1, o0, o1)
	return sidesN(v0.Sub(p), m0, m1)
}

// sideNormals returns m0 = (v1-v0) x (o0-v0), the winding normal of F0
// scaled by twice its area, and m1 = (v1-v0) x (o1-v0). The explicit
// conversions keep every product rounded on its own (no fused
// multiply-add), so the values do not depend on where the code is
// inlined.
func sideNormals(v0, v1, o0, o1 mgl64.Vec3) (m0, m1 mgl64.Vec3) {
	return cross64(v1.Sub(v0), o0.Sub(v0)), cross64(v1.Sub(v0), o1.Sub(v0))
}

// sidesN returns the signed volumes of sides from a = v0-p and the side
// normals: s0 = a . m0, s1 = a . m1.
func sidesN(a, m0, m1 mgl64.Vec3) (s0, s1 float64) {
	return dot64(a, m0), dot64(a, m1)
}

// cross64 is a x b with every product rounded (see sideNormals).
func cross64(a, b mgl64.Vec3) mgl64.Vec3 {
	return mgl64.Vec3{
		float64(a[1]*b[2]) - float64(a[2]*b[1]),
		float64(a[2]*b[0]) - float64(a[0]*b[2]),
		float64(a[0]*b[1]) - float64(a[1]*b[0]),
	}
}

// dot64 is a . b with every product rounded (see sideNormals).
func dot64(a, b mgl64.Vec3) float64 {
	return float64(a[0]*b[0]) + float64(a[1]*b[1]) + float64(a[2]*b[2])
}

// silhouetteSides is the silhouette test on the two signed volumes.
func silhouetteSides(s0, s1 float64) bool {
	if (s0 > 0 && s1 > 0) || (s0 < 0 && s1 < 0) {
		return true
	}
	return (s0 == 0) != (s1 == 0)
}

// candidate is the Candidate test on cached flags and positions.
func candidate(fl uint8, v0, v1, o0, o1, p mgl64.Vec3) bool {
	if fl&cAlways != 0 {
		return true
	}
	s0, s1 := sides(v0, v1, o0, o1, p)
	if silhouetteSides(s0, s1) {
		return true
	}
	return fl&cSharp != 0 && sharpFacing(fl, s0, s1)
}

// sharpFacing reports whether a face of a Sharp edge faces p, given the
// signed volumes of sides: p sees its shading jump.
func sharpFacing(fl uint8, s0, s1 float64) bool {
	if fl&cTwoSided != 0 {
		return s0 != 0 || s1 != 0
	}
	if s0 < 0 {
		return true
	}
	if fl&cFlip != 0 {
		return s1 < 0
	}
	return s1 > 0
}

// candidateWeight is the expected jump of an edge seen from p on cached
// flags and positions: 0 when it is not a candidate, 1 when it is a
// silhouette (or always a candidate), jump when it is a candidate only
// because it is Sharp and a face faces p.
func candidateWeight(fl uint8, jump float64, v0, v1, o0, o1, p mgl64.Vec3) float64 {
	if fl&cAlways != 0 {
		return 1
	}
	m0, m1 := sideNormals(v0, v1, o0, o1)
	return candidateWeightN(fl, jump, v0.Sub(p), m0, m1)
}

// candidateWeightN is candidateWeight on a = v0-p and the side normals
// (sideNormals).
func candidateWeightN(fl uint8, jump float64, a, m0, m1 mgl64.Vec3) float64 {
	if fl&cAlways != 0 {
		return 1
	}
	s0, s1 := sidesN(a, m0, m1)
	if silhouetteSides(s0, s1) {
		return 1
	}
	if fl&cSharp != 0 && sharpFacing(fl, s0, s1) {
		return jump
	}
	return 0
}

// jumpMin is the smallest expected-jump factor of a Sharp edge (see Jump):
// nearly coplanar faces still carry a small jump, and a positive floor
// keeps every candidate samplable.
const jumpMin = 0.02

// Jump returns edge i's expected-jump factor, a proxy for how much the
// radiance can change across it when it is a candidate only because it is
// Sharp (not a silhouette): the jump of the shading is of the order of the
// change of the shading normal across the edge. For a flat-shaded edge it is
// |n0 - n1| = 2 sin(alpha/2), n0 and n1 the faces' unit normals and alpha
// their angle; for a seam of vertex normals, the larger of the two end
// points' |nF0 - nF1| (unit vertex normals of either face). It is clamped to
// [0.02, 1], and 1 for boundary and non-manifold edges, edges with a
// degenerate face and seams with a zero normal: silhouettes and boundaries
// separate unrelated surfaces, whose radiances differ by O(1).
func (e *Edges) Jump(s *render.Scene, i int) float64 {
	ed := &e.List[i]
	if ed.F1 < 0 || ed.NonManifold {
		return 1
	}
	v0, v1, o0, o1 := e.corners(s, i)
	n0, n1, ok := faceNormals(v0, v1, o0, o1, e.flags[i]&edgeFlip != 0)
	return e.jump(s, i, n0, n1, ok)
}

// jump is Jump given the faces' unit normals (ok false when a face is
// degenerate) for an edge with two faces.
func (e *Edges) jump(s *render.Scene, i int, n0, n1 mgl64.Vec3, ok bool) float64 {
	ed := &e.List[i]
	sh := s.Shapes[ed.Shape]
	var d float64
	switch {
	case hasNormals(sh):
		w := e.w[i]
		d = max(normalGap(sh.Normals[ed.V0], sh.Normals[w[0]]), normalGap(sh.Normals[ed.V1], sh.Normals[w[1]]))
	case !ok:
		return 1
	default:
		d = n0.Sub(n1).Len()
	}
	if !(d >= jumpMin) { // NaN too
		return jumpMin
	}
	return min(1, d)
}

// normalGap returns |a/|a| - b/|b||, 2 when either is zero.
func normalGap(a, b mgl64.Vec3) float64 {
	if a == b {
		return 0
	}
	la, lb := a.Len(), b.Len()
	if !(la > 0) || !(lb > 0) {
		return 2
	}
	return a.Mul(1 / la).Sub(b.Mul(1 / lb)).Len()
}

// JumpWeight returns the expected jump of edge i seen from p: 0 when it is
// not a Candidate from p, 1 when it is a Silhouette from p (or a boundary or
// non-manifold edge), Jump(s, i) when it is a candidate only because it is
// Sharp and a face faces p. The samplers multiply their importance by it
// unless their options turn the weighting off.
func (e *Edges) JumpWeight(s *render.Scene, i int, p mgl64.Vec3) float64 {
	fl, _, _, jump := e.edgeFlags(s, i)
	v0, v1, o0, o1 := e.corners(s, i)
	return candidateWeight(fl, jump, v0, v1, o0, o1, p)
}

// faceNormals returns the unit winding normals of F0 = (v0, v1, o0) and of
// F1 (wound (v1, v0, o1), or (v0, v1, o1) when flip); ok is false when a
// face is degenerate.
func faceNormals(v0, v1, o0, o1 mgl64.Vec3, flip bool) (n0, n1 mgl64.Vec3, ok bool) {
	n0 = v1.Sub(v0).Cross(o0.Sub(v0))
	if flip {
		n1 = v1.Sub(v0).Cross(o1.Sub(v0))
	} else {
		n1 = v0.Sub(v1).Cross(o1.Sub(v1))
	}
	l0, l1 := n0.Len(), n1.Len()
	if !(l0 > 0) || !(l1 > 0) || math.IsInf(l0, 0) || math.IsInf(l1, 0) {
		return n0, n1, false
	}
	return n0.Mul(1 / l0), n1.Mul(1 / l1), true
}

func hasNormals(sh *render.Shape) bool {
	return sh.Normals != nil && len(sh.Normals) == len(sh.Positions)
}

// normalsDiffer compares two vertex normals by direction.
func normalsDiffer(a, b mgl64.Vec3) bool {
	if a == b {
		return false
	}
	la, lb := a.Len(), b.Len()
	if !(la > 0) || !(lb > 0) {
		return true
	}
	return a.Dot(b)/(la*lb) < 1-sharpCosTol
}

func twoSided(s *render.Scene, shape int32) bool {
	m := s.Shapes[shape].Material
	return m >= 0 && m < len(s.Materials) && s.Materials[m] != nil && s.Materials[m].TwoSided
}

// edgeFlags returns the classification flags of edge i at the current
// positions, its unit face normals when they bound the edge's facing
// (cNoCone clear), and its Jump.
func (e *Edges) edgeFlags(s *render.Scene, i int) (fl uint8, n0, n1 mgl64.Vec3, jump float64) {
	ed := &e.List[i]
	if ed.F1 < 0 || ed.NonManifold {
		return cAlways | cNoCone, n0, n1, 1
	}
	if e.flags[i]&edgeFlip != 0 {
		fl |= cFlip | cNoCone
	}
	v0, v1, o0, o1 := e.corners(s, i)
	n0, n1, ok := faceNormals(v0, v1, o0, o1, e.flags[i]&edgeFlip != 0)
	if e.sharp(s, i, n0, n1, ok) {
		fl |= cSharp
	}
	if twoSided(s, ed.Shape) {
		fl |= cTwoSided
	}
	if !ok {
		fl |= cNoCone
	}
	return fl, n0, n1, e.jump(s, i, n0, n1, ok)
}
