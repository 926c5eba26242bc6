//go:build !purego

package bvh

// haveBoxAsm reports whether boxTest4 and descend are implemented (in
// box_amd64.s).
const haveBoxAsm = true

// boxTest4 tests the four child boxes of n against the ray r as walk's Go
// code does on the fast path: it stores the entry distances' bits in
// r.ent, prefetches the children and returns the mask of the children hit
// (bit c for child c). See box_amd64.s.
//
//go:noescape
func boxTest4(n *node, r *rayBox) (mask int)

// descend runs walk's loop over interior nodes, from the node item it or,
// if it is popItem, from the top of the stack (items and ts, r.cap
// entries, r.sp in use), and returns the item of the next leaf to test, 0
// when the traversal is over or popItem when the stack would overflow. See
// box_amd64.s.
//
//go:noescape
func descend(r *rayBox, items *uint64, ts *int64, it uint64) (leaf uint64)
