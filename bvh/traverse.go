package bvh

import (
	"math"
	"math/bits"

	"github.com/invrender/invrender/geom"
)

// Traversal stack sizes. A traversal pushes at most width-1 entries per
// level. Intersect and Occluded start with a short stack, which Go must zero
// on every call, and only when a ray's path needs more entries restart in a
// second function with a stack deep enough for any tree Build makes
// (shallower than sahDepthLimit + 32 < 128 levels).
const (
	shortStack = 24
	deepStack  = (width - 1) * 128
)

// robustFar widens a box's far distance by 1 + 2*gamma(3) (pbrt-v4 section
// 6.8, as geom.AABB.Slab) so that rounding never culls a box the ray grazes.
const robustFar = 1 + 2*3*0x1p-53/(1-3*0x1p-53)

// robustFold is the factor folded into the inverse direction used for far
// planes, (b - o) * (inv * robustFold), which rounds once more than
// ((b - o) * inv) * robustFar: 1 + 2*gamma(5) covers the extra rounding.
const robustFold = 1 + 2*5*0x1p-53/(1-5*0x1p-53)

// fbits returns the bits of x as an int64; for x >= 0 they order as x does.
func fbits(x float64) int64 { return int64(math.Float64bits(x)) }

// fkey maps a float64 to an int64 that orders as the float does for all
// non-NaN values (-0 before +0); it equals fbits(x) for x >= +0.
func fkey(x float64) int64 {
	b := int64(math.Float64bits(x))
	return b ^ (b >> 63 & math.MaxInt64)
}

// query is the state of one traversal. Its fields are written one scalar
// at a time: Go copies small arrays such as mgl64.Vec3 with overlapping
// 16-byte moves, and builds them from registers by 8-byte stores, either of
// which stalls store-to-load forwarding when a wider load follows.
type query struct {
	// The ray and its slab test's constants (see rayBox); rb.tmax is the
	// closest hit's distance once there is one.
	rb rayBox
	// fast selects the slab test on integer keys: all inverse direction
	// components finite and tmin >= 0. The bits of a non-negative float64,
	// read as an int64, order like the float, and every negative float
	// reads as a negative int64; so with tmin >= 0 the entry distance
	// max(tmin, ...) and the exit distance min(..., tmax) come out right
	// from integer max and min, or, when the exit is negative (the box is
	// behind the ray), negative and below any entry. Integer min and max
	// compile to compares and conditional moves; Go's float min and max
	// take a dozen instructions each to honour NaN and signed zeros. (The
	// assembly compares the floats themselves, which is the same on the
	// fast path, where no distance is NaN.)
	fast bool
	// The constants of the watertight test (geom.NewWatertightRay).
	kx, ky, kz    int
	okx, oky, okz float64 // the origin's coordinates along kx, ky, kz
	sx, sy, sz    float64
	// The closest hit so far.
	hit   Hit
	found bool
	// Interior nodes visited and triangles tested, counted when stats is on.
	nodes, tris int
}

// rayBox holds the state of boxTest4 and descend in the layout that their
// assembly reads (box_amd64.s hard-codes the offsets; TestRayBoxLayout
// checks them): the origin, the inverse direction for near planes and
// widened by robustFold for far planes, the range, the byte offsets of
// each axis's near and far planes within a node, the node and triangle
// arrays, the traversal stack (items, entry distances, capacity, entries
// in use), whether the query is any-hit, and the entry distances of the
// last node's children.
type rayBox struct {
	o          [3]float64
	inv        [3]float64
	far        [3]float64
	tmin, tmax float64
	nearOff    [3]int
	farOff     [3]int
	nodes      *node
	tris       *tri
	items, ts  uintptr // set by descend from its arguments
	cap, sp    int
	anyHit     int
	ent        [4]int64
}

// useBoxAsm selects walkAsm for rays of the fast path; tests turn it off to
// check the Go code on machines with the assembly.
var useBoxAsm = haveBoxAsm

