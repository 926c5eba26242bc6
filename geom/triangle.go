package geom

import (
	"math"

	"github.com/go-gl/mathgl/mgl64"
)

// WatertightRay holds the per-ray constants of the watertight ray-triangle
// test of Woop, Benthin and Wald, "Watertight Ray/Triangle Intersection",
// JCGT 2(1), 2013: the axis permutation that makes the largest direction
// component z, and the shear that maps the ray to +z. Build it once per ray
// and test it against many triangles.
type WatertightRay struct {
	O          mgl64.Vec3
	Kx, Ky, Kz int
	Sx, Sy, Sz float64
}

// NewWatertightRay precomputes the shear for the ray o + t*d. d must not be
// the zero vector.
func NewWatertightRay(o, d mgl64.Vec3) WatertightRay {
	kz := 0
	ax, ay, az := math.Abs(d[0]), math.Abs(d[1]), math.Abs(d[2])
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
	// Swap to keep the winding (and so the sign of the edge functions).
	if d[kz] < 0 {
		kx, ky = ky, kx
	}
	return WatertightRay{
		O: o, Kx: kx, Ky: ky, Kz: kz,
		Sx: d[kx] / d[kz], Sy: d[ky] / d[kz], Sz: 1 / d[kz],
	}
}

// Intersect tests the triangle (p0, p1, p2) and returns the distance t in
// (tmin, tmax) and the barycentric weights b1, b2 of p1 and p2 (the hit point
// is (1-b1-b2)*p0 + b1*p1 + b2*p2). Hits exactly on an edge or a vertex count,
// and the edge functions of an edge shared by two triangles are exact
// negations of each other, so no ray slips between the triangles of a closed
// mesh. Both faces are hit. Triangles of zero area in floating point (the
// cross product of two edges is the zero vector: coincident or collinear
// vertices) are never hit, as in pbrt-v4: they have no plane and no normal.
// A mesh that closes a T-junction with such a sliver may therefore let
// through rays that pass within rounding error of the junction.
func (r *WatertightRay) Intersect(p0, p1, p2 mgl64.Vec3, tmin, tmax float64) (t, b1, b2 float64, ok bool) {
	kx, ky, kz := r.Kx, r.Ky, r.Kz
	// Vertices relative to the ray origin.
	ax, ay, az := p0[kx]-r.O[kx], p0[ky]-r.O[ky], p0[kz]-r.O[kz]
	bx, by, bz := p1[kx]-r.O[kx], p1[ky]-r.O[ky], p1[kz]-r.O[kz]
	cx, cy, cz := p2[kx]-r.O[kx], p2[ky]-r.O[ky], p2[kz]-r.O[kz]
	// Shear so the ray points down +z. Watertightness rests on rounding:
	// a vertex must shear to the same bits in every triangle, and the edge
	// function of an edge shared by two triangles must be the exact
	// negation of its twin, which holds when each product is rounded
	// before the difference (fl(a*b) - fl(c*d) = -(fl(c*d) - fl(a*b))).
	// Go may fuse x*y - z into one FMA (it does on arm64, ppc64le, s390x
	// and riscv64), which rounds only one of the two products and lets
	// rays slip between triangles; the explicit float64 conversions round
	// every product and so forbid the fusion (Go spec, "Floating-point
	// operators").
	ax -= float64(r.Sx * az)
	ay -= float64(r.Sy * az)
	bx -= float64(r.Sx * bz)
	by -= float64(r.Sy * bz)
	cx -= float64(r.Sx * cz)
	cy -= float64(r.Sy * cz)
	// Scaled barycentrics (2D edge functions).
	u := float64(cx*by) - float64(cy*bx)
	v := float64(ax*cy) - float64(ay*cx)
	w := float64(bx*ay) - float64(by*ax)
	if (u < 0 || v < 0 || w < 0) && (u > 0 || v > 0 || w > 0) {
		return 0, 0, 0, false
	}
	det := u + v + w
	if det == 0 {
		return 0, 0, 0, false
	}
	az *= r.Sz
	bz *= r.Sz
	cz *= r.Sz
	tt := u*az + v*bz + w*cz
	// Compare the scaled distance against the range without dividing,
	// written so that a NaN (from a NaN or zero ray) fails the test.
	if det > 0 {
		if !(tt > tmin*det && tt < tmax*det) {
			return 0, 0, 0, false
		}
	} else if !(tt < tmin*det && tt > tmax*det) {
		return 0, 0, 0, false
	}
	// A zero-area triangle has no plane to hit, but rounding in the shear
	// can leave det non-zero (and t and the barycentrics meaningless) for a
	// ray through a triangle with collinear vertices. Reject it as pbrt-v4
	// does (Pharr, Jakob, Humphreys, Physically Based Rendering, 4th ed.,
	// section 6.5.3), checking the float cross product, here on the hit
	// path only so that misses stay cheap. Comparing the rounded products
	// is the same as comparing their difference with zero.
	e1x, e1y, e1z := p1[0]-p0[0], p1[1]-p0[1], p1[2]-p0[2]
	e2x, e2y, e2z := p2[0]-p0[0], p2[1]-p0[1], p2[2]-p0[2]
	if e1y*e2z == e1z*e2y && e1z*e2x == e1x*e2z && e1x*e2y == e1y*e2x {
		return 0, 0, 0, false
	}
	inv := 1 / det
	return tt * inv, v * inv, w * inv, true
}

// IntersectTriangle is the single-use form of WatertightRay.Intersect.
func IntersectTriangle(r Ray, p0, p1, p2 mgl64.Vec3) (t, b1, b2 float64, ok bool) {
	wr := NewWatertightRay(r.O, r.D)
	return wr.Intersect(p0, p1, p2, r.TMin, r.TMax)
}

// TriangleArea returns the area of the triangle (p0, p1, p2).
func TriangleArea(p0, p1, p2 mgl64.Vec3) float64 {
	return 0.5 * p1.Sub(p0).Cross(p2.Sub(p0)).Len()
}
