package scenes

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"flag"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"

	"github.com/invrender/invrender/render"
	"github.com/invrender/invrender/scenes/internal/exr"
)

func TestSRGBCurve(t *testing.T) {
	cases := []struct{ lin, enc float64 }{
		{0, 0}, {1, 1},
		{0.0031308, 0.0031308 * 12.92},
		{0.5, 0.7353569830524495},
		{0.18, 0.4613561295004},
		{0.001, 0.01292},
	}
	for _, c := range cases {
		if got := LinearToSRGB(c.lin); math.Abs(got-c.enc) > 1e-12 {
			t.Errorf("LinearToSRGB(%v) = %.15g, want %.15g", c.lin, got, c.enc)
		}
		if got := SRGBToLinear(c.enc); math.Abs(got-c.lin) > 1e-12 {
			t.Errorf("SRGBToLinear(%v) = %.15g, want %.15g", c.enc, got, c.lin)
		}
	}
	// The two branches meet (the standard's constants make the curve
	// continuous to about 1e-7 at the threshold).
	if d := math.Abs(1.055*math.Pow(0.0031308, 1/2.4) - 0.055 - 0.0031308*12.92); d > 1e-6 {
		t.Errorf("encoding curve jumps by %g at the threshold", d)
	}
	for i := 0; i <= 1000; i++ {
		v := float64(i) / 1000
		if got := SRGBToLinear(LinearToSRGB(v)); math.Abs(got-v) > 1e-12 {
			t.Fatalf("SRGBToLinear(LinearToSRGB(%v)) = %v", v, got)
		}
		if i > 0 && !(LinearToSRGB(v) > LinearToSRGB(float64(i-1)/1000)) {
			t.Fatalf("LinearToSRGB not increasing at %v", v)
		}
	}
	// Every 8- and 16-bit code survives decode then encode.
	for k := 0; k < 256; k++ {
		if q := quantize(SRGBToLinear(float64(k)/255), false, 255); q != uint32(k) {
			t.Fatalf("8-bit code %d comes back as %d", k, q)
		}
	}
	for k := 0; k < 65536; k++ {
		if q := quantize(SRGBToLinear(float64(k)/65535), false, 65535); q != uint32(k) {
			t.Fatalf("16-bit code %d comes back as %d", k, q)
		}
	}
	if quantize(math.NaN(), false, 255) != 0 || quantize(-1, false, 255) != 0 || quantize(7, false, 255) != 255 || quantize(math.Inf(1), true, 255) != 255 {
		t.Error("quantize does not clamp NaN, negative and large values")
	}
	if got := SRGBToLinear(-0.5); got != -SRGBToLinear(0.5) {
		t.Errorf("SRGBToLinear(-0.5) = %v, want the odd extension", got)
	}
}

// testImage returns a w x h image whose straight colours are uniform in
// [0, 1] and, with alpha, alpha in [1/255, 1]; colour is associated.
func testImage(rng *rand.Rand, w, h int, alpha bool) *render.Image {
	im := render.NewImage(w, h)
	if alpha {
		im.Alpha = make([]float64, w*h)
	}
	for i := 0; i < w*h; i++ {
		a := 1.0
		if alpha {
			a = 1.0/255 + rng.Float64()*(1-1.0/255)
			im.Alpha[i] = a
		}
		for c := 0; c < 3; c++ {
			im.Pix[3*i+c] = rng.Float64() * a
		}
	}
	return im
}

func encodeDecode(t *testing.T, im *render.Image, format string, o ImageOptions) *render.Image {
	t.Helper()
	var buf bytes.Buffer
	if err := EncodeImage(&buf, im, format, o); err != nil {
		t.Fatalf("encode %s: %v", format, err)
	}
	got, err := DecodeImage(bytes.NewReader(buf.Bytes()), "test."+format, o)
	if err != nil {
		t.Fatalf("decode %s: %v", format, err)
	}
	if got.Width != im.Width || got.Height != im.Height {
		t.Fatalf("%s: size %dx%d, want %dx%d", format, got.Width, got.Height, im.Width, im.Height)
	}
	if err := got.Validate(); err != nil {
		t.Fatal(err)
	}
	return got
}

// checkQuantised compares straight colours in the encoded domain: each must
// be within half a step (levels = 255 or 65535) plus rounding slack, and
// alpha likewise.
func checkQuantised(t *testing.T, name string, want, got *render.Image, levels float64, raw bool) {
	t.Helper()
	if (want.Alpha == nil) != (got.Alpha == nil) {
		t.Fatalf("%s: alpha present %v, want %v", name, got.Alpha != nil, want.Alpha != nil)
	}
	tol := 0.5/levels + 1e-9
	enc := LinearToSRGB
	if raw {
		enc = func(v float64) float64 { return v }
	}
	for i := 0; i < want.Width*want.Height; i++ {
		wa, ga := 1.0, 1.0
		if want.Alpha != nil {
			wa, ga = want.Alpha[i], got.Alpha[i]
			if math.Abs(wa-ga) > tol {
				t.Fatalf("%s: pixel %d alpha %v, want %v", name, i, ga, wa)
			}
		}
		for c := 0; c < 3; c++ {
			ws, gs := want.Pix[3*i+c], got.Pix[3*i+c]
			if !raw {
				ws, gs = ws/wa, gs/ga
			}
			if d := math.Abs(enc(ws) - enc(gs)); d > tol {
				t.Fatalf("%s: pixel %d channel %d: %v, want %v (encoded difference %g > %g)", name, i, c, gs, ws, d, tol)
			}
		}
	}
}

