package scenes

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/png"
	"math/rand/v2"
	"strings"
	"testing"

	"golang.org/x/image/bmp"

	"github.com/invrender/invrender/render"
)

// validFiles returns small valid files of every readable format, named by
// their extension, and for each the length of the prefix that must be
// complete (truncating anywhere before it must fail; TGA files end with an
// optional footer).
func validFiles(t testing.TB) map[string][]byte {
	rng := rand.New(rand.NewPCG(20, 21))
	im := testImage(rng, 9, 4, true)
	files := map[string][]byte{}
	enc := func(name, format string, o ImageOptions) {
		var buf bytes.Buffer
		if err := EncodeImage(&buf, im, format, o); err != nil {
			t.Fatal(err)
		}
		files[name] = buf.Bytes()
	}
	enc("a.png", "png", ImageOptions{})
	enc("a16.png", "png", ImageOptions{Bits16: true})
	enc("a.jpg", "jpg", ImageOptions{})
	enc("a.tga", "tga", ImageOptions{})
	enc("a.pfm", "pfm", ImageOptions{})
	enc("a.hdr", "hdr", ImageOptions{}) // 9 wide: RLE scanlines
	for _, c := range []string{"none", "rle", "zips", "zip"} {
		enc("float-"+c+".exr", "exr", ImageOptions{EXRCompression: c})
		enc("half-"+c+".exr", "exr", ImageOptions{EXRCompression: c, HalfEXR: true})
	}
	var buf bytes.Buffer
	bmp.Encode(&buf, image.NewNRGBA(image.Rect(0, 0, 5, 3)))
	files["a.bmp"] = buf.Bytes()
	files["a.webp"] = webpLossless1Colour(3, 2, 1, 2, 3, 255)
	return files
}

func TestTruncatedFiles(t *testing.T) {
	for name, b := range validFiles(t) {
		if _, err := DecodeImage(bytes.NewReader(b), name, ImageOptions{}); err != nil {
			t.Fatalf("%s: valid file fails: %v", name, err)
		}
		must := len(b)
		if strings.HasSuffix(name, ".tga") {
			must = 18 + 4*9*4 // header and pixels; the footer is optional
		}
		for n := 0; n < len(b); n += 1 + n/32 {
			_, err := DecodeImage(bytes.NewReader(b[:n]), name, ImageOptions{})
			if err == nil {
				if n < must {
					t.Errorf("%s truncated to %d of %d bytes: no error", name, n, len(b))
				}
				continue
			}
			var pe *ParseError
			if !errors.As(err, &pe) || pe.File != name {
				t.Errorf("%s truncated to %d: error %v is not a ParseError naming the file", name, n, err)
			}
		}
	}
}

func pngWithSize(w, h uint32) []byte {
	var buf bytes.Buffer
	png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, 1)))
	b := buf.Bytes()
	// IHDR data starts at 16: width, height (big-endian); fix the CRC.
	binary.BigEndian.PutUint32(b[16:], w)
	binary.BigEndian.PutUint32(b[20:], h)
	binary.BigEndian.PutUint32(b[29:], crc32IEEE(b[12:29]))
	return b
}

func crc32IEEE(b []byte) uint32 {
	crc := ^uint32(0)
	for _, c := range b {
		crc ^= uint32(c)
		for k := 0; k < 8; k++ {
			if crc&1 != 0 {
				crc = crc>>1 ^ 0xedb88320
			} else {
				crc >>= 1
			}
		}
	}
	return ^crc
}

// exrEdit returns a valid 2x1 FLOAT NONE file edited by f.
func exrEdit(t testing.TB, f func(b []byte) []byte) []byte {
	im := render.NewImage(2, 1)
	var buf bytes.Buffer
	if err := EncodeImage(&buf, im, "exr", ImageOptions{EXRCompression: "none"}); err != nil {
		t.Fatal(err)
	}
	return f(bytes.Clone(buf.Bytes()))
}

// attrValue returns the offset of the value of the named attribute.
func attrValue(b []byte, name string) int {
	i := bytes.Index(b, []byte(name+"\x00"))
	j := i + len(name) + 1
	j += bytes.IndexByte(b[j:], 0) + 1 // type name
	return j + 4
}

