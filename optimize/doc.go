// Package optimize holds the renderer-independent machinery of inverse
// rendering: image losses with their image gradients, first-order
// optimisers with per-parameter learning rates and schedules, constraints
// that keep parameters physical, geometry regularisers and the large-steps
// reparameterisation of vertex positions, a generic minimisation driver and
// checkpoints. Everything works on a flat []float64 parameter vector and a
// gradient function (the shape of gonum's optimize.Problem), so it is
// tested without a renderer; the render-in-the-loop drivers build on
// Minimize.
//
// # Parameters and units
//
// The parameter vector is the concatenation of Blocks, one per scene
// parameter, named by the parameter registry's keys (Mitsuba's traverse()
// names: "objmat.reflectance.value", "mesh.vertex_positions", "sensor.fov",
// ...). Values are in the scene's units: colours and radiance in linear RGB,
// lengths in scene units, sensor.fov in degrees, SHAPE.rotation an
// axis-angle vector in radians. Vertex positions are interleaved, x y z per
// vertex, as vertex_positions stores them. Each block has its own learning
// rate, in the block's units per step; DefaultConstraint picks the
// projection a key needs (reflectances in [0, 1], roughness >= 1e-3, fov in
// (0, 180), radiance >= 0, rotations reduced to angles in [0, pi]).
//
// # Losses
//
// L1 and L2 are means over pixels and channels, Sum is the image sum of
// gradient checks, Pyramid sums the mean squared errors of a box image
// pyramid (Burt and Adelson, "The Laplacian Pyramid as a Compact Image
// Code", IEEE Trans. Communications 1983) down to about 8 pixels, which
// gives geometry far from its target a gradient. WithMask weights pixels.
// Eval returns dL/dI, the upstream image gradient of the backward pass.
//
// # Optimisers
//
// Adam follows Kingma and Ba, "Adam: A Method for Stochastic Optimization"
// (ICLR 2015), with bias correction; its uniform variant (one denominator
// per block, the largest second moment) is the one Nicolet, Jacobson and
// Jakob pair with their reparameterisation ("Large Steps in Inverse
// Rendering of Geometry", ACM TOG 40(6), SIGGRAPH Asia 2021), as Mitsuba 3's
// Adam(uniform=True). SGD has heavy-ball or Nesterov momentum (Sutskever
// et al., ICML 2013). A Schedule scales every block's rate: exponential
// decay, cosine annealing (Loshchilov and Hutter, ICLR 2017) and linear
// warm-up, all functions of the step count so that resumes are exact.
// Non-finite gradient components are skipped and counted, never entering
// the optimiser's state.
//
// # Geometry
//
// UniformLaplacian builds L = D - A of a triangle mesh's edge graph as a CSR
// matrix; Smoothness is lambda/2 sum_c x_c^T L x_c. LargeSteps implements
// the paper's M = I + lambda L: Minimize optimises u = M x for a block with
// a Reparam and preconditions its gradient by M^-1. Solves use a sparse
// Cholesky factorisation with a nested-dissection ordering (George and Liu,
// "Computer Solution of Large Sparse Positive Definite Systems", 1981;
// Davis, "Direct Methods for Sparse Linear Systems", SIAM 2006) or
// Jacobi-preconditioned conjugate gradients (Saad, "Iterative Methods for
// Sparse Linear Systems", 2003, algorithm 9.1).
//
// # Determinism and checkpoints
//
// Minimize is deterministic: the same problem, start and options give the
// same iterates bit for bit, and a run resumed from a Checkpoint (JSON,
// written atomically, versioned) continues exactly as the uninterrupted run
// would. The package never prints; progress goes through the iteration
// callback.
package optimize
