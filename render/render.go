package render

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-gl/mathgl/mgl64"
)

// AOV selects extra per-pixel outputs.
type AOV uint8

const (
	// AOVAlbedo is the first hit's BSDF albedo.
	AOVAlbedo AOV = 1 << iota
	// AOVNormal is the first hit's world-space shading normal.
	AOVNormal
	// AOVDepth is the distance to the first hit (0 on a miss).
	AOVDepth
	// AOVAlpha is the fraction of samples that hit a surface.
	AOVAlpha
)

// Options control one render. Zero values mean: the scene's settings.
type Options struct {
	// Sensor indexes Scene.Sensors.
	Sensor int
	// SPP overrides the sensor's sample count when > 0.
	SPP int
	// Seed overrides the sensor's seed when SeedSet.
	Seed    uint64
	SeedSet bool
	// Threads is the number of goroutines; 0 means GOMAXPROCS.
	Threads int
	// AOVs to compute.
	AOVs AOV
	// Progress, if set, is called from one goroutine with the number of
	// pixels finished so far and the total, a few times a second and once
	// at the end.
	Progress func(done, total int)
	// TileSize is the side of the square tiles handed to goroutines
	// (default 16 pixels).
	TileSize int
	// Strategy selects how direct light is found (default: MIS).
	Strategy Strategy
}

// Stats describe the work of a render.
type Stats struct {
	Samples   int64 // camera samples traced (fewer than asked when cancelled)
	Rays      int64
	Discarded int64 // samples with a NaN or infinite value, counted as black
	Elapsed   time.Duration
	Threads   int
}

// Result is a rendered image with its optional AOVs.
type Result struct {
	Image  *Image
	Albedo *Image // with AOVAlbedo
	Normal *Image // with AOVNormal
	Depth  *Image // with AOVDepth (all channels equal)
	// Image.Alpha is set with AOVAlpha.
	Stats Stats
}

// Tile is a rectangle of pixels [X0, X1) x [Y0, Y1).
type Tile struct{ X0, Y0, X1, Y1 int }

// Tiles splits a w x h film into square tiles in row-major order.
func Tiles(w, h, size int) []Tile {
	if size <= 0 {
		size = 16
	}
	var ts []Tile
	for y := 0; y < h; y += size {
		for x := 0; x < w; x += size {
			ts = append(ts, Tile{x, y, min(x+size, w), min(y+size, h)})
		}
	}
	return ts
}

// ParallelTiles runs work(worker, tile) for every tile on n goroutines that
// take tiles from a shared counter, stopping early when ctx is cancelled.
// progress (optional) receives the count of finished pixels a few times a
// second and once at the end, one call at a time. Results must not depend
// on which worker ran a tile.
func ParallelTiles(ctx context.Context, tiles []Tile, n int, progress func(done, total int), work func(worker int, t Tile)) error {
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	total := 0
	for _, t := range tiles {
		total += (t.X1 - t.X0) * (t.Y1 - t.Y0)
	}
	var next, done atomic.Int64
	var wg sync.WaitGroup
	finished := make(chan struct{})
	// reporter is closed when the periodic reporter has returned, so that
	// the final call below never overlaps one of its calls.
	reporter := make(chan struct{})
	if progress != nil {
		go func() {
			defer close(reporter)
			tick := time.NewTicker(200 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-finished:
					return
				case <-tick.C:
					progress(int(done.Load()), total)
				}
			}
		}()
	}
	for w := 0; w < n; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for {
				if ctx.Err() != nil {
					return
				}
				i := int(next.Add(1) - 1)
				if i >= len(tiles) {
					return
				}
				t := tiles[i]
				work(w, t)
				done.Add(int64((t.X1 - t.X0) * (t.Y1 - t.Y0)))
			}
		}(w)
	}
	wg.Wait()
	close(finished)
	if progress != nil {
		<-reporter
		progress(int(done.Load()), total)
	}
	return ctx.Err()
}

