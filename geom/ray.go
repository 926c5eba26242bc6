package geom

import "github.com/go-gl/mathgl/mgl64"

// Ray is the half-open segment O + t*D for t in (TMin, TMax).
type Ray struct {
	O, D       mgl64.Vec3
	TMin, TMax float64
}

// At returns the point O + t*D.
func (r Ray) At(t float64) mgl64.Vec3 {
	return mgl64.Vec3{r.O[0] + t*r.D[0], r.O[1] + t*r.D[1], r.O[2] + t*r.D[2]}
}

// SafeInverse returns 1/x, replacing a zero (of either sign) by a huge value
// of the same sign, so that slab tests stay NaN-free for axis-parallel rays.
func SafeInverse(x float64) float64 {
	const huge = 1e300
	if x == 0 {
		if 1/x < 0 {
			return -huge
		}
		return huge
	}
	return 1 / x
}

// InvDir returns the component-wise inverse of d for slab tests.
func InvDir(d mgl64.Vec3) mgl64.Vec3 {
	return mgl64.Vec3{SafeInverse(d[0]), SafeInverse(d[1]), SafeInverse(d[2])}
}
