package render_test

import (
	"math"
	"testing"

	"github.com/invrender/invrender/render"
	"github.com/invrender/invrender/scenes"
)

// checkFinite fails the test if any value of the image is NaN or infinite.
func checkFinite(t *testing.T, im *render.Image) {
	t.Helper()
	for i, v := range im.Pix {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("value %d of the image is %v", i, v)
		}
	}
}

// TestNaNSamplesDiscarded: NaN and infinite radiance never reaches the
// image. Build rejects NaN scene data, but an optimiser writes parameters
// in place after Build, and finite values can overflow: such samples are
// dropped (counted as black) and counted in Stats.Discarded.
func TestNaNSamplesDiscarded(t *testing.T) {
	t.Run("NaN texture after Build", func(t *testing.T) {
		// Every sample that hits the textured quad evaluates the texture;
		// with every texel NaN each such sample is NaN. The samples that
		// hit are counted exactly by the alpha AOV of a clean render with
		// the same seed (the camera rays do not depend on the texture).
		s := scenes.TexturedQuad()
		setFilm(s, 24, 24, 4)
		mustBuild(t, s)
		clean := renderOnce(t, s, render.Options{AOVs: render.AOVAlpha})
		hits := 0.0
		for _, a := range clean.Image.Alpha {
			hits += a * 4
		}
		if clean.Stats.Discarded != 0 || hits == 0 {
			t.Fatalf("clean render: %d discarded, %v hits", clean.Stats.Discarded, hits)
		}
		pix := s.Materials[0].Reflectance.Image.Pix
		for i := range pix {
			pix[i] = math.NaN()
		}
		res := renderOnce(t, s, render.Options{AOVs: render.AOVAlpha})
		checkFinite(t, res.Image)
		if res.Stats.Discarded != int64(math.Round(hits)) {
			t.Errorf("%d samples discarded, want the %v that hit the quad", res.Stats.Discarded, hits)
		}
		if sum := res.Image.Sum(); sum != 0 {
			t.Errorf("image sum %v, want 0: every lit sample was NaN", sum)
		}
	})
	t.Run("overflow", func(t *testing.T) {
		// Finite but huge values: radiance 1e300 reflected by albedo 1e10
		// overflows to +Inf.
		s := scenes.TexturedQuad()
		setFilm(s, 16, 16, 2)
		s.Shapes[1].Emitter.Radiance = grey(1e300)
		s.Materials[0].Reflectance = render.ConstTexture(grey(1e10))
		res := renderOnce(t, s, render.Options{})
		checkFinite(t, res.Image)
		if res.Stats.Discarded == 0 {
			t.Errorf("no sample discarded")
		}
	})
}
