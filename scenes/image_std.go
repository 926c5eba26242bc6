package scenes

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"

	"github.com/ftrvxmtrx/tga"
	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
	"golang.org/x/image/webp"

	"github.com/invrender/invrender/render"
)

// The 8- and 16-bit formats go through Go's image decoders and encoders;
// this file converts between their image.Image values and render.Image.

type stdCodec struct {
	decode func(io.Reader) (image.Image, error)
	config func(io.Reader) (image.Config, error)
	// pixelsPerByte bounds how many pixels one byte of file can encode
	// (0: no useful bound, only MaxImagePixels applies). PNG: deflate
	// peaks near 1032:1 and a pixel can take one bit.
	pixelsPerByte int64
}

var stdCodecs = map[imageFormat]stdCodec{
	fmtPNG:  {png.Decode, png.DecodeConfig, 1040 * 8},
	fmtJPEG: {jpeg.Decode, jpeg.DecodeConfig, 0},
	fmtBMP:  {bmp.Decode, bmp.DecodeConfig, 8},
	fmtTIFF: {tiff.Decode, tiff.DecodeConfig, 0},
	fmtWebP: {webp.Decode, webp.DecodeConfig, 0},
	fmtGIF:  {gif.Decode, gif.DecodeConfig, 0},
}

// safeDecode runs a third-party decoder, turning a panic on hostile input
// (a bug of the decoder, but not one the user should pay for with a crash)
// into an error.
func safeDecode[T any](f func(io.Reader) (T, error), b []byte) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("decoder failure: %v", r)
		}
	}()
	return f(bytes.NewReader(b))
}

func decodeStd(b []byte, name string, f imageFormat, o ImageOptions) (*render.Image, error) {
	c, ok := stdCodecs[f]
	if !ok {
		return nil, errorf(name, 0, "cannot read %v images", f)
	}
	cfg, err := safeDecode(c.config, b)
	if err != nil {
		return nil, &ParseError{File: name, Err: fmt.Errorf("%v header: %w", f, err)}
	}
	if err := checkSize(name, 0, int64(cfg.Width), int64(cfg.Height)); err != nil {
		return nil, err
	}
	if c.pixelsPerByte > 0 && int64(cfg.Width)*int64(cfg.Height) > c.pixelsPerByte*int64(len(b)) {
		return nil, errorf(name, 0, "%v image of %dx%d pixels cannot fit in %d bytes", f, cfg.Width, cfg.Height, len(b))
	}
	img, err := safeDecode(c.decode, b)
	if err != nil {
		return nil, &ParseError{File: name, Err: fmt.Errorf("%v: %w", f, err)}
	}
	if bd := img.Bounds(); bd.Dx() != cfg.Width || bd.Dy() != cfg.Height {
		return nil, errorf(name, 0, "%v decoder returned %dx%d pixels for a %dx%d header", f, bd.Dx(), bd.Dy(), cfg.Width, cfg.Height)
	}
	return fromImage(img, o.Raw), nil
}

// tgaSignature ends TGA 2.0 files (the footer's last 18 bytes).
const tgaSignature = "TRUEVISION-XFILE.\x00"

// decodeTGA checks the 18-byte header itself, so that absurd sizes are
// refused before the decoder allocates, then hands over to
// github.com/ftrvxmtrx/tga.
func decodeTGA(b []byte, name string, o ImageOptions) (*render.Image, error) {
	if len(b) < 18 {
		return nil, errorf(name, 0, "TGA file of %d bytes is shorter than its 18-byte header", len(b))
	}
	imageType := b[2]
	w := int64(binary.LittleEndian.Uint16(b[12:]))
	h := int64(binary.LittleEndian.Uint16(b[14:]))
	bpp := int64(b[16])
	switch imageType &^ 8 {
	case 1, 2, 3:
	default:
		return nil, &ParseError{File: name, Offset: 2, Err: fmt.Errorf("TGA image type %d is not 1-3 or 9-11 (colour-mapped, true-colour, grey; raw or RLE)", imageType)}
	}
	if err := checkSize(name, 12, w, h); err != nil {
		return nil, err
	}
	data := int64(len(b) - 18 - int(b[0]))
	if imageType&8 != 0 {
		// An RLE packet of 1+bpp/8 bytes covers at most 128 pixels.
		if w*h > 128*data {
			return nil, &ParseError{File: name, Offset: 12, Err: fmt.Errorf("TGA image of %dx%d pixels cannot fit in %d bytes of RLE data", w, h, data)}
		}
	} else if w*h*max(1, bpp/8) > data {
		return nil, &ParseError{File: name, Offset: 12, Err: fmt.Errorf("TGA image of %dx%d pixels at %d bits needs more than the %d bytes left", w, h, bpp, data)}
	}
	img, err := safeDecode(tga.Decode, b)
	if err != nil {
		return nil, &ParseError{File: name, Err: fmt.Errorf("TGA: %w", err)}
	}
	// Many writers store 32-bit pixels with the alpha byte left at 0; an
	// image with no visible pixel at all is read as opaque instead.
	if m, ok := img.(*image.NRGBA); ok {
		transparent := true
		for i := 3; i < len(m.Pix) && transparent; i += 4 {
			transparent = m.Pix[i] == 0
		}
		if transparent {
			for i := 3; i < len(m.Pix); i += 4 {
				m.Pix[i] = 255
			}
		}
	}
	return fromImage(img, o.Raw), nil
}

