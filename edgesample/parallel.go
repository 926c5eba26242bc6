package edgesample

import (
	"runtime"
	"sync"
)

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
