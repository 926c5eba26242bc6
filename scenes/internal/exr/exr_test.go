package exr

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

func TestPredictorRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for n := 0; n < 40; n++ {
		raw := make([]byte, n)
		for i := range raw {
			raw[i] = byte(rng.IntN(256))
		}
		enc := make([]byte, n)
		predictAndSplit(enc, raw)
		dec := make([]byte, n)
		unpredictAndMerge(dec, enc)
		if !bytes.Equal(dec, raw) {
			t.Fatalf("n=%d: %v -> %v -> %v", n, raw, enc, dec)
		}
	}
	// Worked example: bytes 00 3c 00 3c (two HALF 1.0 values) split into
	// 00 00 | 3c 3c, then differences +128: 00 80 bc 80.
	enc := make([]byte, 4)
	predictAndSplit(enc, []byte{0x00, 0x3c, 0x00, 0x3c})
	if want := []byte{0x00, 0x80, 0xbc, 0x80}; !bytes.Equal(enc, want) {
		t.Fatalf("predictor gives % x, want % x", enc, want)
	}
}

func TestRLE(t *testing.T) {
	cases := []struct{ raw, enc []byte }{
		{[]byte{7}, []byte{0xff, 7}},
		{[]byte{1, 1, 1}, []byte{2, 1}},
		{[]byte{1, 2, 2, 2, 2, 3}, []byte{0xff, 1, 3, 2, 0xff, 3}},
		{bytes.Repeat([]byte{9}, 130), []byte{127, 9, 0xfe, 9, 9}}, // a 2-byte tail is too short for a run
		{bytes.Repeat([]byte{9}, 131), []byte{127, 9, 2, 9}},
		{[]byte{1, 2, 1, 2}, []byte{0xfc, 1, 2, 1, 2}},
	}
	for _, c := range cases {
		got := rleEncode(nil, c.raw)
		if !bytes.Equal(got, c.enc) {
			t.Errorf("rleEncode(% x) = % x, want % x", c.raw, got, c.enc)
		}
		dec := make([]byte, len(c.raw))
		if err := rleDecode(dec, c.enc); err != nil || !bytes.Equal(dec, c.raw) {
			t.Errorf("rleDecode(% x) = % x, %v", c.enc, dec, err)
		}
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for n := 0; n < 500; n++ {
		raw := make([]byte, rng.IntN(600))
		for i := range raw {
			if rng.IntN(4) == 0 || i == 0 {
				raw[i] = byte(rng.IntN(4))
			} else {
				raw[i] = raw[i-1]
			}
		}
		enc := rleEncode(nil, raw)
		dec := make([]byte, len(raw))
		if err := rleDecode(dec, enc); err != nil || !bytes.Equal(dec, raw) {
			t.Fatalf("round trip of %d bytes failed: %v", len(raw), err)
		}
	}
	bad := []struct {
		enc []byte
		n   int
	}{
		{[]byte{0xfe, 1}, 2},       // literal block runs past the end
		{[]byte{5}, 6},             // run without its value
		{[]byte{5, 1}, 3},          // run overflows the output
		{[]byte{0xfd, 1, 2, 3}, 2}, // literal overflows the output
		{[]byte{1, 1}, 3},          // too short
	}
	for _, b := range bad {
		if err := rleDecode(make([]byte, b.n), b.enc); err == nil {
			t.Errorf("rleDecode(% x, %d) accepted bad data", b.enc, b.n)
		}
	}
}

// planes makes a w x h image of nch interleaved channels with varied values.
func testValues(rng *rand.Rand, n int, typ PixelType) []float64 {
	v := make([]float64, n)
	for i := range v {
		switch typ {
		case Uint:
			v[i] = float64(rng.Uint32())
		case Half:
			v[i] = HalfToFloat64(uint16(rng.IntN(0x7c00)) | uint16(rng.IntN(2))<<15)
		default:
			v[i] = float64(float32(rng.NormFloat64() * math.Exp(rng.NormFloat64()*3)))
		}
		if rng.IntN(3) == 0 && i > 0 {
			v[i] = v[i-1] // runs, so compression has something to do
		}
	}
	return v
}

func TestEncodeOpenRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, comp := range []Compression{None, RLE, ZIPS, ZIP} {
		for _, typ := range []PixelType{Half, Float, Uint} {
			for _, sz := range [][2]int{{1, 1}, {37, 23}, {5, 40}} {
				w, h := sz[0], sz[1]
				dw := Box2i{-3, 7, int32(w) - 4, int32(h) + 6}
				hd := &Header{
					Channels:      []Channel{{Name: "R", Type: typ, XSampling: 1, YSampling: 1}, {Name: "A", Type: typ, XSampling: 1, YSampling: 1}, {Name: "Z", Type: Float, XSampling: 1, YSampling: 1}},
					Compression:   comp,
					DataWindow:    dw,
					DisplayWindow: Box2i{0, 0, 99, 99},
				}
				vals := testValues(rng, 3*w*h, typ)
				for i := 2; i < len(vals); i += 3 {
					vals[i] = float64(float32(vals[i]))
					if typ == Uint {
						vals[i] = float64(float32(i))
					}
				}
				base := -(int(dw.XMin)*3 + int(dw.YMin)*3*w)
				fb := &FrameBuffer{Slices: []Slice{
					{"R", vals, base, 3, 3 * w}, {"A", vals, base + 1, 3, 3 * w}, {"Z", vals, base + 2, 3, 3 * w},
				}}
				var buf bytes.Buffer
				if err := Encode(&buf, hd, fb); err != nil {
					t.Fatal(err)
				}
				f, err := Open(buf.Bytes())
				if err != nil {
					t.Fatalf("%v %v %dx%d: %v", comp, typ, w, h, err)
				}
				if got := f.Header; got.Compression != comp || got.DataWindow != dw || len(got.Channels) != 3 ||
					got.Channels[0].Name != "A" || got.Channels[2].Name != "Z" || got.PixelAspectRatio != 1 || got.ScreenWindowWidth != 1 {
					t.Fatalf("header came back as %+v", got)
				}
				out := make([]float64, len(vals))
				for i := range out {
					out[i] = -12345
				}
				rb := &FrameBuffer{Window: dw, Slices: []Slice{
					{"R", out, base, 3, 3 * w}, {"A", out, base + 1, 3, 3 * w}, {"Z", out, base + 2, 3, 3 * w},
				}}
				if err := f.ReadPixels(rb); err != nil {
					t.Fatalf("%v %v %dx%d: %v", comp, typ, w, h, err)
				}
				for i := range vals {
					if out[i] != vals[i] {
						t.Fatalf("%v %v %dx%d: value %d is %v, want %v", comp, typ, w, h, i, out[i], vals[i])
					}
				}
			}
		}
	}
}