// init prepares q, which must be zero, for r; it returns false when r can
// hit nothing: a NaN or infinite component, a zero direction or an empty
// range.
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
	ix, iy, iz := 1/dx, 1/dy, 1/dz
	// Sign bits, without branches: the signs of random directions are
	// unpredictable. Per axis, n is 3 (the max corner is near) if the
	// direction is negative, else 0.
	nx := int(math.Float64bits(ix)>>63) * 3
	ny := int(math.Float64bits(iy)>>63) * 3
	nz := int(math.Float64bits(iz)>>63) * 3
	tmin := r.TMin + 0 // -0 becomes +0, whose bits are the smallest non-negative key
	q.fast = math.Abs(ix) <= math.MaxFloat64 && math.Abs(iy) <= math.MaxFloat64 && math.Abs(iz) <= math.MaxFloat64 && tmin >= 0
	rb := &q.rb
	rb.o[0], rb.o[1], rb.o[2] = ox, oy, oz
	rb.inv[0], rb.inv[1], rb.inv[2] = ix, iy, iz
	rb.far[0], rb.far[1], rb.far[2] = ix*robustFold, iy*robustFold, iz*robustFold
	rb.tmin, rb.tmax = tmin, r.TMax
	// Plane p of a node's boxes starts at byte 16p.
	rb.nearOff = [3]int{16 * nx, 16 * (1 + ny), 16 * (2 + nz)}
	rb.farOff = [3]int{16 * (nx ^ 3), 16 * (1 + (ny ^ 3)), 16 * (2 + (nz ^ 3))}

	// geom.NewWatertightRay, on scalars: the axis of the largest direction
	// component becomes z; swapping x and y keeps the winding. Looked up in
	// tables rather than branched on: the comparisons and signs of random
	// directions are unpredictable. 1/d[kz] is the inverse already
	// computed, the same operation on the same operands.
	ax, ay, az := math.Abs(dx), math.Abs(dy), math.Abs(dz)
	kz := int(kzTable[b2i(ay > ax)|b2i(az > ay)<<1|b2i(az > ax)<<2]) & 3
	d := [4]float64{dx, dy, dz}
	o := [4]float64{ox, oy, oz}
	inv := [4]float64{ix, iy, iz}
	perm := &kxyTable[kz%3][math.Float64bits(d[kz])>>63]
	kx, ky := int(perm[0])&3, int(perm[1])&3
	q.kx, q.ky, q.kz = kx, ky, kz
	q.okx, q.oky, q.okz = o[kx], o[ky], o[kz]
	q.sx, q.sy, q.sz = d[kx]/d[kz], d[ky]/d[kz], inv[kz]
	return true
}

// kzTable is NewWatertightRay's choice of kz, the axis of the largest
// direction component, indexed by its three comparisons as bits: bit 0
// |dy| > |dx|, bit 1 |dz| > |dy|, bit 2 |dz| > |dx|. NewWatertightRay takes
// kz = 1, or 2 if also bit 1, when bit 0 is set; otherwise 2 if bit 2, else
// 0.
var kzTable = [8]uint8{0, 1, 0, 2, 2, 1, 2, 2}

