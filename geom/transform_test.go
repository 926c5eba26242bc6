package geom

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/go-gl/mathgl/mgl64"
)

func near3(a, b mgl64.Vec3, eps float64) bool { return a.Sub(b).Len() <= eps*(1+b.Len()) }

// nearIdentity reports whether every entry of m is within eps of the
// identity's.
func nearIdentity(m mgl64.Mat4, eps float64) bool {
	id := mgl64.Ident4()
	for i := range m {
		if math.Abs(m[i]-id[i]) > eps {
			return false
		}
	}
	return true
}

func mustScale(t testing.TB, s mgl64.Vec3) Transform {
	t.Helper()
	x, err := Scale(s)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func mustRotate(t testing.TB, axis mgl64.Vec3, deg float64) Transform {
	t.Helper()
	x, err := Rotate(axis, deg)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func TestTransformHandComputed(t *testing.T) {
	tr := Translate(mgl64.Vec3{1, 2, 3})
	sc := mustScale(t, mgl64.Vec3{2, -3, 0.5})
	rz := mustRotate(t, mgl64.Vec3{0, 0, 1}, 90)
	tests := []struct {
		name               string
		xf                 Transform
		in                 mgl64.Vec3
		point, vec, normal mgl64.Vec3
	}{
		{"identity", Identity(), mgl64.Vec3{1, -2, 3}, mgl64.Vec3{1, -2, 3}, mgl64.Vec3{1, -2, 3}, mgl64.Vec3{1, -2, 3}},
		// Translation moves points only.
		{"translate", tr, mgl64.Vec3{1, 1, 1}, mgl64.Vec3{2, 3, 4}, mgl64.Vec3{1, 1, 1}, mgl64.Vec3{1, 1, 1}},
		// Normals scale by the inverse: (1,1,1) -> (1/2, -1/3, 2).
		{"scale", sc, mgl64.Vec3{1, 1, 1}, mgl64.Vec3{2, -3, 0.5}, mgl64.Vec3{2, -3, 0.5}, mgl64.Vec3{0.5, -1.0 / 3, 2}},
		// Counter-clockwise about +z: x -> y, y -> -x.
		{"rotate z 90 (x)", rz, mgl64.Vec3{1, 0, 0}, mgl64.Vec3{0, 1, 0}, mgl64.Vec3{0, 1, 0}, mgl64.Vec3{0, 1, 0}},
		{"rotate z 90 (y)", rz, mgl64.Vec3{0, 1, 0}, mgl64.Vec3{-1, 0, 0}, mgl64.Vec3{-1, 0, 0}, mgl64.Vec3{-1, 0, 0}},
		// Mul applies its argument first: scale, then translate.
		{"translate after scale", tr.Mul(sc), mgl64.Vec3{1, 1, 1}, mgl64.Vec3{3, -1, 3.5}, mgl64.Vec3{2, -3, 0.5}, mgl64.Vec3{0.5, -1.0 / 3, 2}},
		// Translate first, then scale: (1+1, 1+2, 1+3) scaled.
		{"scale after translate", sc.Mul(tr), mgl64.Vec3{1, 1, 1}, mgl64.Vec3{4, -9, 2}, mgl64.Vec3{2, -3, 0.5}, mgl64.Vec3{0.5, -1.0 / 3, 2}},
		// Rotate first, then translate.
		{"translate after rotate", tr.Mul(rz), mgl64.Vec3{1, 0, 0}, mgl64.Vec3{1, 3, 3}, mgl64.Vec3{0, 1, 0}, mgl64.Vec3{0, 1, 0}},
	}
	for _, tc := range tests {
		if got := tc.xf.Point(tc.in); !near3(got, tc.point, 1e-15) {
			t.Errorf("%s: Point(%v) = %v, want %v", tc.name, tc.in, got, tc.point)
		}
		if got := tc.xf.Vector(tc.in); !near3(got, tc.vec, 1e-15) {
			t.Errorf("%s: Vector(%v) = %v, want %v", tc.name, tc.in, got, tc.vec)
		}
		if got := tc.xf.Normal(tc.in); !near3(got, tc.normal, 1e-15) {
			t.Errorf("%s: Normal(%v) = %v, want %v", tc.name, tc.in, got, tc.normal)
		}
		// The inverse undoes the transform.
		p := tc.xf.Inverse().Point(tc.xf.Point(tc.in))
		if !near3(p, tc.in, 1e-15) {
			t.Errorf("%s: inverse round trip gives %v", tc.name, p)
		}
	}
}

func TestTransformMulInverseConsistent(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for range 200 {
		a := Translate(randVec(rng, -5, 5)).Mul(mustRotate(t, randVec(rng, -1, 1), 360*rng.Float64())).
			Mul(mustScale(t, randVec(rng, 0.2, 3)))
		b := mustRotate(t, randVec(rng, -1, 1), 360*rng.Float64()).Mul(Translate(randVec(rng, -5, 5)))
		ab := a.Mul(b)
		p := randVec(rng, -2, 2)
		if got, want := ab.Point(p), a.Point(b.Point(p)); !near3(got, want, 1e-13) {
			t.Errorf("(a*b)(p) = %v, a(b(p)) = %v", got, want)
		}
		if got := ab.M.Mul4(ab.Inv); !nearIdentity(got, 1e-12) {
			t.Errorf("M*Inv = %v", got)
		}
		if got := ab.Inverse().Point(ab.Point(p)); !near3(got, p, 1e-13) {
			t.Errorf("inverse round trip: %v -> %v", p, got)
		}
	}
}

// TestTransformNormalPerpendicular checks that normals stay perpendicular to
// transformed tangents under non-uniform scale, shear and rotation, the
// reason they transform by the inverse transpose.
func TestTransformNormalPerpendicular(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 10))
	shear, err := NewTransform(mgl64.Mat4{1, 0, 0, 0, 0.7, 1, 0, 0, -0.4, 0.3, 1, 0, 0, 0, 0, 1})
	if err != nil {
		t.Fatal(err)
	}
	naiveFails := 0
	for range 500 {
		xf := Translate(randVec(rng, -3, 3)).Mul(mustRotate(t, randVec(rng, -1, 1), 360*rng.Float64())).
			Mul(mustScale(t, mgl64.Vec3{0.1 + 5*rng.Float64(), 0.1 + 5*rng.Float64(), -0.1 - 5*rng.Float64()})).Mul(shear)
		n := randUnit(rng)
		f := NewFrame(n)
		nn := xf.Normal(n).Normalize()
		for _, tangent := range []mgl64.Vec3{f.S, f.T, f.S.Add(f.T.Mul(0.3))} {
			tt := xf.Vector(tangent).Normalize()
			if d := math.Abs(nn.Dot(tt)); d > 1e-12 {
				t.Errorf("transformed normal . transformed tangent = %v", d)
			}
		}
		// Mapped as a vector, the normal is not perpendicular in general:
		// the check above has teeth.
		if math.Abs(xf.Vector(n).Normalize().Dot(xf.Vector(f.S).Normalize())) > 1e-3 {
			naiveFails++
		}
	}
	if naiveFails < 400 {
		t.Errorf("test setup: the naive mapping stayed perpendicular in %d of 500 cases", 500-naiveFails)
	}
	// A non-uniform scale example by hand: the plane x + y = 1 scaled by
	// (2, 1, 1) becomes x/2 + y = 1, with normal (1/2, 1, 0).
	sc := mustScale(t, mgl64.Vec3{2, 1, 1})
	if got := sc.Normal(mgl64.Vec3{1, 1, 0}); !near3(got, mgl64.Vec3{0.5, 1, 0}, 1e-15) {
		t.Errorf("scaled normal = %v, want (0.5, 1, 0)", got)
	}
	if v := sc.Vector(mgl64.Vec3{1, 1, 0}); math.Abs(v.Normalize().Dot(mgl64.Vec3{-1, 1, 0}.Normalize())) < 0.1 {
		t.Errorf("test setup: the naive mapping is perpendicular too")
	}
}

