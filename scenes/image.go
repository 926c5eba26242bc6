package scenes

// Image files.
//
// Formats, by what ReadImage recognises (from the content's signature,
// falling back to the file name's extension) and what WriteImage writes
// (from the extension):
//
//	format         read                         write
//	PNG            8 and 16 bit, any colour     8 bit, or 16 bit with Bits16
//	               type, with alpha
//	JPEG           baseline and progressive     8 bit, Quality (default 90)
//	TGA            8/15/16/24/32 bit, RLE,      32 bit BGRA, uncompressed
//	               palette
//	BMP, TIFF,     via golang.org/x/image       -
//	WebP, GIF      (and image/gif)
//	PFM            "PF" colour and "Pf" grey,   "PF", little-endian
//	               either endianness
//	Radiance HDR   RGBE, flat and RLE           RGBE, RLE scanlines
//	               scanlines, all 8 orientations
//	OpenEXR        single-part scanline,        HALF (HalfEXR) or FLOAT,
//	               UINT/HALF/FLOAT, NONE/RLE/   NONE/RLE/ZIPS/ZIP (default
//	               ZIPS/ZIP                     ZIP)
//
// In memory every image is a render.Image: linear RGB in float64, rows from
// the top, and an optional alpha channel. Colour is associated
// (premultiplied) with alpha, the OpenEXR convention and what a film that
// averages radiance over a pixel with a transparent background produces;
// dropping alpha therefore composites over black. The formats that store
// unassociated alpha (PNG, TGA, WebP, GIF, TIFF) are converted both ways.
//
// 8- and 16-bit formats hold sRGB-encoded values: readers apply the exact
// sRGB transfer curve (IEC 61966-2-1) to get linear values, writers apply
// its inverse, clamp to [0, 1] and round to nearest. With ImageOptions.Raw
// the values pass through untouched instead (v/255 or v/65535 on read,
// clamp and round on write) and colour stays unassociated: use it for data
// textures such as normal or roughness maps. Alpha is always linear. An 8-
// or 16-bit image gets an Alpha slice only when it is not fully opaque (a
// TGA file whose alpha bytes are all 0, as careless writers leave them, is
// read as opaque). Colour profiles and PNG gAMA chunks are ignored: 8- and
// 16-bit data is taken to be sRGB.
//
// Float formats are read as stored (Raw changes nothing): NaN and Inf
// values come through, and PFM's scale magnitude and Radiance's EXPOSURE
// are ignored, as most tools do; only the sign of the PFM scale is used (for
// the byte order). PFM and HDR have no alpha (it is dropped on write).
// OpenEXR channels are picked by name: R, G, B and A (or Y for a greyscale
// image), preferring unprefixed names and otherwise taking the first layer
// ("diffuse.R", ...) that has them; UINT channels are converted to their
// integer values. The data window is placed in the display window, which
// gives the image size; pixels outside the data window are zero (alpha
// too).
//
// Radiance RGBE values are decoded as m * 2^(e-136), as Walter's rgbe.c and
// stb_image do (Radiance's own reader adds half a step), and encoded by
// rounding to nearest, so values like 1 and 0.5 survive a round trip
// exactly and the relative error is at most 2^-8.
//
// Readers never panic: malformed files give a *ParseError naming the file
// and, for binary data, the byte offset (Line for text headers). Sizes are
// checked before anything is allocated: at most MaxImagePixels pixels, and
// no more than the file's remaining bytes can encode.

import (
	"bytes"
	"fmt"
	"image"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/invrender/invrender/internal/atomicfile"
	"github.com/invrender/invrender/render"
)

// MaxImagePixels is the largest image (width times height) the readers
// accept; larger headers are rejected before any pixel memory is allocated.
const MaxImagePixels = 1 << 28

// imagePixelLimit is MaxImagePixels, lowered by the fuzz tests so that a
// small input cannot make them allocate gigabytes legitimately.
var imagePixelLimit int64 = MaxImagePixels

