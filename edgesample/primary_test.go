package edgesample

import (
	"math"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/geom"
	"github.com/invrender/invrender/internal/stattest"
	"github.com/invrender/invrender/render"
)

// screenLength measures the part of the edge's projection inside the film
// by brute force: the edge is cut into many pieces, each piece in front of
// the camera projected, and the film-clipped lengths of the projected
// pieces summed (each projected piece is clipped by bisection of its
// parameter, independently of liangBarsky).
func screenLength(cam *render.Camera, v0, v1 mgl64.Vec3, pieces int) float64 {
	W, H := float64(cam.Width), float64(cam.Height)
	inside := func(x, y float64) bool { return x >= 0 && x <= W && y >= 0 && y <= H }
	proj := func(t float64) (mgl64.Vec2, bool) {
		x, y, ok := cam.Project(v0.Add(v1.Sub(v0).Mul(t)))
		return mgl64.Vec2{x, y}, ok
	}
	total := 0.0
	for k := 0; k < pieces; k++ {
		ta, tb := float64(k)/float64(pieces), float64(k+1)/float64(pieces)
		a, oka := proj(ta)
		b, okb := proj(tb)
		if !oka || !okb {
			continue
		}
		ia, ib := inside(a[0], a[1]), inside(b[0], b[1])
		switch {
		case ia && ib:
			total += b.Sub(a).Len()
		case ia != ib:
			// Bisect along the (straight) projected piece for the exit.
			lo, hi := 0.0, 1.0
			for it := 0; it < 60; it++ {
				m := 0.5 * (lo + hi)
				q := a.Add(b.Sub(a).Mul(m))
				if inside(q[0], q[1]) == ia {
					lo = m
				} else {
					hi = m
				}
			}
			if ia {
				total += b.Sub(a).Len() * lo
			} else {
				total += b.Sub(a).Len() * (1 - lo)
			}
		}
	}
	return total
}

func TestPrimaryPmfProportionalToClippedLength(t *testing.T) {
	s := testScene()
	e := Extract(s)
	cam := mustCamera(t, mgl64.Vec3{0.3, 1.2, 2.2}, mgl64.Vec3{0.2, 0.5, 0}, 50, 64, 48)
	for _, o := range []PrimaryOptions{{}, {NoJumpWeight: true}} {
		pr := NewPrimaryWith(s, e, &cam, o)
		if pr.NumCandidates() == 0 {
			t.Fatal("no candidates")
		}
		sum, total, clipped, damped := 0.0, 0.0, 0, 0
		for i := range e.List {
			v0, v1 := e.Vertices(s, i)
			length := 0.0
			jw := e.JumpWeight(s, i, cam.Origin)
			if jw > 0 {
				length = screenLength(&cam, v0, v1, 64)
			}
			if (jw > 0) != e.Candidate(s, i, cam.Origin) {
				t.Fatalf("edge %d: JumpWeight %g disagrees with Candidate", i, jw)
			}
			want := length
			if !o.NoJumpWeight {
				want *= jw
			}
			// The brute-force length is exact for pieces fully inside or
			// out, and bisected to 1e-18 of a piece otherwise.
			if got := pr.Weight(i); !near(got, want, 1e-6) {
				t.Fatalf("%+v, edge %d: weight %g, clipped length %g times jump %g", o, i, got, length, jw)
			}
			if got := pr.Pmf(i) * pr.TotalWeight(); !near(got, want, 1e-6) {
				t.Fatalf("%+v, edge %d: Pmf * TotalWeight %g, want %g", o, i, got, want)
			}
			sum += pr.Pmf(i)
			total += length
			ax, ay, _ := cam.Project(v0)
			bx, by, _ := cam.Project(v1)
			if length > 0 && math.Hypot(bx-ax, by-ay) > length*(1+1e-9) {
				clipped++
			}
			if length > 0 && jw < 1 {
				damped++
			}
		}
		if !near(sum, 1, 1e-12) {
			t.Fatalf("pmf sums to %g", sum)
		}
		if !near(pr.TotalLength(), total, 1e-6) {
			t.Fatalf("TotalLength %g, sum of clipped lengths %g", pr.TotalLength(), total)
		}
		if clipped == 0 || damped == 0 {
			t.Fatalf("the test scene clips %d edges at the film's border and damps %d Sharp edges", clipped, damped)
		}
	}
}

