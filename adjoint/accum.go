package adjoint

import "math"

// accum is one goroutine's gradient accumulator over a gradSpace: terms of
// the current tile are summed in float64 (val), then flushed exactly into
// fixed-point sums (see exact.go), which makes the reduction over
// goroutines order-independent.
type accum struct {
	val     []float64
	mark    []bool
	touched []int32
	exact   []fixedSum
	dropped int64 // NaN, infinite or overflowing terms

	// Optional per-pixel gradient image: obs is the scene-level tangent;
	// every term adds term*obs[i] to pix.
	obs []float64
	pix float64
}

func newAccum(size int, obs []float64) *accum {
	return &accum{
		val:   make([]float64, size),
		mark:  make([]bool, size),
		exact: make([]fixedSum, size),
		obs:   obs,
	}
}

// add adds v to component off+k (off < 0: inactive segment, ignored).
func (a *accum) add(off int32, k int, v float64) {
	if off < 0 || v == 0 {
		return
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		a.dropped++
		return
	}
	i := int(off) + k
	if !a.mark[i] {
		a.mark[i] = true
		a.touched = append(a.touched, int32(i))
	}
	a.val[i] += v
	if a.obs != nil {
		a.pix += v * a.obs[i]
	}
}

// add3 adds a vector to components off+3*j .. off+3*j+2.
func (a *accum) add3(off int32, j int, v [3]float64) {
	if off < 0 {
		return
	}
	a.add(off, 3*j, v[0])
	a.add(off, 3*j+1, v[1])
	a.add(off, 3*j+2, v[2])
}

// flush moves the tile's sums into the exact accumulators.
func (a *accum) flush() {
	for _, i := range a.touched {
		if !a.exact[i].add(a.val[i]) {
			a.dropped++
		}
		a.val[i] = 0
		a.mark[i] = false
	}
	a.touched = a.touched[:0]
}

// reduce sums the accumulators exactly and returns the float64 totals.
func reduce(accs []*accum, size int) ([]float64, int64) {
	out := make([]float64, size)
	var dropped int64
	for _, a := range accs {
		dropped += a.dropped
	}
	for i := 0; i < size; i++ {
		var f fixedSum
		for _, a := range accs {
			f.merge(&a.exact[i])
		}
		out[i] = f.value()
	}
	return out, dropped
}
