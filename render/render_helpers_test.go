package render_test

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/render"
)

// The render-level tests below compare Monte Carlo estimates with analytic
// values or with each other. Their tolerances come from the estimates' own
// spread: a scene is rendered K times with seeds seed0, seed0+1, ...; the K
// images of one pixel are independent, so their sample variance divided by K
// is the squared standard error of the pixel's mean over the K renders.
// Sums over pixels (region and image means) are sums of independent terms,
// whose squared standard errors add. A check then allows a fixed number of
// standard errors (nSigma, 5 unless a test says otherwise) plus floatSlack
// for estimates with no variance at all (a mirror in a constant
// environment returns exactly 1 on every path).

// nSigma is the number of standard errors a Monte Carlo estimate may stray
// from its expected value. For a normal variate the two-sided probability
// of |z| > 5 is 5.7e-7, so even the tests that check a thousand pixels
// separately fail a correct renderer with a probability below 1e-3 (the
// per-pixel t statistic with K-1 >= 23 degrees of freedom has heavier
// tails, about 5e-5 per pixel at 5, which the tests accept; the seeds are
// fixed, so a pass is reproducible).
const nSigma = 5

// floatSlack is the absolute error of averaging a few thousand values that
// are each exactly 1 up to rounding: far below any Monte Carlo error.
const floatSlack = 1e-9

// pixelStats holds per-pixel, per-channel means over K renders and the
// standard errors of those means; value c of pixel (x, y) is at
// 3*(y*W+x)+c.
type pixelStats struct {
	W, H, K  int
	Mean, SE []float64
	// Discarded sums Stats.Discarded over the renders.
	Discarded int64
	// AlphaMin and AlphaMax are the extreme alpha values of each pixel
	// over the renders (nil unless opts asked for AOVAlpha).
	AlphaMin, AlphaMax []float64
}

// renderSeeds renders s with opts K times, with seeds seed0 .. seed0+K-1,
// and returns the per-pixel statistics.
func renderSeeds(tb testing.TB, s *render.Scene, opts render.Options, k int, seed0 uint64) pixelStats {
	tb.Helper()
	if k < 2 {
		tb.Fatalf("renderSeeds needs at least two renders, got %d", k)
	}
	var sum, sum2 []float64
	var ps pixelStats
	for i := 0; i < k; i++ {
		o := opts
		o.Seed, o.SeedSet = seed0+uint64(i), true
		res, err := render.Render(context.Background(), s, o)
		if err != nil {
			tb.Fatalf("render: %v", err)
		}
		im := res.Image
		if sum == nil {
			sum = make([]float64, len(im.Pix))
			sum2 = make([]float64, len(im.Pix))
			ps.W, ps.H = im.Width, im.Height
		}
		for j, v := range im.Pix {
			sum[j] += v
			sum2[j] += v * v
		}
		ps.Discarded += res.Stats.Discarded
		if a := im.Alpha; a != nil {
			if ps.AlphaMin == nil {
				ps.AlphaMin = append([]float64(nil), a...)
				ps.AlphaMax = append([]float64(nil), a...)
			}
			for j, v := range a {
				ps.AlphaMin[j] = math.Min(ps.AlphaMin[j], v)
				ps.AlphaMax[j] = math.Max(ps.AlphaMax[j], v)
			}
		}
	}
	ps.K = k
	ps.Mean = make([]float64, len(sum))
	ps.SE = make([]float64, len(sum))
	fk := float64(k)
	for j := range sum {
		m := sum[j] / fk
		v := (sum2[j] - fk*m*m) / (fk - 1)
		ps.Mean[j] = m
		ps.SE[j] = math.Sqrt(math.Max(v, 0) / fk)
	}
	return ps
}

// at returns the mean and standard error of channel c of pixel (x, y).
func (p *pixelStats) at(x, y, c int) (mean, se float64) {
	i := 3*(y*p.W+x) + c
	return p.Mean[i], p.SE[i]
}

// regionMean returns the mean of channel c over the pixels [x0,x1) x
// [y0,y1) for which keep (nil: all) is true, with its standard error and
// the number of pixels.
func (p *pixelStats) regionMean(x0, y0, x1, y1, c int, keep func(x, y int) bool) (mean, se float64, n int) {
	var s, v float64
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			if keep != nil && !keep(x, y) {
				continue
			}
			m, e := p.at(x, y, c)
			s += m
			v += e * e
			n++
		}
	}
	if n == 0 {
		return 0, 0, 0
	}
	return s / float64(n), math.Sqrt(v) / float64(n), n
}

// diffStats compares two estimates of the same expected image pixel by
// pixel. It returns the largest |a-b|/se over all pixels and channels (se
// the combined standard error) and where it occurs.
func diffStats(a, b pixelStats) (worst float64, where string) {
	for y := 0; y < a.H; y++ {
		for x := 0; x < a.W; x++ {
			for c := 0; c < 3; c++ {
				ma, ea := a.at(x, y, c)
				mb, eb := b.at(x, y, c)
				se := math.Hypot(ea, eb)
				d := math.Abs(ma - mb)
				z := 0.0
				if d > floatSlack {
					z = d / se
				}
				if z > worst {
					worst = z
					where = fmt.Sprintf("pixel (%d, %d) channel %d: %.6g vs %.6g (se %.3g, %.3g)", x, y, c, ma, mb, ea, eb)
				}
			}
		}
	}
	return worst, where
}

// setFilm sets the film size and sample count of the scene's first sensor.
func setFilm(s *render.Scene, w, h, spp int) {
	s.Sensors[0].Width, s.Sensors[0].Height, s.Sensors[0].SPP = w, h, spp
}

// mustBuild builds the scene or fails the test.
func mustBuild(tb testing.TB, s *render.Scene) {
	tb.Helper()
	if err := s.Build(); err != nil {
		tb.Fatalf("Build: %v", err)
	}
}

// mustCamera returns the scene's first camera.
func mustCamera(tb testing.TB, s *render.Scene) render.Camera {
	tb.Helper()
	cam, err := render.NewCamera(s.Sensors[0])
	if err != nil {
		tb.Fatalf("NewCamera: %v", err)
	}
	return cam
}

// grey returns the grey (v, v, v).
func grey(v float64) mgl64.Vec3 { return mgl64.Vec3{v, v, v} }

// scaled returns n reduced under -short (at least lo).
func scaled(n, lo int) int {
	if testing.Short() {
		return max(n/4, lo)
	}
	return n
}

// renderOnce renders s once or fails the test.
func renderOnce(tb testing.TB, s *render.Scene, o render.Options) *render.Result {
	tb.Helper()
	res, err := render.Render(context.Background(), s, o)
	if err != nil {
		tb.Fatalf("render: %v", err)
	}
	return res
}
