package scenes

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/invrender/invrender/render"
)

// Radiance RGBE (.hdr): a text header ("#?RADIANCE" or "#?RGBE", variable
// lines such as FORMAT=32-bit_rle_rgbe, a blank line), a resolution line
// such as "-Y 480 +X 640", then scanlines of 4-byte pixels (a shared
// exponent e and three mantissas m, value m * 2^(e-136)). A scanline 8 to
// 32767 pixels long may be run-length encoded: the bytes 2 2 hi lo (its
// length), then each of the four components in turn as runs (a count byte
// above 128 repeats the next byte count-128 times) and literal blocks (a
// count of 1 to 128 followed by that many bytes). Reference: Greg Ward,
// "Real Pixels", Graphics Gems II (1991), and Radiance's color.c.

const (
	hdrMinRLE = 8
	hdrMaxRLE = 0x7fff
)

// hdrAxis is one half of a resolution line: "-Y 480".
type hdrAxis struct {
	neg bool
	y   bool
	n   int64
}

// fromStart returns the image coordinate (row from the top for Y, column
// from the left for X) of the i-th position along the axis: -Y runs down
// and +X runs right.
func (ax hdrAxis) fromStart(i int) int {
	if ax.neg == ax.y {
		return i
	}
	return int(ax.n) - 1 - i
}

func parseHDRResolution(s string) (major, minor hdrAxis, err error) {
	f := strings.Fields(s)
	if len(f) != 4 {
		return major, minor, fmt.Errorf("resolution line %q, want four fields such as \"-Y 480 +X 640\"", s)
	}
	axes := [2]*hdrAxis{&major, &minor}
	for i, ax := range axes {
		sig := f[2*i]
		if len(sig) != 2 || (sig[0] != '-' && sig[0] != '+') || (sig[1] != 'X' && sig[1] != 'Y') {
			return major, minor, fmt.Errorf("resolution line %q: %q is not +X, -X, +Y or -Y", s, sig)
		}
		n, perr := strconv.ParseInt(f[2*i+1], 10, 64)
		if perr != nil || n <= 0 {
			return major, minor, fmt.Errorf("resolution line %q: %q is not a positive integer", s, f[2*i+1])
		}
		*ax = hdrAxis{neg: sig[0] == '-', y: sig[1] == 'Y', n: n}
	}
	if major.y == minor.y {
		return major, minor, fmt.Errorf("resolution line %q names the same axis twice", s)
	}
	return major, minor, nil
}

func decodeHDR(b []byte, name string) (*render.Image, error) {
	pos, line := 0, 0
	nextLine := func() (string, bool) {
		i := bytes.IndexByte(b[pos:], '\n')
		if i < 0 {
			return "", false
		}
		s := string(b[pos : pos+i])
		pos += i + 1
		line++
		return strings.TrimSuffix(s, "\r"), true
	}
	first, ok := nextLine()
	if !ok || !strings.HasPrefix(first, "#?") {
		return nil, errorf(name, 1, "bad Radiance HDR magic, want a first line \"#?RADIANCE\" or \"#?RGBE\"")
	}
	for {
		s, ok := nextLine()
		if !ok {
			return nil, errorf(name, line+1, "Radiance HDR header does not end (no blank line before the resolution)")
		}
		if strings.TrimSpace(s) == "" {
			break
		}
		if v, ok := strings.CutPrefix(s, "FORMAT="); ok {
			switch v = strings.TrimSpace(v); v {
			case "32-bit_rle_rgbe":
			case "32-bit_rle_xyze":
				return nil, errorf(name, line, "Radiance HDR FORMAT=32-bit_rle_xyze (CIE XYZ) is not supported, only 32-bit_rle_rgbe")
			default:
				return nil, errorf(name, line, "unknown Radiance HDR FORMAT=%s, want 32-bit_rle_rgbe", v)
			}
		}
		// EXPOSURE, COLORCORR, PRIMARIES, VIEW, PIXASPECT, comments and
		// the rest are ignored.
	}
	resLine, ok := nextLine()
	if !ok {
		return nil, errorf(name, line+1, "Radiance HDR file ends before the resolution line")
	}
	major, minor, err := parseHDRResolution(resLine)
	if err != nil {
		return nil, errorf(name, line, "%v", err)
	}
	w, h := minor.n, major.n
	if !major.y {
		w, h = major.n, minor.n
	}
	if err := checkSize(name, int64(pos), w, h); err != nil {
		return nil, err
	}
	// The fewest bytes a scanline can take: flat (4 per pixel) or RLE (a
	// 4-byte start and per component 2 bytes per 127 pixels).
	m := minor.n
	minScan := 4 * m
	if m >= hdrMinRLE && m <= hdrMaxRLE {
		minScan = min(minScan, 4+8*((m+126)/127))
	}
	if rem := int64(len(b) - pos); major.n*minScan > rem {
		return nil, &ParseError{File: name, Offset: int64(pos), Err: fmt.Errorf("a %dx%d Radiance HDR image needs at least %d bytes of pixel data, %d are left", w, h, major.n*minScan, rem)}
	}
	W, H := int(w), int(h)
	im := render.NewImage(W, H)
	scan := make([]byte, 4*m)
	for s := 0; s < int(major.n); s++ {
		start := pos
		pos, err = readHDRScanline(b, pos, scan)
		if err != nil {
			return nil, &ParseError{File: name, Offset: int64(start), Err: fmt.Errorf("scanline %d of %d: %w", s, major.n, err)}
		}
		a := major.fromStart(s)
		for j := 0; j < int(m); j++ {
			x, y := minor.fromStart(j), a
			if !major.y {
				x, y = a, minor.fromStart(j)
			}
			p := im.Pix[3*(y*W+x):]
			q := scan[4*j : 4*j+4]
			if q[3] == 0 {
				p[0], p[1], p[2] = 0, 0, 0
				continue
			}
			f := math.Ldexp(1, int(q[3])-136)
			p[0], p[1], p[2] = float64(q[0])*f, float64(q[1])*f, float64(q[2])*f
		}
	}
	return im, nil
}

