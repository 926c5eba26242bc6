//go:build !amd64 || purego

package bvh

// haveBoxAsm reports whether boxTest4 is implemented in assembly; here it
// is not, and walk tests boxes in Go.
const haveBoxAsm = false

// boxTest4 is never called without haveBoxAsm.
func boxTest4(n *node, r *rayBox, t *[4]float64) (mask int) {
	panic("bvh: boxTest4 without assembly")
}
