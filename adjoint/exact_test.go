package adjoint

import (
	"math"
	"math/rand"
	"testing"
)

func TestFixedSumOrderIndependent(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	vals := make([]float64, 5000)
	for i := range vals {
		vals[i] = (rng.Float64() - 0.5) * math.Pow(10, float64(rng.Intn(24)-12))
	}
	var a fixedSum
	for _, v := range vals {
		if !a.add(v) {
			t.Fatalf("add(%g) rejected", v)
		}
	}
	// Same terms in another order, split over two accumulators.
	var b, c fixedSum
	perm := rng.Perm(len(vals))
	for i, j := range perm {
		if i%3 == 0 {
			b.add(vals[j])
		} else {
			c.add(vals[j])
		}
	}
	b.merge(&c)
	if a != b {
		t.Fatalf("limbs differ: %v vs %v", a, b)
	}
	// Against a high-precision reference (Neumaier summation of the same
	// terms): the truncation below 2^-80 is far below float64 resolution
	// of the total.
	sum, comp := 0.0, 0.0
	for _, v := range vals {
		s := sum + v
		if math.Abs(sum) >= math.Abs(v) {
			comp += (sum - s) + v
		} else {
			comp += (v - s) + sum
		}
		sum = s
	}
	want := sum + comp
	if got := a.value(); math.Abs(got-want) > 1e-15*math.Abs(want)+1e-20 {
		t.Fatalf("value %v, want %v", got, want)
	}
}

func TestFixedSumEdgeCases(t *testing.T) {
	var f fixedSum
	if f.add(math.NaN()) || f.add(math.Inf(1)) || f.add(1e30) {
		t.Fatal("NaN, Inf or overflow accepted")
	}
	for _, v := range []float64{1, -1, 0.5, -0.25, 1e-24, -1e-24, 3e20, -3e20, 7} {
		f.add(v)
	}
	if got := f.value(); math.Abs(got-7.25) > 1e-12 {
		t.Fatalf("got %v, want 7.25", got)
	}
	var g fixedSum
	g.add(-1e-30) // below the resolution: truncated toward -inf
	if v := g.value(); v > 0 || v < -1e-24 {
		t.Fatalf("tiny term gave %v", v)
	}
}
