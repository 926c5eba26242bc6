package optimize

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// CSR is a square sparse matrix in compressed sparse row form: the entries
// of row i are Val[RowPtr[i]:RowPtr[i+1]] in the columns Col[...] of the
// same range, columns strictly increasing within a row.
type CSR struct {
	N      int
	RowPtr []int
	Col    []int32
	Val    []float64
}

// Entry is one (row, column, value) term for NewCSR.
type Entry struct {
	Row, Col int
	Val      float64
}

// NewCSR builds an n x n matrix from entries, summing duplicates.
func NewCSR(n int, entries []Entry) (*CSR, error) {
	if n < 0 || n > math.MaxInt32 {
		return nil, fmt.Errorf("optimize: matrix size %d out of range", n)
	}
	count := make([]int, n+1)
	for k, e := range entries {
		if e.Row < 0 || e.Row >= n || e.Col < 0 || e.Col >= n {
			return nil, fmt.Errorf("optimize: entry %d at (%d, %d) is outside a %dx%d matrix", k, e.Row, e.Col, n, n)
		}
		if math.IsNaN(e.Val) || math.IsInf(e.Val, 0) {
			return nil, fmt.Errorf("optimize: entry %d at (%d, %d) is %g", k, e.Row, e.Col, e.Val)
		}
		count[e.Row+1]++
	}
	for i := range n {
		count[i+1] += count[i]
	}
	cols := make([]int32, len(entries))
	vals := make([]float64, len(entries))
	next := append([]int(nil), count[:n]...)
	for _, e := range entries {
		p := next[e.Row]
		next[e.Row]++
		cols[p], vals[p] = int32(e.Col), e.Val
	}
	m := &CSR{N: n, RowPtr: make([]int, n+1)}
	type cv struct {
		c int32
		v float64
	}
	var row []cv
	for i := range n {
		row = row[:0]
		for p := count[i]; p < count[i+1]; p++ {
			row = append(row, cv{cols[p], vals[p]})
		}
		slices.SortStableFunc(row, func(a, b cv) int { return int(a.c) - int(b.c) })
		for _, e := range row {
			if k := len(m.Col); k > m.RowPtr[i] && m.Col[k-1] == e.c {
				m.Val[k-1] += e.v
				continue
			}
			m.Col = append(m.Col, e.c)
			m.Val = append(m.Val, e.v)
		}
		m.RowPtr[i+1] = len(m.Col)
	}
	return m, nil
}

// NNZ returns the number of stored entries.
func (m *CSR) NNZ() int { return len(m.Col) }

// At returns entry (i, j), zero where none is stored.
func (m *CSR) At(i, j int) float64 {
	cols := m.Col[m.RowPtr[i]:m.RowPtr[i+1]]
	k, ok := slices.BinarySearch(cols, int32(j))
	if !ok {
		return 0
	}
	return m.Val[m.RowPtr[i]+k]
}

// Validate checks the structure: sizes, column ranges and order, finite
// values.
func (m *CSR) Validate() error {
	if m.N < 0 || len(m.RowPtr) != m.N+1 || m.RowPtr[0] != 0 || m.RowPtr[m.N] != len(m.Col) || len(m.Col) != len(m.Val) {
		return fmt.Errorf("optimize: CSR matrix of size %d has %d row pointers, %d columns and %d values", m.N, len(m.RowPtr), len(m.Col), len(m.Val))
	}
	for i := range m.N {
		if m.RowPtr[i+1] < m.RowPtr[i] {
			return fmt.Errorf("optimize: CSR row %d has negative length", i)
		}
		for p := m.RowPtr[i]; p < m.RowPtr[i+1]; p++ {
			c := m.Col[p]
			if c < 0 || int(c) >= m.N || (p > m.RowPtr[i] && c <= m.Col[p-1]) {
				return fmt.Errorf("optimize: CSR row %d: column %d out of range or order", i, c)
			}
			if math.IsNaN(m.Val[p]) || math.IsInf(m.Val[p], 0) {
				return fmt.Errorf("optimize: CSR entry (%d, %d) is %g", i, c, m.Val[p])
			}
		}
	}
	return nil
}

// IsSymmetric reports whether |a_ij - a_ji| <= tol for all stored entries.
func (m *CSR) IsSymmetric(tol float64) bool {
	for i := range m.N {
		for p := m.RowPtr[i]; p < m.RowPtr[i+1]; p++ {
			if math.Abs(m.Val[p]-m.At(int(m.Col[p]), i)) > tol {
				return false
			}
		}
	}
	return true
}

// MulVec sets dst = m x. dst and x must not overlap.
func (m *CSR) MulVec(dst, x []float64) {
	m.mulVecStrided(dst, x, 1)
}