func TestRoundTrip8And16Bit(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 11))
	for _, sz := range [][2]int{{1, 1}, {7, 5}, {2, 9}} {
		for _, alpha := range []bool{false, true} {
			for _, raw := range []bool{false, true} {
				im := testImage(rng, sz[0], sz[1], alpha)
				checkQuantised(t, "png8", im, encodeDecode(t, im, "png", ImageOptions{Raw: raw}), 255, raw)
				checkQuantised(t, "png16", im, encodeDecode(t, im, "png", ImageOptions{Raw: raw, Bits16: true}), 65535, raw)
				checkQuantised(t, "tga", im, encodeDecode(t, im, "tga", ImageOptions{Raw: raw}), 255, raw)
			}
		}
	}
	// Exact codes survive exactly: straight colours that are decoded codes.
	im := render.NewImage(256, 1)
	for k := 0; k < 256; k++ {
		v := SRGBToLinear(float64(k) / 255)
		im.Set(k, 0, [3]float64{v, v, v})
	}
	for _, f := range []string{"png", "tga"} {
		got := encodeDecode(t, im, f, ImageOptions{})
		for i, v := range got.Pix {
			if v != im.Pix[i] {
				t.Fatalf("%s: code %d came back as %v, want %v", f, i/3, v, im.Pix[i])
			}
		}
	}
	// 16-bit PNG keeps more than 8 bits.
	im16 := render.NewImage(1, 1)
	im16.Pix[0] = SRGBToLinear(1000.0 / 65535)
	got := encodeDecode(t, im16, "png", ImageOptions{Bits16: true})
	if got.Pix[0] != im16.Pix[0] {
		t.Errorf("16-bit PNG: %v, want %v", got.Pix[0], im16.Pix[0])
	}
}

func TestJPEGRoundTrip(t *testing.T) {
	// A smooth image: JPEG's error (chroma subsampling included) stays
	// small there.
	w, h := 129, 65
	im := render.NewImage(w, h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			im.Set(x, y, [3]float64{float64(x) / float64(w), float64(y) / float64(h), 0.25})
		}
	}
	got := encodeDecode(t, im, "jpg", ImageOptions{Quality: 95})
	if got.Alpha != nil {
		t.Error("JPEG came back with alpha")
	}
	sum := 0.0
	for i := range im.Pix {
		sum += math.Abs(LinearToSRGB(im.Pix[i]) - LinearToSRGB(got.Pix[i]))
	}
	// Quality 95 on a smooth ramp: mean error around half an 8-bit step.
	if mean := sum / float64(len(im.Pix)); mean > 0.01 {
		t.Errorf("JPEG mean encoded error %g > 0.01", mean)
	}
}

func TestPFMRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 13))
	im := render.NewImage(7, 4)
	for i := range im.Pix {
		im.Pix[i] = float64(float32(rng.NormFloat64() * math.Exp(4*rng.NormFloat64())))
	}
	im.Pix[0], im.Pix[1], im.Pix[2] = math.Inf(1), math.Inf(-1), math.NaN()
	im.Alpha = make([]float64, 28) // dropped by PFM
	got := encodeDecode(t, im, "pfm", ImageOptions{})
	if got.Alpha != nil {
		t.Error("PFM came back with alpha")
	}
	for i, v := range im.Pix {
		if g := got.Pix[i]; g != v && !(math.IsNaN(g) && math.IsNaN(v)) {
			t.Fatalf("value %d: %v, want %v", i, g, v)
		}
	}
	// Rows are stored bottom to top: the first data row is the bottom row.
	var buf bytes.Buffer
	small := render.NewImage(1, 2)
	small.Pix[0] = 1 // top
	small.Pix[3] = 2 // bottom
	if err := EncodeImage(&buf, small, "pfm", ImageOptions{}); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	if want := "PF\n1 2\n-1.0\n"; !strings.HasPrefix(string(b), want) {
		t.Fatalf("header %q, want %q", b[:12], want)
	}
	if v := math.Float32frombits(uint32(b[12]) | uint32(b[13])<<8 | uint32(b[14])<<16 | uint32(b[15])<<24); v != 2 {
		t.Errorf("first stored value %v, want the bottom row's 2", v)
	}
}

