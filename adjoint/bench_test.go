package adjoint_test

import (
	"context"
	"testing"

	"github.com/invrender/invrender/adjoint"
	"github.com/invrender/invrender/render"
	"github.com/invrender/invrender/scenes"
)

// Benchmarks of the backward pass on the benchmark scenes at their own
// resolution and sample count. Each reports the backward pass's time over
// the forward render's (same spp, measured in the same run) as
// "backward/forward", and allocations (-benchmem): the backward pass
// allocates its buffers once, so B/op is its memory footprint.

func benchBackward(b *testing.B, s *render.Scene, keys []string, o adjoint.Options) {
	if err := s.Build(); err != nil {
		b.Fatal(err)
	}
	ps, err := adjoint.NewParams(s)
	if err != nil {
		b.Fatal(err)
	}
	sn := s.Sensors[0]
	dLdI := ones(sn.Width, sn.Height)
	ctx := context.Background()
	fwd, err := render.Render(ctx, s, render.Options{Threads: o.Threads, SPP: o.SPP})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := adjoint.Backward(ctx, ps, keys, dLdI, o); err != nil {
			b.Fatal(err)
		}
	}
	per := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(per/fwd.Stats.Elapsed.Seconds(), "backward/forward")
}

// Interior term only: the white material's reflectance in the Cornell box.
func BenchmarkBackwardCboxMaterial(b *testing.B) {
	benchBackward(b, scenes.CornellBox(), []string{"white.reflectance.value"}, adjoint.Options{})
}

// Interior and boundary terms: the tall box's position.
func BenchmarkBackwardCboxGeometry(b *testing.B) {
	benchBackward(b, scenes.CornellBox(), []string{"tallbox.translation"}, adjoint.Options{})
}

// The sphere's position at 16 spp (primary and secondary edges).
func BenchmarkBackwardSphereGeometry(b *testing.B) {
	benchBackward(b, scenes.SphereOnPlane(), []string{"object.translation"}, adjoint.Options{SPP: 16})
}

// Memory does not grow with path depth: the Cornell box at max depth 3
// and 12 (compare B/op).
func BenchmarkBackwardCboxDepth3(b *testing.B) {
	s := scenes.CornellBox()
	s.Integrator.MaxDepth = 3
	benchBackward(b, s, []string{"white.reflectance.value"}, adjoint.Options{SPP: 4})
}

func BenchmarkBackwardCboxDepth12(b *testing.B) {
	s := scenes.CornellBox()
	s.Integrator.MaxDepth = 12
	benchBackward(b, s, []string{"white.reflectance.value"}, adjoint.Options{SPP: 4})
}
