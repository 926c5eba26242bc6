package optimize

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/internal/meshgen"
)

func flatten(ps []mgl64.Vec3) []float64 {
	x := make([]float64, 0, 3*len(ps))
	for _, p := range ps {
		x = append(x, p[0], p[1], p[2])
	}
	return x
}

func TestUniformLaplacian(t *testing.T) {
	pos, idx := meshgen.Icosphere(2, 1, mgl64.Vec3{}, 0)
	n := len(pos)
	l, err := UniformLaplacian(idx, n)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Validate(); err != nil {
		t.Fatal(err)
	}
	if !l.IsSymmetric(0) {
		t.Error("Laplacian is not symmetric")
	}
	// Closed genus-0 mesh: E = 3F/2 unique edges, each stored twice off
	// the diagonal; valence 5 at the 12 icosahedron corners, 6 elsewhere.
	if want := 2*(3*len(idx)/3/2) + n; l.NNZ() != want {
		t.Errorf("NNZ = %d, want %d", l.NNZ(), want)
	}
	for i := range n {
		s := 0.0
		for p := l.RowPtr[i]; p < l.RowPtr[i+1]; p++ {
			s += l.Val[p]
			if int(l.Col[p]) != i && l.Val[p] != -1 {
				t.Fatalf("off-diagonal (%d, %d) = %g", i, l.Col[p], l.Val[p])
			}
		}
		if s != 0 {
			t.Fatalf("row %d sums to %g", i, s)
		}
		want := 6.0
		if i < 12 {
			want = 5
		}
		if l.At(i, i) != want {
			t.Fatalf("degree of vertex %d is %g, want %g", i, l.At(i, i), want)
		}
	}
	// Duplicate triangles, a degenerate one and an isolated vertex (4).
	l2, err := UniformLaplacian([]int32{0, 1, 2, 2, 1, 0, 0, 2, 3, 3, 3, 0}, 5)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]float64{{3, -1, -1, -1, 0}, {-1, 2, -1, 0, 0}, {-1, -1, 3, -1, 0}, {-1, 0, -1, 2, 0}, {0, 0, 0, 0, 0}}
	for i := range 5 {
		for j := range 5 {
			if l2.At(i, j) != want[i][j] {
				t.Errorf("L[%d][%d] = %g, want %g", i, j, l2.At(i, j), want[i][j])
			}
		}
	}
	for _, c := range []struct {
		idx  []int32
		n    int
		want string
	}{{[]int32{0, 1}, 3, "multiple of 3"}, {[]int32{0, 1, 3}, 3, "index 3 is outside [0, 3)"}, {[]int32{0, -1, 2}, 3, "index -1"}} {
		if _, err := UniformLaplacian(c.idx, c.n); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("UniformLaplacian(%v, %d): error %v, want %q", c.idx, c.n, err, c.want)
		}
	}
}

func TestSmoothnessEnergy(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	pos, idx := meshgen.Torus(1, 0.3, 8, 6)
	x := flatten(pos)
	for i := range x {
		x[i] += 0.05 * rng.NormFloat64()
	}
	s, err := NewSmoothness(idx, len(pos), 0.7)
	if err != nil {
		t.Fatal(err)
	}
	// Against the edge sum: lambda/2 sum over unique edges |xi - xj|^2.
	seen := map[[2]int32]bool{}
	want := 0.0
	for k := 0; k < len(idx); k += 3 {
		for e := range 3 {
			a, b := idx[k+e], idx[k+(e+1)%3]
			key := [2]int32{min(a, b), max(a, b)}
			if seen[key] {
				continue
			}
			seen[key] = true
			for c := range 3 {
				d := x[3*int(a)+c] - x[3*int(b)+c]
				want += 0.5 * 0.7 * d * d
			}
		}
	}
	grad := make([]float64, len(x))
	grad[0] = 1 // Energy adds to the gradient
	e := s.Energy(x, grad)
	if math.Abs(e-want) > 1e-12*want {
		t.Errorf("energy %.15g, want %.15g", e, want)
	}
	grad[0]--
	const h = 1e-6
	for i := range x {
		xp := append([]float64(nil), x...)
		xp[i] += h
		ep := s.Energy(xp, nil)
		xp[i] -= 2 * h
		em := s.Energy(xp, nil)
		fd := (ep - em) / (2 * h)
		// E is quadratic: the central difference is exact up to
		// rounding, about 1e-16 E / h.
		if math.Abs(fd-grad[i]) > 1e-8*math.Max(1, e) {
			t.Errorf("dE/dx[%d] = %.12g, central difference %.12g", i, grad[i], fd)
		}
	}
	if _, err := NewSmoothness(idx, len(pos), -1); err == nil {
		t.Error("negative weight: no error")
	}
}

