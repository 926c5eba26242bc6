package geom

import (
	"errors"
	"math"

	"github.com/go-gl/mathgl/mgl64"
)

// Transform is an invertible 4x4 affine or projective transform kept with
// its inverse, so that normals (which transform by the inverse transpose)
// cost no inversion per call.
type Transform struct {
	M, Inv mgl64.Mat4
}

// Identity returns the identity transform.
func Identity() Transform {
	return Transform{M: mgl64.Ident4(), Inv: mgl64.Ident4()}
}

// ErrSingular is returned when a matrix has no inverse.
var ErrSingular = errors.New("geom: singular transform matrix")

// NewTransform wraps m, computing its inverse. It fails if m is singular or
// holds a NaN or an infinity.
func NewTransform(m mgl64.Mat4) (Transform, error) {
	for _, v := range m {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return Transform{}, errors.New("geom: transform matrix has a NaN or infinite entry")
		}
	}
	det := m.Det()
	if det == 0 || math.IsNaN(det) || math.Abs(det) < 1e-300 {
		return Transform{}, ErrSingular
	}
	return Transform{M: m, Inv: m.Inv()}, nil
}

// Translate returns a translation by d.
func Translate(d mgl64.Vec3) Transform {
	return Transform{M: mgl64.Translate3D(d[0], d[1], d[2]), Inv: mgl64.Translate3D(-d[0], -d[1], -d[2])}
}

// Scale returns a scaling by s along the axes. A zero component gives a
// singular transform, reported as ErrSingular.
func Scale(s mgl64.Vec3) (Transform, error) {
	if s[0] == 0 || s[1] == 0 || s[2] == 0 {
		return Transform{}, ErrSingular
	}
	return Transform{M: mgl64.Scale3D(s[0], s[1], s[2]), Inv: mgl64.Scale3D(1/s[0], 1/s[1], 1/s[2])}, nil
}

// Rotate returns a rotation by angleDeg degrees about axis (right-handed,
// counter-clockwise looking down the axis), as Mitsuba's <rotate>.
func Rotate(axis mgl64.Vec3, angleDeg float64) (Transform, error) {
	if axis.Len() == 0 {
		return Transform{}, errors.New("geom: rotation axis is zero")
	}
	m := mgl64.HomogRotate3D(angleDeg*math.Pi/180, axis.Normalize())
	return Transform{M: m, Inv: m.Transpose()}, nil
}

// LookAt returns Mitsuba's camera-to-world transform: the camera at origin
// looks down +z towards target, +y is up and +x points to the camera's left.
func LookAt(origin, target, up mgl64.Vec3) (Transform, error) {
	dir := target.Sub(origin)
	if dir.Len() == 0 {
		return Transform{}, errors.New("geom: lookat origin and target coincide")
	}
	dir = dir.Normalize()
	left := up.Cross(dir)
	if left.Len() < 1e-12*up.Len() || up.Len() == 0 {
		return Transform{}, errors.New("geom: lookat up vector is zero or parallel to the viewing direction")
	}
	left = left.Normalize()
	newUp := dir.Cross(left)
	m := mgl64.Mat4{
		left[0], left[1], left[2], 0,
		newUp[0], newUp[1], newUp[2], 0,
		dir[0], dir[1], dir[2], 0,
		origin[0], origin[1], origin[2], 1,
	}
	return NewTransform(m)
}

// Mul returns the transform that applies o first, then t.
func (t Transform) Mul(o Transform) Transform {
	return Transform{M: t.M.Mul4(o.M), Inv: o.Inv.Mul4(t.Inv)}
}

// Inverse returns the inverse transform.
func (t Transform) Inverse() Transform { return Transform{M: t.Inv, Inv: t.M} }

// Point transforms a point, dividing by w when the transform is projective.
func (t Transform) Point(p mgl64.Vec3) mgl64.Vec3 {
	m := &t.M
	x := m[0]*p[0] + m[4]*p[1] + m[8]*p[2] + m[12]
	y := m[1]*p[0] + m[5]*p[1] + m[9]*p[2] + m[13]
	z := m[2]*p[0] + m[6]*p[1] + m[10]*p[2] + m[14]
	w := m[3]*p[0] + m[7]*p[1] + m[11]*p[2] + m[15]
	if w == 1 {
		return mgl64.Vec3{x, y, z}
	}
	return mgl64.Vec3{x / w, y / w, z / w}
}

// Vector transforms a direction (ignores translation).
func (t Transform) Vector(v mgl64.Vec3) mgl64.Vec3 {
	m := &t.M
	return mgl64.Vec3{
		m[0]*v[0] + m[4]*v[1] + m[8]*v[2],
		m[1]*v[0] + m[5]*v[1] + m[9]*v[2],
		m[2]*v[0] + m[6]*v[1] + m[10]*v[2],
	}
}

// Normal transforms a surface normal by the inverse transpose. The result is
// not normalised.
func (t Transform) Normal(n mgl64.Vec3) mgl64.Vec3 {
	m := &t.Inv
	return mgl64.Vec3{
		m[0]*n[0] + m[1]*n[1] + m[2]*n[2],
		m[4]*n[0] + m[5]*n[1] + m[6]*n[2],
		m[8]*n[0] + m[9]*n[1] + m[10]*n[2],
	}
}

// FlipsHandedness reports whether the transform mirrors space (negative
// determinant of its linear part), which reverses triangle winding.
func (t Transform) FlipsHandedness() bool {
	return t.M.Mat3().Det() < 0
}