// readHDRScanline decodes one scanline (len(scan)/4 pixels) starting at
// b[pos] into scan as RGBE quadruples and returns the position after it.
func readHDRScanline(b []byte, pos int, scan []byte) (int, error) {
	n := len(scan) / 4
	if len(b)-pos < 4 {
		return pos, fmt.Errorf("file ends inside the scanline")
	}
	if n < hdrMinRLE || n > hdrMaxRLE || b[pos] != 2 || b[pos+1] != 2 || b[pos+2]&0x80 != 0 {
		// Flat scanline.
		if len(b)-pos < 4*n {
			return pos, fmt.Errorf("file ends inside the scanline: %d flat pixels need %d bytes, %d are left", n, 4*n, len(b)-pos)
		}
		copy(scan, b[pos:pos+4*n])
		return pos + 4*n, nil
	}
	if l := int(b[pos+2])<<8 | int(b[pos+3]); l != n {
		return pos, fmt.Errorf("RLE scanline says it has %d pixels, the image is %d wide", l, n)
	}
	pos += 4
	for c := 0; c < 4; c++ {
		for i := 0; i < n; {
			if pos >= len(b) {
				return pos, fmt.Errorf("file ends inside component %d of the RLE scanline", c)
			}
			code := int(b[pos])
			pos++
			if code > 128 {
				run := code - 128
				if i+run > n {
					return pos - 1, fmt.Errorf("RLE run of %d at pixel %d overruns the %d-pixel scanline", run, i, n)
				}
				if pos >= len(b) {
					return pos, fmt.Errorf("file ends inside an RLE run")
				}
				v := b[pos]
				pos++
				for k := 0; k < run; k++ {
					scan[4*(i+k)+c] = v
				}
				i += run
				continue
			}
			if code == 0 {
				return pos - 1, fmt.Errorf("RLE literal block of length 0 at pixel %d", i)
			}
			if i+code > n {
				return pos - 1, fmt.Errorf("RLE literal block of %d at pixel %d overruns the %d-pixel scanline", code, i, n)
			}
			if len(b)-pos < code {
				return pos, fmt.Errorf("file ends inside an RLE literal block")
			}
			for k := 0; k < code; k++ {
				scan[4*(i+k)+c] = b[pos+k]
			}
			pos += code
			i += code
		}
	}
	return pos, nil
}

// floatToRGBE encodes a colour with a shared exponent, rounding mantissas
// to nearest. Negative values and NaN become 0; values beyond the largest
// representable (about 1.7e38) saturate.
func floatToRGBE(r, g, b float64) [4]byte {
	clean := func(v float64) float64 {
		if !(v > 0) {
			return 0
		}
		return math.Min(v, math.MaxFloat64)
	}
	r, g, b = clean(r), clean(g), clean(b)
	m := max(r, g, b)
	if m == 0 {
		return [4]byte{}
	}
	_, e := math.Frexp(m) // m = f * 2^e, f in [0.5, 1)
	scale := math.Ldexp(1, 8-e)
	if math.Round(m*scale) >= 256 {
		e++
		scale /= 2
	}
	if e+128 < 1 {
		return [4]byte{} // below 2^-128: rounds to black
	}
	if e > 127 {
		return [4]byte{sat(r / m * 255), sat(g / m * 255), sat(b / m * 255), 255}
	}
	return [4]byte{byte(math.Round(r * scale)), byte(math.Round(g * scale)), byte(math.Round(b * scale)), byte(e + 128)}
}

func sat(v float64) byte {
	return byte(math.Min(255, math.Round(v)))
}

// encodeHDR writes "-Y h +X w" RGBE scanlines, run-length encoded when the
// width allows (8 to 32767), flat otherwise. Alpha is dropped.
func encodeHDR(w io.Writer, im *render.Image) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y %d +X %d\n", im.Height, im.Width)
	W := im.Width
	scan := make([]byte, 4*W)
	comp := make([]byte, W)
	var out []byte
	for y := 0; y < im.Height; y++ {
		for x := 0; x < W; x++ {
			p := im.Pix[3*(y*W+x):]
			q := floatToRGBE(p[0], p[1], p[2])
			copy(scan[4*x:], q[:])
		}
		if W < hdrMinRLE || W > hdrMaxRLE {
			if _, err := bw.Write(scan); err != nil {
				return err
			}
			continue
		}
		out = append(out[:0], 2, 2, byte(W>>8), byte(W))
		for c := 0; c < 4; c++ {
			for x := 0; x < W; x++ {
				comp[x] = scan[4*x+c]
			}
			out = appendHDRRLE(out, comp)
		}
		if _, err := bw.Write(out); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// appendHDRRLE encodes one component of a scanline: runs of 4 to 127 equal
// bytes as (128+n, byte), the rest as literal blocks of at most 128.
func appendHDRRLE(dst, data []byte) []byte {
	const minRun = 4
	i := 0
	for i < len(data) {
		run := 1
		for i+run < len(data) && run < 127 && data[i+run] == data[i] {
			run++
		}
		if run >= minRun {
			dst = append(dst, byte(128+run), data[i])
			i += run
			continue
		}
		j := i
		for j < len(data) && j-i < 128 {
			if j+minRun <= len(data) && data[j] == data[j+1] && data[j] == data[j+2] && data[j] == data[j+3] {
				break
			}
			j++
		}
		dst = append(dst, byte(j-i))
		dst = append(dst, data[i:j]...)
		i = j
	}
	return dst
}