// rayleigh returns the mean over coordinates of g_c^T L g_c / g_c^T g_c: the
// mean squared "frequency" of a field on the mesh.
func rayleigh(l *CSR, g []float64) float64 {
	lg := make([]float64, len(g))
	l.mulVecStrided(lg, g, 3)
	return dot(g, lg) / dot(g, g)
}

func TestLargeSteps(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 20))
	pos, idx := meshgen.Icosphere(3, 1, mgl64.Vec3{}, 0)
	n := len(pos)
	x := flatten(pos)
	l, _ := UniformLaplacian(idx, n)
	const lambda = 10
	chol, err := NewLargeSteps(idx, n, lambda)
	if err != nil {
		t.Fatal(err)
	}
	cg, err := NewLargeStepsCG(idx, n, lambda, CGOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ls := range []*LargeSteps{chol, cg} {
		name := "cholesky"
		if ls.chol == nil {
			name = "cg"
		}
		// Round trip.
		u := make([]float64, 3*n)
		if err := ls.ToU(u, x); err != nil {
			t.Fatal(err)
		}
		back := make([]float64, 3*n)
		if err := ls.FromU(back, u); err != nil {
			t.Fatal(err)
		}
		for i := range x {
			if math.Abs(back[i]-x[i]) > 1e-9 {
				t.Fatalf("%s: FromU(ToU(x))[%d] = %.15g, want %.15g", name, i, back[i], x[i])
			}
		}
		// M p = g for the preconditioned gradient, in place.
		noise := make([]float64, 3*n)
		for i := range noise {
			noise[i] = rng.NormFloat64()
		}
		p := append([]float64(nil), noise...)
		if err := ls.Precondition(p, p); err != nil {
			t.Fatal(err)
		}
		mp := make([]float64, 3*n)
		ls.Matrix().mulVecStrided(mp, p, 3)
		for i := range mp {
			if math.Abs(mp[i]-noise[i]) > 1e-9 {
				t.Fatalf("%s: (M p)[%d] = %g, want %g", name, i, mp[i], noise[i])
			}
		}
		// High frequencies are damped: white noise has a Rayleigh
		// quotient near the mean degree (6); M^-1 applied to it is much
		// smoother. A smooth field (the positions themselves, an l = 1
		// spherical harmonic with quotient about 0.1 at this
		// resolution) keeps most of its norm: eigenvalue e of L is
		// scaled by 1/(1 + lambda e).
		rn, rp := rayleigh(l, noise), rayleigh(l, p)
		if rn < 5 || rp > rn/10 {
			t.Errorf("%s: Rayleigh quotient of noise %g, preconditioned %g", name, rn, rp)
		}
		if ns, ps := norm(noise), norm(p); ps > ns/5 {
			t.Errorf("%s: noise norm %g only damped to %g", name, ns, ps)
		}
		sp := append([]float64(nil), x...)
		if err := ls.Precondition(sp, sp); err != nil {
			t.Fatal(err)
		}
		ratio := norm(sp) / norm(x)
		e1 := rayleigh(l, x)
		if want := 1 / (1 + lambda*e1); math.Abs(ratio-want) > 0.02 {
			t.Errorf("%s: smooth field kept %.3f of its norm, want about %.3f", name, ratio, want)
		}
	}
	if _, err := NewLargeSteps(idx, n, -1); err == nil {
		t.Error("negative lambda: no error")
	}
	if err := chol.FromU(make([]float64, 3), make([]float64, 3*n)); err == nil {
		t.Error("length mismatch: no error")
	}
}

