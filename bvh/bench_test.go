package bvh

import (
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/geom"
	"github.com/invrender/invrender/internal/meshgen"
)

// The "dense" benchmark scene of shared/bench/genscenes.py, built in Go: the
// bumpy icosphere (327,680 triangles), the ground quad and the light quad.
var dense struct {
	once sync.Once
	pos  []mgl64.Vec3
	idx  []int32
	bvh  *BVH
}

func denseScene(b *testing.B) ([]mgl64.Vec3, []int32, *BVH) {
	dense.once.Do(func() {
		dense.pos, dense.idx = meshgen.Merge(
			meshgen.Of(meshgen.Icosphere(7, 0.5, mgl64.Vec3{0, 0.55, 0}, 0.08)),
			meshgen.Of(meshgen.Quad(mgl64.Vec3{-3, 0, 3}, mgl64.Vec3{3, 0, 3}, mgl64.Vec3{3, 0, -3}, mgl64.Vec3{-3, 0, -3})),
			meshgen.Of(lightQuad()),
		)
		var err error
		if dense.bvh, err = Build(dense.pos, dense.idx, Options{}); err != nil {
			panic(err)
		}
	})
	if dense.bvh == nil {
		b.Fatal("dense scene failed to build")
	}
	return dense.pos, dense.idx, dense.bvh
}

func lightQuad() ([]mgl64.Vec3, []int32) {
	return meshgen.Quad(mgl64.Vec3{-0.5, 2.5, -0.5}, mgl64.Vec3{0.5, 2.5, -0.5}, mgl64.Vec3{0.5, 2.5, 0.5}, mgl64.Vec3{-0.5, 2.5, 0.5})
}

// primaryRays returns one ray through each pixel centre of the dense scene's
// 256x256 camera: at (0,1.6,3.2) looking at (0,0.45,0), up +y, horizontal
// field of view 45 degrees, Mitsuba's convention (camera space looks down
// +z, +x to the left; pixel (0,0) is the top-left corner). The rays come in
// 16x16-pixel tiles, row by row within a tile, the order in which a tiled
// renderer traces them.
func primaryRays(b *testing.B) []geom.Ray {
	const w, h, tile = 256, 256, 16
	toWorld, err := geom.LookAt(mgl64.Vec3{0, 1.6, 3.2}, mgl64.Vec3{0, 0.45, 0}, mgl64.Vec3{0, 1, 0})
	if err != nil {
		b.Fatal(err)
	}
	tanX := math.Tan(45.0 / 2 * math.Pi / 180)
	tanY := tanX * h / w
	o := toWorld.Point(mgl64.Vec3{})
	rays := make([]geom.Ray, 0, w*h)
	for ty := 0; ty < h; ty += tile {
		for tx := 0; tx < w; tx += tile {
			for py := ty; py < ty+tile; py++ {
				for px := tx; px < tx+tile; px++ {
					u, v := (float64(px)+0.5)/w, (float64(py)+0.5)/h
					d := mgl64.Vec3{(1 - 2*u) * tanX, (1 - 2*v) * tanY, 1}.Normalize()
					rays = append(rays, geom.Ray{O: o, D: toWorld.Vector(d), TMax: math.Inf(1)})
				}
			}
		}
	}
	return rays
}

func randomOrigin(rng *geom.RNG) mgl64.Vec3 {
	return mgl64.Vec3{2*rng.Float64() - 1, 1.2 * rng.Float64(), 2*rng.Float64() - 1}
}

// incoherentRays: origins uniform in [-1,1]x[0,1.2]x[-1,1], directions
// uniform on the sphere.
func incoherentRays(n int) []geom.Ray {
	rng := geom.NewRNG(1, 0, 0, 0)
	rays := make([]geom.Ray, n)
	for i := range rays {
		o := randomOrigin(&rng)
		d := geom.SquareToUniformSphere(mgl64.Vec2{rng.Float64(), rng.Float64()})
		rays[i] = geom.Ray{O: o, D: d, TMax: math.Inf(1)}
	}
	return rays
}

// shadowRays: from the same origins to uniform points on the light quad,
// D = light point - origin and TMax just below 1.
func shadowRays(n int) []geom.Ray {
	rng := geom.NewRNG(2, 0, 0, 0)
	rays := make([]geom.Ray, n)
	for i := range rays {
		o := randomOrigin(&rng)
		p := mgl64.Vec3{rng.Float64() - 0.5, 2.5, rng.Float64() - 0.5}
		rays[i] = geom.Ray{O: o, D: p.Sub(o), TMax: 1 - 1e-6}
	}
	return rays
}

