//go:build !purego

#include "textflag.h"

// Offsets in rayBox (TestRayBoxLayout checks them).
#define RB_O 0
#define RB_INV 24
#define RB_FAR 48
#define RB_TMIN 72
#define RB_TMAX 80
#define RB_NEAROFF 88
#define RB_FAROFF 112
#define RB_NODES 136
#define RB_TRIS 144
#define RB_ITEMS 152
#define RB_TS 160
#define RB_CAP 168
#define RB_SP 176
#define RB_ANYHIT 184
#define RB_ENT 192

// Offsets in node.
#define N_CHILD 96
#define N_COUNT 112

// LOADOFFSETS loads the byte offsets, within a node, of the near planes of
// x, y, z of the rayBox at BX into R8, R9, R10 and of the far planes into
// R11, R12, R13.
#define LOADOFFSETS \
	MOVQ RB_NEAROFF+0(BX), R8 \
	MOVQ RB_NEAROFF+8(BX), R9 \
	MOVQ RB_NEAROFF+16(BX), R10 \
	MOVQ RB_FAROFF+0(BX), R11 \
	MOVQ RB_FAROFF+8(BX), R12 \
	MOVQ RB_FAROFF+16(BX), R13

// LOADPAIR loads the float64 at off(BX) into both lanes of reg. (rayBox
// holds single values: pairs stored by Go as two 8-byte halves and loaded
// whole would stall store-to-load forwarding.)
#define LOADPAIR(off, reg) \
	MOVSD off(BX), reg \
	UNPCKLPD reg, reg

// LOADRAY loads the ray of the rayBox at BX: the plane offsets (see
// LOADOFFSETS), the origin into X6-X8, the inverse direction into X9-X11,
// the inverse widened by robustFold (for far planes) into X12-X14 and tmin
// into X15, each value in both lanes.
#define LOADRAY \
	LOADOFFSETS \
	LOADPAIR(RB_O+0, X6) \
	LOADPAIR(RB_O+8, X7) \
	LOADPAIR(RB_O+16, X8) \
	LOADPAIR(RB_INV+0, X9) \
	LOADPAIR(RB_INV+8, X10) \
	LOADPAIR(RB_INV+16, X11) \
	LOADPAIR(RB_FAR+0, X12) \
	LOADPAIR(RB_FAR+8, X13) \
	LOADPAIR(RB_FAR+16, X14) \
	LOADPAIR(RB_TMIN, X15)

// SLAB2(k) tests children k/4 and k/4+1 (k = 0 or 8, the byte offset of
// their planes) of the node at AX: the same IEEE operations as walk's Go
// code (float32 planes widened exactly to float64, subtraction,
// multiplication), entry = max(near x, near y, near z, tmin), exit =
// min(far x, far y, far z, tmax), hit = entry <= exit. It leaves the two
// entries in X0 and the compare mask (all ones where hit) in X3. MAXPD and
// MINPD return their second operand when the two compare equal, so an
// entry that equals tmin (+0 or more) is tmin itself and never -0, and
// entries order as their bits. No operand is NaN on the fast path (finite
// inverse directions and tmin >= 0).
#define SLAB2(k) \
	CVTPS2PD k(AX)(R8*1), X0 \
	SUBPD X6, X0 \
	MULPD X9, X0 \
	CVTPS2PD k(AX)(R9*1), X1 \
	SUBPD X7, X1 \
	MULPD X10, X1 \
	CVTPS2PD k(AX)(R10*1), X2 \
	SUBPD X8, X2 \
	MULPD X11, X2 \
	MAXPD X1, X0 \
	MAXPD X15, X2 \
	MAXPD X2, X0 \
	CVTPS2PD k(AX)(R11*1), X3 \
	SUBPD X6, X3 \
	MULPD X12, X3 \
	CVTPS2PD k(AX)(R12*1), X4 \
	SUBPD X7, X4 \
	MULPD X13, X4 \
	CVTPS2PD k(AX)(R13*1), X5 \
	SUBPD X8, X5 \
	MULPD X14, X5 \
	LOADPAIR(RB_TMAX, X1) \
	MINPD X4, X3 \
	MINPD X1, X5 \
	MINPD X5, X3 \
	CMPPD X0, X3, $5

