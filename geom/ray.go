package geom

import (
	"math"

	"github.com/go-gl/mathgl/mgl64"
)

// Ray is the half-open segment O + t*D for t in (TMin, TMax).
type Ray struct {
	O, D       mgl64.Vec3
	TMin, TMax float64
}

// At returns the point O + t*D.
func (r Ray) At(t float64) mgl64.Vec3 {
	return mgl64.Vec3{r.O[0] + t*r.D[0], r.O[1] + t*r.D[1], r.O[2] + t*r.D[2]}
}

// invHuge is the magnitude SafeInverse gives for zero and tiny inputs; AABB.Slab
// treats an inverse this large as a direction parallel to the slab.
const invHuge = 1e300

// SafeInverse returns 1/x, replacing a zero (of either sign) or a value too
// tiny to invert without overflow (|x| < 1e-300, subnormals included) by a
// huge finite value of the same sign, so that slab tests stay NaN-free for
// axis-parallel rays.
func SafeInverse(x float64) float64 {
	if math.Abs(x) < 1/invHuge {
		return math.Copysign(invHuge, x)
	}
	return 1 / x
}

// InvDir returns the component-wise inverse of d for slab tests.
func InvDir(d mgl64.Vec3) mgl64.Vec3 {
	return mgl64.Vec3{SafeInverse(d[0]), SafeInverse(d[1]), SafeInverse(d[2])}
}
