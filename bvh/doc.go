// Package bvh is a bounding volume hierarchy over a triangle mesh given as
// flat arrays (positions, and three indices per triangle): a binned SAH
// build, closest-hit and any-hit ray queries that do not allocate, and a
// refit for meshes whose vertices move.
//
// # Build
//
// Build splits the triangles top-down by the surface area heuristic (SAH;
// MacDonald and Booth 1990) evaluated at up to 16 bins per axis over the bounds of
// the triangles' centres, on all three axes, as in Wald, "On fast
// Construction of SAH-based Bounding Volume Hierarchies", IEEE Symposium on
// Interactive Ray Tracing 2007, and pbrt (Pharr, Jakob, Humphreys, Physically
// Based Rendering, 3rd ed. section 4.3, 4th ed. section 7.3): each range is
// split where the sum over both sides of triangle count times surface area
// is least. A range of at most Options.MaxLeafSize triangles (by default 3,
// the fastest measured on both benchmark scenes) becomes a leaf.
// Ranges whose centres coincide, or whose bounds have no area, or that lie
// deeper than 64 levels, are halved instead, so no tree is deeper than
// 64 + 31 levels. Degenerate triangles are built like any other (their
// bounds may be flat or a point) and are never hit.
//
// The build runs on Options.Workers goroutines: the two halves of a large
// range are built concurrently, and the binning and the partition of a very
// large range are split into chunks whose bins are merged. Each triangle is
// a 40-byte record of its float32 bounds (rounded outwards, as the nodes
// store them) held as integer keys that order like the floats, so that bin
// updates are integer minima and maxima, its centre and its index; a split
// copies its range stably into a second buffer, left side first, so every
// level reads its records sequentially. Bins hold integer counts and boxes
// made by min and max, which are exact, and a chunk's place in each side
// follows from its own bins' counts, so the tree is the same for any number
// of workers.
//
// The binary tree is then collapsed into a 4-wide tree (Wald, Benthin and
// Boulos, "Getting Rid of Packets", IEEE Symposium on Interactive Ray Tracing
// 2008; Dammertz, Hanika and Keller, "Shallow Bounding Volume Hierarchies
// for Fast SIMD Ray Tracing of Incoherent Rays", EGSR 2008): each node takes
// the two children of a binary node and keeps replacing its interior child
// of largest area by that child's children until it has four.
//
// # Layout and invariants
//
// Nodes are stored depth-first in one slice: the root is node 0, an interior
// child's index is greater than its parent's, and the subtrees of a node's
// children follow one another in child order. A node is 128 bytes (two cache
// lines) and holds, for each of its up to four children, a box and a
// reference: an interior child (count 0, node index), a leaf (count >= 1
// triangles starting at that index in leaf order) or an unused slot (count 0,
// index -1, an inverted box no ray enters). Boxes are float32, each bound
// rounded outwards from the float64 geometry, so a box always contains its
// subtree. The triangles are stored in leaf order as their three float64
// vertices (72 bytes), so that a leaf is one contiguous run of memory read
// without following indices (measured: 6-10% faster incoherent rays than
// indices into a shared vertex array, despite three times the memory);
// Hit.Tri maps back to the input's triangle index.
//
// Quantized child boxes (8 bits per plane relative to the node, as in
// Ylitie, Karras and Laine, "Efficient Incoherent Ray Traversal on GPUs
// Through Compressed Wide BVHs", HPG 2017), which would halve the nodes,
// were measured and not kept: decoding a plane costs as much as the float32
// plane's test, and the test of a quantized node took 50% longer.
//
// # Queries
//
// Intersect and Occluded precompute the ray's inverse direction and the
// constants of the watertight ray-triangle test (Woop, Benthin and Wald,
// "Watertight Ray/Triangle Intersection", JCGT 2(1), 2013; geom's
// WatertightRay) once, without branches (the signs and the largest
// component of random directions are unpredictable), then walk the tree
// with a fixed-size stack. At a node they test the four child boxes (the
// slab test of Kay and Kajiya, 1986, with the far distance widened by
// 1 + 2*gamma(n) as in pbrt-v4 section 6.8, so that rounding never culls a
// box the ray touches). When several are hit, Intersect continues with the
// child the ray enters first and pushes the others, farthest first, with
// their entry distances; a popped entry that lies beyond the closest hit
// found since is skipped. Occluded stops at the first hit and does not
// order children: on the benchmark's shadow rays, nearest-first order tested
// fewer triangles but was 10% slower. The triangle test in the leaves
// performs geom.WatertightRay.Intersect's operations in the same order and
// gives the same bits, so closest hits agree exactly with a brute-force loop
// over geom's test. Both faces of a triangle are hit; hits count only for t
// strictly inside (TMin, TMax). Queries only read the BVH, so any number of
// goroutines may run them at once.
//
// # Speed
//
// Most of a traversal's time goes to waiting for the first touch of a node
// or of its triangles, and to the four box tests of each node, which Go
// compiles to scalar code. On amd64 the loop over interior nodes therefore
// runs in assembly (box_amd64.s, descend): it keeps the ray in registers,
// tests a node's four boxes two per SSE2 instruction with the same IEEE
// operations as the Go code (a test compares the two bit for bit, and the
// brute-force tests run both), picks and pushes children, pops with
// culling, and prefetches every child of every node it tests, hit or not,
// so that the misses of the children pushed on the stack overlap with the
// work on the nearest. It returns to Go at each leaf, whose triangles the
// Go code tests. Other architectures, and the build tag purego, run the Go
// loop. Measured on the dense scene's benchmark rays (thread CPU time per
// ray, one goroutine, least of 32 passes, all steps in one interleaved run),
// each step added to the ones above:
//
//	                                        primary  incoherent  shadow
//	indices into a vertex copy (before)      184 ns     409 ns   254 ns
//	leaf-ordered triangle records            187        385      245
//	box tests in SSE2 assembly               181        384      230
//	  and prefetching all children           157        296      194
//	ray setup without stalls                 147        288      191
//	interior loop in assembly                125        258      167
//	leaves of at most 3 triangles            123        260      167
//
// (The machine was shared: figures vary by about 5%. The last step is for
// the Cornell box, 8% faster, and leaves the dense scene as it was.)
// Prefetching only the
// children hit was slower than prefetching all four; ordering the children
// of shadow rays by distance tested fewer triangles but cost more; the ray
// setup picks the watertight test's axes by table lookups rather than
// branches on the unpredictable signs of random directions, and gives the
// assembly single values, since Go would build the pairs an SSE2 register
// takes by two 8-byte stores that stall the 16-byte load that follows.
//
// # Refit and rebuild
//
// Refit takes new positions for the same vertices, regathers the triangle
// records from the input indices (kept in leaf order) and recomputes every
// box bottom-up in linear time, keeping the tree's
// topology (Wald, Boulos and Shirley, "Ray Tracing Deformable Scenes Using
// Dynamic Bounding Volume Hierarchies", ACM TOG 26(1), 2007). Its quality
// decays as triangles move apart from their former neighbours; SAHCost
// measures it as the expected cost of a ray that hits the root, in
// triangle tests, and NeedsRebuild reports when it exceeds RebuildRatio (1.5)
// times the cost right after Build. Refit must not run concurrently with
// queries.
package bvh
