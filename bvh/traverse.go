package bvh

import (
	"math"

	"github.com/invrender/invrender/geom"
)

// stackSize bounds the traversal stack. A traversal pushes at most one node
// per level, and Build keeps every tree shallower than sahDepthLimit + 32.
const stackSize = 128

// robustFar widens a box's far distance by 1 + 2*gamma(3) (pbrt-v4 section
// 6.8.7, as geom.AABB.Slab) so that rounding never culls a box the ray grazes.
const robustFar = 1 + 2*3*0x1p-53/(1-3*0x1p-53)

// validRay reports whether the ray can hit anything: a finite origin, a
// finite non-zero direction and a non-empty range.
func validRay(r *geom.Ray) bool {
	o, d := r.O, r.D
	// x-x is NaN exactly when x is NaN or infinite.
	if s := o[0] - o[0] + o[1] - o[1] + o[2] - o[2] + d[0] - d[0] + d[1] - d[1] + d[2] - d[2]; s != 0 {
		return false
	}
	if d[0] == 0 && d[1] == 0 && d[2] == 0 {
		return false
	}
	return r.TMin < r.TMax
}

// Intersect returns the closest hit with T in (r.TMin, r.TMax), and whether
// there is one. Both faces of a triangle are hit; degenerate triangles never
// are. A ray with a NaN or infinite component, a zero direction or an empty
// range hits nothing. It does not allocate.
func (b *BVH) Intersect(r geom.Ray) (Hit, bool) {
	return b.traverse(&r, false)
}

// Occluded reports whether any triangle is hit with T in (r.TMin, r.TMax):
// the shadow-ray query, which stops at the first hit found. It agrees with
// Intersect's ok and does not allocate.
func (b *BVH) Occluded(r geom.Ray) bool {
	_, ok := b.traverse(&r, true)
	return ok
}

// traverse walks the tree (pbrt-v4 section 7.3.5): a fixed stack, the child
// on the near side of the split plane (by the sign of the direction on the
// split axis) visited first and the far child pushed. With anyHit it returns
// at the first hit found.
//
// The slab test takes the near and far planes of each axis by the sign of
// the direction, with IEEE infinities as the inverse of zero components, and
// lets a NaN (0 * inf, a ray lying in a box's face plane) constrain nothing,
// so a ray that runs along a face still enters the box.
func (b *BVH) traverse(r *geom.Ray, anyHit bool) (Hit, bool) {
	nodes := b.nodes
	if len(nodes) == 0 || !validRay(r) {
		return Hit{}, false
	}
	wr := geom.NewWatertightRay(r.O, r.D)
	ox, oy, oz := r.O[0], r.O[1], r.O[2]
	ix, iy, iz := 1/r.D[0], 1/r.D[1], 1/r.D[2]
	// Index of the near corner per axis: 1 (the max corner) for a negative
	// direction, -0 included.
	var sx, sy, sz int
	if math.Signbit(ix) {
		sx = 1
	}
	if math.Signbit(iy) {
		sy = 1
	}
	if math.Signbit(iz) {
		sz = 1
	}
	dirNeg := [4]bool{sx == 1, sy == 1, sz == 1}
	inf := math.Inf(1)
	tmin, tmax := r.TMin, r.TMax
	tris := b.tris

	var hit Hit
	found := false
	var stack [stackSize]int32
	sp := 0
	cur := int32(0)
	for {
		n := &nodes[cur]
		x0 := (float64(n.box[sx&1][0]) - ox) * ix
		x1 := (float64(n.box[(sx^1)&1][0]) - ox) * ix
		y0 := (float64(n.box[sy&1][1]) - oy) * iy
		y1 := (float64(n.box[(sy^1)&1][1]) - oy) * iy
		z0 := (float64(n.box[sz&1][2]) - oz) * iz
		z1 := (float64(n.box[(sz^1)&1][2]) - oz) * iz
		t0, t1 := tmin, inf
		if x0 > t0 {
			t0 = x0
		}
		if y0 > t0 {
			t0 = y0
		}
		if z0 > t0 {
			t0 = z0
		}
		if x1 < t1 {
			t1 = x1
		}
		if y1 < t1 {
			t1 = y1
		}
		if z1 < t1 {
			t1 = z1
		}
		t1 *= robustFar
		if tmax < t1 {
			t1 = tmax
		}
		if t0 <= t1 {
			if n.count == 0 {
				if dirNeg[n.axis&3] {
					stack[sp&(stackSize-1)] = cur + 1
					cur = n.offset
				} else {
					stack[sp&(stackSize-1)] = n.offset
					cur++
				}
				sp++
				continue
			}
			end := n.offset + int32(n.count)
			for k := n.offset; k < end; k++ {
				tv := &tris[k]
				if t, b1, b2, ok := wr.Intersect(tv.p0, tv.p1, tv.p2, tmin, tmax); ok {
					tmax = t
					hit = Hit{T: t, B1: b1, B2: b2, Tri: k}
					found = true
					if anyHit {
						return hit, true
					}
				}
			}
		}
		if sp == 0 {
			break
		}
		sp--
		cur = stack[sp&(stackSize-1)]
	}
	if found {
		hit.Tri = b.triID[hit.Tri]
	}
	return hit, found
}
