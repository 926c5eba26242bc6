// Package render holds the scene model (sensors, triangle meshes, materials,
// textures, lights, environment) and the forward Monte Carlo path tracer that
// renders it, with its films, pixel filters and the tile scheduler.
//
// The renderer never reads files (package scenes does) and knows nothing of
// gradients (package adjoint differentiates the functions defined here, each
// forward function naming its adjoint in its comment).
//
// Conventions follow Mitsuba: radiance in linear RGB, one-sided BSDFs and
// area emitters (front = counter-clockwise winding), maxDepth counting path
// segments, fov along fovAxis. All arithmetic is float64.
package render
