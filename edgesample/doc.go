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
// clipped length in pixels, then a point uniformly on the clipped part
// (Li et al. 2018, section 4.1). Film coordinates are render.Camera's:
// (0,0) the top-left corner, (W,H) the bottom-right. PrimarySample.Pdf is a
// density in the measure dS along A..B.
//
// # Secondary visibility
//
// NewSecondary builds a bounding volume hierarchy over all edges, top-down
// with binned splits that minimise weighted edge length times box surface
// area (the light-tree cost of Conty Estevez and Kulla, "Importance
// Sampling of Many Lights with Adaptive Tree Splitting", HPG 2018, without
// its orientation term), leaves of up to 4 edges, in parallel. Each node
// (64 bytes, float32, rounded conservatively) stores its box, a cone
// bounding its faces' normals, and its edges' lengths in three classes:
// edges that are candidates whatever the cone says (boundary, non-manifold,
// inconsistently wound, or Sharp with a two-sided material), smooth edges
// weighted by alpha/pi, the fraction of directions from which an edge whose
// face normals make the angle alpha is a silhouette (redner's edge tree
// weighs by the exterior dihedral angle for the same reason,
// src/edge_tree.cpp), and one-sided Sharp edges. Sampling from a shading
// point p with hemisphere normal n descends from the root, choosing a child
// in proportion to its importance, and multiplies the choices'
// probabilities (Li et al. 2018, section 5.2; the descent is the light-tree
// traversal of Conty Estevez and Kulla, applied to edges):
//
//   - an inner node's importance is its effective length times a bound of
//     the cosine to its box over the squared distance to the box's centre
//     (clamped to half the box's diagonal). The effective length uses the
//     normal cone (Sander, Gu, Gortler, Hoppe and Snyder, "Silhouette
//     Clipping", SIGGRAPH 2000): when all the node's faces face p, or all
//     face away, none of its smooth edges is a silhouette, and one-sided
//     Sharp edges count by an estimate of the fraction of faces facing p.
//     The importance is zero only when the box lies on or below the plane
//     through p or the cone proves that no edge of the node is a candidate;
//   - a leaf's importance is the exact sum of its edges' importances: zero
//     for non-candidates, otherwise the integral over the edge, clipped to
//     the upper half-space, of sin(phi) cos(theta) / r^2, in closed form
//     (the cosine-weighted angular measure redner's leaf_importance
//     integrates with linearly transformed cosines, src/edge.cpp), the
//     distance to the edge's line clamped to 1e-3 of its length;
//   - every choice mixes in 0.1 % of a uniform choice among the children
//     (or a leaf's edges) of positive importance, so that every edge that
//     is a candidate from p and has a point strictly above the plane gets
//     a probability that is positive and cannot underflow.
//
// A descent can end in a leaf with no candidate; Sample then reports no
// sample, and the probabilities of all edges sum to less than one.
//
// The point on the chosen edge is drawn with probability 0.95 equi-angularly
// on the part above the plane (density in length proportional to the angle
// the edge's line subtends at p; Kulla and Fajardo, "Importance Sampling
// Techniques for Path Tracing in Participating Media", EGSR 2012), with
// probability 0.05 uniformly on the whole edge; SecondarySample.Pdf is the
// exact density of the mixture in dS, times the edge's probability. The
// Uniform option is the baseline that picks edges by length alone.
//
// # Invariants
//
//   - Sampling is deterministic in (u0, u1): one random number drives the
//     whole descent, remapped at each choice; the other places the point.
//   - Sample and Pmf take the same decisions, so Pmf(p, n, e) is exactly the
//     probability that Sample returns e (tested against frequencies).
//   - Samplers are read-only after construction: Sample is safe for
//     concurrent use and does not allocate.
//   - Samplers snapshot the positions: rebuild them (NewPrimary,
//     NewSecondary) after vertices or the camera move; Extract again only
//     when the topology changes.
package edgesample
