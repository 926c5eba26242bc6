package geom

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/go-gl/mathgl/mgl64"
)

func frameNormals() []mgl64.Vec3 {
	negz := math.Copysign(0, -1)
	ns := []mgl64.Vec3{
		{0, 0, 1}, {0, 0, -1}, {1, 0, 0}, {-1, 0, 0}, {0, 1, 0}, {0, -1, 0},
		{1, 0, negz}, {0, 1, negz}, {negz, negz, -1}, {negz, negz, 1},
	}
	// Near the poles, where the branch-free construction divides by
	// sign + n.z.
	for _, e := range []float64{1e-300, 1e-160, 1e-12, 1e-8, 1e-4} {
		for _, z := range []float64{1, -1} {
			ns = append(ns, mgl64.Vec3{e, -e, z}.Normalize(), mgl64.Vec3{e, 0, z}.Normalize(),
				mgl64.Vec3{0, e, z}.Normalize(), mgl64.Vec3{1, e, e * z}.Normalize())
		}
	}
	rng := rand.New(rand.NewPCG(6, 6))
	for range 5000 {
		ns = append(ns, randUnit(rng))
	}
	return ns
}

func TestFrameOrthonormalRightHanded(t *testing.T) {
	const eps = 1e-14
	for _, n := range frameNormals() {
		f := NewFrame(n)
		if f.N != n {
			t.Fatalf("n=%v: N = %v", n, f.N)
		}
		bad := math.Abs(f.S.Len()-1) > eps || math.Abs(f.T.Len()-1) > eps ||
			math.Abs(f.S.Dot(f.T)) > eps || math.Abs(f.S.Dot(f.N)) > eps || math.Abs(f.T.Dot(f.N)) > eps
		// Right-handed: S x T = N, equivalently det[S T N] = +1.
		if c := f.S.Cross(f.T); c.Sub(f.N).Len() > 4*eps {
			bad = true
		}
		for _, v := range []mgl64.Vec3{f.S, f.T} {
			for _, x := range v {
				if math.IsNaN(x) || math.IsInf(x, 0) {
					bad = true
				}
			}
		}
		if bad {
			t.Errorf("n=%v: S=%v T=%v (|S|=%v |T|=%v S.T=%v S.N=%v T.N=%v SxT=%v)", n, f.S, f.T,
				f.S.Len(), f.T.Len(), f.S.Dot(f.T), f.S.Dot(f.N), f.T.Dot(f.N), f.S.Cross(f.T))
		}
	}
}

func TestFrameRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, n := range frameNormals() {
		f := NewFrame(n)
		v := randVec(rng, -3, 3)
		l := f.ToLocal(v)
		if back := f.ToWorld(l); back.Sub(v).Len() > 1e-14*(1+v.Len()) {
			t.Errorf("n=%v: ToWorld(ToLocal(%v)) = %v", n, v, back)
		}
		if back := f.ToLocal(f.ToWorld(v)); back.Sub(v).Len() > 1e-14*(1+v.Len()) {
			t.Errorf("n=%v: ToLocal(ToWorld(%v)) = %v", n, v, back)
		}
		// The local z of a direction is its cosine to N, and the frame
		// maps the local axes to S, T, N.
		if math.Abs(l[2]-v.Dot(n)) > 1e-14*(1+v.Len()) {
			t.Errorf("n=%v: local z %v, want v.N = %v", n, l[2], v.Dot(n))
		}
		if f.ToWorld(mgl64.Vec3{0, 0, 1}).Sub(n).Len() > 1e-15 || f.ToWorld(mgl64.Vec3{1, 0, 0}).Sub(f.S).Len() > 1e-15 {
			t.Errorf("n=%v: local axes do not map to the frame", n)
		}
	}
}

// TestFrameContinuous checks that the frame moves continuously with the
// normal everywhere except across the equator z = 0, where the
// construction switches sign (Duff et al. 2017): a shading frame may rely
// on that within a hemisphere.
func TestFrameContinuous(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	for range 2000 {
		n := randUnit(rng)
		if math.Abs(n[2]) < 1e-3 {
			continue
		}
		m := n.Add(randVec(rng, -1e-7, 1e-7)).Normalize()
		if math.Signbit(m[2]) != math.Signbit(n[2]) {
			continue
		}
		f, g := NewFrame(n), NewFrame(m)
		// Within a hemisphere the construction is smooth (its only
		// division is by 1+|z| >= 1): a normal change of about 1e-7 moves
		// the frame by about as much.
		if f.S.Sub(g.S).Len() > 1e-5 || f.T.Sub(g.T).Len() > 1e-5 {
			t.Errorf("n=%v: frame jumps by %v for a normal change of %v", n, f.S.Sub(g.S).Len(), n.Sub(m).Len())
		}
	}
}
