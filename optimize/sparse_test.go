package optimize

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// randSPD returns a random sparse symmetric matrix with about deg
// off-diagonal entries per row, made positive definite by a diagonal that
// dominates each row by a random margin (Gershgorin), and a condition
// number that grows as margin shrinks.
func randSPD(rng *rand.Rand, n, deg int, margin float64) *CSR {
	var es []Entry
	rowAbs := make([]float64, n)
	for i := range n {
		for range deg / 2 {
			j := rng.IntN(n)
			if j == i {
				continue
			}
			v := rng.NormFloat64()
			es = append(es, Entry{i, j, v}, Entry{j, i, v})
			rowAbs[i] += math.Abs(v)
			rowAbs[j] += math.Abs(v)
		}
	}
	for i := range n {
		es = append(es, Entry{i, i, rowAbs[i] + margin*(0.5+rng.Float64())})
	}
	m, err := NewCSR(n, es)
	if err != nil {
		panic(err)
	}
	return m
}

func residualNorm(a *CSR, x, b []float64) float64 {
	r := make([]float64, len(b))
	a.MulVec(r, x)
	for i := range r {
		r[i] -= b[i]
	}
	return norm(r) / norm(b)
}

func TestNewCSR(t *testing.T) {
	m, err := NewCSR(3, []Entry{{2, 0, 1}, {0, 2, 4}, {0, 0, 1}, {2, 0, 2}, {1, 1, -1}, {0, 2, -4}})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	if m.At(2, 0) != 3 || m.At(0, 0) != 1 || m.At(1, 1) != -1 || m.At(0, 2) != 0 || m.At(1, 2) != 0 {
		t.Errorf("entries %v %v %v", m.RowPtr, m.Col, m.Val)
	}
	if m.NNZ() != 4 { // the cancelled (0, 2) entry stays stored as a zero
		t.Errorf("NNZ = %d, want 4", m.NNZ())
	}
	y := make([]float64, 3)
	m.MulVec(y, []float64{1, 2, 3})
	if y[0] != 1 || y[1] != -2 || y[2] != 3 {
		t.Errorf("A x = %v, want [1 -2 3]", y)
	}
	for _, es := range [][]Entry{{{3, 0, 1}}, {{0, -1, 1}}, {{0, 0, math.NaN()}}} {
		if _, err := NewCSR(3, es); err == nil {
			t.Errorf("NewCSR(%v): no error", es)
		}
	}
}