// ImageOptions tunes reading and writing. The zero value reads and writes
// colour images: sRGB transfer for 8- and 16-bit formats, 8-bit PNG, FLOAT
// ZIP-compressed OpenEXR, JPEG quality 90.
type ImageOptions struct {
	// Raw skips the sRGB transfer curve and the alpha association for 8-
	// and 16-bit formats (normal maps and other data textures).
	Raw bool
	// Bits16 writes 16-bit PNG files.
	Bits16 bool
	// HalfEXR writes OpenEXR channels as HALF instead of FLOAT.
	HalfEXR bool
	// EXRCompression is "none", "rle", "zips" or "zip" (the default, "").
	EXRCompression string
	// Quality is the JPEG quality, 1 to 100; 0 means 90.
	Quality int
}

type imageFormat int

const (
	fmtUnknown imageFormat = iota
	fmtPNG
	fmtJPEG
	fmtTGA
	fmtPFM
	fmtHDR
	fmtEXR
	fmtBMP
	fmtTIFF
	fmtWebP
	fmtGIF
)

var formatNames = map[imageFormat]string{
	fmtPNG: "PNG", fmtJPEG: "JPEG", fmtTGA: "TGA", fmtPFM: "PFM", fmtHDR: "Radiance HDR",
	fmtEXR: "OpenEXR", fmtBMP: "BMP", fmtTIFF: "TIFF", fmtWebP: "WebP", fmtGIF: "GIF",
}

func (f imageFormat) String() string {
	if n, ok := formatNames[f]; ok {
		return n
	}
	return "unknown"
}

// sniff identifies the format from the first bytes; TGA has no signature.
func sniff(b []byte) imageFormat {
	has := func(p string) bool { return bytes.HasPrefix(b, []byte(p)) }
	switch {
	case has("\x89PNG\r\n\x1a\n"):
		return fmtPNG
	case has("\xff\xd8\xff"):
		return fmtJPEG
	case has("\x76\x2f\x31\x01"):
		return fmtEXR
	case has("#?"):
		return fmtHDR
	case (has("PF") || has("Pf")) && len(b) > 2 && isSpace(b[2]):
		return fmtPFM
	case has("BM"):
		return fmtBMP
	case has("II*\x00") || has("MM\x00*"):
		return fmtTIFF
	case len(b) >= 12 && has("RIFF") && string(b[8:12]) == "WEBP":
		return fmtWebP
	case has("GIF87a") || has("GIF89a"):
		return fmtGIF
	case len(b) >= 18+26 && string(b[len(b)-18:]) == tgaSignature:
		return fmtTGA // TGA 2.0 footer
	}
	return fmtUnknown
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// formatFromName maps a file name's extension (or a bare format name such as
// "png" or ".exr") to a format.
func formatFromName(name string) imageFormat {
	ext := strings.ToLower(filepath.Ext(name))
	if ext == "" {
		ext = "." + strings.ToLower(name)
	}
	switch ext {
	case ".png":
		return fmtPNG
	case ".jpg", ".jpeg", ".jpe", ".jfif":
		return fmtJPEG
	case ".tga", ".targa":
		return fmtTGA
	case ".pfm":
		return fmtPFM
	case ".hdr", ".rgbe", ".pic":
		return fmtHDR
	case ".exr":
		return fmtEXR
	case ".bmp":
		return fmtBMP
	case ".tif", ".tiff":
		return fmtTIFF
	case ".webp":
		return fmtWebP
	case ".gif":
		return fmtGIF
	}
	return fmtUnknown
}

// ReadImage reads an image file in any of the supported formats (see the
// table at the top of image.go: PNG, JPEG, TGA, BMP, TIFF, WebP, GIF, PFM,
// Radiance HDR, OpenEXR), recognised from its content and otherwise from
// its extension, and returns linear RGB with associated alpha.
func ReadImage(path string) (*render.Image, error) {
	return ReadImageOpts(path, ImageOptions{})
}

// ReadImageOpts is ReadImage with options (only Raw matters when reading).
func ReadImageOpts(path string, o ImageOptions) (*render.Image, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("scenes: %w", err)
	}
	return decodeImageBytes(b, path, o)
}

