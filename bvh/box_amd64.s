//go:build !purego

#include "textflag.h"

// func boxTest4(n *node, r *rayBox, t *[4]float64) (mask int)
//
// The fast-path slab test of walk for the four children of n, two children
// per SSE2 register: the same IEEE operations as the scalar Go code
// (float32 planes widened exactly to float64, subtraction, multiplication),
// entry = max(near x, near y, near z, tmin), exit = min(far x, far y,
// far z, tmax), hit = entry <= exit; it stores the entries in t and returns
// the mask of children hit. MAXPD and MINPD return their second operand
// when the two compare equal, so an entry that equals tmin (+0 or more) is
// tmin itself and never -0, and entries order as their bits. No operand is
// NaN on the fast path (finite inverse directions and tmin >= 0).
//
// It then prefetches every child, hit or not, into the cache: an interior
// child's node (its two cache lines and the next, which holds its first
// child when that is interior), a leaf's first three cache lines of
// triangles. Measured on the dense scene, this prefetching makes the
// incoherent and shadow rays 20% faster; prefetching only the children
// hit (a branch per child) was slower than prefetching all four. A
// prefetch never faults, so the address of an unused child (index -1)
// needs no care.
TEXT ·boxTest4(SB), NOSPLIT, $0-32
	MOVQ n+0(FP), AX
	MOVQ r+8(FP), BX
	MOVQ t+16(FP), CX
	// Byte offsets of the near and far planes of x, y, z.
	MOVQ 88(BX), R8
	MOVQ 96(BX), R9
	MOVQ 104(BX), R10
	MOVQ 112(BX), R11
	MOVQ 120(BX), R12
	MOVQ 128(BX), R13
	// Origin, inverse direction for near planes, widened inverse for far
	// planes and tmin, each in both lanes. (rayBox holds single values:
	// pairs stored by Go as two 8-byte halves and loaded whole would stall
	// store-to-load forwarding.)
	MOVSD 0(BX), X6
	UNPCKLPD X6, X6
	MOVSD 8(BX), X7
	UNPCKLPD X7, X7
	MOVSD 16(BX), X8
	UNPCKLPD X8, X8
	MOVSD 24(BX), X9
	UNPCKLPD X9, X9
	MOVSD 32(BX), X10
	UNPCKLPD X10, X10
	MOVSD 40(BX), X11
	UNPCKLPD X11, X11
	MOVSD 48(BX), X12
	UNPCKLPD X12, X12
	MOVSD 56(BX), X13
	UNPCKLPD X13, X13
	MOVSD 64(BX), X14
	UNPCKLPD X14, X14
	MOVSD 72(BX), X15
	UNPCKLPD X15, X15

	// Children 0 and 1.
	CVTPS2PD (AX)(R8*1), X0
	SUBPD X6, X0
	MULPD X9, X0
	CVTPS2PD (AX)(R9*1), X1
	SUBPD X7, X1
	MULPD X10, X1
	CVTPS2PD (AX)(R10*1), X2
	SUBPD X8, X2
	MULPD X11, X2
	MAXPD X1, X0
	MAXPD X2, X0
	MAXPD X15, X0
	CVTPS2PD (AX)(R11*1), X3
	SUBPD X6, X3
	MULPD X12, X3
	CVTPS2PD (AX)(R12*1), X4
	SUBPD X7, X4
	MULPD X13, X4
	CVTPS2PD (AX)(R13*1), X5
	SUBPD X8, X5
	MULPD X14, X5
	MINPD X4, X3
	MINPD X5, X3
	MOVSD 80(BX), X1
	UNPCKLPD X1, X1
	MINPD X1, X3
	MOVUPD X0, 0(CX)
	CMPPD X3, X0, $2 // entry <= exit
	MOVMSKPD X0, DX

	// Children 2 and 3.
	CVTPS2PD 8(AX)(R8*1), X0
	SUBPD X6, X0
	MULPD X9, X0
	CVTPS2PD 8(AX)(R9*1), X1
	SUBPD X7, X1
	MULPD X10, X1
	CVTPS2PD 8(AX)(R10*1), X2
	SUBPD X8, X2
	MULPD X11, X2
	MAXPD X1, X0
	MAXPD X2, X0
	MAXPD X15, X0
	CVTPS2PD 8(AX)(R11*1), X3
	SUBPD X6, X3
	MULPD X12, X3
	CVTPS2PD 8(AX)(R12*1), X4
	SUBPD X7, X4
	MULPD X13, X4
	CVTPS2PD 8(AX)(R13*1), X5
	SUBPD X8, X5
	MULPD X14, X5
	MINPD X4, X3
	MINPD X5, X3
	MOVSD 80(BX), X1
	UNPCKLPD X1, X1
	MINPD X1, X3
	MOVUPD X0, 16(CX)
	CMPPD X3, X0, $2
	MOVMSKPD X0, SI
	SHLQ $2, SI
	ORQ SI, DX

	// Prefetch the children: a node's two cache lines, a leaf's first
	// triangles.
	MOVQ 136(BX), R8
	MOVQ 144(BX), R9
	MOVLQSX 96(AX), R10
	MOVBQZX 112(AX), R11
	MOVQ R10, R12
	SHLQ $7, R12
	ADDQ R8, R12
	IMUL3Q $72, R10, R13
	ADDQ R9, R13
	TESTQ R11, R11
	CMOVQNE R13, R12
	PREFETCHT0 (R12)
	PREFETCHT0 64(R12)
	PREFETCHT0 128(R12)
	MOVLQSX 100(AX), R10
	MOVBQZX 113(AX), R11
	MOVQ R10, R12
	SHLQ $7, R12
	ADDQ R8, R12
	IMUL3Q $72, R10, R13
	ADDQ R9, R13
	TESTQ R11, R11
	CMOVQNE R13, R12
	PREFETCHT0 (R12)
	PREFETCHT0 64(R12)
	PREFETCHT0 128(R12)
	MOVLQSX 104(AX), R10
	MOVBQZX 114(AX), R11
	MOVQ R10, R12
	SHLQ $7, R12
	ADDQ R8, R12
	IMUL3Q $72, R10, R13
	ADDQ R9, R13
	TESTQ R11, R11
	CMOVQNE R13, R12
	PREFETCHT0 (R12)
	PREFETCHT0 64(R12)
	PREFETCHT0 128(R12)
	MOVLQSX 108(AX), R10
	MOVBQZX 115(AX), R11
	MOVQ R10, R12
	SHLQ $7, R12
	ADDQ R8, R12
	IMUL3Q $72, R10, R13
	ADDQ R9, R13
	TESTQ R11, R11
	CMOVQNE R13, R12
	PREFETCHT0 (R12)
	PREFETCHT0 64(R12)
	PREFETCHT0 128(R12)
	MOVQ DX, mask+24(FP)
	RET
