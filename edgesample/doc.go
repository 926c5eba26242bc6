// Package edgesample finds the mesh edges that can carry a discontinuity of
// the rendering integrand and importance-samples points on them, for the
// boundary term of edge-sampling differentiable rendering (Li, Aittala,
// Durand and Lehtinen, "Differentiable Monte Carlo Ray Tracing through Edge
// Sampling", ACM TOG 37(6), SIGGRAPH Asia 2018, sections 4 and 5). It only
// samples: it never traces rays and never writes gradients (package adjoint
// does both).
//
// # Edges
//
// Extract lists every shape's unique edges with their one or two adjacent
// faces, after welding vertices with bit-identical positions (OBJ seams).
// The list depends on topology only. Whether an edge matters is decided at
// query time from the current positions, because optimisation moves them:
//
//   - Silhouette(p): a boundary or non-manifold edge, or one whose faces'
//     opposite vertices lie on the same side of the plane through p and the
//     edge (winding-independent; for consistently wound faces, exactly one
//     face faces p). redner's is_silhouette makes the same test through the
//     faces' normals (BachiLi/redner, src/edge.h).
//   - Sharp: the shading jumps across the edge even where it is not a
//     silhouette: flat shading and a dihedral angle other than 180 degrees
//     (cosine tolerance 1e-6), or a seam whose two sides carry different
//     vertex normals.
//   - Candidate(p) = Silhouette(p) || (Sharp && a face faces p), a face
//     facing p from behind counting only for two-sided materials.
//
// Coplanar edges with continuous shading are never candidates, and are
// rarely visited: the hierarchy weighs edges by the fraction of viewpoints
// from which they are candidates.
//
// # Primary visibility
//
// NewPrimary keeps the candidates seen from the camera's origin, clips each
// in 3D to the camera's depth range (T0, T1) and its projection to the film
// rectangle (Liang-Barsky, S0, S1), and samples an edge in proportion to its
// clipped length in pixels times its expected jump, then a point uniformly
// on the clipped part (Li et al. 2018, section 4.1, plus the jump weight).
// Film coordinates are render.Camera's: (0,0) the top-left corner, (W,H)
// the bottom-right. PrimarySample.Pdf is a density in the measure dS along
// A..B.
//
// # Expected jumps
//
// The optimal density of an edge sample is proportional to the jump of the
// integrand across the edge, which the samplers cannot see; they weigh a
// candidate by a proxy of it (Edges.JumpWeight): 1 where the edge is a
// silhouette or a boundary (it separates unrelated surfaces, whose
// radiances differ by O(1)), and for a Sharp edge seen from the front only
// Jump = |n0 - n1| clamped to [0.02, 1] (flat shading; for a seam, the
// difference of the vertex normals), since the shading of two faces
// differs by about the change of their normals. On a flat-shaded
// icosphere of 5120 faces Jump is about 0.07, so its thousands of Sharp
// edges no longer outweigh its few hundred silhouettes. The options'
// NoJumpWeight turns it off.
//
// # Secondary visibility
//
// NewSecondary builds a bounding volume hierarchy over all edges, top-down
// with binned splits that minimise weighted edge length times box surface
// area (the light-tree cost of Conty Estevez and Kulla, "Importance
// Sampling of Many Lights with Adaptive Tree Splitting", HPG 2018, without
// its orientation term), leaves of up to 16 edges, in parallel. Each node
// (80 bytes, float32, rounded conservatively) stores what its importance
// needs that does not depend on the shading point: its box, the radius
// about the box's centre of a sphere holding its edges (tighter than the
// box for curved patches; computed for nodes of up to 4096 edges), a cone
// bounding its faces' normals (cosine and sine of the half-angle, the sine
// rounded up), and its edges' weighted lengths in three classes: edges
// that are candidates whatever the cone says (boundary, non-manifold,
// inconsistently wound, or Sharp with a two-sided material), edges that
// are candidates where they are silhouettes, weighted by alpha/pi, the
// fraction of directions from which an edge whose face normals make the
// angle alpha is a silhouette (redner's edge tree weighs by the exterior
// dihedral angle for the same reason, src/edge_tree.cpp), and already
// multiplied by the silhouette boost below, and one-sided Sharp edges
// weighted by their Jump. Inner nodes of up to 4096 edges also store the
// apex offsets of two anchored normal cones (Sander, Gu, Gortler, Hoppe
// and Snyder, "Silhouette Clipping", SIGGRAPH 2000, section 4.2): regions
// of space, cones with apexes on the normal cone's axis, from which every
// face of the node is seen from the back, or every face from the front.
// The edges are stored in leaf order, each with its end points, its side
// normals (v1-v0) x (o-v0) for the two opposite vertices o (the candidate
// test is then two dot products, with the same signs as Candidate, which
// computes the same products), its unit direction and length in float32,
// and its Jump.
//
// Sampling from a shading point p with hemisphere normal n descends from
// the root, choosing a child in proportion to its importance, and
// multiplies the choices' probabilities (Li et al. 2018, section 5.2; the
// descent is the light-tree traversal of Conty Estevez and Kulla, applied
// to edges):
//
//   - an inner node's importance is its effective length times a bound of
//     the cosine to its bounding sphere over the squared distance to its
//     centre (clamped to the sphere's radius). The effective length uses
//     the anchored cones and the normal cone: when all the node's faces
//     face p, or all face away, none of its edges is a silhouette, and
//     one-sided Sharp edges count by an estimate of the fraction of faces
//     facing p; where the node may straddle the silhouette its silhouette
//     weight counts pi/(2 theta) times more (an edge of dihedral angle
//     alpha is a silhouette from about alpha/(2 theta) of the directions
//     from which a patch whose normals span 2 theta shows both sides),
//     scaled by the share of the normal cone that the silhouette's normals
//     cross. The importance is zero only when the node lies on or below
//     the plane through p or the cones prove that no edge of the node is a
//     candidate;
//   - a leaf's importance is the sum of its edges' importances: zero
//     for non-candidates, otherwise the expected jump times the integral
//     over the edge, clipped to the upper half-space, of sin(phi)
//     cos(theta) / r^2, in closed form (the cosine-weighted angular measure
//     redner's leaf_importance integrates with linearly transformed
//     cosines, src/edge.cpp), the distance to the edge's line clamped to
//     1e-3 of its length, evaluated with the stored float32 direction and
//     a polynomial arctangent (relative error below 1e-7);
//   - every choice mixes in 0.1 % of a uniform choice among the children
//     (or a leaf's edges) of positive importance, so that every edge that
//     is a candidate from p and has a point strictly above the plane gets
//     a probability that is positive and cannot underflow.
//
// The point on the chosen edge is drawn with probability 0.95 equi-angularly
// on the part above the plane (density in length proportional to the angle
// the edge's line subtends at p; Kulla and Fajardo, "Importance Sampling
// Techniques for Path Tracing in Participating Media", EGSR 2012), with
// probability 0.05 uniformly on the whole edge.
//
// # Emitter-guided secondary sampling
//
// In direct lighting the integrand jumps only along edges whose direction
// from p crosses an emitter: the silhouettes of occluders seen against a
// light (the shadow boundary) and the emitter's own sides, which carry the
// whole derivative with respect to the light's position. NewSecondary groups
// the scene's emissive triangles into at most 16 clusters (per shape, split
// while their normals spread more than 30 degrees), each bounded by an
// oriented box and a normal cone. With probability q (EmitterFraction,
// 0.5 by default) Sample then picks a cluster that may face p in
// proportion to its power (as next-event estimation picks a light), forms
// the cone of directions from p holding it (for a flat cluster, a planar
// light, the pyramid over its rectangle; otherwise a circular cone about
// its corners, used up to a half-angle of 80 degrees), and samples an edge
// point whose direction lies in it: the hierarchy's descent with each
// inner node's importance multiplied by an estimate of the fraction of its
// directions inside the cone (zero when a plane of the cone through p, or
// the cone's tangent plane, leaves its box or bounding sphere outside),
// each leaf edge weighed by the importance of its part inside the cone, an
// interval [s0, s1] of S found exactly (a quadratic inequality for a
// circular cone, linear ones for a pyramid), and S equi-angularly on it.
// The two strategies are combined by one-sample multiple importance
// sampling with the balance heuristic (Veach and Guibas, "Optimally
// Combining Sampling Techniques for Monte Carlo Rendering", SIGGRAPH 1995):
// SecondarySample.Pdf is the mixture
//
//	q * sum over clusters c of P(c) P(edge | c) p(S | edge, c)
//	  + (1-q) * P(edge) p(S | edge)
//
// at the returned (edge, S), whichever strategy drew it; the cluster terms
// vanish where S lies outside the cluster's cone. Where no cluster can be
// used (no emitter faces p, p too near one) q is 0. The hierarchy's share
// keeps every candidate samplable, so the estimator stays unbiased for any
// integrand.
//
// A descent can end in a node whose edges, though the bounds could not
// prove it, are not candidates or miss the cone; Sample then reports no
// sample, and the probabilities of all edges sum to less than one. On the
// sphere benchmark about a quarter of the samples fail: most at points on
// the sphere itself, whose neighbourhood boxes reach above the tangent
// plane although their edges do not.
//
// # Cost
//
// Both strategies descend the same tree, and an edge is reached by exactly
// one path from the root, so one descent yields both probabilities of the
// drawn edge: the emitter strategy's descent computes every node's
// hierarchy importance anyway (it scales it by the cone factor), and the
// hierarchy's descent records its importances, adding the cone factors
// along the path only when S falls inside a cluster's cone. The distance
// to a node's centre and the angular radius of its bounding sphere are
// computed once per node and shared by the importance and the cone
// factor; the arithmetic of the descent runs on a three-float struct,
// which the compiler keeps in registers (an mgl64.Vec3 array lives in
// memory); inverse trigonometric functions that only shape an importance
// are polynomial. On the sphere benchmark a sample costs about 2 µs,
// against 7 µs with a second descent for the other strategy's
// probability, mgl64 arithmetic and the math package's arctangent, for the
// same distribution up to the 1e-7 of the polynomial.
//
// # Invariants
//
//   - Sampling is deterministic in (u0, u1): one random number chooses the
//     strategy, the cluster and the whole descent, remapped at each choice;
//     the other places the point.
//   - Sample, Pmf and Pdf take the same decisions on the same importance
//     values, so Pmf(p, n, e) is exactly the probability that Sample
//     returns e (tested against frequencies), Pdf(p, n, e, S) its density
//     at S (tested: it integrates to Pmf), and SecondarySample.Pdf equals
//     Pdf at the sample.
//   - The importances only shape the distribution; they are zero only
//     where a conservative test (exact up to margins far above rounding)
//     proves that no edge below can contribute, so every candidate edge
//     with a point above the plane keeps a positive probability.
//   - Samplers are read-only after construction: Sample is safe for
//     concurrent use and does not allocate.
//   - Samplers snapshot the positions: rebuild them (NewPrimary,
//     NewSecondary) after vertices or the camera move; Extract again only
//     when the topology changes.
package edgesample