// TestLookAt checks Mitsuba's convention: the camera looks down its +z
// towards the target, +y is up, and +x points to its left.
func TestLookAt(t *testing.T) {
	tests := []struct {
		name                  string
		origin, target, up    mgl64.Vec3
		wantX, wantY, wantDir mgl64.Vec3
	}{
		// Looking down +z with +y up, the left is +x (right-handed:
		// x = y cross z).
		{"canonical", mgl64.Vec3{0, 0, 0}, mgl64.Vec3{0, 0, 5}, mgl64.Vec3{0, 1, 0},
			mgl64.Vec3{1, 0, 0}, mgl64.Vec3{0, 1, 0}, mgl64.Vec3{0, 0, 1}},
		// Looking down -z (the OpenGL view), the left is -x.
		{"towards -z", mgl64.Vec3{1, 2, 3}, mgl64.Vec3{1, 2, -5}, mgl64.Vec3{0, 1, 0},
			mgl64.Vec3{-1, 0, 0}, mgl64.Vec3{0, 1, 0}, mgl64.Vec3{0, 0, -1}},
		// Cornell-box style: camera on +z looking at the origin with +y up.
		{"cbox", mgl64.Vec3{0, 1, 6.8}, mgl64.Vec3{0, 1, 0}, mgl64.Vec3{0, 1, 0},
			mgl64.Vec3{-1, 0, 0}, mgl64.Vec3{0, 1, 0}, mgl64.Vec3{0, 0, -1}},
		// z up, looking along +x: the left is +y.
		{"z up", mgl64.Vec3{0, 0, 0}, mgl64.Vec3{3, 0, 0}, mgl64.Vec3{0, 0, 2},
			mgl64.Vec3{0, 1, 0}, mgl64.Vec3{0, 0, 1}, mgl64.Vec3{1, 0, 0}},
		// An up vector not perpendicular to the view is orthogonalised.
		{"tilted up", mgl64.Vec3{0, 0, 0}, mgl64.Vec3{0, 0, 1}, mgl64.Vec3{0, 1, 1},
			mgl64.Vec3{1, 0, 0}, mgl64.Vec3{0, 1, 0}, mgl64.Vec3{0, 0, 1}},
	}
	for _, tc := range tests {
		xf, err := LookAt(tc.origin, tc.target, tc.up)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := xf.Point(mgl64.Vec3{}); !near3(got, tc.origin, 1e-15) {
			t.Errorf("%s: camera origin maps to %v", tc.name, got)
		}
		dist := tc.target.Sub(tc.origin).Len()
		if got := xf.Point(mgl64.Vec3{0, 0, dist}); !near3(got, tc.target, 1e-14) {
			t.Errorf("%s: (0,0,|target-origin|) maps to %v, want the target", tc.name, got)
		}
		for _, c := range []struct {
			local, want mgl64.Vec3
			axis        string
		}{{mgl64.Vec3{1, 0, 0}, tc.wantX, "+x (left)"}, {mgl64.Vec3{0, 1, 0}, tc.wantY, "+y (up)"}, {mgl64.Vec3{0, 0, 1}, tc.wantDir, "+z (view)"}} {
			if got := xf.Vector(c.local); !near3(got, c.want, 1e-15) {
				t.Errorf("%s: camera %s maps to %v, want %v", tc.name, c.axis, got, c.want)
			}
		}
		if xf.FlipsHandedness() {
			t.Errorf("%s: the camera frame is left-handed", tc.name)
		}
	}
	for _, bad := range [][3]mgl64.Vec3{
		{{1, 1, 1}, {1, 1, 1}, {0, 1, 0}}, // origin == target
		{{0, 0, 0}, {0, 2, 0}, {0, 1, 0}}, // up parallel to the view
		{{0, 0, 0}, {0, 0, 1}, {0, 0, 0}}, // zero up
	} {
		if _, err := LookAt(bad[0], bad[1], bad[2]); err == nil {
			t.Errorf("LookAt(%v) succeeded", bad)
		}
	}
}

