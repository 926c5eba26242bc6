package scenes

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/invrender/invrender/render"
)

// benchImage is a 1024 x 1024 render-like image: smooth shading plus noise,
// so that compression sees realistic data.
func benchImage() *render.Image {
	const n = 1024
	rng := rand.New(rand.NewPCG(1, 1))
	im := render.NewImage(n, n)
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			base := 0.5 + 0.4*math.Sin(float64(x)/97)*math.Cos(float64(y)/61)
			for c := 0; c < 3; c++ {
				im.Pix[3*(y*n+x)+c] = base * (1 + 0.05*rng.NormFloat64()) * float64(c+1) / 3
			}
		}
	}
	return im
}

func BenchmarkEXR(b *testing.B) {
	im := benchImage()
	for _, typ := range []string{"float", "half"} {
		for _, comp := range []string{"none", "rle", "zips", "zip"} {
			o := ImageOptions{HalfEXR: typ == "half", EXRCompression: comp}
			var buf bytes.Buffer
			if err := EncodeImage(&buf, im, "exr", o); err != nil {
				b.Fatal(err)
			}
			file := bytes.Clone(buf.Bytes())
			b.Run(fmt.Sprintf("Write/%s-%s", typ, comp), func(b *testing.B) {
				b.SetBytes(int64(len(im.Pix) * 8))
				b.ReportAllocs()
				for b.Loop() {
					buf.Reset()
					if err := EncodeImage(&buf, im, "exr", o); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(len(file)), "file-bytes")
			})
			b.Run(fmt.Sprintf("Read/%s-%s", typ, comp), func(b *testing.B) {
				b.SetBytes(int64(len(im.Pix) * 8))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := decodeEXR(file, "bench.exr"); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