// BOXTEST tests the four children of the node at AX: it stores their
// entry distances at RB_ENT(BX) and leaves the mask of the children hit
// (bit c for child c) in CX. (CMPPD's predicate 5 is "not less than":
// exit >= entry, which is entry <= exit without NaNs.)
#define BOXTEST \
	SLAB2(0) \
	MOVUPD X0, RB_ENT(BX) \
	MOVMSKPD X3, CX \
	SLAB2(8) \
	MOVUPD X0, RB_ENT+16(BX) \
	MOVMSKPD X3, DX \
	SHLQ $2, DX \
	ORQ DX, CX

// PREFETCH1(c) prefetches child c of the node at AX: an interior child's
// node (its two cache lines and the next, which holds its first child when
// that is interior), a leaf's first three cache lines of triangles. R14
// and DI hold the bases of the node and triangle arrays; it uses R8-R13.
#define PREFETCH1(c) \
	MOVLQSX N_CHILD+4*c(AX), R8 \
	MOVBQZX N_COUNT+c(AX), R9 \
	MOVQ R8, R10 \
	SHLQ $7, R10 \
	ADDQ R14, R10 \
	IMUL3Q $72, R8, R11 \
	ADDQ DI, R11 \
	TESTQ R9, R9 \
	CMOVQNE R11, R10 \
	PREFETCHT0 (R10) \
	PREFETCHT0 64(R10) \
	PREFETCHT0 128(R10)

// PREFETCH prefetches every child, hit or not: measured on the dense scene,
// this makes incoherent and shadow rays 20% faster, since a traversal
// spends most of its time waiting for the first touch of a node or of its
// triangles and the prefetch overlaps the misses of the children pushed on
// the stack with the work on the nearest; prefetching only the children
// hit (a branch per child) was slower. A prefetch never faults, so the
// address of an unused child (index -1) needs no care.
#define PREFETCH \
	MOVQ RB_NODES(BX), R14 \
	MOVQ RB_TRIS(BX), DI \
	PREFETCH1(0) \
	PREFETCH1(1) \
	PREFETCH1(2) \
	PREFETCH1(3)

// PUSH1(c) writes child c of the node at AX, as an item, and its entry
// distance on the stack at SI (items at R10, distances at R11), and
// advances SI if bit c of CX is set.
#define PUSH1(c) \
	MOVL N_CHILD+4*c(AX), DX \
	MOVBQZX N_COUNT+c(AX), DI \
	SHLQ $32, DI \
	ORQ DI, DX \
	MOVQ DX, (R10)(SI*8) \
	MOVQ RB_ENT+8*c(BX), DX \
	MOVQ DX, (R11)(SI*8) \
	BTQ $c, CX \
	ADCQ $0, SI

// func boxTest4(n *node, r *rayBox) (mask int)
TEXT ·boxTest4(SB), NOSPLIT, $0-24
	MOVQ n+0(FP), AX
	MOVQ r+8(FP), BX
	LOADRAY
	BOXTEST
	PREFETCH
	MOVQ CX, mask+16(FP)
	RET

// func descend(r *rayBox, items *uint64, ts *int64, it uint64) (leaf uint64)
//
// descend is walk's loop over interior nodes on the fast path: from the
// node item it (or, if it is popItem, from the top of the stack) it tests
// nodes, pushes and pops items as walk does, and returns at the first leaf
// it reaches (the leaf's item), when the stack is empty (0) or when a push
// would overflow the stack (popItem, with the stack as it was before the
// node). The stack is items and ts (stored at RB_ITEMS and RB_TS for the
// loop), RB_CAP entries, RB_SP of them used; RB_ANYHIT selects walk's
// anyHit order.
//
// Registers: BX the rayBox, AX the node, CX the mask, SI the stack
// pointer, X6-X15 the ray; DX, DI, R8-R14 scratch.
TEXT ·descend(SB), NOSPLIT, $0-40
	MOVQ r+0(FP), BX
	MOVQ items+8(FP), DX
	MOVQ DX, RB_ITEMS(BX)
	MOVQ ts+16(FP), DX
	MOVQ DX, RB_TS(BX)
	MOVQ it+24(FP), DX
	LOADRAY
	MOVQ RB_SP(BX), SI
	BTQ $63, DX
	JCS pop