// DecodeImage reads an image from r. name is used in error messages and,
// through its extension, as the format when the content has no signature
// (TGA).
func DecodeImage(r io.Reader, name string, o ImageOptions) (*render.Image, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("scenes: read %s: %w", name, err)
	}
	return decodeImageBytes(b, name, o)
}

func decodeImageBytes(b []byte, name string, o ImageOptions) (*render.Image, error) {
	f := sniff(b)
	if f == fmtUnknown {
		f = formatFromName(name)
	}
	if len(b) == 0 {
		return nil, errorf(name, 0, "empty file")
	}
	switch f {
	case fmtPFM:
		return decodePFM(b, name)
	case fmtHDR:
		return decodeHDR(b, name)
	case fmtEXR:
		return decodeEXR(b, name)
	case fmtTGA:
		return decodeTGA(b, name, o)
	case fmtUnknown:
		return nil, errorf(name, 0, "unknown image format: the content has no known signature and the extension %q is not one of .png .jpg .tga .bmp .tif .webp .gif .pfm .hdr .exr", filepath.Ext(name))
	}
	return decodeStd(b, name, f, o)
}

// checkSize rejects non-positive or too large image dimensions.
func checkSize(name string, off int64, w, h int64) error {
	if w <= 0 || h <= 0 {
		return &ParseError{File: name, Offset: off, Err: fmt.Errorf("image size %dx%d is not positive", w, h)}
	}
	if w > imagePixelLimit/h {
		return &ParseError{File: name, Offset: off, Err: fmt.Errorf("image size %dx%d exceeds the limit of %d pixels", w, h, imagePixelLimit)}
	}
	return nil
}

// WriteImage writes im to path in the format its extension names (.png,
// .jpg/.jpeg, .tga, .pfm, .hdr, .exr) with default options. The file is
// written atomically: a temporary file in the same directory is renamed
// over path once complete.
func WriteImage(path string, im *render.Image) error {
	return WriteImageOpts(path, im, ImageOptions{})
}

// WriteImageOpts is WriteImage with options.
func WriteImageOpts(path string, im *render.Image, o ImageOptions) error {
	f := formatFromName(filepath.Ext(path))
	if err := checkWrite(im, f, o); err != nil {
		return fmt.Errorf("scenes: write %s: %w", path, err)
	}
	err := atomicfile.WriteFile(path, func(w io.Writer) error { return encodeImage(w, im, f, o) }, 0o644)
	if err != nil {
		return fmt.Errorf("scenes: write %s: %w", path, err)
	}
	return nil
}

// EncodeImage writes im to w in format ("png", "jpeg" or "jpg", "tga",
// "pfm", "hdr", "exr"; case and a leading dot do not matter).
func EncodeImage(w io.Writer, im *render.Image, format string, o ImageOptions) error {
	f := formatFromName(strings.TrimPrefix(format, "."))
	if err := checkWrite(im, f, o); err != nil {
		return fmt.Errorf("scenes: encode %s: %w", format, err)
	}
	if err := encodeImage(w, im, f, o); err != nil {
		return fmt.Errorf("scenes: encode %s: %w", format, err)
	}
	return nil
}

func checkWrite(im *render.Image, f imageFormat, o ImageOptions) error {
	if im == nil {
		return fmt.Errorf("nil image")
	}
	if err := im.Validate(); err != nil {
		return err
	}
	switch f {
	case fmtPNG, fmtJPEG, fmtTGA, fmtPFM, fmtHDR, fmtEXR:
	case fmtUnknown:
		return fmt.Errorf("unknown image format (want .png, .jpg, .tga, .pfm, .hdr or .exr)")
	default:
		return fmt.Errorf("writing %v is not supported (only PNG, JPEG, TGA, PFM, HDR and OpenEXR)", f)
	}
	if o.Quality < 0 || o.Quality > 100 {
		return fmt.Errorf("JPEG quality %d is outside 1..100", o.Quality)
	}
	if _, err := exrCompression(o.EXRCompression); err != nil {
		return err
	}
	if f == fmtTGA && (im.Width > math.MaxUint16 || im.Height > math.MaxUint16) {
		return fmt.Errorf("TGA cannot hold %dx%d pixels (at most 65535 per side)", im.Width, im.Height)
	}
	return nil
}