// mulVecStrided multiplies k interleaved columns at once: x and dst hold
// row i's k values at [k i, k i + k). k is 1 or 3.
func (m *CSR) mulVecStrided(dst, x []float64, k int) {
	if len(dst) != k*m.N || len(x) != k*m.N {
		panic(fmt.Sprintf("optimize: product of a %dx%d matrix with %d values into %d", m.N, m.N, len(x), len(dst)))
	}
	if k == 3 {
		for i := range m.N {
			var s0, s1, s2 float64
			for p := m.RowPtr[i]; p < m.RowPtr[i+1]; p++ {
				v, j := m.Val[p], 3*int(m.Col[p])
				s0 += v * x[j]
				s1 += v * x[j+1]
				s2 += v * x[j+2]
			}
			dst[3*i], dst[3*i+1], dst[3*i+2] = s0, s1, s2
		}
		return
	}
	for i := range m.N {
		s := 0.0
		for p := m.RowPtr[i]; p < m.RowPtr[i+1]; p++ {
			s += m.Val[p] * x[m.Col[p]]
		}
		dst[i] = s
	}
}

// CGOptions controls SolveCG.
type CGOptions struct {
	// Tol is the relative residual to reach, |b - A x| <= Tol |b|;
	// 0 means 1e-10.
	Tol float64
	// MaxIter caps the iterations; 0 means 10 n + 100.
	MaxIter int
}

// CGResult reports how a solve ended.
type CGResult struct {
	Iterations int
	Residual   float64 // final |b - A x| / |b| (0 when b = 0)
}

// ErrNotConverged is wrapped by SolveCG's error when the iteration cap was
// reached before the tolerance.
var ErrNotConverged = errors.New("conjugate gradients did not converge")

// SolveCG solves A x = b for a symmetric positive definite A by conjugate
// gradients with the Jacobi (diagonal) preconditioner (Saad, "Iterative
// Methods for Sparse Linear Systems", 2nd ed. 2003, Algorithm 9.1). x holds
// the initial guess on entry (a warm start: the previous solution of a
// slowly changing system; zeros otherwise) and the solution on return. The
// residual is recomputed from scratch every 50 iterations, and at the end,
// so rounding drift cannot fake convergence. A non-positive diagonal entry
// or curvature p^T A p is an error (A is not SPD), as is reaching the cap.
func SolveCG(a *CSR, x, b []float64, opt CGOptions) (CGResult, error) {
	n := a.N
	if len(x) != n || len(b) != n {
		return CGResult{}, fmt.Errorf("optimize: CG on a %dx%d matrix with %d unknowns and %d right-hand sides", n, n, len(x), len(b))
	}
	tol := opt.Tol
	if tol <= 0 {
		tol = 1e-10
	}
	maxIter := opt.MaxIter
	if maxIter <= 0 {
		maxIter = 10*n + 100
	}
	bnorm := norm(b)
	if bnorm == 0 {
		clear(x)
		return CGResult{}, nil
	}
	if math.IsNaN(bnorm) || math.IsInf(bnorm, 0) {
		return CGResult{}, fmt.Errorf("optimize: CG right-hand side has norm %g", bnorm)
	}
	if slices.ContainsFunc(x, func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }) {
		clear(x) // an unusable warm start
	}
	inv := make([]float64, n)
	for i := range n {
		d := a.At(i, i)
		if !(d > 0) {
			return CGResult{}, fmt.Errorf("optimize: CG: diagonal entry %d is %g, the matrix is not positive definite", i, d)
		}
		inv[i] = 1 / d
	}
	r := make([]float64, n)
	z := make([]float64, n)
	p := make([]float64, n)
	q := make([]float64, n)
	residual := func() float64 { // r = b - A x, returns |r|
		a.MulVec(r, x)
		for i := range r {
			r[i] = b[i] - r[i]
		}
		return norm(r)
	}
	rnorm := residual()
	if rnorm <= tol*bnorm {
		return CGResult{Residual: rnorm / bnorm}, nil
	}
	rz := 0.0
	for i := range n {
		z[i] = inv[i] * r[i]
		p[i] = z[i]
		rz += r[i] * z[i]
	}
	for it := 1; it <= maxIter; it++ {
		a.MulVec(q, p)
		pq := dot(p, q)
		if !(pq > 0) {
			return CGResult{Iterations: it, Residual: rnorm / bnorm},
				fmt.Errorf("optimize: CG: curvature %g at iteration %d, the matrix is not positive definite", pq, it)
		}
		alpha := rz / pq
		for i := range n {
			x[i] += alpha * p[i]
		}
		if it%50 == 0 {
			rnorm = residual()
		} else {
			s := 0.0
			for i := range n {
				r[i] -= alpha * q[i]
				s += r[i] * r[i]
			}
			rnorm = math.Sqrt(s)
		}
		if rnorm <= tol*bnorm {
			// Confirm with the true residual.
			if rnorm = residual(); rnorm <= tol*bnorm {
				return CGResult{Iterations: it, Residual: rnorm / bnorm}, nil
			}
		}
		rzNew := 0.0
		for i := range n {
			z[i] = inv[i] * r[i]
			rzNew += r[i] * z[i]
		}
		beta := rzNew / rz
		rz = rzNew
		for i := range n {
			p[i] = z[i] + beta*p[i]
		}
	}
	return CGResult{Iterations: maxIter, Residual: rnorm / bnorm},
		fmt.Errorf("optimize: %w in %d iterations (relative residual %.3g, wanted %.3g)", ErrNotConverged, maxIter, rnorm/bnorm, tol)
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func norm(a []float64) float64 { return math.Sqrt(dot(a, a)) }
