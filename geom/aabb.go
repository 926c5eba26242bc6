package geom

import (
	"math"

	"github.com/go-gl/mathgl/mgl64"
)

// AABB is an axis-aligned bounding box. The zero value is not empty; use
// EmptyAABB for the identity of Union.
type AABB struct {
	Min, Max mgl64.Vec3
}

// EmptyAABB returns a box that contains nothing and is the identity of Union.
func EmptyAABB() AABB {
	inf := math.Inf(1)
	return AABB{Min: mgl64.Vec3{inf, inf, inf}, Max: mgl64.Vec3{-inf, -inf, -inf}}
}

// IsEmpty reports whether the box contains no point.
func (b AABB) IsEmpty() bool {
	return b.Min[0] > b.Max[0] || b.Min[1] > b.Max[1] || b.Min[2] > b.Max[2]
}

// Extend returns the smallest box containing b and p.
func (b AABB) Extend(p mgl64.Vec3) AABB {
	return AABB{
		Min: mgl64.Vec3{math.Min(b.Min[0], p[0]), math.Min(b.Min[1], p[1]), math.Min(b.Min[2], p[2])},
		Max: mgl64.Vec3{math.Max(b.Max[0], p[0]), math.Max(b.Max[1], p[1]), math.Max(b.Max[2], p[2])},
	}
}

// Union returns the smallest box containing a and b.
func (b AABB) Union(o AABB) AABB {
	return AABB{
		Min: mgl64.Vec3{math.Min(b.Min[0], o.Min[0]), math.Min(b.Min[1], o.Min[1]), math.Min(b.Min[2], o.Min[2])},
		Max: mgl64.Vec3{math.Max(b.Max[0], o.Max[0]), math.Max(b.Max[1], o.Max[1]), math.Max(b.Max[2], o.Max[2])},
	}
}

// Diagonal returns Max - Min.
func (b AABB) Diagonal() mgl64.Vec3 { return b.Max.Sub(b.Min) }

// Centroid returns the centre of the box.
func (b AABB) Centroid() mgl64.Vec3 {
	return mgl64.Vec3{0.5 * (b.Min[0] + b.Max[0]), 0.5 * (b.Min[1] + b.Max[1]), 0.5 * (b.Min[2] + b.Max[2])}
}

// SurfaceArea returns the area of the box's surface; 0 for an empty box.
func (b AABB) SurfaceArea() float64 {
	if b.IsEmpty() {
		return 0
	}
	d := b.Diagonal()
	return 2 * (d[0]*d[1] + d[1]*d[2] + d[2]*d[0])
}

// MaxExtent returns the axis (0, 1 or 2) along which the box is longest.
func (b AABB) MaxExtent() int {
	d := b.Diagonal()
	if d[0] > d[1] && d[0] > d[2] {
		return 0
	}
	if d[1] > d[2] {
		return 1
	}
	return 2
}

// Contains reports whether p lies inside the closed box.
func (b AABB) Contains(p mgl64.Vec3) bool {
	return p[0] >= b.Min[0] && p[0] <= b.Max[0] &&
		p[1] >= b.Min[1] && p[1] <= b.Max[1] &&
		p[2] >= b.Min[2] && p[2] <= b.Max[2]
}

// Slab intersects the ray o + t*d, given invD = InvDir(d), with the box and
// returns the entry distance and whether the overlap of [tmin, tmax] with the
// box's span is non-empty. The box is closed: a ray that only touches it, or
// runs within the plane of a face, overlaps it. The far distance is scaled by
// 1+2*gamma(3) as in pbrt (Pharr, Jakob, Humphreys, Physically Based
// Rendering, 4th ed., section 6.8.2) so that rounding never culls a box the
// ray grazes. An empty box (EmptyAABB) overlaps no ray.
func (b AABB) Slab(o, invD mgl64.Vec3, tmin, tmax float64) (float64, bool) {
	const robust = 1 + 2*3*0x1p-53/(1-3*0x1p-53)
	for a := 0; a < 3; a++ {
		inv := invD[a]
		if math.Abs(inv) >= invHuge {
			// Parallel to the slab: inside it for every t or for none.
			// Multiplying instead would turn an origin on one of the
			// slab's planes into 0*huge = 0, an interval that ends or
			// starts at t = 0 depending on the sign of the zero.
			if !(o[a] >= b.Min[a] && o[a] <= b.Max[a]) {
				return 0, false
			}
			continue
		}
		// Order the planes by the direction's sign, not by comparing the
		// distances: for an empty box (Min > Max) the near distance then
		// exceeds the far one and the test fails, as it must.
		near, far := b.Min[a], b.Max[a]
		if inv < 0 {
			near, far = far, near
		}
		t0 := (near - o[a]) * inv
		t1 := (far - o[a]) * inv * robust
		if t0 > tmin {
			tmin = t0
		}
		if t1 < tmax {
			tmax = t1
		}
		if tmin > tmax {
			return 0, false
		}
	}
	return tmin, true
}
