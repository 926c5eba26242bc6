package exr

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"
)

func TestHalfKnownValues(t *testing.T) {
	cases := []struct {
		h uint16
		v float64
	}{
		{0x0000, 0},
		{0x3c00, 1},
		{0xc000, -2},
		{0x3800, 0.5},
		{0x3555, 0.333251953125},
		{0x7bff, 65504},
		{0x0400, math.Ldexp(1, -14)},    // smallest normal
		{0x03ff, math.Ldexp(1023, -24)}, // largest subnormal
		{0x0001, math.Ldexp(1, -24)},    // smallest subnormal
		{0x8001, -math.Ldexp(1, -24)},
		{0x7c00, math.Inf(1)},
		{0xfc00, math.Inf(-1)},
	}
	for _, c := range cases {
		if got := HalfToFloat64(c.h); got != c.v {
			t.Errorf("HalfToFloat64(%#04x) = %v, want %v", c.h, got, c.v)
		}
		if got := Float64ToHalf(c.v); got != c.h {
			t.Errorf("Float64ToHalf(%v) = %#04x, want %#04x", c.v, got, c.h)
		}
	}
	if got := Float64ToHalf(math.Copysign(0, -1)); got != 0x8000 {
		t.Errorf("-0 -> %#04x, want 0x8000", got)
	}
	if h := HalfToFloat64(0x8000); h != 0 || !math.Signbit(h) {
		t.Errorf("0x8000 -> %v, want -0", h)
	}
	for _, h := range []uint16{0x7c01, 0x7e00, 0xfe00, 0x7fff} {
		if v := HalfToFloat64(h); !math.IsNaN(v) {
			t.Errorf("HalfToFloat64(%#04x) = %v, want NaN", h, v)
		}
	}
	if h := Float64ToHalf(math.NaN()); h&0x7c00 != 0x7c00 || h&0x3ff == 0 {
		t.Errorf("NaN -> %#04x, not a NaN", h)
	}
	// Overflow and tie cases at the top of the range: 65504 + 16 = 65520 is
	// the midpoint to 65536 (the would-be next value) and rounds to even,
	// that is up, to Inf.
	for _, c := range []struct {
		v float64
		h uint16
	}{
		{65519.99, 0x7bff}, {65520, 0x7c00}, {1e300, 0x7c00}, {-1e9, 0xfc00},
		{math.Ldexp(1, -25), 0x0000},                    // tie between 0 and 2^-24: even is 0
		{math.Nextafter(math.Ldexp(1, -25), 1), 0x0001}, // just above the tie
		{math.Ldexp(3, -25), 0x0002},                    // tie between 1 and 2 units: even is 2
		{math.Ldexp(1, -26), 0},
		{1 + math.Ldexp(1, -11), 0x3c00}, // tie between 1 and 1+2^-10: even
		{1 + math.Ldexp(3, -11), 0x3c02}, // tie between 1+2^-10 and 1+2^-9: even
		{1 + math.Ldexp(1, -11) + 1e-12, 0x3c01},
		{math.Ldexp(2047, -25), 0x0400}, // rounds up from subnormal into normal
		{5e-324, 0}, {-5e-324, 0x8000},
	} {
		if got := Float64ToHalf(c.v); got != c.h {
			t.Errorf("Float64ToHalf(%v) = %#04x, want %#04x", c.v, got, c.h)
		}
	}
}

// TestHalfExhaustive checks every half value: decoding then encoding gives
// the same bits back (NaNs stay NaNs), and the values are monotonic.
func TestHalfExhaustive(t *testing.T) {
	prev := math.Inf(-1)
	for i := 0; i < 1<<16; i++ {
		h := uint16(i)
		v := HalfToFloat64(h)
		back := Float64ToHalf(v)
		if math.IsNaN(v) {
			if back&0x7c00 != 0x7c00 || back&0x3ff == 0 {
				t.Fatalf("NaN %#04x came back as %#04x", h, back)
			}
			continue
		}
		if back != h {
			t.Fatalf("%#04x -> %v -> %#04x", h, v, back)
		}
		if h < 0x7c00 && h > 0 && !(v > prev) {
			t.Fatalf("not increasing at %#04x", h)
		}
		if h < 0x7c00 {
			prev = v
		}
	}
}

// TestHalfRoundingAgainstSearch compares Float64ToHalf with the obvious
// oracle: the nearest of all finite half values (ties to the even bit
// pattern), found by binary search in the sorted table.
func TestHalfRoundingAgainstSearch(t *testing.T) {
	var vals []float64 // non-negative finite halves, index = bit pattern
	for h := 0; h < 0x7c00; h++ {
		vals = append(vals, HalfToFloat64(uint16(h)))
	}
	oracle := func(f float64) uint16 {
		a := math.Abs(f)
		var sign uint16
		if math.Signbit(f) {
			sign = 0x8000
		}
		const maxHalf = 65504.0
		if a >= maxHalf+16 { // at or past the midpoint to 2^16
			return sign | 0x7c00
		}
		i := sort.SearchFloat64s(vals, a) // first >= a
		if i == len(vals) {
			return sign | uint16(len(vals)-1)
		}
		if vals[i] == a || i == 0 {
			return sign | uint16(i)
		}
		lo, hi := vals[i-1], vals[i]
		switch {
		case a-lo < hi-a:
			return sign | uint16(i-1)
		case a-lo > hi-a:
			return sign | uint16(i)
		}
		if (i-1)&1 == 0 {
			return sign | uint16(i-1)
		}
		return sign | uint16(i)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 300000; n++ {
		var f float64
		switch n % 4 {
		case 0: // log-uniform over the whole half range and beyond
			f = math.Ldexp(1+rng.Float64(), rng.IntN(50)-30)
		case 1: // exact midpoints and their neighbours
			h := rng.IntN(0x7bff)
			mid := (vals[h] + vals[h+1]) / 2
			f = []float64{mid, math.Nextafter(mid, 0), math.Nextafter(mid, 1e9)}[rng.IntN(3)]
		case 2: // subnormal range
			f = rng.Float64() * math.Ldexp(1, -13)
		default:
			f = rng.Float64() * 70000
		}
		if rng.IntN(2) == 0 {
			f = -f
		}
		if got, want := Float64ToHalf(f), oracle(f); got != want {
			t.Fatalf("Float64ToHalf(%v) = %#04x, oracle %#04x", f, got, want)
		}
	}
}