func TestPFMFixtures(t *testing.T) {
	be := func(vs ...float32) []byte {
		var b []byte
		for _, v := range vs {
			u := math.Float32bits(v)
			b = append(b, byte(u>>24), byte(u>>16), byte(u>>8), byte(u))
		}
		return b
	}
	// Greyscale, big-endian (positive scale, magnitude ignored), 2x2,
	// header on one line with spaces and \r\n line end.
	data := append([]byte("Pf 2 2 4.5\r\n"), be(1, 2, 3, 4)...)
	im, err := DecodeImage(bytes.NewReader(data), "grey.pfm", ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Bottom row (1, 2), top row (3, 4).
	want := []float64{3, 3, 3, 4, 4, 4, 1, 1, 1, 2, 2, 2}
	for i, v := range want {
		if im.Pix[i] != v {
			t.Fatalf("Pix = %v, want %v", im.Pix, want)
		}
	}
}

func TestHDRRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 15))
	for _, sz := range [][2]int{{1, 1}, {7, 3}, {8, 2}, {37, 5}} {
		im := render.NewImage(sz[0], sz[1])
		for i := range im.Pix {
			im.Pix[i] = math.Exp(3 * rng.NormFloat64())
			if rng.IntN(4) == 0 && i >= 3 {
				im.Pix[i] = im.Pix[i-3] // runs for the RLE
			}
		}
		im.Pix[0] = 0
		got := encodeDecode(t, im, "hdr", ImageOptions{})
		for p := 0; p < sz[0]*sz[1]; p++ {
			m := max(im.Pix[3*p], im.Pix[3*p+1], im.Pix[3*p+2])
			for c := 0; c < 3; c++ {
				// Mantissas are rounded to 1/256 of the exponent's range,
				// which is at most 2^-8 of the largest component (half a
				// step of 2^(e-8) with max >= 2^(e-1)).
				if d := math.Abs(got.Pix[3*p+c] - im.Pix[3*p+c]); d > m*math.Ldexp(1, -8) {
					t.Fatalf("%dx%d pixel %d channel %d: %v, want %v", sz[0], sz[1], p, c, got.Pix[3*p+c], im.Pix[3*p+c])
				}
			}
		}
	}
	// Exactly representable values come back exactly; negative and NaN
	// values become 0.
	im := render.NewImage(9, 1)
	copy(im.Pix, []float64{1, 0.5, 0.25, 3, 0, 1.5, -1, math.NaN(), 2, 1e-50, 0, 0})
	got := encodeDecode(t, im, "hdr", ImageOptions{})
	want := []float64{1, 0.5, 0.25, 3, 0, 1.5, 0, 0, 2, 0, 0, 0}
	for i, v := range want {
		if got.Pix[i] != v {
			t.Errorf("value %d: %v, want %v", i, got.Pix[i], v)
		}
	}
	if q := floatToRGBE(255.9, 1, 0); q != [4]byte{128, 1, 0, 137} {
		// 255.9 rounds up to 256 = 128 * 2^1: the exponent must grow.
		t.Errorf("floatToRGBE(255.9) = %v, want [128 1 0 137]", q)
	}
	if q := floatToRGBE(math.Inf(1), 0, 0); q != [4]byte{255, 0, 0, 255} {
		t.Errorf("floatToRGBE(Inf) = %v, want saturation", q)
	}
}

// Radiance files written by hand from the format description, as another
// program would write them.
const (
	// Flat 2x1: (128, 64, 32, e=129) = (1, 0.5, 0.25); (0,0,0,0) = black.
	hdrFixtureFlat = "#?RADIANCE\n# comment\nFORMAT=32-bit_rle_rgbe\nEXPOSURE=2.0\n\n-Y 1 +X 2\n" +
		"\x80\x40\x20\x81" + "\x00\x00\x00\x00"
	// RLE 8x1: R a run of 8 x 128, G a literal block of 8 bytes (0..7), B a
	// run of 3 x 16 and a literal block of 5 (0 0 0 0 64), E a run of
	// 8 x 130 (scale 2^-6).
	hdrFixtureRLE = "#?RGBE\n\n-Y 1 +X 8\n\x02\x02\x00\x08" +
		"\x88\x80" +
		"\x08\x00\x01\x02\x03\x04\x05\x06\x07" +
		"\x83\x10\x05\x00\x00\x00\x00\x40" +
		"\x88\x82"
)

// TestHDRFixtures decodes the hand-written files and other scan orders.
func TestHDRFixtures(t *testing.T) {
	im, err := DecodeImage(strings.NewReader(hdrFixtureFlat), "flat.hdr", ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []float64{1, 0.5, 0.25, 0, 0, 0}; !equalFloats(im.Pix, want) {
		t.Errorf("flat: %v, want %v (EXPOSURE is ignored)", im.Pix, want)
	}
	im, err = DecodeImage(strings.NewReader(hdrFixtureRLE), "rle.hdr", ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for x := 0; x < 8; x++ {
		b := 0.0
		if x < 3 {
			b = 16
		}
		if x == 7 {
			b = 64
		}
		want := [3]float64{128.0 / 64, float64(x) / 64, b / 64}
		if got := im.At(x, 0); got != want {
			t.Errorf("rle pixel %d = %v, want %v", x, got, want)
		}
	}
	// Orientations: the same 2x3 image (columns x, rows y, value 10y+x+1 in
	// the red mantissa) in four scan orders.
	val := func(x, y int) byte { return byte(10*y + x + 1) }
	type order struct {
		res  string
		scan func(emit func(x, y int))
	}
	orders := []order{
		{"-Y 3 +X 2", func(e func(x, y int)) {
			for y := 0; y < 3; y++ {
				for x := 0; x < 2; x++ {
					e(x, y)
				}
			}
		}},
		{"+Y 3 +X 2", func(e func(x, y int)) {
			for y := 2; y >= 0; y-- {
				for x := 0; x < 2; x++ {
					e(x, y)
				}
			}
		}},
		{"-Y 3 -X 2", func(e func(x, y int)) {
			for y := 0; y < 3; y++ {
				for x := 1; x >= 0; x-- {
					e(x, y)
				}
			}
		}},
		{"+X 2 -Y 3", func(e func(x, y int)) {
			for x := 0; x < 2; x++ {
				for y := 0; y < 3; y++ {
					e(x, y)
				}
			}
		}},
		{"-X 2 +Y 3", func(e func(x, y int)) {
			for x := 1; x >= 0; x-- {
				for y := 2; y >= 0; y-- {
					e(x, y)
				}
			}
		}},
	}
	for _, o := range orders {
		var data []byte
		o.scan(func(x, y int) { data = append(data, val(x, y), 0, 0, 136) })
		im, err := DecodeImage(bytes.NewReader(append([]byte("#?RADIANCE\n\n"+o.res+"\n"), data...)), "o.hdr", ImageOptions{})
		if err != nil {
			t.Fatalf("%s: %v", o.res, err)
		}
		if im.Width != 2 || im.Height != 3 {
			t.Fatalf("%s: size %dx%d, want 2x3", o.res, im.Width, im.Height)
		}
		for y := 0; y < 3; y++ {
			for x := 0; x < 2; x++ {
				if got := im.At(x, y)[0]; got != float64(val(x, y)) {
					t.Errorf("%s: pixel (%d,%d) = %v, want %v", o.res, x, y, got, val(x, y))
				}
			}
		}
	}
}

func equalFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestEXRRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 17))
	for _, comp := range []string{"none", "rle", "zips", "zip", ""} {
		for _, sz := range [][2]int{{1, 1}, {37, 23}, {3, 40}} {
			for _, alpha := range []bool{false, true} {
				im := render.NewImage(sz[0], sz[1])
				for i := range im.Pix {
					im.Pix[i] = float64(float32(math.Exp(4 * rng.NormFloat64())))
					if rng.IntN(3) == 0 && i > 0 {
						im.Pix[i] = im.Pix[i-1]
					}
				}
				if alpha {
					im.Alpha = make([]float64, sz[0]*sz[1])
					for i := range im.Alpha {
						im.Alpha[i] = float64(float32(rng.Float64()))
					}
				}
				got := encodeDecode(t, im, "exr", ImageOptions{EXRCompression: comp})
				if !equalFloats(got.Pix, im.Pix) || (alpha && !equalFloats(got.Alpha, im.Alpha)) || (got.Alpha != nil) != alpha {
					t.Fatalf("FLOAT %q %v alpha=%v: values differ", comp, sz, alpha)
				}
				got = encodeDecode(t, im, "exr", ImageOptions{EXRCompression: comp, HalfEXR: true})
				for i, v := range im.Pix {
					// Within half precision: exactly the nearest half.
					want := exr.HalfToFloat64(exr.Float64ToHalf(v))
					if got.Pix[i] != want {
						t.Fatalf("HALF %q: value %d is %v, want %v (from %v)", comp, i, got.Pix[i], want, v)
					}
					if !math.IsInf(want, 0) && math.Abs(want-v) > max(math.Abs(v)*math.Ldexp(1, -11), math.Ldexp(1, -25)) {
						t.Fatalf("HALF rounding of %v to %v exceeds half an ulp", v, want)
					}
				}
				if alpha {
					for i, v := range im.Alpha {
						if want := exr.HalfToFloat64(exr.Float64ToHalf(v)); got.Alpha[i] != want {
							t.Fatalf("HALF alpha %d is %v, want %v", i, got.Alpha[i], want)
						}
					}
				}
			}
		}
	}
}