// pixSink stores straight (unassociated) 8- or 16-bit values into a
// render.Image, decoding sRGB and associating alpha unless raw.
type pixSink struct {
	im  *render.Image
	raw bool
	l8  *[256]float64
	l16 []float64
}

func (s *pixSink) set8(i int, r, g, b, a uint8) {
	p := s.im.Pix[3*i : 3*i+3]
	af := float64(a) * (1.0 / 255)
	if s.raw {
		p[0], p[1], p[2] = float64(r)/255, float64(g)/255, float64(b)/255
	} else {
		p[0], p[1], p[2] = s.l8[r]*af, s.l8[g]*af, s.l8[b]*af
	}
	if s.im.Alpha != nil {
		s.im.Alpha[i] = af
	}
}

func (s *pixSink) set16(i int, r, g, b, a uint16) {
	p := s.im.Pix[3*i : 3*i+3]
	af := float64(a) * (1.0 / 65535)
	if s.raw {
		p[0], p[1], p[2] = float64(r)/65535, float64(g)/65535, float64(b)/65535
	} else {
		p[0], p[1], p[2] = s.l16[r]*af, s.l16[g]*af, s.l16[b]*af
	}
	if s.im.Alpha != nil {
		s.im.Alpha[i] = af
	}
}

func isOpaque(img image.Image) bool {
	if o, ok := img.(interface{ Opaque() bool }); ok {
		return o.Opaque()
	}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if _, _, _, a := img.At(x, y).RGBA(); a != 0xffff {
				return false
			}
		}
	}
	return true
}

func fromImage(img image.Image, raw bool) *render.Image {
	bd := img.Bounds()
	w, h := bd.Dx(), bd.Dy()
	im := render.NewImage(w, h)
	if !isOpaque(img) {
		im.Alpha = make([]float64, w*h)
	}
	l8, l16 := srgbTables()
	s := &pixSink{im: im, raw: raw, l8: l8, l16: l16}
	switch src := img.(type) {
	case *image.NRGBA:
		for y := 0; y < h; y++ {
			row := src.Pix[(y+bd.Min.Y-src.Rect.Min.Y)*src.Stride+(bd.Min.X-src.Rect.Min.X)*4:]
			for x := 0; x < w; x++ {
				q := row[4*x : 4*x+4]
				s.set8(y*w+x, q[0], q[1], q[2], q[3])
			}
		}
	case *image.RGBA:
		for y := 0; y < h; y++ {
			row := src.Pix[(y+bd.Min.Y-src.Rect.Min.Y)*src.Stride+(bd.Min.X-src.Rect.Min.X)*4:]
			for x := 0; x < w; x++ {
				q := row[4*x : 4*x+4]
				if q[3] == 255 {
					s.set8(y*w+x, q[0], q[1], q[2], 255)
					continue
				}
				c := color.NRGBA64Model.Convert(color.RGBA{q[0], q[1], q[2], q[3]}).(color.NRGBA64)
				s.set16(y*w+x, c.R, c.G, c.B, c.A)
			}
		}
	case *image.NRGBA64:
		for y := 0; y < h; y++ {
			row := src.Pix[(y+bd.Min.Y-src.Rect.Min.Y)*src.Stride+(bd.Min.X-src.Rect.Min.X)*8:]
			for x := 0; x < w; x++ {
				q := row[8*x : 8*x+8]
				s.set16(y*w+x, uint16(q[0])<<8|uint16(q[1]), uint16(q[2])<<8|uint16(q[3]), uint16(q[4])<<8|uint16(q[5]), uint16(q[6])<<8|uint16(q[7]))
			}
		}
	case *image.Gray:
		for y := 0; y < h; y++ {
			row := src.Pix[(y+bd.Min.Y-src.Rect.Min.Y)*src.Stride+(bd.Min.X-src.Rect.Min.X):]
			for x := 0; x < w; x++ {
				v := row[x]
				s.set8(y*w+x, v, v, v, 255)
			}
		}
	case *image.Gray16:
		for y := 0; y < h; y++ {
			row := src.Pix[(y+bd.Min.Y-src.Rect.Min.Y)*src.Stride+(bd.Min.X-src.Rect.Min.X)*2:]
			for x := 0; x < w; x++ {
				v := uint16(row[2*x])<<8 | uint16(row[2*x+1])
				s.set16(y*w+x, v, v, v, 0xffff)
			}
		}
	case *image.YCbCr:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				c := src.YCbCrAt(x+bd.Min.X, y+bd.Min.Y)
				r, g, b := color.YCbCrToRGB(c.Y, c.Cb, c.Cr)
				s.set8(y*w+x, r, g, b, 255)
			}
		}
	case *image.Paletted:
		pal := make([]color.NRGBA64, len(src.Palette))
		for i, c := range src.Palette {
			pal[i] = color.NRGBA64Model.Convert(c).(color.NRGBA64)
		}
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				ci := int(src.ColorIndexAt(x+bd.Min.X, y+bd.Min.Y))
				var c color.NRGBA64 // out-of-palette indices read as transparent black
				if ci < len(pal) {
					c = pal[ci]
				}
				s.set16(y*w+x, c.R, c.G, c.B, c.A)
			}
		}
	default:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				c := color.NRGBA64Model.Convert(img.At(x+bd.Min.X, y+bd.Min.Y)).(color.NRGBA64)
				s.set16(y*w+x, c.R, c.G, c.B, c.A)
			}
		}
	}
	return im
}

