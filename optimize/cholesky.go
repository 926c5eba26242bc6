package optimize

import (
	"fmt"
	"math"
)

// Cholesky is a sparse Cholesky factorisation P A P^T = L L^T of a
// symmetric positive definite matrix, with P a nested-dissection ordering
// that keeps the fill of L small on mesh graphs. Factor once, then solve as
// often as needed: a solve costs two passes over L.
//
// The ordering is George's automatic nested dissection (A. George and
// J. W. H. Liu, "Computer Solution of Large Sparse Positive Definite
// Systems", Prentice-Hall 1981, chapter 8): split the graph by a level of a
// breadth-first level structure rooted at a pseudo-peripheral vertex,
// number the separator last, recurse on both halves. The symbolic analysis
// uses the elimination tree (J. W. H. Liu, "The role of elimination trees
// in sparse factorization", SIAM J. Matrix Anal. Appl. 11(1), 1990) and the
// numeric factorisation is the up-looking (row by row) algorithm of
// T. A. Davis, "Direct Methods for Sparse Linear Systems", SIAM 2006,
// chapter 4, each row a sparse triangular solve over the row's reach in the
// elimination tree.
type Cholesky struct {
	n      int
	perm   []int32 // perm[k] = original index of the k-th eliminated unknown
	colPtr []int   // column j of L: rowIdx/val[colPtr[j]:colPtr[j+1]], diagonal first
	rowIdx []int32
	val    []float64
}

// NewCholesky factorises the symmetric positive definite matrix a (both
// triangles stored). It fails, naming the pivot, where a is not symmetric
// or not positive definite.
func NewCholesky(a *CSR) (*Cholesky, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	if !a.IsSymmetric(0) {
		return nil, fmt.Errorf("optimize: Cholesky of a non-symmetric %dx%d matrix", a.N, a.N)
	}
	n := a.N
	c := &Cholesky{n: n, perm: nestedDissection(a)}
	inv := make([]int32, n)
	for k, v := range c.perm {
		inv[v] = int32(k)
	}
	w := newEtreeWork(a, c.perm, inv)

	// Symbolic: column counts of L from the row patterns.
	count := make([]int, n)
	for k := range n {
		count[k]++
		top := w.rowPattern(k)
		for _, i := range w.stack[top:] {
			count[i]++
		}
	}
	c.colPtr = make([]int, n+1)
	for j := range n {
		c.colPtr[j+1] = c.colPtr[j] + count[j]
	}
	nnz := c.colPtr[n]
	c.rowIdx = make([]int32, nnz)
	c.val = make([]float64, nnz)

	// Numeric, row by row: row k of L solves L[:k,:k] l = A'[:k, k]
	// (A' = P A P^T) over the pattern the elimination tree gives, then
	// L[k,k] = sqrt(A'[k,k] - l.l).
	next := append([]int(nil), c.colPtr[:n]...)
	x := make([]float64, n)
	for k := range n {
		top := w.rowPattern(k)
		r := c.perm[k]
		for p := a.RowPtr[r]; p < a.RowPtr[r+1]; p++ {
			if i := inv[a.Col[p]]; int(i) <= k {
				x[i] = a.Val[p]
			}
		}
		d := x[k]
		x[k] = 0
		for _, i := range w.stack[top:] {
			p0 := c.colPtr[i]
			lki := x[i] / c.val[p0]
			x[i] = 0
			rows := c.rowIdx[p0+1 : next[i]]
			vals := c.val[p0+1 : next[i]]
			vals = vals[:len(rows)]
			for q, row := range rows {
				x[row] -= vals[q] * lki
			}
			d -= lki * lki
			p := next[i]
			next[i]++
			c.rowIdx[p], c.val[p] = int32(k), lki
		}
		if !(d > 0) || math.IsInf(d, 0) {
			return nil, fmt.Errorf("optimize: Cholesky: pivot %g at unknown %d, the matrix is not positive definite", d, r)
		}
		p := next[k]
		next[k]++
		c.rowIdx[p], c.val[p] = int32(k), math.Sqrt(d)
	}
	return c, nil
}

// N returns the matrix size.
func (c *Cholesky) N() int { return c.n }

// NNZ returns the number of stored entries of L (diagonal included).
func (c *Cholesky) NNZ() int { return len(c.val) }

// Solve sets dst = A^-1 b. dst may alias b.
func (c *Cholesky) Solve(dst, b []float64) {
	c.solveStrided(dst, b, 1, make([]float64, c.n))
}

