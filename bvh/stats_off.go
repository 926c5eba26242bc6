//go:build !bvhstats

package bvh

// stats enables the traversal counters (build with -tags bvhstats); off, the
// compiler removes them.
const stats = false