// Render renders the scene from one sensor. The image is identical bit for
// bit whatever the number of goroutines: every pixel sample draws from its
// own random streams and each pixel is summed in sample order by one
// goroutine. On cancellation it returns the partial result and ctx.Err().
func Render(ctx context.Context, s *Scene, o Options) (*Result, error) {
	if s.acc == nil {
		if err := s.Build(); err != nil {
			return nil, err
		}
	}
	if o.Sensor < 0 || o.Sensor >= len(s.Sensors) {
		return nil, fmt.Errorf("render: sensor %d does not exist (the scene has %d)", o.Sensor, len(s.Sensors))
	}
	sensor := s.Sensors[o.Sensor]
	cam, err := NewCamera(sensor)
	if err != nil {
		return nil, err
	}
	spp := sensor.SPP
	if o.SPP > 0 {
		spp = o.SPP
	}
	if spp <= 0 {
		return nil, fmt.Errorf("render: sample count %d is not positive", spp)
	}
	seed := sensor.Seed
	if o.SeedSet {
		seed = o.Seed
	}
	threads := o.Threads
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	ps := s.Settings()
	ps.Strategy = o.Strategy
	w, h := cam.Width, cam.Height
	res := &Result{Image: NewImage(w, h)}
	if o.AOVs&AOVAlbedo != 0 {
		res.Albedo = NewImage(w, h)
	}
	if o.AOVs&AOVNormal != 0 {
		res.Normal = NewImage(w, h)
	}
	if o.AOVs&AOVDepth != 0 {
		res.Depth = NewImage(w, h)
	}
	if o.AOVs&AOVAlpha != 0 {
		res.Image.Alpha = make([]float64, w*h)
	}
	wantAOV := o.AOVs != 0
	stats := make([]PathStats, threads)
	discarded := make([]int64, threads)
	samples := make([]int64, threads) // of finished tiles: cancellation may skip some
	start := time.Now()
	filter := sensor.Filter
	inv := 1 / float64(spp)
	err = ParallelTiles(ctx, Tiles(w, h, o.TileSize), threads, o.Progress, func(worker int, t Tile) {
		st := &stats[worker]
		samples[worker] += int64((t.X1-t.X0)*(t.Y1-t.Y0)) * int64(spp)
		var fh FirstHit
		for py := t.Y0; py < t.Y1; py++ {
			for px := t.X0; px < t.X1; px++ {
				pixel := uint64(py*w + px)
				var sum, alb, nrm mgl64.Vec3
				var dep, alpha float64
				for k := 0; k < spp; k++ {
					x, y := CameraSample(filter, seed, pixel, uint64(k), px, py)
					ray := cam.Ray(x, y)
					var fhp *FirstHit
					if wantAOV {
						fh = FirstHit{}
						fhp = &fh
					}
					key := RandomKey{Seed: seed, Pixel: pixel, Sample: uint64(k), Stream: StreamBounce}
					L := s.TracePath(ray, &ps, key, 0, fhp, nil, st)
					if !finite3(L) {
						discarded[worker]++
						continue
					}
					sum = sum.Add(L)
					if wantAOV && fh.Hit {
						alb = alb.Add(fh.Albedo)
						nrm = nrm.Add(fh.Normal)
						dep += fh.Depth
						alpha++
					}
				}
				res.Image.Set(px, py, sum.Mul(inv))
				if res.Albedo != nil {
					res.Albedo.Set(px, py, alb.Mul(inv))
				}
				if res.Normal != nil {
					res.Normal.Set(px, py, nrm.Mul(inv))
				}
				if res.Depth != nil {
					d := dep * inv
					res.Depth.Set(px, py, mgl64.Vec3{d, d, d})
				}
				if res.Image.Alpha != nil {
					res.Image.Alpha[py*w+px] = alpha * inv
				}
			}
		}
	})
	res.Stats.Elapsed = time.Since(start)
	res.Stats.Threads = threads
	for i := range stats {
		res.Stats.Samples += samples[i]
		res.Stats.Rays += stats[i].Rays
		res.Stats.Discarded += discarded[i]
	}
	if err != nil {
		return res, err
	}
	return res, nil
}