// kxyTable holds kx and ky for each kz and direction sign of axis kz
// (0: d[kz] >= 0, 1: negative): the axes that follow kz cyclically,
// swapped for a negative d[kz] so that the winding is kept.
var kxyTable = [3][2][2]uint8{
	{{1, 2}, {2, 1}},
	{{2, 0}, {0, 2}},
	{{0, 1}, {1, 0}},
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
	var items [shortStack]uint64
	var ts [shortStack]int64
	if b.walk(&q, false, items[:], ts[:]) {
		b.walkDeep(&q, false)
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
	var items [shortStack]uint64
	var ts [shortStack]int64
	if b.walk(&q, true, items[:], ts[:]) {
		b.walkDeep(&q, true)
	}
	return q.found
}

// walkDeep restarts a traversal whose short stack overflowed, with a stack
// deep enough for any tree, keeping the closest hit found so far
// (q.rb.tmax is already its distance).
//
//go:noinline
func (b *BVH) walkDeep(q *query, anyHit bool) {
	var items [deepStack]uint64
	var ts [deepStack]int64
	b.walk(q, anyHit, items[:], ts[:])
}

// An item is a child reference as the traversal stack holds it: the node or
// first triangle index in the low 32 bits, the triangle count (0 for a
// node) in the next 8.
func item(ref int32, count uint8) uint64 { return uint64(uint32(ref)) | uint64(count)<<32 }

// walk traverses the tree with the given stack (items and their entry
// distances as keys) and records hits in q. At an interior node it tests
// the boxes of all its children (stored in the node); when several are hit
// it goes on with the one the ray enters first and pushes the others with
// their entry distances, farthest first; a popped entry the ray enters
// beyond the closest hit found since is skipped. With anyHit it stops at
// the first hit and does not order the children (measured: ordering shadow
// rays by distance visits fewer triangles but costs more than it saves). It
// returns true, with q's hit still valid, if the stack overflowed before
// the traversal ended.
//
// The slab test (Kay and Kajiya 1986; pbrt-v4 section 6.1.2) takes the near
// and far planes of each axis by the sign of the direction and orders
// distances as integer keys (see query.fast). On amd64, rays of the fast
// path descend through the interior nodes in assembly (walkAsm). When a
// direction component is zero (or so small that its inverse is infinite),
// a ray lying in a box's face plane gives 0 * inf = NaN, which the test
// must ignore rather than cull the box: such rays, and rays with a negative
// tmin, take slabNaNSafe.
func (b *BVH) walk(q *query, anyHit bool, items []uint64, ts []int64) (overflow bool) {
	if useBoxAsm && q.fast && !stats {
		return b.walkAsm(q, anyHit, items, ts)
	}
	nodes := b.nodes
	rb := &q.rb
	ox, oy, oz := rb.o[0], rb.o[1], rb.o[2]
	ix, iy, iz := rb.inv[0], rb.inv[1], rb.inv[2]
	fx, fy, fz := rb.far[0], rb.far[1], rb.far[2]
	nx, ny, nz := rb.nearOff[0]/16, rb.nearOff[1]/16-1, rb.nearOff[2]/16-2
	tmin, tmax := rb.tmin, rb.tmax
	fast := q.fast
	tminBits, tmaxKey := fbits(tmin), fkey(tmax)

	sp := 0
	it := item(0, 0) // the item at hand
	for {
		if cnt := uint8(it >> 32); cnt != 0 {
			if b.testLeaf(q, int32(it), cnt, anyHit) {
				if anyHit {
					return false
				}
				tmax = rb.tmax
				tmaxKey = fkey(tmax)
			}
			goto pop
		}
		{
			n := &nodes[int32(it)]
			if stats {
				q.nodes++
			}
			// Entry and exit distances of the four children, as keys
			// (see query.fast). Near plane of axis a: box[a + n_a]; far
			// plane: box[a + (n_a ^ 3)]; the masks let the compiler drop
			// the bounds checks. The four tests are independent and
			// written out, so that their values stay in registers.
			var e0, e1, e2, e3, x0, x1, x2, x3 int64
			bx := &n.box
			if fast {
				bnx, bny, bnz := &bx[nx&3], &bx[1+ny&3], &bx[2+nz&3]
				bfx, bfy, bfz := &bx[(nx^3)&3], &bx[1+(ny^3)&3], &bx[2+(nz^3)&3]
				e0 = max(fbits((float64(bnx[0])-ox)*ix), fbits((float64(bny[0])-oy)*iy), fbits((float64(bnz[0])-oz)*iz), tminBits)
				x0 = min(fbits((float64(bfx[0])-ox)*fx), fbits((float64(bfy[0])-oy)*fy), fbits((float64(bfz[0])-oz)*fz), tmaxKey)
				e1 = max(fbits((float64(bnx[1])-ox)*ix), fbits((float64(bny[1])-oy)*iy), fbits((float64(bnz[1])-oz)*iz), tminBits)
				x1 = min(fbits((float64(bfx[1])-ox)*fx), fbits((float64(bfy[1])-oy)*fy), fbits((float64(bfz[1])-oz)*fz), tmaxKey)
				e2 = max(fbits((float64(bnx[2])-ox)*ix), fbits((float64(bny[2])-oy)*iy), fbits((float64(bnz[2])-oz)*iz), tminBits)
				x2 = min(fbits((float64(bfx[2])-ox)*fx), fbits((float64(bfy[2])-oy)*fy), fbits((float64(bfz[2])-oz)*fz), tmaxKey)
				e3 = max(fbits((float64(bnx[3])-ox)*ix), fbits((float64(bny[3])-oy)*iy), fbits((float64(bnz[3])-oz)*iz), tminBits)
				x3 = min(fbits((float64(bfx[3])-ox)*fx), fbits((float64(bfy[3])-oy)*fy), fbits((float64(bfz[3])-oz)*fz), tmaxKey)
			} else {
				e0, x0 = slabNaNSafe(n, 0, ox, oy, oz, ix, iy, iz, nx, ny, nz, tmin, tmax)
				e1, x1 = slabNaNSafe(n, 1, ox, oy, oz, ix, iy, iz, nx, ny, nz, tmin, tmax)
				e2, x2 = slabNaNSafe(n, 2, ox, oy, oz, ix, iy, iz, nx, ny, nz, tmin, tmax)
				e3, x3 = slabNaNSafe(n, 3, ox, oy, oz, ix, iy, iz, nx, ny, nz, tmin, tmax)
			}
			mask := b2i(e0 <= x0) | b2i(e1 <= x1)<<1 | b2i(e2 <= x2)<<2 | b2i(e3 <= x3)<<3
			if mask&(mask-1) == 0 {
				if mask == 0 {
					goto pop
				}
				// One child hit: go on with it.
				c := bits.TrailingZeros(uint(mask)) & (width - 1)
				it = item(n.child[c], n.count[c])
				continue
			}
			// Several: go on with one and push the others (the stores are
			// unconditional, the stack pointer advances per pushed child).
			if sp+width > len(items) {
				return true
			}
			var c int
			if anyHit {
				// Order does not pay for shadow rays, which stop at any
				// hit: go on with the last child hit.
				c = bits.Len(uint(mask)) - 1
			} else {
				c = nearest(mask, e0, e1, e2, e3)
			}
			push := mask &^ (1 << c)
			base := sp
			items[sp], ts[sp] = item(n.child[0], n.count[0]), e0
			sp += push & 1
			items[sp], ts[sp] = item(n.child[1], n.count[1]), e1
			sp += push >> 1 & 1
			items[sp], ts[sp] = item(n.child[2], n.count[2]), e2
			sp += push >> 2 & 1
			items[sp], ts[sp] = item(n.child[3], n.count[3]), e3
			sp += push >> 3 & 1
			if !anyHit {
				// Farthest first, so that the nearer ones are popped first.
				for i := base + 1; i < sp; i++ {
					for j := i; j > base && ts[j-1] < ts[j]; j-- {
						items[j-1], items[j] = items[j], items[j-1]
						ts[j-1], ts[j] = ts[j], ts[j-1]
					}
				}
			}
			c &= width - 1
			it = item(n.child[c], n.count[c])
			continue
		}
		// Pop the next item the ray can still reach before its closest hit.
	pop:
		for {
			if sp == 0 {
				return false
			}
			sp--
			if ts[sp] <= tmaxKey {
				break
			}
		}
		it = items[sp]
	}
}

// popItem, passed to descend, starts its loop with a pop; returned, it
// reports a stack overflow.
const popItem = 1 << 63

// walkAsm is walk for rays of the fast path on amd64: descend runs the
// loop over interior nodes in assembly, testing four boxes two at a time
// in SSE2 registers and prefetching every child, and returns at each leaf,
// whose triangles testLeaf tests.
func (b *BVH) walkAsm(q *query, anyHit bool, items []uint64, ts []int64) (overflow bool) {
	rb := &q.rb
	rb.nodes, rb.tris = &b.nodes[0], &b.tris[0]
	rb.cap, rb.sp = min(len(items), len(ts)), 0
	rb.anyHit = b2i(anyHit)
	it := item(0, 0)
	for {
		leaf := descend(rb, &items[0], &ts[0], it)
		if leaf == 0 {
			return false
		}
		if leaf == popItem {
			return true
		}
		if b.testLeaf(q, int32(leaf), uint8(leaf>>32), anyHit) && anyHit {
			return false
		}
		it = popItem
	}
}

// testLeaf tests the count triangles from first (in leaf order) and
// records the closest hit in q (with anyHit, the first). It reports
// whether it found a hit.
//
// The watertight test of geom.WatertightRay.Intersect is written out with
// the same operations in the same order, so that it gives the same bits
// (TestInlineTriangleTest checks it): Go passes mgl64.Vec3 arguments
// through memory, so the call would copy 72 bytes per triangle. The
// float64 conversions forbid fusing products into FMAs, which would break
// watertightness (see geom).
func (b *BVH) testLeaf(q *query, first int32, count uint8, anyHit bool) (found bool) {
	kx, ky, kz := q.kx&3, q.ky&3, q.kz&3
	shx, shy, shz := q.sx, q.sy, q.sz
	okx, oky, okz := q.okx, q.oky, q.okz
	tmin, tmax := q.rb.tmin, q.rb.tmax
	leaf := b.tris[first : first+int32(count)]
	for k := range leaf {
		if stats {
			q.tris++
		}
		t := &leaf[k]
		p0, p1, p2 := &t[0], &t[1], &t[2]
		ax, ay, az := p0[kx]-okx, p0[ky]-oky, p0[kz]-okz
		bx, by, bz := p1[kx]-okx, p1[ky]-oky, p1[kz]-okz
		cx, cy, cz := p2[kx]-okx, p2[ky]-oky, p2[kz]-okz
		ax -= float64(shx * az)
		ay -= float64(shy * az)
		bx -= float64(shx * bz)
		by -= float64(shy * bz)
		cx -= float64(shx * cz)
		cy -= float64(shy * cz)
		u := float64(cx*by) - float64(cy*bx)
		v := float64(ax*cy) - float64(ay*cx)
		w := float64(bx*ay) - float64(by*ax)
		// One branch, on whether the ray misses, where || and && would
		// branch on each unpredictable sign.
		if (b2i(u < 0)|b2i(v < 0)|b2i(w < 0))&(b2i(u > 0)|b2i(v > 0)|b2i(w > 0)) != 0 {
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
		e1x, e1y, e1z := p1[0]-p0[0], p1[1]-p0[1], p1[2]-p0[2]
		e2x, e2y, e2z := p2[0]-p0[0], p2[1]-p0[1], p2[2]-p0[2]
		if e1y*e2z == e1z*e2y && e1z*e2x == e1x*e2z && e1x*e2y == e1y*e2x {
			continue
		}
		inv := 1 / det
		tmax = tt * inv
		// The input index is loaded now, where the traversal goes on while
		// it comes, rather than after the traversal.
		q.hit.T, q.hit.B1, q.hit.B2, q.hit.Tri = tmax, v*inv, w*inv, b.triID[first+int32(k)]
		q.rb.tmax, q.found, found = tmax, true, true
		if anyHit {
			break
		}
	}
	return found
}

// nearest returns the child of least entry distance among those in mask
// (bit c for child c, at least one bit set), the last one among equals, as
// the order of the pushed entries has it. Conditional moves, no branches.
func nearest(mask int, e0, e1, e2, e3 int64) int {
	if mask&1 == 0 {
		e0 = math.MaxInt64
	}
	if mask&2 == 0 {
		e1 = math.MaxInt64
	}
	if mask&4 == 0 {
		e2 = math.MaxInt64
	}
	if mask&8 == 0 {
		e3 = math.MaxInt64
	}
	c, e := 0, e0
	if e1 <= e {
		c, e = 1, e1
	}
	if e2 <= e {
		c, e = 2, e2
	}
	if e3 <= e {
		c = 3
	}
	return c
}

// b2i is 1 for true and 0 for false; the compiler makes it a SETcc.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// slabNaNSafe is the slab test of walk for child c of n, for rays with an
// infinite inverse direction component or a negative tmin: a NaN distance
// constrains nothing. It returns the entry and exit distances, clipped to
// [tmin, tmax], as fkey keys; the box is hit when entry <= exit.
func slabNaNSafe(n *node, c int, ox, oy, oz, ix, iy, iz float64, nx, ny, nz int, tmin, tmax float64) (int64, int64) {
	c &= width - 1
	t0, t1 := tmin, math.Inf(1)
	if x := (float64(n.box[nx&3][c]) - ox) * ix; x > t0 {
		t0 = x
	}
	if y := (float64(n.box[1+ny&3][c]) - oy) * iy; y > t0 {
		t0 = y
	}
	if z := (float64(n.box[2+nz&3][c]) - oz) * iz; z > t0 {
		t0 = z
	}
	if x := (float64(n.box[(nx^3)&3][c]) - ox) * ix; x < t1 {
		t1 = x
	}
	if y := (float64(n.box[1+(ny^3)&3][c]) - oy) * iy; y < t1 {
		t1 = y
	}
	if z := (float64(n.box[2+(nz^3)&3][c]) - oz) * iz; z < t1 {
		t1 = z
	}
	t1 *= robustFar
	if tmax < t1 {
		t1 = tmax
	}
	return fkey(t0), fkey(t1)
}
