package edgesample

import (
	"math"
	"runtime"
	"sync"

	"github.com/go-gl/mathgl/mgl64"
)

// Normal cones: a unit axis and a half-angle theta held as (cos, sin), the
// bound of a set of unit face normals used to cull hierarchy nodes whose
// faces all face towards, or all away from, the shading point (Sander,
// Gu, Gortler, Hoppe and Snyder, "Silhouette Clipping", SIGGRAPH 2000,
// section 4.1; Johnson and Cohen, "Spatialized Normal Cone Hierarchies",
// I3D 2001).

// emptyCone is the cosine of a cone that bounds no direction yet.
const emptyCone = 2

// coneMargin widens every merged cone, in radians, against rounding.
const coneMargin = 1e-9

// mergeCones returns a cone bounding the cones a and b.
func mergeCones(a mgl64.Vec3, cosA, sinA float64, b mgl64.Vec3, cosB, sinB float64) (mgl64.Vec3, float64, float64) {
	if cosA == emptyCone {
		return b, cosB, sinB
	}
	if cosB == emptyCone {
		return a, cosA, sinA
	}
	if cosA <= -1 || cosB <= -1 {
		return a, -1, 0
	}
	ta := math.Atan2(sinA, cosA)
	tb := math.Atan2(sinB, cosB)
	cr := a.Cross(b).Len()
	phi := math.Atan2(cr, a.Dot(b))
	if phi+tb <= ta {
		return a, cosA, sinA
	}
	if phi+ta <= tb {
		return b, cosB, sinB
	}
	sinPhi := math.Sin(phi)
	if sinPhi < 1e-9 {
		if phi < math.Pi/2 {
			// Nearly parallel axes: widen the wider cone by phi.
			t := math.Max(ta, tb) + phi + coneMargin
			ax := a
			if tb > ta {
				ax = b
			}
			if t >= math.Pi {
				return ax, -1, 0
			}
			return ax, math.Cos(t), math.Sin(t)
		}
		return a, -1, 0 // nearly opposite axes: the bound is (close to) the sphere
	}
	t := 0.5*(ta+phi+tb) + coneMargin
	if t >= math.Pi {
		return a, -1, 0
	}
	// Rotate a towards b by t - ta (spherical interpolation).
	r := t - ta
	ax := a.Mul(math.Sin(phi-r) / sinPhi).Add(b.Mul(math.Sin(r) / sinPhi))
	l := ax.Len()
	if !(l > 0) {
		return a, -1, 0
	}
	return ax.Mul(1 / l), math.Cos(t), math.Sin(t)
}

// selectNth partially sorts idx so that idx[k] holds the element whose key
// (key[idx[.]][axis]) is k-th smallest, with no larger key before it and
// no smaller key after it (Hoare's FIND with a median-of-three pivot).
func selectNth(idx []int32, k int, key []mgl64.Vec3, axis int) {
	lo, hi := 0, len(idx)-1
	kv := func(i int) float64 { return key[idx[i]][axis] }
	for hi > lo {
		if hi-lo < 16 {
			for i := lo + 1; i <= hi; i++ {
				x := idx[i]
				xv := key[x][axis]
				j := i
				for j > lo && key[idx[j-1]][axis] > xv {
					idx[j] = idx[j-1]
					j--
				}
				idx[j] = x
			}
			return
		}
		mid := lo + (hi-lo)/2
		if kv(mid) < kv(lo) {
			idx[mid], idx[lo] = idx[lo], idx[mid]
		}
		if kv(hi) < kv(lo) {
			idx[hi], idx[lo] = idx[lo], idx[hi]
		}
		if kv(hi) < kv(mid) {
			idx[hi], idx[mid] = idx[mid], idx[hi]
		}
		pivot := kv(mid)
		i, j := lo, hi
		for i <= j {
			for kv(i) < pivot {
				i++
			}
			for kv(j) > pivot {
				j--
			}
			if i <= j {
				idx[i], idx[j] = idx[j], idx[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return
		}
	}
}

// parallelRange calls f on disjoint chunks covering [0, n), on up to
// GOMAXPROCS goroutines when n is large.
func parallelRange(n int, f func(lo, hi int)) {
	workers := runtime.GOMAXPROCS(0)
	if n < 1<<14 || workers < 2 {
		f(0, n)
		return
	}
	chunk := (n + workers - 1) / workers
	var wg sync.WaitGroup
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(lo, hi)
		}()
	}
	wg.Wait()
}

// chunkRanges cuts [0, n) into consecutive ranges for parallelChunks: a
// few per goroutine, so that uneven work balances.
func chunkRanges(n int) [][2]int {
	k := 1
	if n >= 1<<14 {
		k = 4 * runtime.GOMAXPROCS(0)
	}
	size := (n + k - 1) / k
	var r [][2]int
	for lo := 0; lo < n; lo += size {
		r = append(r, [2]int{lo, min(lo+size, n)})
	}
	return r
}

// parallelChunks calls f for every chunk index, on up to GOMAXPROCS
// goroutines.
func parallelChunks(chunks [][2]int, f func(k int)) {
	workers := min(runtime.GOMAXPROCS(0), len(chunks))
	if workers < 2 {
		for k := range chunks {
			f(k)
		}
		return
	}
	var next sync.Mutex
	k := 0
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				next.Lock()
				mine := k
				k++
				next.Unlock()
				if mine >= len(chunks) {
					return
				}
				f(mine)
			}
		}()
	}
	wg.Wait()
}
