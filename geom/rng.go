package geom

import "math/bits"

// RNG is a PCG32 generator (O'Neill, "PCG: A Family of Simple Fast
// Space-Efficient Statistically Good Algorithms for Random Number
// Generation", 2014): 64-bit state, 32-bit output (XSH-RR).
//
// Streams are addressed, not shared: NewRNG derives the state and the stream
// selector by hashing (seed, pixel, sample, dimension), as pbrt-v4's
// independent sampler does. A pixel sample's numbers therefore depend only on
// those four integers, never on which goroutine drew them or in what order
// pixels were visited; and the same numbers can be replayed for finite
// differences and for the backward pass.
type RNG struct {
	state, inc uint64
}

const pcgMult = 6364136223846793005

// Mix64 is a 64-bit finaliser (the MurmurHash3 / SplitMix64 mixer): a cheap
// bijection with full avalanche.
func Mix64(v uint64) uint64 {
	v ^= v >> 31
	v *= 0x7fb5d329728ea185
	v ^= v >> 27
	v *= 0x81dadef4bc2dd44d
	v ^= v >> 33
	return v
}

// Hash4 hashes four integers into one 64-bit value.
func Hash4(a, b, c, d uint64) uint64 {
	return Mix64(HashPrefix(a, b, c) ^ (d + 0x2545f4914f6cdd1d))
}

// NewRNG returns the generator for stream (seed, pixel, sample, dim).
func NewRNG(seed, pixel, sample, dim uint64) RNG {
	return NewRNGPrefix(HashPrefix(seed, pixel, sample), dim)
}

// HashPrefix hashes the first three keys of a stream: NewRNGPrefix(
// HashPrefix(seed, pixel, sample), dim) equals NewRNG(seed, pixel, sample,
// dim), and a path that opens a stream per bounce hashes its sample once.
func HashPrefix(seed, pixel, sample uint64) uint64 {
	h := Mix64(seed + 0x9e3779b97f4a7c15)
	h = Mix64(h ^ (pixel + 0x632be59bd9b4e019))
	return Mix64(h ^ (sample + 0x8cb92ba72f3d8dd7))
}

// NewRNGPrefix returns the generator for stream dim of a hashed prefix.
func NewRNGPrefix(prefix, dim uint64) RNG {
	h := Mix64(prefix ^ (dim + 0x2545f4914f6cdd1d))
	var r RNG
	r.SetSequence(h, Mix64(h^0xda942042e4dd58b5))
	return r
}

// SetSequence initialises the generator with a stream selector and an
// offset, as in the reference pcg32_srandom_r.
func (r *RNG) SetSequence(seq, offset uint64) {
	r.state = 0
	r.inc = seq<<1 | 1
	r.Uint32()
	r.state += offset
	r.Uint32()
}

// Uint32 returns the next 32 random bits.
func (r *RNG) Uint32() uint32 {
	old := r.state
	r.state = old*pcgMult + r.inc
	xorshifted := uint32(((old >> 18) ^ old) >> 27)
	rot := uint32(old >> 59)
	return xorshifted>>rot | xorshifted<<((-rot)&31)
}

// Float64 returns a uniform number in [0, 1) with 32 random bits.
func (r *RNG) Float64() float64 {
	return float64(r.Uint32()) * 0x1p-32
}

// Uint64 returns the next 64 random bits.
func (r *RNG) Uint64() uint64 {
	return uint64(r.Uint32())<<32 | uint64(r.Uint32())
}

// Intn returns a uniform integer in [0, n) for n > 0 (Lemire's method
// without the rejection step). For n <= 2^32 it draws 32 bits and the bias
// is below 2^-32 * n; for larger n it draws 64 bits and the bias is below
// 2^-64 * n.
func (r *RNG) Intn(n int) int {
	if uint64(n) <= 1<<32 {
		return int((uint64(r.Uint32()) * uint64(n)) >> 32)
	}
	hi, _ := bits.Mul64(r.Uint64(), uint64(n))
	return int(hi)
}