node:
	// DX holds a node item: its index in the low 32 bits.
	MOVLQSX DX, AX
	SHLQ $7, AX
	ADDQ RB_NODES(BX), AX
	BOXTEST
	PREFETCH
	TESTQ CX, CX
	JZ pop
	LEAQ -1(CX), DX
	TESTQ CX, DX
	JNZ several

	// One child hit: go on with it.
	BSFQ CX, CX
	MOVL N_CHILD(AX)(CX*4), DX
	MOVBQZX N_COUNT(AX)(CX*1), DI
	TESTQ DI, DI
	JNZ leaf
	LOADOFFSETS
	JMP node

several:
	// Several: go on with one and push the others. A push writes all
	// four children and advances the stack pointer per pushed child.
	LEAQ 4(SI), DX
	CMPQ DX, RB_CAP(BX)
	JGT overflow
	CMPQ RB_ANYHIT(BX), $0
	JNE last
	// The nearest child hit (the last among equal entries).
	MOVQ $0x7fffffffffffffff, R9
	MOVQ RB_ENT+0(BX), R13
	BTQ $0, CX
	CMOVQCC R9, R13
	XORL R12, R12
	MOVQ RB_ENT+8(BX), R10
	BTQ $1, CX
	CMOVQCC R9, R10
	MOVL $1, DI
	CMPQ R10, R13
	CMOVQLE R10, R13
	CMOVQLE DI, R12
	MOVQ RB_ENT+16(BX), R10
	BTQ $2, CX
	CMOVQCC R9, R10
	MOVL $2, DI
	CMPQ R10, R13
	CMOVQLE R10, R13
	CMOVQLE DI, R12
	MOVQ RB_ENT+24(BX), R10
	BTQ $3, CX
	CMOVQCC R9, R10
	MOVL $3, DI
	CMPQ R10, R13
	CMOVQLE DI, R12
	JMP push

last:
	// Shadow rays go on with the last child hit.
	BSRQ CX, R12

push:
	BTRQ R12, CX // the children to push
	MOVQ RB_ITEMS(BX), R10
	MOVQ RB_TS(BX), R11
	MOVQ SI, R13 // the first pushed entry
	PUSH1(0)
	PUSH1(1)
	PUSH1(2)
	PUSH1(3)
	CMPQ RB_ANYHIT(BX), $0
	JNE pushed

	// Order the pushed entries farthest first (insertion sort), so that
	// the nearer ones are popped first.
	LEAQ 1(R13), R8
sortouter:
	CMPQ R8, SI
	JGE pushed
	MOVQ R8, R9
sortinner:
	CMPQ R9, R13
	JLE sortnext
	MOVQ -8(R11)(R9*8), DX
	MOVQ (R11)(R9*8), DI
	CMPQ DX, DI
	JGE sortnext
	MOVQ DI, -8(R11)(R9*8)
	MOVQ DX, (R11)(R9*8)
	MOVQ -8(R10)(R9*8), DX
	MOVQ (R10)(R9*8), DI
	MOVQ DI, -8(R10)(R9*8)
	MOVQ DX, (R10)(R9*8)
	DECQ R9
	JMP sortinner
sortnext:
	INCQ R8
	JMP sortouter

pushed:
	MOVL N_CHILD(AX)(R12*4), DX
	MOVBQZX N_COUNT(AX)(R12*1), DI
	TESTQ DI, DI
	JNZ leaf
	LOADOFFSETS
	JMP node

pop:
	// Pop the next item the ray can still reach before its closest hit
	// (tmax >= 0 here, whose bits order as it does).
	TESTQ SI, SI
	JZ empty
	DECQ SI
	MOVQ RB_TS(BX), R10
	MOVQ (R10)(SI*8), DX
	CMPQ DX, RB_TMAX(BX)
	JGT pop
	MOVQ RB_ITEMS(BX), R10
	MOVQ (R10)(SI*8), DX
	MOVQ DX, DI
	SHRQ $32, DI
	TESTQ DI, DI
	JNZ leaf
	LOADOFFSETS
	JMP node

leaf:
	// DX holds the first triangle in its low 32 bits, DI the count.
	MOVL DX, DX
	SHLQ $32, DI
	ORQ DI, DX
	MOVQ SI, RB_SP(BX)
	MOVQ DX, leaf+32(FP)
	RET

empty:
	MOVQ SI, RB_SP(BX)
	MOVQ $0, leaf+32(FP)
	RET

overflow:
	MOVQ SI, RB_SP(BX)
	MOVQ $0x8000000000000000, DX
	MOVQ DX, leaf+32(FP)
	RET