// traceAll traces every ray on g goroutines (each takes interleaved blocks
// of 256 rays) and returns the number of hits.
func traceAll(bv *BVH, rays []geom.Ray, g int, shadow bool) int {
	const block = 256
	run := func(first int) int {
		hits := 0
		for s := first * block; s < len(rays); s += g * block {
			for _, r := range rays[s:min(s+block, len(rays))] {
				if shadow {
					if bv.Occluded(r) {
						hits++
					}
				} else if _, ok := bv.Intersect(r); ok {
					hits++
				}
			}
		}
		return hits
	}
	if g == 1 {
		return run(0)
	}
	counts := make([]int, g)
	var wg sync.WaitGroup
	for k := 0; k < g; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			counts[k] = run(k)
		}()
	}
	wg.Wait()
	total := 0
	for _, c := range counts {
		total += c
	}
	return total
}

func benchRays(b *testing.B, rays []geom.Ray, shadow bool) {
	_, _, bv := denseScene(b)
	for _, g := range []int{1, 2} {
		b.Run(fmt.Sprintf("goroutines=%d", g), func(b *testing.B) {
			b.ReportAllocs()
			hits := 0
			b.ResetTimer()
			cpu0 := processCPUTime()
			for i := 0; i < b.N; i++ {
				hits = traceAll(bv, rays, g, shadow)
			}
			cpu := processCPUTime() - cpu0
			total := float64(len(rays)) * float64(b.N)
			b.ReportMetric(total/b.Elapsed().Seconds()/1e6, "Mrays/s")
			if cpu > 0 {
				// Throughput per core while running: robust to other
				// programs sharing the machine.
				b.ReportMetric(total/cpu.Seconds()/1e6, "Mrays/cpu-s")
			}
			b.ReportMetric(float64(hits)/float64(len(rays)), "hit-fraction")
		})
	}
}

func BenchmarkBuild(b *testing.B) {
	pos, idx, _ := denseScene(b)
	for _, w := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", w), func(b *testing.B) {
			var bv *BVH
			cpu0 := processCPUTime()
			for i := 0; i < b.N; i++ {
				var err error
				if bv, err = Build(pos, idx, Options{Workers: w}); err != nil {
					b.Fatal(err)
				}
			}
			if cpu := processCPUTime() - cpu0; cpu > 0 {
				b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
			}
			b.ReportMetric(float64(bv.NumNodes()), "nodes")
			b.ReportMetric(bv.SAHCost(), "SAH")
		})
	}
}

func BenchmarkRefit(b *testing.B) {
	pos, _, bv := denseScene(b)
	cpu0 := processCPUTime()
	for i := 0; i < b.N; i++ {
		if err := bv.Refit(pos); err != nil {
			b.Fatal(err)
		}
	}
	if cpu := processCPUTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu.Microseconds())/1e3/float64(b.N), "cpu-ms/op")
	}
}

func BenchmarkPrimary(b *testing.B)    { benchRays(b, primaryRays(b), false) }
func BenchmarkIncoherent(b *testing.B) { benchRays(b, incoherentRays(1<<16), false) }
func BenchmarkShadow(b *testing.B)     { benchRays(b, shadowRays(1<<16), true) }

// TestTraversalStats logs the interior nodes visited and triangles tested
// per ray of each benchmark set; it runs only with -tags bvhstats.
func TestTraversalStats(t *testing.T) {
	if !stats {
		t.Skip("build with -tags bvhstats")
	}
	b := &testing.B{}
	_, _, bv := denseScene(b)
	for _, c := range []struct {
		name   string
		rays   []geom.Ray
		anyHit bool
	}{{"primary", primaryRays(b), false}, {"incoherent", incoherentRays(1 << 16), false}, {"shadow", shadowRays(1 << 16), true}} {
		nodes, tris := 0, 0
		for i := range c.rays {
			var q query
			if !q.init(&c.rays[i]) {
				continue
			}
			var items [deepStack]uint64
			var ts [deepStack]int64
			bv.walk(&q, c.anyHit, items[:], ts[:])
			nodes += q.nodes
			tris += q.tris
		}
		n := float64(len(c.rays))
		t.Logf("%s: %.2f nodes, %.2f triangles per ray", c.name, float64(nodes)/n, float64(tris)/n)
	}
	t.Logf("%d nodes, %d leaves, SAH cost %.3f", len(bv.nodes), bv.numLeaves, bv.SAHCost())
}