// solveStrided solves for k interleaved right-hand sides (value j of
// unknown i at k i + j), using work (length k n). dst may alias b.
func (c *Cholesky) solveStrided(dst, b []float64, k int, work []float64) {
	n := c.n
	if len(dst) != k*n || len(b) != k*n || len(work) < k*n {
		panic(fmt.Sprintf("optimize: Cholesky solve of size %d with %d right-hand sides: %d values into %d", n, k, len(b), len(dst)))
	}
	y := work[:k*n]
	for i, o := range c.perm {
		copy(y[k*i:k*i+k], b[k*int(o):k*int(o)+k])
	}
	if k == 3 {
		// Forward substitution L y = P b, by columns.
		for j := range n {
			p0, p1 := c.colPtr[j], c.colPtr[j+1]
			d := c.val[p0]
			y0, y1, y2 := y[3*j]/d, y[3*j+1]/d, y[3*j+2]/d
			y[3*j], y[3*j+1], y[3*j+2] = y0, y1, y2
			rows, vals := c.rowIdx[p0+1:p1], c.val[p0+1:p1]
			vals = vals[:len(rows)]
			for q, row := range rows {
				v, r := vals[q], 3*int(row)
				yr := y[r : r+3 : r+3]
				yr[0] -= v * y0
				yr[1] -= v * y1
				yr[2] -= v * y2
			}
		}
		// Back substitution L^T z = y, by rows of L^T (columns of L).
		for j := n - 1; j >= 0; j-- {
			p0, p1 := c.colPtr[j], c.colPtr[j+1]
			s0, s1, s2 := y[3*j], y[3*j+1], y[3*j+2]
			rows, vals := c.rowIdx[p0+1:p1], c.val[p0+1:p1]
			vals = vals[:len(rows)]
			for q, row := range rows {
				v, r := vals[q], 3*int(row)
				yr := y[r : r+3 : r+3]
				s0 -= v * yr[0]
				s1 -= v * yr[1]
				s2 -= v * yr[2]
			}
			d := c.val[p0]
			y[3*j], y[3*j+1], y[3*j+2] = s0/d, s1/d, s2/d
		}
	} else {
		for j := range n {
			p0, p1 := c.colPtr[j], c.colPtr[j+1]
			yj := y[j] / c.val[p0]
			y[j] = yj
			for p := p0 + 1; p < p1; p++ {
				y[c.rowIdx[p]] -= c.val[p] * yj
			}
		}
		for j := n - 1; j >= 0; j-- {
			p0, p1 := c.colPtr[j], c.colPtr[j+1]
			s := y[j]
			for p := p0 + 1; p < p1; p++ {
				s -= c.val[p] * y[c.rowIdx[p]]
			}
			y[j] = s / c.val[p0]
		}
	}
	for i, o := range c.perm {
		copy(dst[k*int(o):k*int(o)+k], y[k*i:k*i+k])
	}
}

// etreeWork holds the elimination tree of P A P^T and the scratch of the
// row-pattern search.
type etreeWork struct {
	a      *CSR
	perm   []int32
	inv    []int32
	parent []int32
	mark   []int32
	path   []int32
	stack  []int32
}

// newEtreeWork computes the elimination tree of P A P^T: parent[i] is the
// row of the first off-diagonal nonzero of column i of L. Liu's algorithm
// with path compression through ancestor links.
func newEtreeWork(a *CSR, perm, inv []int32) *etreeWork {
	n := a.N
	w := &etreeWork{a: a, perm: perm, inv: inv,
		parent: make([]int32, n), mark: make([]int32, n), path: make([]int32, n), stack: make([]int32, n)}
	anc := make([]int32, n)
	for k := range n {
		w.parent[k], anc[k], w.mark[k] = -1, -1, -1
		r := perm[k]
		for p := a.RowPtr[r]; p < a.RowPtr[r+1]; p++ {
			i := inv[a.Col[p]]
			for i != -1 && int(i) < k {
				next := anc[i]
				anc[i] = int32(k)
				if next == -1 {
					w.parent[i] = int32(k)
				}
				i = next
			}
		}
	}
	return w
}

// rowPattern writes the column indices of the off-diagonal nonzeros of row
// k of L into stack[top:] in topological order (every node before its
// ancestors in the elimination tree) and returns top: the nodes reached
// from the nonzeros of A'[:k, k] walking up the tree until k.
func (w *etreeWork) rowPattern(k int) int {
	n := len(w.stack)
	top := n
	w.mark[k] = int32(k)
	r := w.perm[k]
	for p := w.a.RowPtr[r]; p < w.a.RowPtr[r+1]; p++ {
		i := w.inv[w.a.Col[p]]
		if int(i) >= k {
			continue
		}
		l := 0
		for w.mark[i] != int32(k) {
			w.path[l] = i
			l++
			w.mark[i] = int32(k)
			i = w.parent[i]
		}
		for l > 0 {
			l--
			top--
			w.stack[top] = w.path[l]
		}
	}
	return top
}

