package adjoint

import "math"

// Exact accumulation. Gradients are sums of millions of per-sample terms
// computed on many goroutines. Summing them in float64 in whatever order the
// goroutines happen to finish gives results that change with the number of
// goroutines. Instead every goroutine sums the terms of one tile (a fixed
// piece of work, always in the same order) in float64, then adds the tile's
// sums into a fixed-point accumulator. Fixed-point addition is exact and
// therefore associative, so the total does not depend on which goroutine
// handled which tile: gradients are identical bit for bit with 1 or N
// goroutines.
//
// A fixedSum holds a value as sum_k w[k] * 2^(30k + fixedLSB): four 30-bit
// limbs, the top one signed with headroom. It represents multiples of
// 2^-80 (8e-25) exactly; terms must stay below 2^62 (4.6e18); smaller parts of a term are
// truncated (deterministically), larger terms are rejected as overflow.
type fixedSum [fixedLimbs]int64

const (
	fixedLimbs = 4
	fixedBits  = 30
	fixedMask  = 1<<fixedBits - 1
	fixedLSB   = -80
	// fixedMaxExp: terms of magnitude 2^fixedMaxExp or more are rejected,
	// which keeps a term's limbs within the top limb's reach.
	fixedMaxExp = 62
)

// add adds v exactly (up to the truncation below 2^fixedLSB). It returns
// false, adding nothing, for NaN, infinities and values too large.
func (f *fixedSum) add(v float64) bool {
	if v == 0 {
		return true
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return false
	}
	frac, exp := math.Frexp(v) // v = frac * 2^exp, 0.5 <= |frac| < 1
	if exp >= fixedMaxExp {
		return false
	}
	mi := int64(frac * (1 << 53)) // exact: 53-bit signed integer
	shift := exp - 53 - fixedLSB  // bit position of mi's LSB
	if shift < 0 {
		if shift <= -64 {
			return true
		}
		mi >>= uint(-shift) // floor: deterministic truncation
		shift = 0
		if mi == 0 {
			return true
		}
	}
	k := shift / fixedBits
	r := uint(shift % fixedBits)
	lo := mi & fixedMask
	hi := mi >> fixedBits // |hi| < 2^24
	hi2 := hi >> fixedBits
	hi &= fixedMask
	// mi = hi2*2^60 + hi*2^30 + lo, with lo, hi in [0, 2^30).
	f.addLimb(k, lo<<r)
	f.addLimb(k+1, hi<<r)
	f.addLimb(k+2, hi2<<r)
	return true
}

// addLimb adds x (|x| < 2^60) to limb k and propagates the carry. A limb
// index past the top (only a term's sign extension reaches there) is folded
// into the top limb.
func (f *fixedSum) addLimb(k int, x int64) {
	if x == 0 {
		return
	}
	if k >= fixedLimbs {
		x <<= uint(fixedBits * (k - (fixedLimbs - 1)))
		k = fixedLimbs - 1
	}
	for k < fixedLimbs-1 {
		s := f[k] + x
		x = s >> fixedBits
		f[k] = s & fixedMask
		if x == 0 {
			return
		}
		k++
	}
	if k == fixedLimbs-1 {
		f[k] += x
	}
}

// merge adds another accumulator exactly.
func (f *fixedSum) merge(o *fixedSum) {
	for k := 0; k < fixedLimbs; k++ {
		if o[k] != 0 {
			f.addLimb(k, o[k])
		}
	}
}

// value converts the (normalised) sum to float64: a deterministic function
// of the exact sum.
func (f *fixedSum) value() float64 {
	v := 0.0
	for k := fixedLimbs - 1; k >= 0; k-- {
		v += math.Ldexp(float64(f[k]), fixedBits*k+fixedLSB)
	}
	return v
}