// fillNRGBA quantises im into dst (same size) after scaling colour by
// scale. With keepAlpha, colour is un-associated from alpha (unless raw) and
// alpha stored; without, alpha is ignored (composited over black) and
// stored as opaque.
func fillNRGBA(dst *image.NRGBA, im *render.Image, scale float64, raw, keepAlpha bool) {
	n := im.Width * im.Height
	for i := 0; i < n; i++ {
		a, k := 1.0, scale
		if keepAlpha && im.Alpha != nil {
			a = clamp01(im.Alpha[i])
			if !raw {
				k *= unassociate(a)
			}
		}
		p := im.Pix[3*i : 3*i+3]
		q := dst.Pix[4*i : 4*i+4]
		q[0] = uint8(quantize(p[0]*k, raw, 255))
		q[1] = uint8(quantize(p[1]*k, raw, 255))
		q[2] = uint8(quantize(p[2]*k, raw, 255))
		q[3] = uint8(quantize(a, true, 255))
	}
}

func fillNRGBA64(dst *image.NRGBA64, im *render.Image, raw bool) {
	n := im.Width * im.Height
	put := func(q []byte, v uint32) { q[0], q[1] = byte(v>>8), byte(v) }
	for i := 0; i < n; i++ {
		a, k := 1.0, 1.0
		if im.Alpha != nil {
			a = clamp01(im.Alpha[i])
			if !raw {
				k = unassociate(a)
			}
		}
		p := im.Pix[3*i : 3*i+3]
		q := dst.Pix[8*i : 8*i+8]
		put(q[0:], quantize(p[0]*k, raw, 65535))
		put(q[2:], quantize(p[1]*k, raw, 65535))
		put(q[4:], quantize(p[2]*k, raw, 65535))
		put(q[6:], quantize(a, true, 65535))
	}
}

func encodePNG(w io.Writer, im *render.Image, o ImageOptions) error {
	r := image.Rect(0, 0, im.Width, im.Height)
	var img image.Image
	if o.Bits16 {
		m := image.NewNRGBA64(r)
		fillNRGBA64(m, im, o.Raw)
		img = m
	} else {
		m := image.NewNRGBA(r)
		fillNRGBA(m, im, 1, o.Raw, true)
		img = m
	}
	// Go's encoder writes RGB instead of RGBA when every pixel is opaque.
	return (&png.Encoder{CompressionLevel: png.DefaultCompression}).Encode(w, img)
}

func encodeJPEG(w io.Writer, im *render.Image, o ImageOptions) error {
	m := image.NewNRGBA(image.Rect(0, 0, im.Width, im.Height))
	fillNRGBA(m, im, 1, o.Raw, false)
	q := o.Quality
	if q == 0 {
		q = 90
	}
	// Opaque NRGBA pixels are RGBA pixels; the RGBA type takes the
	// encoder's fast path.
	return jpeg.Encode(w, (*image.RGBA)(m), &jpeg.Options{Quality: q})
}

func encodeTGA(w io.Writer, im *render.Image, o ImageOptions) error {
	m := image.NewNRGBA(image.Rect(0, 0, im.Width, im.Height))
	fillNRGBA(m, im, 1, o.Raw, true)
	return tga.Encode(w, m)
}
