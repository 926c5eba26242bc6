package bvh

import (
	"math"

	"github.com/invrender/invrender/geom"
)

// Traversal stack sizes. A traversal pushes at most one entry per level.
// Intersect and Occluded start with a short stack, which Go must zero on
// every call, and only when a ray's path needs more entries restart in a
// second function with a stack deep enough for any tree Build makes
// (shallower than sahDepthLimit + 32).
const (
	shortStack = 16
	deepStack  = 128
)

// robustFar widens a box's far distance by 1 + 2*gamma(3) (pbrt-v4 section
// 6.8.7, as geom.AABB.Slab) so that rounding never culls a box the ray grazes.
const robustFar = 1 + 2*3*0x1p-53/(1-3*0x1p-53)

// query is the state of one traversal. Its fields are scalars: Go copies
// small arrays such as mgl64.Vec3 with overlapping 16-byte moves, which
// stall store-to-load forwarding.
type query struct {
	// The ray and its precomputed constants.
	ox, oy, oz float64
	ix, iy, iz float64 // inverse direction
	nx, ny, nz int     // per axis, 3 (the max corner is near) if the direction is negative, else 0
	tmin, tmax float64
	safe       bool // all inverse direction components finite
	// The constants of the watertight test (geom.NewWatertightRay).
	kx, ky, kz    int
	okx, oky, okz float64 // the origin's coordinates along kx, ky, kz
	sx, sy, sz    float64
	// The closest hit so far.
	hit   Hit
	found bool
}

// init prepares q for r; it returns false when r can hit nothing: a NaN or
// infinite component, a zero direction or an empty range.
func (q *query) init(r *geom.Ray) bool {
	ox, oy, oz := r.O[0], r.O[1], r.O[2]
	dx, dy, dz := r.D[0], r.D[1], r.D[2]
	// x-x is NaN exactly when x is NaN or infinite.
	if s := ((ox - ox) + (oy - oy)) + ((oz - oz) + (dx - dx)) + ((dy - dy) + (dz - dz)); s != 0 {
		return false
	}
	if (dx == 0 && dy == 0 && dz == 0) || !(r.TMin < r.TMax) {
		return false
	}
	q.ox, q.oy, q.oz = ox, oy, oz
	q.ix, q.iy, q.iz = 1/dx, 1/dy, 1/dz
	q.nx, q.ny, q.nz = 0, 0, 0
	if math.Signbit(q.ix) {
		q.nx = 3
	}
	if math.Signbit(q.iy) {
		q.ny = 3
	}
	if math.Signbit(q.iz) {
		q.nz = 3
	}
	q.safe = !math.IsInf(q.ix, 0) && !math.IsInf(q.iy, 0) && !math.IsInf(q.iz, 0)
	q.tmin, q.tmax = r.TMin, r.TMax
	q.hit, q.found = Hit{}, false

	// geom.NewWatertightRay, on scalars: the axis of the largest direction
	// component becomes z; swapping x and y keeps the winding.
	kz := 0
	ax, ay, az := math.Abs(dx), math.Abs(dy), math.Abs(dz)
	if ay > ax {
		kz = 1
		if az > ay {
			kz = 2
		}
	} else if az > ax {
		kz = 2
	}
	kx := kz + 1
	if kx == 3 {
		kx = 0
	}
	ky := kx + 1
	if ky == 3 {
		ky = 0
	}
	d := [3]float64{dx, dy, dz}
	if d[kz] < 0 {
		kx, ky = ky, kx
	}
	o := [3]float64{ox, oy, oz}
	q.kx, q.ky, q.kz = kx, ky, kz
	q.okx, q.oky, q.okz = o[kx], o[ky], o[kz]
	q.sx, q.sy, q.sz = d[kx]/d[kz], d[ky]/d[kz], 1/d[kz]
	return true
}

// Intersect returns the closest hit with T in (r.TMin, r.TMax), and whether
// there is one. Both faces of a triangle are hit; degenerate triangles never
// are. A ray with a NaN or infinite component, a zero direction or an empty
// range hits nothing. It does not allocate.
func (b *BVH) Intersect(r geom.Ray) (Hit, bool) {
	var q query
	if len(b.nodes) == 0 || !q.init(&r) {
		return Hit{}, false
	}
	var refs [shortStack]int32
	var cnts [shortStack]uint16
	var ts [shortStack]float64
	if b.walk(&q, false, refs[:], cnts[:], ts[:]) {
		b.walkDeep(&q, false)
	}
	if q.found {
		q.hit.Tri = b.triID[q.hit.Tri]
	}
	return q.hit, q.found
}

