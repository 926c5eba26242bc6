package edgesample

import (
	"math"

	"github.com/go-gl/mathgl/mgl64"
)

// Normal cones: a unit axis and a half-angle theta held as (cos, sin), the
// bound of a set of unit face normals used to cull hierarchy nodes whose
// faces all face towards, or all away from, the shading point (Sander,
// Gu, Gortler, Hoppe and Snyder, "Silhouette Clipping", SIGGRAPH 2000,
// section 4.1; Johnson and Cohen, "Spatialized Normal Cone Hierarchies",
// I3D 2001).

// emptyCone is the cosine of a cone that bounds no direction yet.
const emptyCone = 2

// coneMargin widens every merged cone, in radians, against rounding.
const coneMargin = 1e-9

// mergeCones returns a cone bounding the cones a and b.
func mergeCones(a mgl64.Vec3, cosA, sinA float64, b mgl64.Vec3, cosB, sinB float64) (mgl64.Vec3, float64, float64) {
	if cosA == emptyCone {
		return b, cosB, sinB
	}
	if cosB == emptyCone {
		return a, cosA, sinA
	}
	if cosA <= -1 || cosB <= -1 {
		return a, -1, 0
	}
	ta := math.Atan2(sinA, cosA)
	tb := math.Atan2(sinB, cosB)
	cr := a.Cross(b).Len()
	phi := math.Atan2(cr, a.Dot(b))
	if phi+tb <= ta {
		return a, cosA, sinA
	}
	if phi+ta <= tb {
		return b, cosB, sinB
	}
	sinPhi := math.Sin(phi)
	if sinPhi < 1e-9 {
		if phi < math.Pi/2 {
			// Nearly parallel axes: widen the wider cone by phi.
			t := math.Max(ta, tb) + phi + coneMargin
			ax := a
			if tb > ta {
				ax = b
			}
			if t >= math.Pi {
				return ax, -1, 0
			}
			return ax, math.Cos(t), math.Sin(t)
		}
		return a, -1, 0 // nearly opposite axes: the bound is (close to) the sphere
	}
	t := 0.5*(ta+phi+tb) + coneMargin
	if t >= math.Pi {
		return a, -1, 0
	}
	// Rotate a towards b by t - ta (spherical interpolation).
	r := t - ta
	ax := a.Mul(math.Sin(phi-r) / sinPhi).Add(b.Mul(math.Sin(r) / sinPhi))
	l := ax.Len()
	if !(l > 0) {
		return a, -1, 0
	}
	return ax.Mul(1 / l), math.Cos(t), math.Sin(t)
}
