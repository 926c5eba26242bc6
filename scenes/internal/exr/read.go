package exr

import (
	"encoding/binary"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
)

// Slice says where the values of one channel go when reading, or come from
// when writing: the value of pixel (x, y), in the file's pixel coordinates,
// is Data[Base + x*XStride + y*YStride]. Several slices may name the same
// channel when reading (a greyscale Y channel filling R, G and B).
type Slice struct {
	Name                   string
	Data                   []float64
	Base, XStride, YStride int
}

func (s *Slice) index(x, y int64) int64 {
	return int64(s.Base) + x*int64(s.XStride) + y*int64(s.YStride)
}

// FrameBuffer is a set of slices and, for reading, the window of pixels to
// store: pixels of the data window outside Window are skipped, so a caller
// can read straight into an image of the display window.
type FrameBuffer struct {
	Slices []Slice
	Window Box2i
}

// File is an opened OpenEXR file: its header and offset table, validated.
type File struct {
	Header Header
	b      []byte
	// offsets[i] is the file offset of the chunk that starts at line
	// DataWindow.YMin + i*LinesPerChunk.
	offsets []int
	lpc     int
}

// Open parses the header and offset table of the file held in b and checks
// that its sizes are consistent with the file's length, so that reading it
// allocates nothing beyond what the bytes can encode. Errors are *Error
// values carrying the byte offset.
func Open(b []byte) (*File, error) {
	h, off, err := parseHeader(b)
	if err != nil {
		return nil, err
	}
	dw := h.DataWindow
	w, ht := dw.Width(), dw.Height()
	// Sanity limits that keep every later product inside int64: widths and
	// heights below 2^31 (the box is int32 anyway, but its extent is not).
	if w > math.MaxInt32 || ht > math.MaxInt32 {
		return nil, errAt(off-1, "dataWindow %dx%d is too large", w, ht)
	}
	f := &File{Header: *h, b: b, lpc: h.Compression.LinesPerChunk()}
	chunks := (ht + int64(f.lpc) - 1) / int64(f.lpc)
	if chunks > int64(len(b)-off)/8 {
		return nil, errAt(off, "the offset table of %d chunks (for %d lines) does not fit in the %d bytes left", chunks, ht, len(b)-off)
	}
	// Bytes the pixel data needs once uncompressed, computed in float64
	// first (exact enough for a bound, and safe from overflow).
	var est float64
	for _, c := range h.Channels {
		est += float64(numSamples(c.XSampling, dw.XMin, dw.XMax)) * float64(numSamples(c.YSampling, dw.YMin, dw.YMax)) * float64(c.Type.Size())
	}
	tableEnd := off + 8*int(chunks)
	avail := float64(len(b) - tableEnd - 8*int(chunks)) // minus the chunk headers
	if est > avail*float64(maxRatio(h.Compression)) {
		return nil, errAt(off, "a %dx%d data window with %d channels needs %.0f bytes of pixel data, more than the %d bytes left can hold with %v compression",
			w, ht, len(h.Channels), est, len(b)-tableEnd, h.Compression)
	}
	f.offsets = make([]int, chunks)
	for i := range f.offsets {
		o := binary.LittleEndian.Uint64(b[off+8*i:])
		if o < uint64(tableEnd) || o > uint64(len(b)-8) {
			return nil, errAt(off+8*i, "offset table entry %d is %d, outside the chunk area %d..%d (incomplete or corrupt file)", i, o, tableEnd, len(b)-8)
		}
		f.offsets[i] = int(o)
	}
	return f, nil
}

