//go:build !amd64 || purego

package bvh

// haveBoxAsm reports whether boxTest4 and descend are implemented in
// assembly; here they are not, and walk runs in Go.
const haveBoxAsm = false

// boxTest4 is never called without haveBoxAsm.
func boxTest4(n *node, r *rayBox) (mask int) {
	panic("bvh: boxTest4 without assembly")
}

// descend is never called without haveBoxAsm.
func descend(r *rayBox, items *uint64, ts *int64, it uint64) (leaf uint64) {
	panic("bvh: descend without assembly")
}
