package render_test

import (
	"context"
	"math"
	"testing"

	"github.com/invrender/invrender/render"
	"github.com/invrender/invrender/scenes"
)

// sameBits reports the first value at which two images differ bit for bit
// (-1 if none).
func sameBits(a, b *render.Image) int {
	if len(a.Pix) != len(b.Pix) {
		return 0
	}
	for i := range a.Pix {
		if math.Float64bits(a.Pix[i]) != math.Float64bits(b.Pix[i]) {
			return i
		}
	}
	return -1
}

// TestRenderDeterministic: every pixel sample draws from streams keyed by
// (seed, pixel, sample, bounce) and each pixel is summed in sample order by
// one goroutine, so the image is the same bit for bit with 1, 2 or 3
// goroutines and any tile size, and the same seed gives the same image.
// Different seeds give different images (in most pixels: only pixels that
// see nothing but black agree).
func TestRenderDeterministic(t *testing.T) {
	for _, tc := range []struct {
		name  string
		scene func() *render.Scene
	}{
		{"cbox", scenes.CornellBox},
		{"envlit", scenes.EnvLitSphere},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.scene()
			setFilm(s, 24, 20, 4)
			s.Integrator.MaxDepth = 5 // longer paths, Russian roulette from depth 5
			mustBuild(t, s)
			ref := renderOnce(t, s, render.Options{Threads: 1})
			for _, o := range []render.Options{
				{Threads: 1},
				{Threads: 2},
				{Threads: 3},
				{Threads: 3, TileSize: 5},
				{Threads: 2, TileSize: 1},
				{Threads: 2, Seed: s.Sensors[0].Seed, SeedSet: true},
			} {
				res := renderOnce(t, s, o)
				if i := sameBits(ref.Image, res.Image); i >= 0 {
					t.Errorf("%+v: value %d is %v, with one goroutine %v", o, i, res.Image.Pix[i], ref.Image.Pix[i])
				}
				if res.Stats.Rays != ref.Stats.Rays || res.Stats.Samples != ref.Stats.Samples {
					t.Errorf("%+v: stats %+v, with one goroutine %+v", o, res.Stats, ref.Stats)
				}
			}
			other := renderOnce(t, s, render.Options{Seed: 12345, SeedSet: true})
			differ := 0
			for i := range ref.Image.Pix {
				if ref.Image.Pix[i] != other.Image.Pix[i] {
					differ++
				}
			}
			if differ < len(ref.Image.Pix)/2 {
				t.Errorf("another seed changes only %d of %d values", differ, len(ref.Image.Pix))
			}
			s.Sensors[0].Seed = 12345
			if i := sameBits(other.Image, renderOnce(t, s, render.Options{}).Image); i >= 0 {
				t.Errorf("the sensor's seed and Options.Seed give different images")
			}
		})
	}
}

// TestDirectIntegrator: Mitsuba's "direct" integrator is the path tracer
// limited to two segments, whatever maxDepth says.
func TestDirectIntegrator(t *testing.T) {
	s := scenes.CornellBox()
	setFilm(s, 16, 16, 4)
	s.Integrator = render.Integrator{Kind: render.DirectIntegrator, MaxDepth: -1}
	direct := renderOnce(t, s, render.Options{})
	s.Integrator = render.Integrator{Kind: render.PathIntegrator, MaxDepth: 2}
	if i := sameBits(direct.Image, renderOnce(t, s, render.Options{}).Image); i >= 0 {
		t.Errorf("value %d: direct integrator differs from the path tracer with maxDepth 2", i)
	}
}

// TestRenderOptionErrors: a missing sensor, a non-positive sample count and
// a bad sensor are errors, not panics.
func TestRenderOptionErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(s *render.Scene, o *render.Options)
	}{
		{"sensor index", func(s *render.Scene, o *render.Options) { o.Sensor = 1 }},
		{"negative sensor index", func(s *render.Scene, o *render.Options) { o.Sensor = -1 }},
		{"zero spp", func(s *render.Scene, o *render.Options) { s.Sensors[0].SPP = 0 }},
		{"zero film", func(s *render.Scene, o *render.Options) { s.Sensors[0].Width = 0 }},
		{"bad fov", func(s *render.Scene, o *render.Options) { s.Sensors[0].Fov = 200 }},
	} {
		s := scenes.CornellBox()
		setFilm(s, 8, 8, 1)
		var o render.Options
		c.edit(s, &o)
		if _, err := render.Render(context.Background(), s, o); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}