// TestReadWindow reads a file into a window that only partly overlaps the
// data window, as a display window smaller than the data would.
func TestReadWindow(t *testing.T) {
	w, h := 6, 5
	vals := make([]float64, w*h)
	for i := range vals {
		vals[i] = float64(i)
	}
	hd := &Header{Channels: []Channel{{Name: "Y", Type: Float, XSampling: 1, YSampling: 1}}, Compression: ZIP,
		DataWindow: Box2i{10, 20, 15, 24}, DisplayWindow: Box2i{12, 18, 17, 21}}
	var buf bytes.Buffer
	if err := Encode(&buf, hd, &FrameBuffer{Slices: []Slice{{"Y", vals, -(10 + 20*w), 1, w}}}); err != nil {
		t.Fatal(err)
	}
	f, err := Open(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	// Destination: the display window, 6 x 4.
	disp := f.Header.DisplayWindow
	dwid := int(disp.Width())
	out := make([]float64, dwid*int(disp.Height()))
	if err := f.ReadPixels(&FrameBuffer{Window: disp, Slices: []Slice{{"Y", out, -(12 + 18*dwid), 1, dwid}}}); err != nil {
		t.Fatal(err)
	}
	for y := 18; y <= 21; y++ {
		for x := 12; x <= 17; x++ {
			want := 0.0
			if x <= 15 && y >= 20 {
				want = float64((y-20)*w + (x - 10))
			}
			if got := out[(y-18)*dwid+(x-12)]; got != want {
				t.Errorf("pixel (%d,%d) = %v, want %v", x, y, got, want)
			}
		}
	}
}

// TestSubsampledChannelLayout builds a file with a channel sampled every
// second pixel and line by hand and checks that the full-resolution channel
// after it is found at the right bytes.
func TestSubsampledChannelLayout(t *testing.T) {
	// Data window x 1..4, y 0..1; channel "C" (x, y sampling 2) has samples
	// at x = 2, 4 on line 0 only; "D" is full resolution, FLOAT.
	hd := &Header{Channels: []Channel{{Name: "C", Type: Half, XSampling: 2, YSampling: 2}, {Name: "D", Type: Float, XSampling: 1, YSampling: 1}},
		DataWindow: Box2i{1, 0, 4, 1}, DisplayWindow: Box2i{1, 0, 4, 1}}
	b := hd.appendHeader(nil)
	tableAt := len(b)
	b = append(b, make([]byte, 16)...)
	le := func(v uint32) { b = append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24)) }
	f32 := func(v float32) { le(math.Float32bits(v)) }
	// Line 0: C (2 halves), D (4 floats).
	binary.LittleEndian.PutUint64(b[tableAt:], uint64(len(b)))
	le(0)
	le(2*2 + 4*4)
	b = append(b, 0x00, 0x3c, 0x00, 0x40) // 1, 2
	for _, v := range []float32{10, 11, 12, 13} {
		f32(v)
	}
	// Line 1: D only.
	binary.LittleEndian.PutUint64(b[tableAt+8:], uint64(len(b)))
	le(1)
	le(4 * 4)
	for _, v := range []float32{20, 21, 22, 23} {
		f32(v)
	}
	f, err := Open(b)
	if err != nil {
		t.Fatal(err)
	}
	c := make([]float64, 8)
	d := make([]float64, 8)
	if err := f.ReadPixels(&FrameBuffer{Window: f.Header.DataWindow, Slices: []Slice{{"C", c, -1, 1, 4}, {"D", d, -1, 1, 4}}}); err != nil {
		t.Fatal(err)
	}
	if want := []float64{10, 11, 12, 13, 20, 21, 22, 23}; !equalF(d, want) {
		t.Errorf("D = %v, want %v", d, want)
	}
	if want := []float64{0, 1, 0, 2, 0, 0, 0, 0}; !equalF(c, want) {
		t.Errorf("C = %v, want %v", c, want)
	}
}