// gridMesh returns a side x side vertex grid mesh (two triangles per cell).
func gridMesh(side int) ([]float64, []int32) {
	pos, idx := meshgen.Plane(side-1, side-1, 1)
	return flatten(pos), idx
}

// TestLargeStepsGridTiming checks the cost of the factorisation and of a
// solve on a 200 x 200 (40,000 vertex) grid with loose bounds (the machine
// may be shared); BenchmarkLargeSteps gives the real figures.
func TestLargeStepsGridTiming(t *testing.T) {
	if testing.Short() {
		t.Skip("factorises a 40k-vertex mesh")
	}
	x, idx := gridMesh(200)
	n := len(x) / 3
	t0 := time.Now()
	ls, err := NewLargeSteps(idx, n, 20)
	if err != nil {
		t.Fatal(err)
	}
	tf := time.Since(t0)
	g := make([]float64, 3*n)
	rng := rand.New(rand.NewPCG(21, 22))
	for i := range g {
		g[i] = rng.NormFloat64()
	}
	p := make([]float64, 3*n)
	t0 = time.Now()
	if err := ls.Precondition(p, g); err != nil {
		t.Fatal(err)
	}
	ts := time.Since(t0)
	t.Logf("40k-vertex grid: factor %v (L has %d entries, %.1f per row), solve of 3 columns %v", tf, ls.chol.NNZ(), float64(ls.chol.NNZ())/float64(n), ts)
	if r := residualNorm3(ls.Matrix(), p, g); r > 1e-12 {
		t.Errorf("relative residual %g", r)
	}
	if ts > 500*time.Millisecond {
		t.Errorf("solve took %v", ts)
	}
}

func residualNorm3(a *CSR, x, b []float64) float64 {
	r := make([]float64, len(b))
	a.mulVecStrided(r, x, 3)
	for i := range r {
		r[i] -= b[i]
	}
	return norm(r) / norm(b)
}

func benchLargeSteps(b *testing.B, side int, lambda float64, useCG bool) {
	x, idx := gridMesh(side)
	n := len(x) / 3
	var ls *LargeSteps
	var err error
	if useCG {
		ls, err = NewLargeStepsCG(idx, n, lambda, CGOptions{})
	} else {
		ls, err = NewLargeSteps(idx, n, lambda)
	}
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(23, 24))
	g := make([]float64, 3*n)
	for i := range g {
		g[i] = rng.NormFloat64()
	}
	p := make([]float64, 3*n)
	b.ResetTimer()
	for range b.N {
		if err := ls.Precondition(p, g); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLargeStepsSolve times M^-1 g for the three coordinates of a
// 40,000-vertex grid with a Cholesky factor.
func BenchmarkLargeStepsSolve(b *testing.B) { benchLargeSteps(b, 200, 20, false) }

// BenchmarkLargeStepsSolveCG is the same solve by conjugate gradients from
// zero (the worst case: in an optimisation FromU warm-starts).
func BenchmarkLargeStepsSolveCG(b *testing.B) { benchLargeSteps(b, 200, 20, true) }

// BenchmarkLargeStepsFactor times the set-up (Laplacian, ordering,
// factorisation) for the 40,000-vertex grid.
func BenchmarkLargeStepsFactor(b *testing.B) {
	_, idx := gridMesh(200)
	b.ResetTimer()
	for range b.N {
		if _, err := NewLargeSteps(idx, 200*200, 20); err != nil {
			b.Fatal(err)
		}
	}
}