func encodeImage(w io.Writer, im *render.Image, f imageFormat, o ImageOptions) error {
	switch f {
	case fmtPNG:
		return encodePNG(w, im, o)
	case fmtJPEG:
		return encodeJPEG(w, im, o)
	case fmtTGA:
		return encodeTGA(w, im, o)
	case fmtPFM:
		return encodePFM(w, im)
	case fmtHDR:
		return encodeHDR(w, im)
	case fmtEXR:
		return encodeEXR(w, im, o)
	}
	return fmt.Errorf("cannot write %v", f)
}

// SRGBToLinear applies the sRGB decoding curve (IEC 61966-2-1): v/12.92 up
// to 0.04045, ((v+0.055)/1.055)^2.4 above. It is defined for all v (odd
// symmetric below 0, the power branch above 1).
func SRGBToLinear(v float64) float64 {
	if v < 0 {
		return -SRGBToLinear(-v)
	}
	if v <= 0.04045 {
		return v / 12.92
	}
	return math.Pow((v+0.055)/1.055, 2.4)
}

// LinearToSRGB applies the sRGB encoding curve: 12.92v up to 0.0031308,
// 1.055 v^(1/2.4) - 0.055 above; the inverse of SRGBToLinear.
func LinearToSRGB(v float64) float64 {
	if v < 0 {
		return -LinearToSRGB(-v)
	}
	if v <= 0.0031308 {
		return v * 12.92
	}
	return 1.055*math.Pow(v, 1/2.4) - 0.055
}

var (
	srgbLUTOnce sync.Once
	srgbLUT8    [256]float64
	srgbLUT16   []float64
)

// srgbTables returns the decoded value of every 8- and 16-bit code.
func srgbTables() (*[256]float64, []float64) {
	srgbLUTOnce.Do(func() {
		for i := range srgbLUT8 {
			srgbLUT8[i] = SRGBToLinear(float64(i) / 255)
		}
		srgbLUT16 = make([]float64, 1<<16)
		for i := range srgbLUT16 {
			srgbLUT16[i] = SRGBToLinear(float64(i) / 65535)
		}
	})
	return &srgbLUT8, srgbLUT16
}

// quantize maps a linear value to an n-level code (n = 255 or 65535):
// sRGB-encoded unless raw, clamped to [0, 1], rounded to nearest; NaN is 0.
func quantize(v float64, raw bool, n float64) uint32 {
	if !(v > 0) {
		return 0
	}
	if v >= 1 {
		return uint32(n)
	}
	if !raw {
		v = LinearToSRGB(v)
	}
	return uint32(v*n + 0.5)
}

// unassociate returns the straight colour scale for a pixel with alpha a:
// 1/a, or 0 for a transparent pixel.
func unassociate(a float64) float64 {
	if a > 0 {
		return 1 / a
	}
	return 0
}

func clamp01(v float64) float64 {
	if !(v > 0) {
		return 0
	}
	if v > 1 {
		return 1
	}
	return v
}

// FromImage converts any Go image to linear float RGB with associated
// alpha, decoding sRGB unless raw (see the notes at the top of image.go).
// Alpha is kept only when the image is not fully opaque.
func FromImage(img image.Image, raw bool) *render.Image {
	return fromImage(img, raw)
}

// ToNRGBA returns an 8-bit sRGB preview of im: colour scaled by
// 2^exposure (exposure in stops), un-associated from alpha, sRGB-encoded,
// clamped and rounded.
func ToNRGBA(im *render.Image, exposure float64) *image.NRGBA {
	out := image.NewNRGBA(image.Rect(0, 0, im.Width, im.Height))
	scale := math.Exp2(exposure)
	fillNRGBA(out, im, scale, false, true)
	return out
}
