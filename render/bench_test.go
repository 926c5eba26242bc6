package render_test

import (
	"context"
	"testing"

	"github.com/invrender/invrender/render"
	"github.com/invrender/invrender/scenes"
)

// benchRender renders a benchmark scene at its own settings and reports
// samples and rays per second.
func benchRender(b *testing.B, s *render.Scene, threads int) {
	if err := s.Build(); err != nil {
		b.Fatal(err)
	}
	var st render.Stats
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := render.Render(context.Background(), s, render.Options{Threads: threads})
		if err != nil {
			b.Fatal(err)
		}
		st.Samples += res.Stats.Samples
		st.Rays += res.Stats.Rays
	}
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(st.Samples)/sec/1e6, "Msamples/s")
	b.ReportMetric(float64(st.Rays)/sec/1e6, "Mrays/s")
}

func BenchmarkRenderCbox1(b *testing.B)  { benchRender(b, scenes.CornellBox(), 1) }
func BenchmarkRenderCbox2(b *testing.B)  { benchRender(b, scenes.CornellBox(), 2) }
func BenchmarkRenderDense1(b *testing.B) { benchRender(b, scenes.DenseScene(7), 1) }
func BenchmarkRenderDense2(b *testing.B) { benchRender(b, scenes.DenseScene(7), 2) }