// Occluded reports whether any triangle is hit with T in (r.TMin, r.TMax):
// the shadow-ray query, which stops at the first hit found. It agrees with
// Intersect's ok and does not allocate.
func (b *BVH) Occluded(r geom.Ray) bool {
	var q query
	if len(b.nodes) == 0 || !q.init(&r) {
		return false
	}
	var refs [shortStack]int32
	var cnts [shortStack]uint16
	var ts [shortStack]float64
	if b.walk(&q, true, refs[:], cnts[:], ts[:]) {
		b.walkDeep(&q, true)
	}
	return q.found
}

// walkDeep restarts a traversal whose short stack overflowed, with a stack
// deep enough for any tree, keeping the closest hit found so far (q.tmax is
// already its distance).
//
//go:noinline
func (b *BVH) walkDeep(q *query, anyHit bool) {
	var refs [deepStack]int32
	var cnts [deepStack]uint16
	var ts [deepStack]float64
	b.walk(q, anyHit, refs[:], cnts[:], ts[:])
}

// walk traverses the tree with the given stack and records hits in q. At an
// interior node it tests both children's boxes (stored in the node), goes on
// with the one the ray enters first and pushes the other with its entry
// distance; a popped entry the ray enters beyond the closest hit found since
// is skipped. With anyHit it stops at the first hit. It returns true, with
// q's hit still valid, if the stack overflowed before the traversal ended.
//
// The slab test (Kay and Kajiya 1986; pbrt-v4 section 6.1.2) takes the near
// and far planes of each axis by the sign of the direction. When a direction
// component is zero (or so small that its inverse is infinite), a ray lying
// in a box's face plane gives 0 * inf = NaN, which the test must ignore
// rather than cull the box; q.safe selects plain comparisons for those rays
// and branch-free min and max (which propagate NaN) for all others.
func (b *BVH) walk(q *query, anyHit bool, refs []int32, cnts []uint16, ts []float64) (overflow bool) {
	nodes, tris := b.nodes, b.tris
	ox, oy, oz := q.ox, q.oy, q.oz
	ix, iy, iz := q.ix, q.iy, q.iz
	nx, ny, nz := q.nx, q.ny, q.nz
	tmin, tmax := q.tmin, q.tmax
	safe := q.safe
	kx, ky, kz := q.kx, q.ky, q.kz
	shx, shy, shz := q.sx, q.sy, q.sz
	okx, oky, okz := q.okx, q.oky, q.okz

	sp := 0
	ref, cnt := int32(0), uint16(0) // the item at hand: node index, or leaf (first, count)
	for {
		if cnt == 0 {
			n := &nodes[ref]
			var n0, f0, n1, f1 float64
			if safe {
				// Near plane of axis a: box[a + n_a]; far plane:
				// box[a + (n_a ^ 3)]. The masks let the compiler drop the
				// bounds checks.
				b0 := &n.box[0]
				n0 = max((float64(b0[nx&3])-ox)*ix, (float64(b0[1+ny&3])-oy)*iy, (float64(b0[2+nz&3])-oz)*iz, tmin)
				f0 = min(min((float64(b0[(nx^3)&3])-ox)*ix, (float64(b0[1+(ny^3)&3])-oy)*iy, (float64(b0[2+(nz^3)&3])-oz)*iz)*robustFar, tmax)
				b1 := &n.box[1]
				n1 = max((float64(b1[nx&3])-ox)*ix, (float64(b1[1+ny&3])-oy)*iy, (float64(b1[2+nz&3])-oz)*iz, tmin)
				f1 = min(min((float64(b1[(nx^3)&3])-ox)*ix, (float64(b1[1+(ny^3)&3])-oy)*iy, (float64(b1[2+(nz^3)&3])-oz)*iz)*robustFar, tmax)
			} else {
				n0, f0 = slabNaNSafe(&n.box[0], ox, oy, oz, ix, iy, iz, nx, ny, nz, tmin, tmax)
				n1, f1 = slabNaNSafe(&n.box[1], ox, oy, oz, ix, iy, iz, nx, ny, nz, tmin, tmax)
			}
			hit0, hit1 := n0 <= f0, n1 <= f1
			if hit0 && hit1 {
				// Go on with the nearer child, push the other.
				near, far, tFar := 0, 1, n1
				if n1 < n0 {
					near, far, tFar = 1, 0, n0
				}
				if sp == len(refs) {
					return true
				}
				refs[sp], cnts[sp], ts[sp] = n.child[far&1], n.count[far&1], tFar
				sp++
				ref, cnt = n.child[near&1], n.count[near&1]
				continue
			}
			if hit0 {
				ref, cnt = n.child[0], n.count[0]
				continue
			}
			if hit1 {
				ref, cnt = n.child[1], n.count[1]
				continue
			}
		} else {
			for k := ref; k < ref+int32(cnt); k++ {
				// The watertight test of geom.WatertightRay.Intersect,
				// written out here with the same operations in the same
				// order, so that it gives the same bits (TestInlineTriangleTest
				// checks it): Go passes mgl64.Vec3 arguments through memory,
				// so the call would copy 72 bytes per triangle. The float64
				// conversions forbid fusing products into FMAs, which would
				// break watertightness (see geom).
				p := &tris[k]
				ax, ay, az := p[0][kx]-okx, p[0][ky]-oky, p[0][kz]-okz
				bx, by, bz := p[1][kx]-okx, p[1][ky]-oky, p[1][kz]-okz
				cx, cy, cz := p[2][kx]-okx, p[2][ky]-oky, p[2][kz]-okz
				ax -= float64(shx * az)
				ay -= float64(shy * az)
				bx -= float64(shx * bz)
				by -= float64(shy * bz)
				cx -= float64(shx * cz)
				cy -= float64(shy * cz)
				u := float64(cx*by) - float64(cy*bx)
				v := float64(ax*cy) - float64(ay*cx)
				w := float64(bx*ay) - float64(by*ax)
				if (u < 0 || v < 0 || w < 0) && (u > 0 || v > 0 || w > 0) {
					continue
				}
				det := u + v + w
				if det == 0 {
					continue
				}
				az *= shz
				bz *= shz
				cz *= shz
				tt := u*az + v*bz + w*cz
				if det > 0 {
					if tt <= tmin*det || tt >= tmax*det {
						continue
					}
				} else if tt >= tmin*det || tt <= tmax*det {
					continue
				}
				// Zero-area triangles are never hit (pbrt-v4 section 6.5.3).
				e1x, e1y, e1z := p[1][0]-p[0][0], p[1][1]-p[0][1], p[1][2]-p[0][2]
				e2x, e2y, e2z := p[2][0]-p[0][0], p[2][1]-p[0][1], p[2][2]-p[0][2]
				if e1y*e2z == e1z*e2y && e1z*e2x == e1x*e2z && e1x*e2y == e1y*e2x {
					continue
				}
				inv := 1 / det
				tmax = tt * inv
				q.tmax = tmax
				q.hit.T, q.hit.B1, q.hit.B2, q.hit.Tri = tmax, v*inv, w*inv, k
				q.found = true
				if anyHit {
					return false
				}
			}
		}
		// Pop the next item the ray can still reach before its closest hit.
		for {
			if sp == 0 {
				return false
			}
			sp--
			if ts[sp] <= tmax {
				break
			}
		}
		ref, cnt = refs[sp], cnts[sp]
	}
}

// slabNaNSafe is the slab test of walk for rays with an infinite inverse
// direction component: a NaN distance constrains nothing. It returns the
// entry and exit distances, clipped to [tmin, tmax]; the box is hit when
// entry <= exit.
func slabNaNSafe(bx *box32, ox, oy, oz, ix, iy, iz float64, nx, ny, nz int, tmin, tmax float64) (float64, float64) {
	t0, t1 := tmin, math.Inf(1)
	if x := (float64(bx[nx&3]) - ox) * ix; x > t0 {
		t0 = x
	}
	if y := (float64(bx[1+ny&3]) - oy) * iy; y > t0 {
		t0 = y
	}
	if z := (float64(bx[2+nz&3]) - oz) * iz; z > t0 {
		t0 = z
	}
	if x := (float64(bx[(nx^3)&3]) - ox) * ix; x < t1 {
		t1 = x
	}
	if y := (float64(bx[1+(ny^3)&3]) - oy) * iy; y < t1 {
		t1 = y
	}
	if z := (float64(bx[2+(nz^3)&3]) - oz) * iz; z < t1 {
		t1 = z
	}
	t1 *= robustFar
	if tmax < t1 {
		t1 = tmax
	}
	return t0, t1
}
