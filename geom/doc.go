// Package geom is the geometry kernel of the renderer: rays, axis-aligned
// boxes, orthonormal frames, affine transforms, the watertight ray-triangle
// test, the sampling warps the path tracer draws from, and a counter-based
// random number generator.
//
// Conventions. Vectors are github.com/go-gl/mathgl mgl64 values (float64).
// Space is right-handed; Mitsuba's camera looks down +z with +y up and +x to
// the left, and this package's LookAt builds that frame. Directions passed to
// intersection routines need not be normalised: t is measured in units of the
// direction's length. Warps map the unit square [0,1)^2 to their domain and
// come with a pdf with respect to the domain's natural measure (solid angle for
// directions, area for points).
//
// Nothing here allocates: every function works on values, so the bvh and
// render hot loops can call them per ray.
package geom
