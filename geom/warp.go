package geom

import (
	"math"

	"github.com/go-gl/mathgl/mgl64"
)

// Sampling warps from the unit square, each paired with its density. See
// pbrt-v4 section A.5 and Mitsuba's warp.h for derivations.

// SquareToUniformDisk maps u to the unit disk with Shirley and Chiu's
// concentric mapping, which keeps strata compact. Density 1/pi.
func SquareToUniformDisk(u mgl64.Vec2) mgl64.Vec2 {
	ox, oy := 2*u[0]-1, 2*u[1]-1
	if ox == 0 && oy == 0 {
		return mgl64.Vec2{}
	}
	var r, theta float64
	if math.Abs(ox) > math.Abs(oy) {
		r, theta = ox, math.Pi/4*(oy/ox)
	} else {
		r, theta = oy, math.Pi/2-math.Pi/4*(ox/oy)
	}
	s, c := math.Sincos(theta)
	return mgl64.Vec2{r * c, r * s}
}

// UniformDiskPdf is the area density of SquareToUniformDisk inside the disk.
func UniformDiskPdf(p mgl64.Vec2) float64 {
	if p[0]*p[0]+p[1]*p[1] > 1 {
		return 0
	}
	return 1 / math.Pi
}

// SquareToCosineHemisphere maps u to a direction about +z with density
// cos(theta)/pi (Malley's method).
func SquareToCosineHemisphere(u mgl64.Vec2) mgl64.Vec3 {
	d := SquareToUniformDisk(u)
	z := math.Sqrt(math.Max(0, 1-d[0]*d[0]-d[1]*d[1]))
	return mgl64.Vec3{d[0], d[1], z}
}

// CosineHemispherePdf is the solid-angle density of SquareToCosineHemisphere
// for a local direction whose z component is cosTheta.
func CosineHemispherePdf(cosTheta float64) float64 {
	if cosTheta <= 0 {
		return 0
	}
	return cosTheta / math.Pi
}

// SquareToUniformSphere maps u to a direction with uniform density 1/(4 pi).
func SquareToUniformSphere(u mgl64.Vec2) mgl64.Vec3 {
	z := 1 - 2*u[0]
	r := math.Sqrt(math.Max(0, 1-z*z))
	s, c := math.Sincos(2 * math.Pi * u[1])
	return mgl64.Vec3{r * c, r * s, z}
}

// UniformSpherePdf is the solid-angle density of SquareToUniformSphere.
func UniformSpherePdf() float64 { return 1 / (4 * math.Pi) }

// SquareToUniformHemisphere maps u to a direction about +z with uniform
// density 1/(2 pi).
func SquareToUniformHemisphere(u mgl64.Vec2) mgl64.Vec3 {
	z := u[0]
	r := math.Sqrt(math.Max(0, 1-z*z))
	s, c := math.Sincos(2 * math.Pi * u[1])
	return mgl64.Vec3{r * c, r * s, z}
}

// UniformHemispherePdf is the solid-angle density of SquareToUniformHemisphere.
func UniformHemispherePdf() float64 { return 1 / (2 * math.Pi) }

// SquareToUniformTriangle maps u to barycentric weights (b1, b2) of the second
// and third vertex, uniformly distributed over the triangle: the point is
// (1-b1-b2)*p0 + b1*p1 + b2*p2. Its density is 1/area in area measure. It uses
// the square-root parameterisation, smooth in u, so that points move
// continuously with the vertices (the renderer differentiates through it).
func SquareToUniformTriangle(u mgl64.Vec2) (b1, b2 float64) {
	su := math.Sqrt(u[0])
	return su * (1 - u[1]), su * u[1]
}

// UniformTrianglePdf is the area density of a uniform point on a triangle.
func UniformTrianglePdf(area float64) float64 {
	if area <= 0 {
		return 0
	}
	return 1 / area
}
