package optimize_test

import (
	"context"
	"flag"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/invrender/invrender/optimize"
)

// The five inverse-rendering demos recover scene parameters from targets
// rendered with other values, through the renderer and its backward pass:
//
//	TestDemoReflectance  1: the sphere's colour, objmat.reflectance.value
//	TestDemoRadiance     2: the light's radiance
//	TestDemoTranslation  3: the sphere's position, object.translation
//	TestDemoCameraPose   4: the camera pose, sensor.origin and sensor.target
//	TestDemoShape        5: an icosphere deformed into a target shape from
//	                        several views, with the large-steps preconditioner
//
// Each starts at least 20 % off (10 % for poses) and runs by default; under
// -short each runs a smaller configuration (a smaller film, fewer
// iterations) with a looser threshold that its comment explains. Each logs
// the final parameter error, the iteration count and the wall time per
// iteration. -demo.threads sets the goroutines of their renders and
// backward passes (the results do not depend on it), -demo.seed shifts
// the seeds of their runs (not of their targets), to see the spread of
// the results:
//
//	go test ./optimize -run Demo -v -demo.threads=1 -demo.seed=1

var (
	demoThreads = flag.Int("demo.threads", 0, "goroutines of the demos' renders and backward passes (0: GOMAXPROCS)")
	demoSeed    = flag.Uint64("demo.seed", 0, "added to the seeds of the demos' runs")
)

// demoRun runs cfg with the -demo.threads goroutines and returns the
// result and the wall time per iteration (the renders, the backward passes
// and the optimiser's step).
func demoRun(t *testing.T, cfg optimize.Config) (*optimize.RunResult, float64) {
	t.Helper()
	cfg.Threads = *demoThreads
	start := time.Now()
	res, err := optimize.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Iterations != cfg.Iterations || len(res.Losses) != cfg.Iterations {
		t.Fatalf("%d iterations, %d losses; want %d", res.Iterations, len(res.Losses), cfg.Iterations)
	}
	return res, time.Since(start).Seconds() / float64(res.Iterations)
}

// threadsLabel names the goroutine count of the demos in their logs.
func threadsLabel() string {
	if *demoThreads == 0 {
		return "GOMAXPROCS goroutines"
	}
	if *demoThreads == 1 {
		return "1 goroutine"
	}
	return fmt.Sprintf("%d goroutines", *demoThreads)
}

// dist returns the Euclidean distance |a - b|.
func dist(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += (a[i] - b[i]) * (a[i] - b[i])
	}
	return math.Sqrt(s)
}

// offset returns v + d, a new slice.
func offset(v []float64, d ...float64) []float64 {
	out := append([]float64(nil), v...)
	for i := range d {
		out[i] += d[i]
	}
	return out
}
