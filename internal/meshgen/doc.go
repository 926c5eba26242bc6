// Package meshgen builds procedural triangle meshes for tests, benchmarks and
// built-in scenes.
//
// Every generator returns a mesh as flat arrays: positions, and indices with
// three entries per triangle. A triangle (a, b, c) is wound counter-clockwise
// seen from the side its normal points to: the normal (b-a)x(c-a) follows the
// right-hand rule, and for the closed meshes (Icosphere, Box, Torus) it points
// outwards.
//
// Icosphere reproduces the construction of the project's benchmark scene
// generator (shared/bench/genscenes.py) operation for operation: the same base
// icosahedron, the same vertex order, the same midpoint cache and the same
// bump displacement, so Icosphere(7, 0.5, (0,0.55,0), 0.08) is the 327,680
// triangle "dense" mesh and Icosphere(4, 0.5, (0,0.5,0), 0) the "sphere"
// object, up to the last bit of the sine function (Go's math.Sin may differ
// from the C library's by one unit in the last place).
package meshgen
