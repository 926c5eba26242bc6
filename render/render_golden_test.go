package render_test

import (
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/invrender/invrender/render"
	"github.com/invrender/invrender/scenes"
)

var updateGolden = flag.Bool("update", false, "re-render the golden images under testdata/golden")

// Golden image of the benchmark Cornell box (scenes.CornellBox at 64 x 64
// pixels, its own maxDepth 3), rendered at goldenRefSPP samples per pixel
// with a seed no test uses and stored as a float image (PFM, float32).
// Regenerate it with
//
//	go test ./render -run Golden -update
//
// after a change that is meant to alter the image (a deliberate change of
// the estimator's expected value, not of its noise).
const (
	goldenPath    = "../testdata/golden/cbox.pfm"
	goldenSize    = 64
	goldenRefSPP  = 4096
	goldenRefSeed = 1 << 40
	goldenSPP     = 32
	goldenFloor   = 0.02 // the relative metric's floor below which errors count absolutely
)

func goldenScene() *render.Scene {
	s := scenes.CornellBox()
	setFilm(s, goldenSize, goldenSize, goldenSPP)
	return s
}

// TestGoldenCbox compares a render at goldenSPP samples per pixel (seed 1)
// with the golden image r through the relative error
// e = |a - r| / max(|r|, 0.02), per channel, averaged over the pixels. The
// tolerance comes from the render's own noise, measured by a second render
// a' with seed 2:
//
//   - For any random variable and an independent copy, E|a - mu| <=
//     E|a - a'| (Jensen's inequality applied to the expectation over a'), so
//     the mean of |a - a'| / max(|r|, 0.02) bounds the metric's expected
//     value for an exact reference, whatever the noise's distribution. The
//     reference's own noise (goldenRefSPP/goldenSPP = 128 times the samples)
//     adds at most E|r - mu| <= sd(a)/sqrt(128), sd(a)^2 estimated by
//     (a - a')^2/2, summed over pixels under a square root (Jensen again).
//     The test requires mean(|a - r| - |a - a'|)/m <= that term + nSigma
//     standard errors of the per-pixel differences' mean.
//   - The metric is an absolute error, insensitive to small biases under
//     noise, so the signed mean (a - r)/m is checked as well: it must be 0
//     within nSigma standard errors, the variance of each term being that
//     of a plus that of r, (a - a')^2/2 * (1 + 1/128).
//
// Channels are tested separately, because the channels of one pixel share
// their paths; pixels are independent.
func TestGoldenCbox(t *testing.T) {
	if *updateGolden {
		s := goldenScene()
		res := renderOnce(t, s, render.Options{SPP: goldenRefSPP, Seed: goldenRefSeed, SeedSet: true})
		if res.Stats.Discarded != 0 {
			t.Fatalf("%d samples discarded in the reference", res.Stats.Discarded)
		}
		if err := os.MkdirAll(filepath.Dir(goldenPath), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := scenes.WriteImage(goldenPath, res.Image); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d spp)", goldenPath, goldenRefSPP)
	}
	ref, err := scenes.ReadImage(goldenPath)
	if err != nil {
		t.Fatalf("%v (regenerate with: go test ./render -run Golden -update)", err)
	}
	if ref.Width != goldenSize || ref.Height != goldenSize {
		t.Fatalf("golden image is %dx%d, want %dx%d", ref.Width, ref.Height, goldenSize, goldenSize)
	}
	s := goldenScene()
	a := renderOnce(t, s, render.Options{Seed: 1, SeedSet: true}).Image
	b := renderOnce(t, s, render.Options{Seed: 2, SeedSet: true}).Image
	n := float64(goldenSize * goldenSize)
	const refRatio = goldenSPP / float64(goldenRefSPP)
	for c := 0; c < 3; c++ {
		var metric, noise, refVar float64 // sums over pixels
		var dSum, dSum2, bias, biasVar float64
		for i := c; i < len(a.Pix); i += 3 {
			r := ref.Pix[i]
			m := math.Max(math.Abs(r), goldenFloor)
			e := math.Abs(a.Pix[i]-r) / m
			ea := math.Abs(a.Pix[i]-b.Pix[i]) / m
			v := (a.Pix[i] - b.Pix[i]) * (a.Pix[i] - b.Pix[i]) / 2 / (m * m) // estimates Var(a)/m^2
			metric += e
			noise += ea
			refVar += v * refRatio
			d := e - ea
			dSum += d
			dSum2 += d * d
			bias += (a.Pix[i] - r) / m
			biasVar += v * (1 + refRatio)
		}
		meanD := dSum / n
		seD := math.Sqrt(math.Max(dSum2/n-meanD*meanD, 0) / n)
		refTerm := math.Sqrt(refVar / n)
		t.Logf("channel %d: relative error %.4f, noise bound %.4f + %.4f (reference), bias %.2g (se %.2g)",
			c, metric/n, noise/n, refTerm, bias/n, math.Sqrt(biasVar)/n)
		if meanD > refTerm+nSigma*seD {
			t.Errorf("channel %d: mean relative error %.4f exceeds the noise bound %.4f + %.4f + %d x %.4f",
				c, metric/n, noise/n, refTerm, nSigma, seD)
		}
		if se := math.Sqrt(biasVar); math.Abs(bias) > nSigma*se {
			t.Errorf("channel %d: mean relative difference %.4g, more than %d standard errors (%.2g)", c, bias/n, nSigma, se/n)
		}
	}
}