func equalF(a, b []float64) bool {
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

func TestOpenErrors(t *testing.T) {
	hd := &Header{Channels: []Channel{{Name: "G", Type: Half, XSampling: 1, YSampling: 1}}, Compression: ZIP,
		DataWindow: Box2i{0, 0, 40, 40}, DisplayWindow: Box2i{0, 0, 40, 40}}
	vals := make([]float64, 41*41)
	for i := range vals {
		vals[i] = math.Sin(float64(i))
	}
	var buf bytes.Buffer
	if err := Encode(&buf, hd, &FrameBuffer{Slices: []Slice{{"G", vals, 0, 1, 41}}}); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	read := func(b []byte) error {
		f, err := Open(b)
		if err != nil {
			return err
		}
		out := make([]float64, 41*41)
		return f.ReadPixels(&FrameBuffer{Window: f.Header.DataWindow, Slices: []Slice{{"G", out, 0, 1, 41}}})
	}
	if err := read(good); err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(good); n += 1 + n/16 {
		err := read(good[:n])
		if err == nil {
			t.Fatalf("truncated at %d of %d bytes: no error", n, len(good))
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("truncated at %d: error %v is not an *Error", n, err)
		}
	}
	// Flip every byte of the first chunk's compressed data in turn: the
	// zlib checksum or the size check must notice.
	f, _ := Open(good)
	o := f.offsets[0]
	size := int(int32(le32(good[o+4:])))
	for i := 0; i < size; i++ {
		b := bytes.Clone(good)
		b[o+8+i] ^= 0x55
		if err := read(b); err == nil {
			t.Errorf("corrupting byte %d of chunk 0 went unnoticed", i)
		}
	}
}

// TestParallelDeterminism encodes and decodes an image large enough for
// several goroutines and checks that the bytes and values do not depend on
// their number.
func TestParallelDeterminism(t *testing.T) {
	w, h := 256, 200
	rng := rand.New(rand.NewPCG(9, 10))
	vals := testValues(rng, 4*w*h, Float)
	hd := &Header{DataWindow: Box2i{0, 0, int32(w - 1), int32(h - 1)}, DisplayWindow: Box2i{0, 0, int32(w - 1), int32(h - 1)}}
	fb := &FrameBuffer{}
	for c, n := range []string{"R", "G", "B", "A"} {
		hd.Channels = append(hd.Channels, Channel{Name: n, Type: Float, XSampling: 1, YSampling: 1})
		fb.Slices = append(fb.Slices, Slice{n, vals, c, 4, 4 * w})
	}
	for _, comp := range []Compression{ZIP, RLE} {
		hd.Compression = comp
		var outs [][]byte
		for _, procs := range []int{1, 4} {
			old := runtime.GOMAXPROCS(procs)
			var buf bytes.Buffer
			err := Encode(&buf, hd, fb)
			if err == nil {
				var f *File
				f, err = Open(buf.Bytes())
				if err == nil {
					got := make([]float64, len(vals))
					rb := &FrameBuffer{Window: hd.DataWindow}
					for c, n := range []string{"R", "G", "B", "A"} {
						rb.Slices = append(rb.Slices, Slice{n, got, c, 4, 4 * w})
					}
					err = f.ReadPixels(rb)
					if !equalF(got, vals) {
						t.Errorf("%v with %d procs: values differ", comp, procs)
					}
				}
			}
			runtime.GOMAXPROCS(old)
			if err != nil {
				t.Fatal(err)
			}
			outs = append(outs, buf.Bytes())
		}
		if !bytes.Equal(outs[0], outs[1]) {
			t.Errorf("%v: output depends on GOMAXPROCS", comp)
		}
	}
}