func TestSolveCG(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, c := range []struct {
		n, deg int
		margin float64
	}{{1, 0, 1}, {10, 4, 1}, {500, 8, 0.1}, {3000, 6, 0.01}} {
		a := randSPD(rng, c.n, c.deg, c.margin)
		want := make([]float64, c.n)
		for i := range want {
			want[i] = rng.NormFloat64()
		}
		b := make([]float64, c.n)
		a.MulVec(b, want)
		x := make([]float64, c.n)
		res, err := SolveCG(a, x, b, CGOptions{})
		if err != nil {
			t.Fatalf("n=%d: %v", c.n, err)
		}
		if r := residualNorm(a, x, b); r > 1e-10 || math.Abs(r-res.Residual) > 1e-12 {
			t.Errorf("n=%d: relative residual %g (reported %g) after %d iterations", c.n, r, res.Residual, res.Iterations)
		}
		// The error is bounded by the condition number times the
		// residual; these matrices are far better conditioned than 1e4.
		for i := range x {
			if math.Abs(x[i]-want[i]) > 1e-6 {
				t.Fatalf("n=%d: x[%d] = %g, want %g", c.n, i, x[i], want[i])
			}
		}
		// A warm start near the solution needs fewer iterations.
		if c.n > 100 {
			for i := range x {
				x[i] = want[i] + 1e-6*rng.NormFloat64()
			}
			res2, err := SolveCG(a, x, b, CGOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if res2.Iterations >= res.Iterations {
				t.Errorf("n=%d: warm start took %d iterations, cold %d", c.n, res2.Iterations, res.Iterations)
			}
		}
	}
}

func TestSolveCGErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	a := randSPD(rng, 200, 6, 0.01)
	b := make([]float64, 200)
	b[3] = 1
	_, err := SolveCG(a, make([]float64, 200), b, CGOptions{MaxIter: 2})
	if !errors.Is(err, ErrNotConverged) {
		t.Errorf("capped solve: error %v, want ErrNotConverged", err)
	}
	neg, _ := NewCSR(2, []Entry{{0, 0, 1}, {1, 1, -1}})
	if _, err := SolveCG(neg, make([]float64, 2), []float64{1, 1}, CGOptions{}); err == nil || !strings.Contains(err.Error(), "not positive definite") {
		t.Errorf("negative diagonal: error %v", err)
	}
	indef, _ := NewCSR(2, []Entry{{0, 0, 1}, {1, 1, 1}, {0, 1, 2}, {1, 0, 2}})
	if _, err := SolveCG(indef, make([]float64, 2), []float64{1, -1}, CGOptions{}); err == nil || !strings.Contains(err.Error(), "not positive definite") {
		t.Errorf("indefinite: error %v", err)
	}
	x := []float64{5, 5}
	if _, err := SolveCG(indef, x, []float64{0, 0}, CGOptions{}); err != nil || x[0] != 0 || x[1] != 0 {
		t.Errorf("zero right-hand side: x = %v, err %v", x, err)
	}
	if _, err := SolveCG(indef, x, []float64{0}, CGOptions{}); err == nil {
		t.Error("length mismatch: no error")
	}
}

func isPermutation(p []int32) bool {
	seen := make([]bool, len(p))
	for _, v := range p {
		if v < 0 || int(v) >= len(p) || seen[v] {
			return false
		}
		seen[v] = true
	}
	return true
}

func TestCholeskySolves(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	for _, c := range []struct {
		n, deg int
		margin float64
	}{{1, 0, 1}, {2, 2, 1}, {17, 4, 0.5}, {400, 6, 0.05}, {2000, 4, 0.01}} {
		a := randSPD(rng, c.n, c.deg, c.margin)
		ch, err := NewCholesky(a)
		if err != nil {
			t.Fatalf("n=%d: %v", c.n, err)
		}
		if !isPermutation(ch.perm) {
			t.Fatalf("n=%d: ordering is not a permutation", c.n)
		}
		want := make([]float64, c.n)
		for i := range want {
			want[i] = rng.NormFloat64()
		}
		b := make([]float64, c.n)
		a.MulVec(b, want)
		x := make([]float64, c.n)
		ch.Solve(x, b)
		if r := residualNorm(a, x, b); r > 1e-13 {
			t.Errorf("n=%d: relative residual %g", c.n, r)
		}
		ch.Solve(b, b) // in place
		for i := range b {
			if b[i] != x[i] {
				t.Fatalf("n=%d: in-place solve differs at %d", c.n, i)
			}
		}
	}
}

func TestCholeskyErrors(t *testing.T) {
	nonsym, _ := NewCSR(2, []Entry{{0, 0, 2}, {1, 1, 2}, {0, 1, 1}})
	if _, err := NewCholesky(nonsym); err == nil || !strings.Contains(err.Error(), "non-symmetric") {
		t.Errorf("non-symmetric: error %v", err)
	}
	indef, _ := NewCSR(3, []Entry{{0, 0, 1}, {1, 1, 1}, {2, 2, 1}, {0, 1, 2}, {1, 0, 2}})
	if _, err := NewCholesky(indef); err == nil || !strings.Contains(err.Error(), "not positive definite") {
		t.Errorf("indefinite: error %v", err)
	}
	// The pure Laplacian is singular.
	l, _ := UniformLaplacian([]int32{0, 1, 2}, 3)
	if _, err := NewCholesky(l); err == nil {
		t.Error("singular Laplacian: no error")
	}
}
