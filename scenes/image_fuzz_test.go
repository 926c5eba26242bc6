package scenes

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/invrender/invrender/render"
)

// lowerPixelLimit keeps a fuzz input from legitimately asking for a huge
// image (the display window of an EXR file is not bounded by its size).
func lowerPixelLimit(f *testing.F) {
	old := imagePixelLimit
	imagePixelLimit = 1 << 20
	f.Cleanup(func() { imagePixelLimit = old })
}

func checkDecoded(t *testing.T, im *render.Image, err error, name string) bool {
	t.Helper()
	if err != nil {
		var pe *ParseError
		if !errors.As(err, &pe) || pe.File != name {
			t.Fatalf("error %v is not a ParseError naming %s", err, name)
		}
		return false
	}
	if verr := im.Validate(); verr != nil {
		t.Fatalf("decoded image is inconsistent: %v", verr)
	}
	return true
}

func sameBits(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !(math.IsNaN(a[i]) && math.IsNaN(b[i])) {
			return false
		}
	}
	return true
}

func addSeeds(f *testing.F, ext string) {
	for name, b := range validFiles(f) {
		if strings.HasSuffix(name, ext) {
			f.Add(b)
		}
	}
}

func FuzzReadPFM(f *testing.F) {
	lowerPixelLimit(f)
	addSeeds(f, ".pfm")
	f.Add([]byte("Pf 2 1 1.0\n\x3f\x80\x00\x00\x40\x00\x00\x00"))
	f.Add([]byte("PF\n1 1\n-1\r\n\x00\x00\x80\x3f\x00\x00\x80\x3f\x00\x00\x80\x3f"))
	f.Fuzz(func(t *testing.T, b []byte) {
		im, err := decodePFM(b, "fuzz.pfm")
		if !checkDecoded(t, im, err, "fuzz.pfm") {
			return
		}
		// Every decoded value is a float32, so a round trip is exact.
		var buf bytes.Buffer
		if err := encodePFM(&buf, im); err != nil {
			t.Fatal(err)
		}
		again, err := decodePFM(buf.Bytes(), "again.pfm")
		if err != nil || !sameBits(again.Pix, im.Pix) {
			t.Fatalf("re-encoded PFM differs: %v", err)
		}
	})
}

func FuzzReadHDR(f *testing.F) {
	lowerPixelLimit(f)
	addSeeds(f, ".hdr")
	f.Add([]byte("#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 1 +X 2\n\x80\x40\x20\x81\x00\x00\x00\x00"))
	f.Add([]byte("#?RGBE\n\n-Y 1 +X 8\n\x02\x02\x00\x08\x88\x80\x08\x00\x01\x02\x03\x04\x05\x06\x07\x83\x10\x05\x00\x00\x00\x00\x40\x88\x82"))
	f.Add([]byte("#?RADIANCE\n\n+X 2 -Y 1\n\x01\x00\x00\x88\x02\x00\x00\x88"))
	f.Fuzz(func(t *testing.T, b []byte) {
		im, err := decodeHDR(b, "fuzz.hdr")
		if !checkDecoded(t, im, err, "fuzz.hdr") {
			return
		}
		for _, v := range im.Pix {
			if !(v >= 0) || math.IsInf(v, 0) {
				t.Fatalf("RGBE decoded to %v", v)
			}
		}
		var buf bytes.Buffer
		if err := encodeHDR(&buf, im); err != nil {
			t.Fatal(err)
		}
		if _, err := decodeHDR(buf.Bytes(), "again.hdr"); err != nil {
			t.Fatalf("re-encoded HDR does not decode: %v", err)
		}
	})
}

func FuzzReadEXR(f *testing.F) {
	lowerPixelLimit(f)
	addSeeds(f, ".exr")
	for _, b := range exrFixtures() {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		im, err := decodeEXR(b, "fuzz.exr")
		if !checkDecoded(t, im, err, "fuzz.exr") {
			return
		}
		// Writing FLOAT and reading back gives the values rounded to
		// float32 (exact for HALF and FLOAT sources).
		var buf bytes.Buffer
		if err := encodeEXR(&buf, im, ImageOptions{}); err != nil {
			t.Fatal(err)
		}
		again, err := decodeEXR(buf.Bytes(), "again.exr")
		if err != nil {
			t.Fatalf("re-encoded EXR does not decode: %v", err)
		}
		want := make([]float64, len(im.Pix))
		for i, v := range im.Pix {
			want[i] = float64(float32(v))
		}
		if !sameBits(again.Pix, want) {
			t.Fatal("re-encoded EXR differs")
		}
	})
}
