//go:build !purego

package bvh

// haveBoxAsm reports whether boxTest4 is implemented (in box_amd64.s).
const haveBoxAsm = true

// boxTest4 tests the four child boxes of n against the ray r on walk's fast
// path: it stores the entry distances in t and returns the mask of the
// children hit (bit c for child c). See box_amd64.s.
//
//go:noescape
func boxTest4(n *node, r *rayBox, t *[4]float64) (mask int)