func TestBrokenImages(t *testing.T) {
	hand := func(s string) []byte { return []byte(s) }
	cases := []struct {
		name string
		data []byte
		want string // a part of the message
	}{
		{"empty.png", nil, "empty file"},
		{"x.unknown", hand("hello world"), "unknown image format"},
		{"bad.png", hand("\x89PNX\r\n\x1a\n0000000000000000"), "png"},
		{"huge.png", pngWithSize(1<<20, 1<<20), "exceeds the limit"},
		{"bomb.png", pngWithSize(10000, 10000), "cannot fit"},
		{"bad.pfm", hand("PX\n1 1\n-1\n0000"), "bad PFM magic"},
		{"neg.pfm", hand("PF\n-3 1\n-1\n"), "not a positive integer"},
		{"zero-scale.pfm", hand("PF\n1 1\n0\n000000000000"), "non-zero number"},
		{"no-space.pfm", hand("PF\n1 1\n-1"), "whitespace"},
		{"huge.pfm", hand("PF\n100000 100000\n-1\n"), "exceeds the limit"},
		{"short.pfm", hand("PF\n1000 1000\n-1\n0123456789"), "truncated"},
		{"noheight.pfm", hand("PF\n3"), "ends before the height"},
		{"bad.hdr", hand("#!RADIANCE\n\n-Y 1 +X 1\n0000"), "magic"},
		{"noend.hdr", hand("#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n"), "does not end"},
		{"xyz.hdr", hand("#?RADIANCE\nFORMAT=32-bit_rle_xyze\n\n-Y 1 +X 1\n0000"), "xyze"},
		{"fmt.hdr", hand("#?RADIANCE\nFORMAT=jpeg\n\n-Y 1 +X 1\n0000"), "unknown Radiance HDR FORMAT"},
		{"res.hdr", hand("#?RADIANCE\n\n-Y 1 *X 1\n0000"), "not +X"},
		{"res2.hdr", hand("#?RADIANCE\n\n-Y 1 +Y 1\n0000"), "same axis"},
		{"res3.hdr", hand("#?RADIANCE\n\n-Y 1\n0000"), "four fields"},
		{"nores.hdr", hand("#?RADIANCE\n\n"), "before the resolution"},
		{"huge.hdr", hand("#?RADIANCE\n\n-Y 100000 +X 100000\n"), "exceeds the limit"},
		{"short.hdr", hand("#?RADIANCE\n\n-Y 10000 +X 10000\n\x02\x02\x27\x10"), "at least"},
		{"rle-len.hdr", hand("#?RADIANCE\n\n-Y 1 +X 8\n\x02\x02\x00\x09\x88\x01\x88\x01\x88\x01\x88\x01"), "says it has 9 pixels"},
		{"rle-zero.hdr", hand("#?RADIANCE\n\n-Y 1 +X 8\n\x02\x02\x00\x08\x00\x01\x88\x01\x88\x01\x88\x01"), "length 0"},
		{"rle-overrun.hdr", hand("#?RADIANCE\n\n-Y 1 +X 8\n\x02\x02\x00\x08\x89\x01\x88\x01\x88\x01\x88\x01"), "overruns"},
		{"rle-literal.hdr", hand("#?RADIANCE\n\n-Y 1 +X 8\n\x02\x02\x00\x08\x7f\x01\x88\x01\x88\x01\x88\x01"), "overruns"},
		{"rle-short.hdr", hand("#?RADIANCE\n\n-Y 1 +X 8\n\x02\x02\x00\x08\x88\x01\x88\x01\x88\x01\x08\x01\x02\x03"), "literal"},
		{"magic.exr", exrEdit(t, func(b []byte) []byte { b[0] = 0x77; return b }), "magic number"},
		{"version.exr", exrEdit(t, func(b []byte) []byte { b[4] = 3; return b }), "version 3"},
		{"tiled.exr", exrEdit(t, func(b []byte) []byte { b[5] |= 2; return b }), "tiled"},
		{"multipart.exr", exrEdit(t, func(b []byte) []byte { b[5] |= 0x10; return b }), "multi-part"},
		{"deep.exr", exrEdit(t, func(b []byte) []byte { b[5] |= 0x08; return b }), "deep"},
		{"piz.exr", exrEdit(t, func(b []byte) []byte { b[attrValue(b, "compression")] = 4; return b }), "PIZ compression is not supported"},
		{"dwab.exr", exrEdit(t, func(b []byte) []byte { b[attrValue(b, "compression")] = 9; return b }), "DWAB compression is not supported"},
		{"comp99.exr", exrEdit(t, func(b []byte) []byte { b[attrValue(b, "compression")] = 99; return b }), "unknown compression 99"},
		{"notype.exr", exrEdit(t, func(b []byte) []byte { copy(b[bytes.Index(b, []byte("chlist")):], "chlizt"); return b }), "type \"chlizt\""},
		{"nochannels.exr", exrEdit(t, func(b []byte) []byte { copy(b[bytes.Index(b, []byte("channels")):], "channelz"); return b }), "required attribute \"channels\""},
		{"pixtype.exr", exrEdit(t, func(b []byte) []byte { b[attrValue(b, "channels")+2] = 7; return b }), "unknown pixel type 7"},
		{"sampling.exr", exrEdit(t, func(b []byte) []byte { b[attrValue(b, "channels")+10] = 0; return b }), "sampling 0x1"},
		{"dupattr.exr", exrEdit(t, func(b []byte) []byte {
			copy(b[bytes.Index(b, []byte("displayWindow")):], "dataWindow\x00box2")
			return b
		}), ""},
		{"attrsize.exr", exrEdit(t, func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[attrValue(b, "lineOrder")-4:], 0x7fffffff)
			return b
		}), "file ends inside the value"},
		{"negsize.exr", exrEdit(t, func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[attrValue(b, "lineOrder")-4:], 0xffffffff)
			return b
		}), "negative size"},
		{"window.exr", exrEdit(t, func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[attrValue(b, "dataWindow")+8:], 0xfffffff0)
			return b
		}), "empty dataWindow"},
		{"widewindow.exr", exrEdit(t, func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[attrValue(b, "dataWindow")+8:], 1<<30)
			return b
		}), "more than the"},
		{"tallwindow.exr", exrEdit(t, func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[attrValue(b, "dataWindow")+12:], 1<<10)
			return b
		}), "offset table of 1025 chunks"},
		{"hugedisplay.exr", exrEdit(t, func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[attrValue(b, "displayWindow")+8:], 1<<20)
			binary.LittleEndian.PutUint32(b[attrValue(b, "displayWindow")+12:], 1<<20)
			return b
		}), "exceeds the limit"},
		{"offset.exr", exrEdit(t, func(b []byte) []byte {
			i := bytes.LastIndex(b, []byte("screenWindowWidth")) + len("screenWindowWidth\x00float\x00") + 8 + 1
			binary.LittleEndian.PutUint64(b[i:], 1<<40)
			return b
		}), "offset table entry 0"},
		{"chunky.exr", exrEdit(t, func(b []byte) []byte {
			i := bytes.LastIndex(b, []byte("screenWindowWidth")) + len("screenWindowWidth\x00float\x00") + 8 + 1 + 8
			b[i] = 5 // chunk line number
			return b
		}), "starts at line 5"},
		{"chunksize.exr", exrEdit(t, func(b []byte) []byte {
			i := bytes.LastIndex(b, []byte("screenWindowWidth")) + len("screenWindowWidth\x00float\x00") + 8 + 1 + 8
			b[i+4]-- // raw size one short of the 24 bytes NONE needs
			return b
		}), "want 24"},
		{"rle-run.exr", func() []byte {
			b := exrHeaderBytes([]string{"Y"}, 1, 1, 16, 1)
			b = appendU64(b, uint64(len(b)+8))
			b = append(b, 0, 0, 0, 0, 8, 0, 0, 0)
			return append(b, 0xff, 0x00, 0x0e, 0x80, 0xff, 0xbc, 0x0f, 0x80) // 16 + 1 bytes
		}(), "overflows"},
		{"zip-garbage.exr", func() []byte {
			b := exrHeaderBytes([]string{"Y"}, 1, 2, 16, 1)
			b = appendU64(b, uint64(len(b)+8))
			b = append(b, 0, 0, 0, 0, 8, 0, 0, 0)
			return append(b, 1, 2, 3, 4, 5, 6, 7, 8)
		}(), "zlib"},
		{"huge.tga", append([]byte{0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 32, 8}, make([]byte, 100)...), "exceeds the limit"},
		{"short.tga", append([]byte{0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 100, 0, 100, 0, 32, 8}, make([]byte, 100)...), "needs more than"},
		{"rle.tga", append([]byte{0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0x10, 32, 8}, make([]byte, 100)...), "cannot fit"},
		{"type.tga", append([]byte{0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 32, 8}, make([]byte, 100)...), "image type 7"},
		{"tiny.tga", []byte{0, 0, 2}, "shorter than its 18-byte header"},
		{"huge.bmp", func() []byte {
			var buf bytes.Buffer
			bmp.Encode(&buf, image.NewNRGBA(image.Rect(0, 0, 1, 1)))
			b := buf.Bytes()
			binary.LittleEndian.PutUint32(b[18:], 1<<20)
			binary.LittleEndian.PutUint32(b[22:], 1<<20)
			return b
		}(), "exceeds the limit"},
	}
	for _, c := range cases {
		im, err := DecodeImage(bytes.NewReader(c.data), c.name, ImageOptions{})
		if err == nil {
			t.Errorf("%s: no error (got a %dx%d image)", c.name, im.Width, im.Height)
			continue
		}
		var pe *ParseError
		if !errors.As(err, &pe) || pe.File != c.name {
			t.Errorf("%s: error %v is not a ParseError naming the file", c.name, err)
		}
		if !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), c.name) {
			t.Errorf("%s: error %q does not start with the file name or lacks %q", c.name, err, c.want)
		}
	}
	// Binary formats report a byte offset where it helps.
	_, err := DecodeImage(bytes.NewReader(exrEdit(t, func(b []byte) []byte { b[attrValue(b, "compression")] = 4; return b })), "o.exr", ImageOptions{})
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Offset == 0 || !strings.Contains(err.Error(), "byte ") {
		t.Errorf("EXR error %v lacks a byte offset", err)
	}
	_, err = DecodeImage(strings.NewReader("PF\n1 1\n0\n"), "l.pfm", ImageOptions{})
	if !errors.As(err, &pe) || pe.Line != 3 {
		t.Errorf("PFM header error %v is not on line 3", err)
	}
	_, err = DecodeImage(strings.NewReader("#?RGBE\nFORMAT=x\n\n"), "l.hdr", ImageOptions{})
	if !errors.As(err, &pe) || pe.Line != 2 {
		t.Errorf("HDR header error %v is not on line 2", err)
	}
}