func TestRotate(t *testing.T) {
	// Right-handed: looking down the axis (from its tip), the rotation is
	// counter-clockwise.
	cases := []struct {
		axis     mgl64.Vec3
		deg      float64
		in, want mgl64.Vec3
	}{
		{mgl64.Vec3{1, 0, 0}, 90, mgl64.Vec3{0, 1, 0}, mgl64.Vec3{0, 0, 1}},
		{mgl64.Vec3{0, 1, 0}, 90, mgl64.Vec3{0, 0, 1}, mgl64.Vec3{1, 0, 0}},
		{mgl64.Vec3{0, 0, 1}, 90, mgl64.Vec3{1, 0, 0}, mgl64.Vec3{0, 1, 0}},
		{mgl64.Vec3{0, 0, 7}, -90, mgl64.Vec3{1, 0, 0}, mgl64.Vec3{0, -1, 0}}, // axis need not be unit
		{mgl64.Vec3{1, 1, 1}, 120, mgl64.Vec3{1, 0, 0}, mgl64.Vec3{0, 1, 0}},  // cycles the axes
		{mgl64.Vec3{0, 0, 1}, 180, mgl64.Vec3{1, 2, 3}, mgl64.Vec3{-1, -2, 3}},
	}
	for _, c := range cases {
		r := mustRotate(t, c.axis, c.deg)
		if got := r.Vector(c.in); !near3(got, c.want, 1e-15) {
			t.Errorf("Rotate(%v, %v)(%v) = %v, want %v", c.axis, c.deg, c.in, got, c.want)
		}
		if got := r.M.Mul4(r.Inv); !nearIdentity(got, 1e-15) {
			t.Errorf("Rotate(%v, %v): M*Inv = %v", c.axis, c.deg, got)
		}
	}
	if _, err := Rotate(mgl64.Vec3{}, 30); err == nil {
		t.Error("Rotate about a zero axis succeeded")
	}
}