func TestPrimarySamplesOnSegment(t *testing.T) {
	s := testScene()
	e := Extract(s)
	cam := mustCamera(t, mgl64.Vec3{0.3, 1.2, 2.2}, mgl64.Vec3{0.2, 0.5, 0}, 50, 64, 48)
	pr := NewPrimary(s, e, &cam)
	r := geom.NewRNG(1, 2, 3, 4)
	W, H := float64(cam.Width), float64(cam.Height)
	for k := 0; k < 20000; k++ {
		ps, ok := pr.Sample(r.Float64(), r.Float64())
		if !ok {
			t.Fatal("Sample failed with candidates present")
		}
		if ps.X[0] < 0 || ps.X[0] > W || ps.X[1] < 0 || ps.X[1] > H {
			t.Fatalf("sample %v outside the film", ps.X)
		}
		x := ps.A.Add(ps.B.Sub(ps.A).Mul(ps.S))
		if x.Sub(ps.X).Len() > 1e-9 {
			t.Fatalf("X %v is not A + S(B-A) = %v", ps.X, x)
		}
		// X is the image of a point of the 3D edge: the camera ray through
		// X meets the edge's line.
		v0, v1 := e.Vertices(s, int(ps.Edge))
		ray := cam.Ray(ps.X[0], ps.X[1])
		ed := v1.Sub(v0)
		m := ray.D.Cross(ed)
		if dist := math.Abs(v0.Sub(ray.O).Dot(m)) / m.Len(); dist > 1e-9*(1+ed.Len()) {
			t.Fatalf("ray through X misses the edge's line by %g", dist)
		}
		if want := pr.Pmf(int(ps.Edge)) / (clipS1(ps, W, H) - clipS0(ps, W, H)); !near(ps.Pdf, want, 1e-9) {
			t.Fatalf("Pdf %g, want %g", ps.Pdf, want)
		}
		// Normal: unit, perpendicular to AB, alpha > 0 on its side.
		d := ps.B.Sub(ps.A)
		if !near(ps.Normal.Len(), 1, 1e-12) || math.Abs(ps.Normal.Dot(d)) > 1e-9*d.Len() {
			t.Fatalf("normal %v of AB %v", ps.Normal, d)
		}
		q := ps.X.Add(ps.Normal.Mul(1e-3))
		if alpha := (q[0]-ps.A[0])*d[1] - (q[1]-ps.A[1])*d[0]; !(alpha > 0) {
			t.Fatalf("alpha %g on the Normal's side", alpha)
		}
		if ps.T0 != 0 || ps.T1 != 1 {
			t.Fatalf("edge clipped in depth (%g, %g) in a scene in front of the camera", ps.T0, ps.T1)
		}
	}
}

// clipS0 and clipS1 recompute the film-inside part of A..B by bisection.
func clipS0(ps PrimarySample, W, H float64) float64 { return filmEnd(ps, W, H, true) }
func clipS1(ps PrimarySample, W, H float64) float64 { return filmEnd(ps, W, H, false) }

func filmEnd(ps PrimarySample, W, H float64, low bool) float64 {
	in := func(s float64) bool {
		x := ps.A.Add(ps.B.Sub(ps.A).Mul(s))
		return x[0] >= 0 && x[0] <= W && x[1] >= 0 && x[1] <= H
	}
	// ps.S is inside; bisect towards 0 or 1.
	lo, hi := ps.S, 1.0
	if low {
		lo, hi = ps.S, 0
	}
	if in(hi) {
		return hi
	}
	for it := 0; it < 80; it++ {
		m := 0.5 * (lo + hi)
		if in(m) {
			lo = m
		} else {
			hi = m
		}
	}
	return lo
}

func TestPrimaryFrequencies(t *testing.T) {
	s := testScene()
	e := Extract(s)
	cam := mustCamera(t, mgl64.Vec3{0.3, 1.2, 2.2}, mgl64.Vec3{0.2, 0.5, 0}, 50, 64, 48)
	pr := NewPrimary(s, e, &cam)
	const N = 200000
	obs := make([]float64, e.Len())
	r := geom.NewRNG(7, 0, 0, 0)
	for k := 0; k < N; k++ {
		ps, ok := pr.Sample(r.Float64(), r.Float64())
		if ok {
			obs[ps.Edge]++
		}
	}
	exp := make([]float64, e.Len())
	for i := range exp {
		exp[i] = N * pr.Pmf(i)
		if exp[i] == 0 && obs[i] > 0 {
			t.Fatalf("edge %d sampled %g times with pmf 0", i, obs[i])
		}
	}
	if chi2, dof, pv := stattest.ChiSquare(obs, exp, 5); pv < 1e-4 {
		t.Fatalf("chi-square %g with %d dof: p = %g", chi2, dof, pv)
	}
}

