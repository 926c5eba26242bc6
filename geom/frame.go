package geom

import (
	"math"

	"github.com/go-gl/mathgl/mgl64"
)

// Frame is an orthonormal basis (S, T, N) with N the "up" axis of local
// shading space: a local direction (x, y, z) has z = cos(theta) to N.
type Frame struct {
	S, T, N mgl64.Vec3
}

// NewFrame builds an orthonormal frame around the unit normal n without a
// branch on the normal's orientation (Duff et al., "Building an Orthonormal
// Basis, Revisited", JCGT 6(1), 2017).
func NewFrame(n mgl64.Vec3) Frame {
	sign := math.Copysign(1, n[2])
	a := -1 / (sign + n[2])
	b := n[0] * n[1] * a
	return Frame{
		S: mgl64.Vec3{1 + sign*n[0]*n[0]*a, sign * b, -sign * n[0]},
		T: mgl64.Vec3{b, sign + n[1]*n[1]*a, -n[1]},
		N: n,
	}
}

// ToLocal expresses the world vector v in the frame.
func (f *Frame) ToLocal(v mgl64.Vec3) mgl64.Vec3 {
	return mgl64.Vec3{
		v[0]*f.S[0] + v[1]*f.S[1] + v[2]*f.S[2],
		v[0]*f.T[0] + v[1]*f.T[1] + v[2]*f.T[2],
		v[0]*f.N[0] + v[1]*f.N[1] + v[2]*f.N[2],
	}
}

// ToWorld maps the local vector v back to world space.
func (f *Frame) ToWorld(v mgl64.Vec3) mgl64.Vec3 {
	return mgl64.Vec3{
		f.S[0]*v[0] + f.T[0]*v[1] + f.N[0]*v[2],
		f.S[1]*v[0] + f.T[1]*v[1] + f.N[1]*v[2],
		f.S[2]*v[0] + f.T[2]*v[1] + f.N[2]*v[2],
	}
}
