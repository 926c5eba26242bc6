package exr

import "math"

// Half-precision (IEEE 754 binary16) conversions: 1 sign bit, 5 exponent
// bits (bias 15), 10 mantissa bits. Normal numbers span 2^-14 .. 65504,
// subnormals go down to 2^-24; exponent 31 encodes Inf (mantissa 0) and NaN.

// HalfToFloat64 returns the value of the half-precision number with bits h.
// Every half value, including subnormals, infinities and NaN payloads, is
// represented exactly.
func HalfToFloat64(h uint16) float64 {
	sign := uint64(h>>15) << 63
	exp := int(h>>10) & 0x1f
	mant := uint64(h & 0x3ff)
	switch exp {
	case 0:
		// Zero or subnormal: mant * 2^-24.
		v := float64(mant) * (1.0 / (1 << 24))
		if sign != 0 {
			v = -v
		}
		return v
	case 0x1f:
		if mant == 0 {
			return math.Float64frombits(sign | 0x7ff<<52)
		}
		// NaN: keep the payload in the top mantissa bits.
		return math.Float64frombits(sign | 0x7ff<<52 | mant<<42)
	}
	return math.Float64frombits(sign | uint64(exp-15+1023)<<52 | mant<<42)
}

// Float64ToHalf returns the half-precision number nearest to f, ties to
// even, as IEEE 754 prescribes: values beyond the largest half (65504, or
// rather from 65520 on, the midpoint to the next power of two) become
// infinities, tiny values become subnormals or signed zeros, NaN stays NaN
// (quiet, with the top payload bits kept). The rounding is done once from
// the float64 value, so there is no double-rounding error.
func Float64ToHalf(f float64) uint16 {
	b := math.Float64bits(f)
	sign := uint16(b>>48) & 0x8000
	exp := int(b>>52) & 0x7ff
	mant := b & (1<<52 - 1)
	if exp == 0x7ff {
		if mant == 0 {
			return sign | 0x7c00
		}
		return sign | 0x7e00 | uint16(mant>>42)&0x3ff
	}
	// e is the biased half exponent of f's leading bit.
	e := exp - 1023 + 15
	if e >= 31 {
		return sign | 0x7c00
	}
	if e <= 0 {
		// Subnormal result (or zero): the half mantissa counts units of
		// 2^-24. f = 1.m * 2^(e-15), so f / 2^-24 = (1<<52 | m) >> (43 - e).
		if e < -10 {
			// f < 2^-25, at most half the smallest subnormal: rounds to 0
			// (exactly 2^-25 is a tie that goes to the even 0, and it has
			// e == -10, handled below).
			return sign
		}
		m := mant | 1<<52
		shift := uint(43 - e)
		r := m >> shift
		rem := m & (1<<shift - 1)
		halfway := uint64(1) << (shift - 1)
		if rem > halfway || (rem == halfway && r&1 == 1) {
			r++ // may carry into the exponent: 0x400 is the smallest normal
		}
		return sign | uint16(r)
	}
	r := uint16(e)<<10 | uint16(mant>>42)
	rem := mant & (1<<42 - 1)
	const halfway = 1 << 41
	if rem > halfway || (rem == halfway && r&1 == 1) {
		r++ // a carry out of the mantissa bumps the exponent, up to Inf
	}
	return sign | r
}