// writeEXR encodes a file with arbitrary channels; values[name] gives each
// channel's data over the data window, row-major.
func writeEXR(t *testing.T, dw, disp exr.Box2i, typ exr.PixelType, comp exr.Compression, values map[string][]float64) []byte {
	t.Helper()
	h := &exr.Header{Compression: comp, DataWindow: dw, DisplayWindow: disp}
	fb := &exr.FrameBuffer{}
	w := int(dw.Width())
	for name, v := range values {
		h.Channels = append(h.Channels, exr.Channel{Name: name, Type: typ, XSampling: 1, YSampling: 1})
		fb.Slices = append(fb.Slices, exr.Slice{Name: name, Data: v, Base: -int(dw.XMin) - int(dw.YMin)*w, XStride: 1, YStride: w})
	}
	var buf bytes.Buffer
	if err := exr.Encode(&buf, h, fb); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func filled(n int, f func(i int) float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = f(i)
	}
	return v
}

func TestEXRChannelSelection(t *testing.T) {
	box := exr.Box2i{XMin: 0, YMin: 0, XMax: 2, YMax: 1}
	n := 6
	c := func(k float64) []float64 { return filled(n, func(i int) float64 { return k + float64(i) }) }
	cases := []struct {
		name   string
		ch     map[string][]float64
		r, g   float64 // expected first pixel's R and G
		b      float64
		alpha  bool
		errSub string
	}{
		{name: "extra channels", ch: map[string][]float64{"R": c(10), "G": c(20), "B": c(30), "A": c(0.5), "Z": c(99), "depth.V": c(77), "N.X": c(5)}, r: 10, g: 20, b: 30, alpha: true},
		{name: "greyscale Y", ch: map[string][]float64{"Y": c(4)}, r: 4, g: 4, b: 4},
		{name: "greyscale Y with alpha", ch: map[string][]float64{"Y": c(4), "A": c(1)}, r: 4, g: 4, b: 4, alpha: true},
		{name: "unprefixed preferred", ch: map[string][]float64{"diffuse.R": c(1), "diffuse.G": c(2), "diffuse.B": c(3), "R": c(10), "G": c(20), "B": c(30)}, r: 10, g: 20, b: 30},
		{name: "first layer", ch: map[string][]float64{"specular.R": c(7), "specular.G": c(8), "specular.B": c(9), "diffuse.R": c(1), "diffuse.G": c(2), "diffuse.B": c(3), "diffuse.A": c(1)}, r: 1, g: 2, b: 3, alpha: true},
		{name: "missing colour channel is zero", ch: map[string][]float64{"R": c(10), "G": c(20)}, r: 10, g: 20, b: 0},
		{name: "no colour", ch: map[string][]float64{"Z": c(1), "N.X": c(2)}, errSub: "no R, G, B or Y channel"},
		{name: "chroma", ch: map[string][]float64{"Y": c(1), "RY": c(0), "BY": c(0)}, errSub: "luminance/chroma"},
	}
	for _, tc := range cases {
		b := writeEXR(t, box, box, exr.Float, exr.ZIPS, tc.ch)
		im, err := DecodeImage(bytes.NewReader(b), tc.name+".exr", ImageOptions{})
		if tc.errSub != "" {
			if err == nil || !strings.Contains(err.Error(), tc.errSub) {
				t.Errorf("%s: err = %v, want one mentioning %q", tc.name, err, tc.errSub)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := im.At(0, 0); got != [3]float64{tc.r, tc.g, tc.b} {
			t.Errorf("%s: first pixel %v, want (%v, %v, %v)", tc.name, got, tc.r, tc.g, tc.b)
		}
		if got := im.At(2, 1); tc.b != 0 && got[2] != tc.b+5 {
			t.Errorf("%s: last pixel %v", tc.name, got)
		}
		if (im.Alpha != nil) != tc.alpha {
			t.Errorf("%s: alpha present = %v, want %v", tc.name, im.Alpha != nil, tc.alpha)
		}
	}
}

func TestEXRDataWindow(t *testing.T) {
	// Display window 0..5 x 0..3; data window 3..7 x -1..1: only columns
	// 3-5 and rows 0-1 of the data land in the image.
	disp := exr.Box2i{XMin: 0, YMin: 0, XMax: 5, YMax: 3}
	dw := exr.Box2i{XMin: 3, YMin: -1, XMax: 7, YMax: 1}
	n := int(dw.Width() * dw.Height())
	val := func(i int) float64 { return float64(100 + i) }
	for _, comp := range []exr.Compression{exr.None, exr.ZIP} {
		b := writeEXR(t, dw, disp, exr.Half, comp, map[string][]float64{
			"R": filled(n, val), "G": filled(n, func(i int) float64 { return -val(i) }), "B": filled(n, func(int) float64 { return 1 }), "A": filled(n, func(int) float64 { return 0.5 }),
		})
		im, err := DecodeImage(bytes.NewReader(b), "window.exr", ImageOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if im.Width != 6 || im.Height != 4 {
			t.Fatalf("size %dx%d, want the display window's 6x4", im.Width, im.Height)
		}
		for y := 0; y < 4; y++ {
			for x := 0; x < 6; x++ {
				want := [3]float64{}
				wa := 0.0
				if x >= 3 && y <= 1 {
					i := (y+1)*5 + (x - 3)
					want = [3]float64{val(i), -val(i), 1}
					wa = 0.5
				}
				if got := im.At(x, y); got != want || im.Alpha[y*6+x] != wa {
					t.Errorf("%v: pixel (%d,%d) = %v alpha %v, want %v alpha %v", comp, x, y, got, im.Alpha[y*6+x], want, wa)
				}
			}
		}
	}
}

// exrHeaderBytes builds a header by hand, byte by byte, as the OpenEXR file
// layout document describes it, independently of the package's writer.
func exrHeaderBytes(channels []string, typ uint32, comp byte, w, h int32) []byte {
	var b []byte
	u32 := func(v uint32) { b = append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24)) }
	f32 := func(v float32) { u32(math.Float32bits(v)) }
	str := func(s string) { b = append(b, s...); b = append(b, 0) }
	b = append(b, 0x76, 0x2f, 0x31, 0x01, 2, 0, 0, 0)
	str("channels")
	str("chlist")
	u32(uint32(len(channels)*(2+16) + 1))
	for _, c := range channels { // one-letter names
		str(c)
		u32(typ)
		b = append(b, 0, 0, 0, 0)
		u32(1)
		u32(1)
	}
	b = append(b, 0)
	str("compression")
	str("compression")
	u32(1)
	b = append(b, comp)
	for _, n := range []string{"dataWindow", "displayWindow"} {
		str(n)
		str("box2i")
		u32(16)
		u32(0)
		u32(0)
		u32(uint32(w - 1))
		u32(uint32(h - 1))
	}
	str("lineOrder")
	str("lineOrder")
	u32(1)
	b = append(b, 0)
	str("pixelAspectRatio")
	str("float")
	u32(4)
	f32(1)
	str("screenWindowCenter")
	str("v2f")
	u32(8)
	f32(0)
	f32(0)
	str("screenWindowWidth")
	str("float")
	u32(4)
	f32(1)
	return append(b, 0)
}

func appendU64(b []byte, v uint64) []byte {
	for i := 0; i < 8; i++ {
		b = append(b, byte(v>>(8*i)))
	}
	return b
}

// exrFixture* build small files byte by byte from the OpenEXR layout.

// exrFixtureNone: 2x1, HALF B, G, R, no compression: one chunk, line 0, 12
// bytes: B: 1.0 (3c00), 2^-24 (0001); G: 0.5 (3800), -2 (c000);
// R: 65504 (7bff), +Inf (7c00).
func exrFixtureNone() []byte {
	b := exrHeaderBytes([]string{"B", "G", "R"}, 1, 0, 2, 1)
	b = appendU64(b, uint64(len(b)+8))
	b = append(b, 0, 0, 0, 0, 12, 0, 0, 0)
	return append(b, 0x00, 0x3c, 0x01, 0x00, 0x00, 0x38, 0x00, 0xc0, 0xff, 0x7b, 0x00, 0x7c)
}

// exrFixtureZIPS: 16x1 HALF Y = 1.0 everywhere, ZIPS: raw bytes (00 3c) x
// 16, split into 00 x 16 | 3c x 16, predicted into 00, 80 x 15, bc, 80 x 15
// (exrZIPSPredicted), then deflated: the 19 zlib bytes below, which
// TestEXRHandMadeFixtures checks against compress/zlib.
func exrFixtureZIPS() []byte {
	z := []byte{0x78, 0x9c, 0x62, 0x68, 0x40, 0x05, 0x7b, 0xd0, 0xf8, 0x80, 0x00, 0x00, 0x00, 0xff, 0xff, 0xfb, 0xe0, 0x0f, 0xbd}
	b := exrHeaderBytes([]string{"Y"}, 1, 2, 16, 1)
	b = appendU64(b, uint64(len(b)+8))
	b = append(b, 0, 0, 0, 0, byte(len(z)), 0, 0, 0)
	return append(b, z...)
}

var exrZIPSPredicted = append(append(append([]byte{0x00}, bytes.Repeat([]byte{0x80}, 15)...), 0xbc), bytes.Repeat([]byte{0x80}, 15)...)

// exrFixtureRLE: the same data RLE-compressed by hand: ff 00 (one literal
// 00), 0e 80 (15 x 80), ff bc, 0e 80.
func exrFixtureRLE() []byte {
	b := exrHeaderBytes([]string{"Y"}, 1, 1, 16, 1)
	b = appendU64(b, uint64(len(b)+8))
	b = append(b, 0, 0, 0, 0, 8, 0, 0, 0)
	return append(b, 0xff, 0x00, 0x0e, 0x80, 0xff, 0xbc, 0x0e, 0x80)
}

// exrFixtureUINT: 1x2 UINT G (R and B absent, so zero): 7 and 4000000000,
// in two chunks whose offsets are patched in after the fact.
func exrFixtureUINT() []byte {
	b := exrHeaderBytes([]string{"G"}, 0, 0, 1, 2)
	tab := len(b)
	b = appendU64(appendU64(b, 0), 0)
	binary.LittleEndian.PutUint64(b[tab:], uint64(len(b)))
	b = append(b, 0, 0, 0, 0, 4, 0, 0, 0, 7, 0, 0, 0)
	binary.LittleEndian.PutUint64(b[tab+8:], uint64(len(b)))
	return append(b, 1, 0, 0, 0, 4, 0, 0, 0, 0x00, 0x28, 0x6b, 0xee)
}

func exrFixtures() [][]byte {
	return [][]byte{exrFixtureNone(), exrFixtureZIPS(), exrFixtureRLE(), exrFixtureUINT()}
}

func TestEXRHandMadeFixtures(t *testing.T) {
	// The ZIPS fixture's deflate stream holds the predicted bytes.
	zb := exrFixtureZIPS()
	zr, err := zlib.NewReader(bytes.NewReader(zb[len(zb)-19:]))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(zr); err != nil || !bytes.Equal(got, exrZIPSPredicted) {
		t.Fatalf("ZIPS fixture inflates to % x, %v", got, err)
	}
	im, err := DecodeImage(bytes.NewReader(exrFixtureNone()), "hand.exr", ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []float64{65504, 0.5, 1, math.Inf(1), -2, math.Ldexp(1, -24)}; !equalFloats(im.Pix, want) {
		t.Errorf("NONE fixture: %v, want %v", im.Pix, want)
	}
	for name, b := range map[string][]byte{"zips.exr": exrFixtureZIPS(), "rle.exr": exrFixtureRLE()} {
		im, err = DecodeImage(bytes.NewReader(b), name, ImageOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if im.Width != 16 || im.Height != 1 {
			t.Fatalf("%s: size %dx%d", name, im.Width, im.Height)
		}
		for i, v := range im.Pix {
			if v != 1 {
				t.Fatalf("%s: value %d = %v, want 1", name, i, v)
			}
		}
	}
	im, err = DecodeImage(bytes.NewReader(exrFixtureUINT()), "uint.exr", ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []float64{0, 7, 0, 0, 4000000000, 0}; !equalFloats(im.Pix, want) {
		t.Errorf("UINT fixture: %v, want %v", im.Pix, want)
	}
}

func TestOtherReadFormats(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 3, 2))
	for i := range src.Pix {
		src.Pix[i] = byte(40 * i)
	}
	for i := 3; i < len(src.Pix); i += 4 {
		src.Pix[i] = 255
	}
	check := func(name string, b []byte) {
		t.Helper()
		im, err := DecodeImage(bytes.NewReader(b), name, ImageOptions{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for i := 0; i < 6; i++ {
			for c := 0; c < 3; c++ {
				if want := SRGBToLinear(float64(src.Pix[4*i+c]) / 255); math.Abs(im.Pix[3*i+c]-want) > 1e-12 {
					t.Fatalf("%s: pixel %d channel %d = %v, want %v", name, i, c, im.Pix[3*i+c], want)
				}
			}
		}
		if im.Alpha != nil {
			t.Errorf("%s: opaque image came back with alpha", name)
		}
	}
	var buf bytes.Buffer
	if err := bmp.Encode(&buf, src); err != nil {
		t.Fatal(err)
	}
	check("x.bmp", buf.Bytes())
	buf.Reset()
	if err := tiff.Encode(&buf, src, &tiff.Options{Compression: tiff.Deflate}); err != nil {
		t.Fatal(err)
	}
	check("x.tif", buf.Bytes())
	buf.Reset()
	if err := png.Encode(&buf, src); err != nil {
		t.Fatal(err)
	}
	check("no-extension", buf.Bytes()) // recognised from the content
	// Grey and paletted images.
	g := image.NewGray(image.Rect(0, 0, 2, 1))
	g.Pix[0], g.Pix[1] = 0, 255
	im := FromImage(g, false)
	if im.Pix[0] != 0 || im.Pix[3] != 1 || im.Pix[5] != 1 || im.Alpha != nil {
		t.Errorf("grey: %v", im.Pix)
	}
	p := image.NewPaletted(image.Rect(0, 0, 2, 1), color.Palette{color.NRGBA{255, 0, 0, 255}, color.NRGBA{0, 0, 255, 0}})
	p.Pix[1] = 1
	im = FromImage(p, false)
	if im.Alpha == nil || im.Alpha[0] != 1 || im.Alpha[1] != 0 || im.Pix[0] != 1 || im.Pix[5] != 0 {
		t.Errorf("paletted: %v alpha %v", im.Pix, im.Alpha)
	}
}

// webpLossless1Colour builds a VP8L (lossless WebP) file of w x h pixels of
// one colour by hand: the bitstream header, no transforms, no colour cache,
// no meta codes, and five "simple" prefix codes of one symbol each, so
// every pixel takes zero bits (WebP lossless bitstream specification,
// RFC 9649 sections 3 and 6).
func webpLossless1Colour(w, h int, r, g, b, a byte) []byte {
	var bits []byte
	var acc uint64
	n := 0
	put := func(v uint64, k int) {
		acc |= v << n
		n += k
		for n >= 8 {
			bits = append(bits, byte(acc))
			acc >>= 8
			n -= 8
		}
	}
	put(0x2f, 8)
	put(uint64(w-1), 14)
	put(uint64(h-1), 14)
	put(0, 1)                                   // alpha_is_used (a hint only)
	put(0, 3)                                   // version
	put(0, 1)                                   // no transform
	put(0, 1)                                   // no colour cache
	put(0, 1)                                   // no meta prefix codes
	for _, sym := range []byte{g, r, b, a, 0} { // green, red, blue, alpha, distance
		put(1, 1) // simple code
		put(0, 1) // one symbol
		put(1, 1) // 8-bit symbol
		put(uint64(sym), 8)
	}
	if n > 0 {
		bits = append(bits, byte(acc))
	}
	chunk := append([]byte("VP8L"), byte(len(bits)), byte(len(bits)>>8), 0, 0)
	chunk = append(chunk, bits...)
	if len(bits)%2 == 1 {
		chunk = append(chunk, 0)
	}
	size := 4 + len(chunk)
	return append([]byte{'R', 'I', 'F', 'F', byte(size), byte(size >> 8), 0, 0, 'W', 'E', 'B', 'P'}, chunk...)
}

func TestReadWebP(t *testing.T) {
	b := webpLossless1Colour(3, 2, 255, 128, 0, 255)
	im, err := DecodeImage(bytes.NewReader(b), "x.webp", ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := [3]float64{1, SRGBToLinear(128.0 / 255), 0}
	if im.Width != 3 || im.Height != 2 || im.At(2, 1) != want || im.Alpha != nil {
		t.Errorf("WebP: %dx%d, pixel %v alpha %v, want 3x2 %v", im.Width, im.Height, im.At(2, 1), im.Alpha != nil, want)
	}
	// Semi-transparent: colour comes back associated with alpha.
	b = webpLossless1Colour(1, 1, 255, 255, 255, 51)
	im, err = DecodeImage(bytes.NewReader(b), "a.webp", ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if im.Alpha == nil || im.Alpha[0] != 0.2 || im.Pix[0] != 0.2 {
		t.Errorf("WebP alpha: %v %v, want colour 0.2 alpha 0.2", im.Pix, im.Alpha)
	}
	raw, err := DecodeImage(bytes.NewReader(b), "a.webp", ImageOptions{Raw: true})
	if err != nil {
		t.Fatal(err)
	}
	if raw.Pix[0] != 1 {
		t.Errorf("raw WebP colour %v, want the unassociated 1", raw.Pix[0])
	}
}

func TestTGAZeroAlpha(t *testing.T) {
	// 2x1, 32-bit BGRA, top-left origin, every alpha byte 0, no footer.
	b := []byte{0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1, 0, 32, 0x28,
		0, 0, 255, 0, 255, 0, 0, 0}
	im, err := DecodeImage(bytes.NewReader(b), "zero-alpha.tga", ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if im.Alpha != nil || im.At(0, 0) != [3]float64{1, 0, 0} || im.At(1, 0) != [3]float64{0, 0, 1} {
		t.Errorf("pixels %v alpha %v, want opaque red and blue", im.Pix, im.Alpha)
	}
}

func TestAlphaAssociation(t *testing.T) {
	// A half-transparent pixel of straight sRGB colour 1 and one fully
	// transparent pixel.
	src := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	copy(src.Pix, []byte{255, 255, 255, 128, 9, 9, 9, 0})
	im := FromImage(src, false)
	a := 128.0 / 255
	if im.Alpha[0] != a || im.Pix[0] != a || im.Pix[3] != 0 || im.Alpha[1] != 0 {
		t.Fatalf("associated: %v alpha %v", im.Pix, im.Alpha)
	}
	// Back out through ToNRGBA: colour un-associated again.
	out := ToNRGBA(im, 0)
	if !bytes.Equal(out.Pix, []byte{255, 255, 255, 128, 0, 0, 0, 0}) {
		t.Errorf("ToNRGBA: %v", out.Pix)
	}
	// Exposure in stops.
	one := render.NewImage(1, 1)
	one.Pix[0] = 0.25
	if got := ToNRGBA(one, 2).Pix[0]; got != 255 {
		t.Errorf("exposure +2 of 0.25 gives %d, want 255", got)
	}
	if got := ToNRGBA(one, -1).Pix[0]; got != uint8(quantize(0.125, false, 255)) {
		t.Errorf("exposure -1 gives %d", got)
	}
	// Premultiplied Go images are un-premultiplied first.
	pm := image.NewRGBA(image.Rect(0, 0, 1, 1))
	copy(pm.Pix, []byte{100, 50, 0, 200})
	im = FromImage(pm, false)
	if want := SRGBToLinear(0.5) * 200 / 255; math.Abs(im.Pix[0]-want) > 1e-4 {
		t.Errorf("from RGBA: %v, want %v", im.Pix[0], want)
	}
}

func TestResize(t *testing.T) {
	// A constant image stays constant (weights are normalised), at any
	// size, with alpha.
	im := render.NewImage(13, 7)
	im.Alpha = make([]float64, 13*7)
	for i := range im.Pix {
		im.Pix[i] = 2.5 // HDR values above 1 survive
	}
	for i := range im.Alpha {
		im.Alpha[i] = 0.75
	}
	for _, sz := range [][2]int{{13, 7}, {5, 3}, {40, 21}, {1, 1}} {
		r := Resize(im, sz[0], sz[1])
		if r.Width != sz[0] || r.Height != sz[1] || r.Validate() != nil {
			t.Fatalf("size %dx%d", r.Width, r.Height)
		}
		for i, v := range r.Pix {
			if math.Abs(v-2.5) > 1e-12 {
				t.Fatalf("%v: value %d = %v, want 2.5", sz, i, v)
			}
		}
		for _, v := range r.Alpha {
			if math.Abs(v-0.75) > 1e-12 {
				t.Fatalf("alpha %v", v)
			}
		}
	}
	// A linear ramp is reproduced exactly by Catmull-Rom (it interpolates
	// polynomials up to degree 1) away from the borders when upsampling 2x.
	ramp := render.NewImage(16, 1)
	for x := 0; x < 16; x++ {
		ramp.Set(x, 0, [3]float64{float64(x), 0, 0})
	}
	up := Resize(ramp, 32, 1)
	for x := 4; x < 28; x++ {
		want := (float64(x)+0.5)/2 - 0.5
		if got := up.At(x, 0)[0]; math.Abs(got-want) > 1e-12 {
			t.Errorf("upsampled ramp at %d = %v, want %v", x, got, want)
		}
	}
	// Halving a ramp keeps its mean.
	down := Resize(ramp, 8, 1)
	if d := math.Abs(down.Sum()/8 - ramp.Sum()/16); d > 1e-9 {
		t.Errorf("mean changed by %v", d)
	}
}

func TestReadWriteFiles(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(18, 19))
	im := testImage(rng, 5, 3, true)
	for _, ext := range []string{".png", ".jpg", ".jpeg", ".tga", ".pfm", ".hdr", ".exr", ".PNG"} {
		p := filepath.Join(dir, "out"+ext)
		if err := WriteImage(p, im); err != nil {
			t.Fatal(err)
		}
		got, err := ReadImage(p)
		if err != nil {
			t.Fatal(err)
		}
		if got.Width != 5 || got.Height != 3 {
			t.Fatalf("%s: %dx%d", ext, got.Width, got.Height)
		}
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 8 {
		t.Errorf("directory holds %d entries, want 8 (no temporary files left)", len(ents))
	}
	// Content wins over a misleading extension.
	if err := os.Rename(filepath.Join(dir, "out.exr"), filepath.Join(dir, "really-exr.png")); err != nil {
		t.Fatal(err)
	}
	got, err := ReadImage(filepath.Join(dir, "really-exr.png"))
	if err != nil || !equalFloats(got.Pix, func() []float64 {
		v := make([]float64, len(im.Pix))
		for i := range v {
			v[i] = float64(float32(im.Pix[i]))
		}
		return v
	}()) {
		t.Errorf("EXR named .png: %v", err)
	}
	for _, bad := range []struct {
		path string
		o    ImageOptions
	}{
		{filepath.Join(dir, "x.webp"), ImageOptions{}},
		{filepath.Join(dir, "x.unknown"), ImageOptions{}},
		{filepath.Join(dir, "x.exr"), ImageOptions{EXRCompression: "piz"}},
		{filepath.Join(dir, "x.jpg"), ImageOptions{Quality: 101}},
		{filepath.Join(dir, "missing", "x.png"), ImageOptions{}},
	} {
		if err := WriteImageOpts(bad.path, im, bad.o); err == nil {
			t.Errorf("writing %s with %+v succeeded", bad.path, bad.o)
		}
	}
	if err := WriteImage(filepath.Join(dir, "bad.png"), &render.Image{Width: 2, Height: 2, Pix: make([]float64, 3)}); err == nil {
		t.Error("writing an inconsistent image succeeded")
	}
	if _, err := ReadImage(filepath.Join(dir, "nope.png")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("reading a missing file: %v", err)
	}
}

var updateImageFixtures = flag.Bool("update-images", false, "rewrite the hand-made fixtures in ../testdata/images")

// TestImageFixtureFiles keeps the hand-made files in testdata/images (for
// other packages' tests and for checking with other tools) identical to
// the byte streams built here, and checks they decode.
func TestImageFixtureFiles(t *testing.T) {
	files := map[string][]byte{
		"hand_half_2x1.exr":  exrFixtureNone(),
		"hand_zips_16x1.exr": exrFixtureZIPS(),
		"hand_rle_16x1.exr":  exrFixtureRLE(),
		"hand_uint_1x2.exr":  exrFixtureUINT(),
		"hand_flat_2x1.hdr":  []byte(hdrFixtureFlat),
		"hand_rle_8x1.hdr":   []byte(hdrFixtureRLE),
		"hand_1x1.webp":      webpLossless1Colour(1, 1, 255, 128, 0, 255),
	}
	dir := filepath.Join("..", "testdata", "images")
	for name, want := range files {
		p := filepath.Join(dir, name)
		if *updateImageFixtures {
			if err := os.WriteFile(p, want, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("%v (run go test ./scenes -run ImageFixtureFiles -update-images)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the bytes built in the test", p)
		}
		if _, err := ReadImage(p); err != nil {
			t.Error(err)
		}
	}
}
