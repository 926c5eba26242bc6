package render_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/invrender/invrender/render"
	"github.com/invrender/invrender/scenes"
)

// TestRenderCancelled: a cancelled context stops the render: Render returns
// ctx.Err() and the partial result, and its statistics count only the work
// done. A context cancelled before the start renders nothing.
func TestRenderCancelled(t *testing.T) {
	white := render.Material{Kind: render.Diffuse, Reflectance: render.ConstTexture(grey(1))}
	t.Run("before", func(t *testing.T) {
		s := scenes.FurnaceSphere(white)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		res, err := render.Render(ctx, s, render.Options{})
		if !errors.Is(err, context.Canceled) || res == nil {
			t.Fatalf("Render = %v, %v; want a result and context.Canceled", res, err)
		}
		if res.Image.Sum() != 0 || res.Stats.Samples != 0 {
			t.Errorf("image sum %v, %d samples: want nothing rendered", res.Image.Sum(), res.Stats.Samples)
		}
	})
	t.Run("during", func(t *testing.T) {
		// 64 x 64 pixels at 20000 spp in tiles of 2 x 2 pixels: 80000
		// paths per tile (a few hundredths of a second), a minute or more
		// in all. The deadline strikes after the first tiles.
		s := scenes.FurnaceSphere(white)
		setFilm(s, 64, 64, 20000)
		mustBuild(t, s)
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		res, err := render.Render(ctx, s, render.Options{TileSize: 2})
		elapsed := time.Since(start)
		if !errors.Is(err, context.DeadlineExceeded) || res == nil {
			t.Fatalf("Render = %v, %v; want a result and context.DeadlineExceeded", res, err)
		}
		// Generous for a loaded machine: the full render takes far longer.
		if elapsed > 20*time.Second {
			t.Errorf("Render returned %v after the deadline", elapsed)
		}
		// Each finished pixel is exactly 1 or positive (furnace); others 0.
		done := 0
		for y := 0; y < 64; y++ {
			for x := 0; x < 64; x++ {
				if res.Image.At(x, y)[0] > 0 {
					done++
				}
			}
		}
		if done == 64*64 {
			t.Fatalf("all pixels were rendered")
		}
		if want := int64(done) * 20000; res.Stats.Samples != want {
			t.Errorf("Stats.Samples = %d, want %d (%d finished pixels)", res.Stats.Samples, want, done)
		}
	})
}

// TestRenderProgress: the progress callback is called from one goroutine at
// a time (never concurrently, so a progress bar needs no lock), with counts
// that never decrease, and last with (total, total).
func TestRenderProgress(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a render that lasts over a second")
	}
	white := render.Material{Kind: render.Diffuse, Reflectance: render.ConstTexture(grey(1))}
	s := scenes.FurnaceSphere(white)
	setFilm(s, 32, 32, 512)
	mustBuild(t, s)
	var (
		mu       sync.Mutex
		calls    [][2]int
		inside   atomic.Int32
		overlaps atomic.Int32
	)
	progress := func(done, total int) {
		if inside.Add(1) != 1 {
			overlaps.Add(1)
		}
		// A slow callback (a terminal write) keeps the call open while the
		// render may finish.
		time.Sleep(250 * time.Millisecond)
		mu.Lock()
		calls = append(calls, [2]int{done, total})
		mu.Unlock()
		inside.Add(-1)
	}
	if _, err := render.Render(context.Background(), s, render.Options{Progress: progress}); err != nil {
		t.Fatal(err)
	}
	if n := overlaps.Load(); n > 0 {
		t.Errorf("%d progress calls overlapped another", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(calls) == 0 {
		t.Fatal("no progress calls")
	}
	for i, c := range calls {
		if c[1] != 32*32 || (i > 0 && c[0] < calls[i-1][0]) {
			t.Fatalf("progress calls %v: want totals 1024 and non-decreasing counts", calls)
		}
	}
	if last := calls[len(calls)-1]; last != [2]int{1024, 1024} {
		t.Errorf("last progress call %v, want (1024, 1024)", last)
	}
}
