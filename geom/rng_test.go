package geom

import (
	"math"
	"testing"

	"github.com/invrender/invrender/internal/stattest"
)

// TestPCG32Reference checks the generator against the output of the
// reference implementation's demo (pcg32-demo from pcg-c-basic, seeded with
// pcg32_srandom_r(&rng, 42u, 54u)).
func TestPCG32Reference(t *testing.T) {
	var r RNG
	r.SetSequence(54, 42)
	want := []uint32{0xa15c02b7, 0x7b47f409, 0xba1d3330, 0x83d2f293, 0xbfa4784b, 0xcbed606e}
	for i, w := range want {
		if got := r.Uint32(); got != w {
			t.Fatalf("output %d = %#08x, want %#08x", i, got, w)
		}
	}
}

func TestRNGReproducible(t *testing.T) {
	keys := [][4]uint64{{0, 0, 0, 0}, {1, 2, 3, 4}, {42, 1 << 40, 7, 3}, {math.MaxUint64, math.MaxUint64, math.MaxUint64, math.MaxUint64}}
	for _, k := range keys {
		a := NewRNG(k[0], k[1], k[2], k[3])
		b := NewRNG(k[0], k[1], k[2], k[3])
		for i := 0; i < 1000; i++ {
			if x, y := a.Uint32(), b.Uint32(); x != y {
				t.Fatalf("key %v, output %d: %#x and %#x", k, i, x, y)
			}
		}
	}
	// The stream depends only on the key, not on what was drawn before
	// from other streams.
	a := NewRNG(5, 6, 7, 8)
	first := a.Uint64()
	other := NewRNG(5, 6, 7, 9)
	for range 100 {
		other.Uint64()
	}
	if b := NewRNG(5, 6, 7, 8); b.Uint64() != first {
		t.Error("stream changed after drawing from another stream")
	}
}

// TestRNGStreamsDistinct draws the first outputs of thousands of streams
// with neighbouring keys (every key component varied) and checks that no
// two streams share an output pair anywhere in their first eight outputs:
// no repeated stream and no stream that is a shifted copy of another. By
// chance a collision among 2^17 pairs of 64 bits has probability 5e-10.
func TestRNGStreamsDistinct(t *testing.T) {
	seen := make(map[uint64][4]uint64, 1<<17)
	var dup int
	for seed := uint64(0); seed < 2; seed++ {
		for pixel := uint64(0); pixel < 64; pixel++ {
			for sample := uint64(0); sample < 16; sample++ {
				for dim := uint64(0); dim < 8; dim++ {
					r := NewRNG(seed, pixel, sample, dim)
					prev := r.Uint32()
					for i := 0; i < 8; i++ {
						cur := r.Uint32()
						pair := uint64(prev)<<32 | uint64(cur)
						key := [4]uint64{seed, pixel, sample, dim}
						if k, ok := seen[pair]; ok && k != key {
							dup++
							if dup < 5 {
								t.Errorf("streams %v and %v share the output pair %#x", k, key, pair)
							}
						}
						seen[pair] = key
						prev = cur
					}
				}
			}
		}
	}
	if dup > 0 {
		t.Errorf("%d shared output pairs", dup)
	}
}

func TestRNGFloat64Moments(t *testing.T) {
	r := NewRNG(1, 2, 3, 4)
	const n = 1_000_000
	var sum, sum2 float64
	for range n {
		x := r.Float64()
		if !(x >= 0 && x < 1) {
			t.Fatalf("Float64() = %v outside [0, 1)", x)
		}
		sum += x
		sum2 += x * x
	}
	mean := sum / n
	variance := sum2/n - mean*mean
	// Standard errors: sqrt(1/12/n) = 2.9e-4 for the mean, sqrt(1/180/n)
	// = 7.5e-5 for the variance; allow five.
	if math.Abs(mean-0.5) > 5*2.9e-4 {
		t.Errorf("mean %v, want 0.5", mean)
	}
	if math.Abs(variance-1.0/12) > 5*7.5e-5 {
		t.Errorf("variance %v, want 1/12", variance)
	}
}