// numSamples returns the number of x in [a, b] with x mod s == 0.
func numSamples(s, a, b int32) int64 {
	return floorDiv(int64(b), int64(s)) - floorDiv(int64(a)-1, int64(s))
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// hasLine reports whether a channel with y sampling s has samples on line y.
func hasLine(s int32, y int64) bool {
	m := y % int64(s)
	return m == 0
}

// firstSample returns the smallest multiple of s that is >= a.
func firstSample(s, a int32) int64 {
	return -floorDiv(-int64(a), int64(s)) * int64(s)
}

// lineBytes returns the raw size of line y.
func (f *File) lineBytes(y int64) int {
	n := 0
	dw := f.Header.DataWindow
	for _, c := range f.Header.Channels {
		if hasLine(c.YSampling, y) {
			n += int(numSamples(c.XSampling, dw.XMin, dw.XMax)) * c.Type.Size()
		}
	}
	return n
}

// chunkLines returns the first line and line count of chunk i.
func (f *File) chunkLines(i int) (y0 int64, n int) {
	dw := f.Header.DataWindow
	y0 = int64(dw.YMin) + int64(i)*int64(f.lpc)
	n = int(min(int64(f.lpc), int64(dw.YMax)-y0+1))
	return y0, n
}

// target lists, per channel (in header order), the slices it fills.
type target struct {
	slices [][]*Slice
	win    Box2i
}

// ReadPixels decodes every chunk and stores the channels that fb names.
// Channels without a slice are skipped; a slice naming a channel the file
// lacks is an error (the caller picks channels from Header.Channels). Chunks
// are decoded concurrently; the result does not depend on the number of
// goroutines, and of several bad chunks the first one is reported.
func (f *File) ReadPixels(fb *FrameBuffer) error {
	h := &f.Header
	t := target{slices: make([][]*Slice, len(h.Channels)), win: fb.Window}
	// Only pixels in the data window and the frame buffer's window are
	// stored; check the slices cover them so indexing cannot go astray.
	dw := h.DataWindow
	lo := Box2i{max(dw.XMin, fb.Window.XMin), max(dw.YMin, fb.Window.YMin), min(dw.XMax, fb.Window.XMax), min(dw.YMax, fb.Window.YMax)}
	for k := range fb.Slices {
		s := &fb.Slices[k]
		ci := -1
		for i, c := range h.Channels {
			if c.Name == s.Name {
				ci = i
			}
		}
		if ci < 0 {
			return fmt.Errorf("exr: frame buffer names channel %q, which the file lacks", s.Name)
		}
		if !lo.Empty() {
			for _, p := range [][2]int32{{lo.XMin, lo.YMin}, {lo.XMax, lo.YMin}, {lo.XMin, lo.YMax}, {lo.XMax, lo.YMax}} {
				if i := s.index(int64(p[0]), int64(p[1])); i < 0 || i >= int64(len(s.Data)) {
					return fmt.Errorf("exr: slice for channel %q does not cover pixel (%d, %d)", s.Name, p[0], p[1])
				}
			}
		}
		t.slices[ci] = append(t.slices[ci], s)
	}
	if lo.Empty() {
		return nil
	}
	n := len(f.offsets)
	workers := min(runtime.GOMAXPROCS(0), n)
	if est := n * f.lpc * f.lineBytes(int64(dw.YMin)); est < 1<<18 {
		workers = 1
	}
	errs := make([]error, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var c codec
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				errs[i] = f.readChunk(i, &c, &t)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func (f *File) readChunk(i int, c *codec, t *target) error {
	h := &f.Header
	o := f.offsets[i]
	b := f.b
	y0, lines := f.chunkLines(i)
	if y := int32(binary.LittleEndian.Uint32(b[o:])); int64(y) != y0 {
		return errAt(o, "chunk %d starts at line %d, want %d", i, y, y0)
	}
	size := int64(int32(binary.LittleEndian.Uint32(b[o+4:])))
	if size < 0 || size > int64(len(b)-o-8) {
		return errAt(o+4, "chunk %d (line %d) claims %d bytes of data, but %d are left in the file", i, y0, size, len(b)-o-8)
	}
	want := 0
	for y := y0; y < y0+int64(lines); y++ {
		want += f.lineBytes(y)
	}
	data := b[o+8 : o+8+int(size)]
	raw := data
	switch {
	case int(size) == want:
		// Stored raw (always for NONE; for the others when compression
		// would not have helped).
	case int(size) < want && h.Compression != None:
		var err error
		raw, err = c.decompress(h.Compression, data, want)
		if err != nil {
			return errAt(o, "chunk %d (line %d): %v", i, y0, err)
		}
	default:
		return errAt(o+4, "chunk %d (line %d) holds %d bytes, want %d for %v data", i, y0, size, want, h.Compression)
	}
	dw := h.DataWindow
	win := t.win
	pos := 0
	for y := y0; y < y0+int64(lines); y++ {
		inY := y >= int64(win.YMin) && y <= int64(win.YMax)
		for ci, ch := range h.Channels {
			if !hasLine(ch.YSampling, y) {
				continue
			}
			ns := int(numSamples(ch.XSampling, dw.XMin, dw.XMax))
			sz := ch.Type.Size()
			vals := raw[pos : pos+ns*sz]
			pos += ns * sz
			if !inY {
				continue
			}
			for _, s := range t.slices[ci] {
				storeLine(s, vals, ch.Type, ns, firstSample(ch.XSampling, dw.XMin), int64(ch.XSampling), y, win)
			}
		}
	}
	return nil
}

// storeLine converts ns little-endian values of type typ and stores those
// whose x (x0, x0+xs, ...) lies in the window.
func storeLine(s *Slice, vals []byte, typ PixelType, ns int, x0, xs, y int64, win Box2i) {
	// Range of sample indices inside [win.XMin, win.XMax].
	k0, k1 := 0, ns
	if x0 < int64(win.XMin) {
		k0 = int((int64(win.XMin) - x0 + xs - 1) / xs)
	}
	if last := x0 + int64(ns-1)*xs; last > int64(win.XMax) {
		k1 = ns - int((last-int64(win.XMax)+xs-1)/xs)
	}
	if k0 >= k1 {
		return
	}
	idx := int(s.index(x0+int64(k0)*xs, y))
	step := int(xs) * s.XStride
	d := s.Data
	switch typ {
	case Half:
		for k := k0; k < k1; k++ {
			d[idx] = HalfToFloat64(binary.LittleEndian.Uint16(vals[2*k:]))
			idx += step
		}
	case Float:
		for k := k0; k < k1; k++ {
			d[idx] = float64(math.Float32frombits(binary.LittleEndian.Uint32(vals[4*k:])))
			idx += step
		}
	case Uint:
		for k := k0; k < k1; k++ {
			d[idx] = float64(binary.LittleEndian.Uint32(vals[4*k:]))
			idx += step
		}
	}
}