func TestPrimaryClipsCameraPlane(t *testing.T) {
	// One triangle whose edge (0, 1) runs from behind the camera to in
	// front of it, seen from the origin looking down -z.
	pos := []mgl64.Vec3{{-0.1, -0.05, 1}, {0.05, 0.02, -2}, {0.3, 0.4, -2}}
	s := newScene(mesh(pos, []int32{0, 1, 2}))
	e := Extract(s)
	cam := mustCamera(t, mgl64.Vec3{}, mgl64.Vec3{0, 0, -1}, 60, 40, 40)
	pr := NewPrimary(s, e, &cam)
	var edge = -1
	for i, ed := range e.List {
		if (ed.V0 == 0 && ed.V1 == 1) || (ed.V0 == 1 && ed.V1 == 0) {
			edge = i
		}
	}
	if pr.Pmf(edge) == 0 {
		t.Fatal("the edge through the camera plane is not sampled")
	}
	r := geom.NewRNG(3, 0, 0, 0)
	seen := false
	for k := 0; k < 2000; k++ {
		ps, ok := pr.Sample(r.Float64(), r.Float64())
		if !ok || int(ps.Edge) != edge {
			continue
		}
		seen = true
		v0, v1 := e.Vertices(s, edge)
		// V0 or V1 is behind: exactly one of T0, T1 is clipped, and the
		// clipped end lies on the near plane z = 1e-6 * scale.
		p0 := v0.Add(v1.Sub(v0).Mul(ps.T0))
		p1 := v0.Add(v1.Sub(v0).Mul(ps.T1))
		z0, z1 := p0.Dot(cam.Forward), p1.Dot(cam.Forward)
		scale := math.Sqrt(0.3*0.3 + 0.4*0.4 + 4)
		behind := e.List[edge].V0 == 0
		if behind {
			if ps.T1 != 1 || !(ps.T0 > 0 && ps.T0 < 1) || !near(z0, 1e-6*scale, 1e-6) {
				t.Fatalf("T0 %g T1 %g, clipped depth %g", ps.T0, ps.T1, z0)
			}
		} else {
			if ps.T0 != 0 || !(ps.T1 > 0 && ps.T1 < 1) || !near(z1, 1e-6*scale, 1e-6) {
				t.Fatalf("T0 %g T1 %g, clipped depth %g", ps.T0, ps.T1, z1)
			}
		}
		ax, ay, _ := cam.Project(p0)
		bx, by, _ := cam.Project(p1)
		if !near(ax, ps.A[0], 1e-12) || !near(ay, ps.A[1], 1e-12) || !near(bx, ps.B[0], 1e-12) || !near(by, ps.B[1], 1e-12) {
			t.Fatalf("A, B %v %v are not the projections of the clipped end points", ps.A, ps.B)
		}
		if ps.X[0] < 0 || ps.X[0] > 40 || ps.X[1] < 0 || ps.X[1] > 40 {
			t.Fatalf("X %v off the film", ps.X)
		}
	}
	if !seen {
		t.Fatal("edge never sampled")
	}
}

func TestPrimaryNothingVisible(t *testing.T) {
	s := testScene()
	e := Extract(s)
	// Looking away from everything.
	cam := mustCamera(t, mgl64.Vec3{0, 1, 5}, mgl64.Vec3{0, 1, 10}, 40, 32, 32)
	pr := NewPrimary(s, e, &cam)
	if pr.NumCandidates() != 0 || pr.TotalLength() != 0 {
		t.Fatalf("%d candidates behind the camera", pr.NumCandidates())
	}
	if _, ok := pr.Sample(0.5, 0.5); ok {
		t.Fatal("Sample succeeded with nothing visible")
	}
}

func TestPrimarySampleAllocs(t *testing.T) {
	s := testScene()
	e := Extract(s)
	cam := mustCamera(t, mgl64.Vec3{0.3, 1.2, 2.2}, mgl64.Vec3{0.2, 0.5, 0}, 50, 64, 48)
	pr := NewPrimary(s, e, &cam)
	u := 0.1
	if a := testing.AllocsPerRun(1000, func() {
		u = math.Mod(u+0.377, 1)
		pr.Sample(u, 1-u)
	}); a != 0 {
		t.Fatalf("%g allocations per Sample", a)
	}
}
