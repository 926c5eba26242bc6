package adjoint

import "github.com/go-gl/mathgl/mgl64"

// Small reverse-mode building blocks. Each DFoo takes the forward inputs and
// the upstream gradient of Foo's output and returns the gradients of the
// inputs (recomputing what it needs of the forward pass).

// dNormalize is the adjoint of n = v/|v|: dv = (dn - n (n.dn)) / |v|.
func dNormalize(v, dn mgl64.Vec3) mgl64.Vec3 {
	l := v.Len()
	if l == 0 {
		return mgl64.Vec3{}
	}
	n := v.Mul(1 / l)
	return dn.Sub(n.Mul(n.Dot(dn))).Mul(1 / l)
}

// dCross is the adjoint of c = a x b: da = b x dc, db = dc x a.
func dCross(a, b, dc mgl64.Vec3) (da, db mgl64.Vec3) {
	return b.Cross(dc), dc.Cross(a)
}

func mul3(a, b mgl64.Vec3) mgl64.Vec3 {
	return mgl64.Vec3{a[0] * b[0], a[1] * b[1], a[2] * b[2]}
}

func isZero3(v mgl64.Vec3) bool { return v[0] == 0 && v[1] == 0 && v[2] == 0 }