// ndLeafSize is the region size below which nested dissection stops
// splitting.
const ndLeafSize = 16

// nestedDissection returns an elimination order (perm[k] = vertex
// eliminated k-th) of the graph of a's off-diagonal pattern: each region is
// split by a separator taken from the middle level of a breadth-first level
// structure rooted at a pseudo-peripheral vertex, keeping only the vertices
// of that level adjacent to the next one (George and Liu 1981, section
// 8.2); separators are numbered after the regions they separate.
func nestedDissection(a *CSR) []int32 {
	n := a.N
	perm := make([]int32, n)
	next := n
	label := make([]int32, n) // region of an unnumbered vertex; -1 once numbered
	level := make([]int32, n)
	order := make([]int32, 0, n)
	var starts []int
	for i := range level {
		level[i] = -1
	}
	number := func(vs []int32) {
		for i := len(vs) - 1; i >= 0; i-- {
			next--
			perm[next] = vs[i]
			label[vs[i]] = -1
		}
	}
	// bfs fills order with the region's vertices reachable from root, by
	// level, starts with the level boundaries, and leaves level[] set for
	// them (the caller resets it).
	bfs := func(root int32, id int32) {
		order = append(order[:0], root)
		starts = append(starts[:0], 0)
		level[root] = 0
		for head, lv := 0, int32(0); head < len(order); {
			end := len(order)
			for ; head < end; head++ {
				v := order[head]
				for p := a.RowPtr[v]; p < a.RowPtr[v+1]; p++ {
					u := a.Col[p]
					if label[u] == id && level[u] < 0 {
						level[u] = lv + 1
						order = append(order, u)
					}
				}
			}
			lv++
			starts = append(starts, end) // level lv-1 is order[starts[lv-1]:end]
		}
	}
	reset := func() {
		for _, v := range order {
			level[v] = -1
		}
	}
	all := make([]int32, n)
	for i := range all {
		all[i] = int32(i)
	}
	stack := [][]int32{all}
	nextID := int32(0)
	for len(stack) > 0 {
		region := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		id := nextID
		nextID++
		for _, v := range region {
			label[v] = id
		}
		if len(region) <= ndLeafSize {
			number(region)
			continue
		}
		bfs(region[0], id)
		if len(order) < len(region) {
			// Disconnected: dissect the component of region[0] now and
			// the rest later.
			var rest []int32
			for _, v := range region {
				if level[v] < 0 {
					rest = append(rest, v)
				}
			}
			comp := append([]int32(nil), order...)
			reset()
			stack = append(stack, rest, comp)
			continue
		}
		// Pseudo-peripheral root (Gibbs, Poole and Stockmeyer): restart
		// from a vertex of least degree in the last level while the
		// eccentricity grows.
		for range 8 {
			ecc := len(starts) - 2
			last := order[starts[ecc]:starts[ecc+1]]
			best := last[0]
			for _, v := range last[1:] {
				if a.RowPtr[v+1]-a.RowPtr[v] < a.RowPtr[best+1]-a.RowPtr[best] {
					best = v
				}
			}
			reset()
			bfs(best, id)
			if len(starts)-2 <= ecc {
				break
			}
		}
		nlev := len(starts) - 1
		if nlev < 3 {
			reset()
			number(region)
			continue
		}
		// Separator level j: where the cumulative count passes half,
		// with a level on each side.
		j := 1
		for j < nlev-2 && starts[j+1] < len(region)/2 {
			j++
		}
		var sep, lower, upper []int32
		for _, v := range order[starts[j]:starts[j+1]] {
			adj := false
			for p := a.RowPtr[v]; p < a.RowPtr[v+1]; p++ {
				if u := a.Col[p]; label[u] == id && level[u] == int32(j+1) {
					adj = true
					break
				}
			}
			if adj {
				sep = append(sep, v)
			} else {
				lower = append(lower, v)
			}
		}
		lower = append(append([]int32(nil), order[:starts[j]]...), lower...)
		upper = append(upper, order[starts[j+1]:]...)
		reset()
		number(sep)
		if len(lower) > 0 {
			stack = append(stack, lower)
		}
		stack = append(stack, upper)
	}
	return perm
}