// TestRNGUniformChiSquare histograms Float64 along one stream, pairs of
// consecutive outputs (serial correlation), and the first output of many
// neighbouring streams (correlation between keys, which hashing must
// remove), and tests each histogram for uniformity.
func TestRNGUniformChiSquare(t *testing.T) {
	const tests = 3
	alpha := stattest.SidakAlpha(0.01, tests)
	check := func(name string, obs []float64, n int) {
		exp := make([]float64, len(obs))
		for i := range exp {
			exp[i] = float64(n) / float64(len(obs))
		}
		chi2, dof, p := stattest.ChiSquare(obs, exp, 5)
		if p < alpha {
			t.Errorf("%s: chi2 = %.1f, dof = %d, p = %.3g < %.3g", name, chi2, dof, p, alpha)
		} else {
			t.Logf("%s: chi2 = %.1f, dof = %d, p = %.3g", name, chi2, dof, p)
		}
	}
	const n = 500_000
	one := make([]float64, 1000)
	r := NewRNG(9, 9, 9, 9)
	for range n {
		one[int(r.Float64()*1000)]++
	}
	check("one stream, 1000 bins", one, n)

	pairs := make([]float64, 32*32)
	for range n {
		a, b := r.Float64(), r.Float64()
		pairs[int(a*32)*32+int(b*32)]++
	}
	check("consecutive pairs, 32x32 bins", pairs, n)

	firsts := make([]float64, 1000)
	for pixel := uint64(0); pixel < n/4; pixel++ {
		for dim := uint64(0); dim < 4; dim++ {
			r := NewRNG(0, pixel, 0, dim)
			firsts[int(r.Float64()*1000)]++
		}
	}
	check("first output of neighbouring streams", firsts, n)
}

func TestRNGIntn(t *testing.T) {
	r := NewRNG(3, 1, 4, 1)
	for _, n := range []int{1, 2, 3, 7, 10, 1000, 1<<31 - 1, 1 << 32, 1<<32 + 1, 1 << 40, 1<<53 + 3, math.MaxInt} {
		var upperHalf int
		const draws = 2000
		for range draws {
			k := r.Intn(n)
			if k < 0 || k >= n {
				t.Fatalf("Intn(%d) = %d", n, k)
			}
			if k >= n-n/2 {
				upperHalf++
			}
		}
		// The upper n/2 values (rounded down) take their share of the
		// draws, within five standard deviations (at most 23 of 2000).
		want := draws * float64(n/2) / float64(n)
		if math.Abs(float64(upperHalf)-want) > 5*math.Sqrt(draws/4) {
			t.Errorf("Intn(%d): %d of %d draws in the upper half, want about %.0f", n, upperHalf, draws, want)
		}
	}
	// Every value of a small range turns up, about equally often.
	counts := make([]float64, 7)
	const n = 70_000
	for range n {
		counts[r.Intn(7)]++
	}
	exp := []float64{n / 7, n / 7, n / 7, n / 7, n / 7, n / 7, n / 7}
	if chi2, dof, p := stattest.ChiSquare(counts, exp, 5); p < 1e-3 {
		t.Errorf("Intn(7) counts %v: chi2 = %.1f (dof %d), p = %.3g", counts, chi2, dof, p)
	}
}

func TestRNGNoAllocs(t *testing.T) {
	var sink float64
	allocs := testing.AllocsPerRun(100, func() {
		r := NewRNG(1, 2, 3, 4)
		sink += r.Float64() + float64(r.Intn(10)) + float64(r.Uint64()&1)
	})
	if allocs != 0 {
		t.Errorf("%v allocations", allocs)
	}
	_ = sink
}

func BenchmarkNewRNG(b *testing.B) {
	b.ReportAllocs()
	var s uint32
	for i := 0; b.Loop(); i++ {
		r := NewRNG(7, uint64(i), 3, 1)
		s += r.Uint32()
	}
	_ = s
}

func BenchmarkRNGFloat64(b *testing.B) {
	b.ReportAllocs()
	r := NewRNG(1, 2, 3, 4)
	var s float64
	for b.Loop() {
		s += r.Float64()
	}
	_ = s
}

func BenchmarkRNGIntn(b *testing.B) {
	b.ReportAllocs()
	r := NewRNG(1, 2, 3, 4)
	var s int
	for b.Loop() {
		s += r.Intn(1000)
	}
	_ = s
}