func TestNewTransformErrors(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	singular := []struct {
		name string
		m    mgl64.Mat4
	}{
		{"zero", mgl64.Mat4{}},
		{"flattening z", mgl64.Mat4{1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}},
		{"repeated column", mgl64.Mat4{1, 2, 3, 0, 1, 2, 3, 0, 0, 0, 1, 0, 0, 0, 0, 1}},
		{"rank 2 projective", mgl64.Mat4{1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1}},
	}
	for _, c := range singular {
		if _, err := NewTransform(c.m); !errors.Is(err, ErrSingular) {
			t.Errorf("%s: err = %v, want ErrSingular", c.name, err)
		}
	}
	for _, v := range []float64{nan, inf, -inf} {
		for _, i := range []int{0, 5, 12, 15} {
			m := mgl64.Ident4()
			m[i] = v
			if _, err := NewTransform(m); err == nil {
				t.Errorf("entry %d = %v accepted", i, v)
			}
		}
	}
	for _, s := range []mgl64.Vec3{{0, 1, 1}, {1, 0, 1}, {1, 1, 0}} {
		if _, err := Scale(s); !errors.Is(err, ErrSingular) {
			t.Errorf("Scale(%v): err = %v, want ErrSingular", s, err)
		}
	}
	// A good matrix is accepted and inverted.
	m := mgl64.Mat4{2, 0, 0, 0, 0, 3, 0, 0, 0, 0, 4, 0, 1, 2, 3, 1}
	xf, err := NewTransform(m)
	if err != nil {
		t.Fatal(err)
	}
	if got := xf.Inv.Mul4(m); !nearIdentity(got, 1e-15) {
		t.Errorf("Inv*M = %v", got)
	}
}

// TestTransformProjective checks the division by w: a matrix with w = z
// and z' = 1 maps (x, y, z) to (x/z, y/z, 1/z).
func TestTransformProjective(t *testing.T) {
	m := mgl64.Mat4{1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0}
	xf, err := NewTransform(m)
	if err != nil {
		t.Fatal(err)
	}
	if got := xf.Point(mgl64.Vec3{2, 4, 2}); !near3(got, mgl64.Vec3{1, 2, 0.5}, 1e-15) {
		t.Errorf("Point = %v, want (1, 2, 0.5)", got)
	}
	if got := xf.Inverse().Point(mgl64.Vec3{1, 2, 0.5}); !near3(got, mgl64.Vec3{2, 4, 2}, 1e-15) {
		t.Errorf("inverse Point = %v, want (2, 4, 2)", got)
	}
}

func TestFlipsHandedness(t *testing.T) {
	if Identity().FlipsHandedness() || mustRotate(t, mgl64.Vec3{1, 2, 3}, 77).FlipsHandedness() ||
		mustScale(t, mgl64.Vec3{-1, -1, 1}).FlipsHandedness() {
		t.Error("a proper transform flips handedness")
	}
	if !mustScale(t, mgl64.Vec3{-1, 1, 1}).FlipsHandedness() || !mustScale(t, mgl64.Vec3{-2, -3, -4}).FlipsHandedness() {
		t.Error("a mirror does not flip handedness")
	}
}
