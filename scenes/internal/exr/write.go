package exr

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
)

// Encode writes a single-part scanline file with header h, taking every
// channel's values from the slice of fb with the channel's name. The
// channels are written sorted by name whatever their order in h; sampling
// must be 1. Values are rounded to the channel's type: HALF to nearest
// even, FLOAT as Go converts float64 to float32, UINT rounded and clamped
// to [0, 2^32-1] (NaN as 0). Chunks are compressed concurrently; the output
// is the same for any number of goroutines.
func Encode(w io.Writer, h *Header, fb *FrameBuffer) error {
	hh := *h
	hh.Channels = append([]Channel(nil), h.Channels...)
	hh.sortChannels()
	if hh.PixelAspectRatio == 0 {
		hh.PixelAspectRatio = 1
	}
	if hh.ScreenWindowWidth == 0 {
		hh.ScreenWindowWidth = 1
	}
	if !hh.Compression.Supported() {
		return fmt.Errorf("exr: cannot write %v compression (only NONE, RLE, ZIPS and ZIP)", hh.Compression)
	}
	dw := hh.DataWindow
	if dw.Empty() || dw.Width() > math.MaxInt32 || dw.Height() > math.MaxInt32 {
		return fmt.Errorf("exr: bad data window (%d,%d)-(%d,%d)", dw.XMin, dw.YMin, dw.XMax, dw.YMax)
	}
	if hh.DisplayWindow.Empty() {
		return fmt.Errorf("exr: empty display window")
	}
	if len(hh.Channels) == 0 {
		return fmt.Errorf("exr: no channels to write")
	}
	src := make([]*Slice, len(hh.Channels))
	for i, c := range hh.Channels {
		if c.XSampling != 1 || c.YSampling != 1 {
			return fmt.Errorf("exr: channel %q: writing subsampled channels is not supported", c.Name)
		}
		if c.Type != Half && c.Type != Float && c.Type != Uint {
			return fmt.Errorf("exr: channel %q: unknown pixel type %d", c.Name, int32(c.Type))
		}
		if i > 0 && hh.Channels[i-1].Name == c.Name {
			return fmt.Errorf("exr: channel %q appears twice", c.Name)
		}
		if c.Name == "" || len(c.Name) > 255 {
			return fmt.Errorf("exr: channel name %q must have 1 to 255 bytes", c.Name)
		}
		for k := range fb.Slices {
			if fb.Slices[k].Name == c.Name {
				src[i] = &fb.Slices[k]
			}
		}
		s := src[i]
		if s == nil {
			return fmt.Errorf("exr: no slice for channel %q", c.Name)
		}
		for _, p := range [][2]int32{{dw.XMin, dw.YMin}, {dw.XMax, dw.YMin}, {dw.XMin, dw.YMax}, {dw.XMax, dw.YMax}} {
			if i := s.index(int64(p[0]), int64(p[1])); i < 0 || i >= int64(len(s.Data)) {
				return fmt.Errorf("exr: slice for channel %q does not cover pixel (%d, %d)", c.Name, p[0], p[1])
			}
		}
	}
	f := &File{Header: hh, lpc: hh.Compression.LinesPerChunk()}
	n := int((dw.Height() + int64(f.lpc) - 1) / int64(f.lpc))
	lineBytes := f.lineBytes(int64(dw.YMin))
	chunks := make([][]byte, n)
	errs := make([]error, n)
	workers := min(runtime.GOMAXPROCS(0), n)
	if n*f.lpc*lineBytes < 1<<18 {
		workers = 1
	}
	level := zipLevelHalf
	for _, c := range hh.Channels {
		if c.Type != Half {
			level = zipLevel32
		}
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := codec{level: level}
			var raw []byte
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				y0, lines := f.chunkLines(i)
				raw = grow(raw, lines*lineBytes)
				pos := 0
				for y := y0; y < y0+int64(lines); y++ {
					for ci, ch := range hh.Channels {
						pos += loadLine(raw[pos:], src[ci], ch.Type, int64(dw.XMin), dw.Width(), y)
					}
				}
				out, err := c.compress(hh.Compression, raw)
				if err != nil {
					errs[i] = err
					continue
				}
				// Chunk header and data, copied out of the scratch buffers.
				buf := make([]byte, 8+len(out))
				binary.LittleEndian.PutUint32(buf, uint32(int32(y0)))
				binary.LittleEndian.PutUint32(buf[4:], uint32(len(out)))
				copy(buf[8:], out)
				chunks[i] = buf
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return fmt.Errorf("exr: %w", err)
		}
	}
	head := hh.appendHeader(nil)
	off := uint64(len(head) + 8*n)
	table := make([]byte, 8*n)
	for i, c := range chunks {
		binary.LittleEndian.PutUint64(table[8*i:], off)
		off += uint64(len(c))
	}
	if _, err := w.Write(head); err != nil {
		return err
	}
	if _, err := w.Write(table); err != nil {
		return err
	}
	for _, c := range chunks {
		if _, err := w.Write(c); err != nil {
			return err
		}
	}
	return nil
}

// loadLine writes the w values of line y of slice s into dst as typ and
// returns the number of bytes written.
func loadLine(dst []byte, s *Slice, typ PixelType, x0, w, y int64) int {
	idx := int(s.index(x0, y))
	step := s.XStride
	d := s.Data
	switch typ {
	case Half:
		for k := 0; k < int(w); k++ {
			binary.LittleEndian.PutUint16(dst[2*k:], Float64ToHalf(d[idx]))
			idx += step
		}
		return 2 * int(w)
	case Float:
		for k := 0; k < int(w); k++ {
			binary.LittleEndian.PutUint32(dst[4*k:], math.Float32bits(float32(d[idx])))
			idx += step
		}
	case Uint:
		for k := 0; k < int(w); k++ {
			v := math.Round(d[idx])
			var u uint32
			switch {
			case v >= math.MaxUint32:
				u = math.MaxUint32
			case v > 0: // false for NaN
				u = uint32(v)
			}
			binary.LittleEndian.PutUint32(dst[4*k:], u)
			idx += step
		}
	}
	return 4 * int(w)
}
