package exr

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
)

// Deflate levels for ZIP and ZIPS. OpenEXR 3 defaults to 4, nearly the
// ratio of 6 in much less time, and so do files of HALF channels here. The
// low mantissa bits of 32-bit channels are noise to deflate: on rendered
// FLOAT images level 4 gains under 1 % over level 1 (Go's dedicated fast
// compressor) at three to four times the time, so files with 32-bit
// channels use level 1.
const (
	zipLevelHalf = 4
	zipLevel32   = 1
)

// Maximum expansion of compressed chunk data, used to reject files whose
// header promises more pixels than their bytes can hold before anything is
// allocated. An RLE pair (count, byte) yields at most 128 bytes; deflate
// peaks a little above 1032:1.
func maxRatio(c Compression) int64 {
	switch c {
	case RLE:
		return 64
	case ZIP, ZIPS:
		return 1040
	}
	return 1
}

// predictAndSplit turns raw into the form RLE and ZIP compress (OpenEXR's
// "reorder" and "predictor" steps): the bytes at even positions, then those
// at odd positions, each byte replaced by its difference to the previous
// one plus 128 (mod 256). dst must have len(raw) bytes.
func predictAndSplit(dst, raw []byte) {
	n := len(raw)
	half := (n + 1) / 2
	for i := 0; i < half; i++ {
		dst[i] = raw[2*i]
	}
	for i := 0; 2*i+1 < n; i++ {
		dst[half+i] = raw[2*i+1]
	}
	prev := byte(0)
	if n > 0 {
		prev = dst[0]
	}
	for i := 1; i < n; i++ {
		cur := dst[i]
		dst[i] = cur - prev + 128
		prev = cur
	}
}

// unpredictAndMerge inverts predictAndSplit: it integrates buf in place and
// interleaves its two halves into dst (len(dst) == len(buf)).
func unpredictAndMerge(dst, buf []byte) {
	n := len(buf)
	for i := 1; i < n; i++ {
		buf[i] = buf[i-1] + buf[i] - 128
	}
	half := (n + 1) / 2
	for i := 0; i < half; i++ {
		dst[2*i] = buf[i]
	}
	for i := 0; 2*i+1 < n; i++ {
		dst[2*i+1] = buf[half+i]
	}
}

// rleEncode appends the run-length encoding of src to dst: runs of 3 to 128
// equal bytes as (count-1, byte), everything else as literal blocks of up to
// 127 bytes preceded by minus their length.
func rleEncode(dst, src []byte) []byte {
	i := 0
	for i < len(src) {
		run := 1
		for i+run < len(src) && run < 128 && src[i+run] == src[i] {
			run++
		}
		if run >= 3 {
			dst = append(dst, byte(run-1), src[i])
			i += run
			continue
		}
		j := i
		for j < len(src) && j-i < 127 {
			if j+2 < len(src) && src[j] == src[j+1] && src[j] == src[j+2] {
				break
			}
			j++
		}
		dst = append(dst, byte(-int8(j-i)))
		dst = append(dst, src[i:j]...)
		i = j
	}
	return dst
}

// rleDecode expands src into dst, which must come out exactly full.
func rleDecode(dst, src []byte) error {
	o, i := 0, 0
	for i < len(src) {
		c := int8(src[i])
		i++
		if c < 0 {
			n := -int(c)
			if len(src)-i < n {
				return fmt.Errorf("RLE literal block of %d bytes at compressed byte %d runs past the chunk end", n, i-1)
			}
			if len(dst)-o < n {
				return fmt.Errorf("RLE literal block at compressed byte %d overflows the %d-byte chunk", i-1, len(dst))
			}
			copy(dst[o:], src[i:i+n])
			o += n
			i += n
			continue
		}
		n := int(c) + 1
		if i >= len(src) {
			return fmt.Errorf("RLE run at compressed byte %d lacks its value byte", i-1)
		}
		if len(dst)-o < n {
			return fmt.Errorf("RLE run of %d bytes at compressed byte %d overflows the %d-byte chunk", n, i-1, len(dst))
		}
		v := src[i]
		i++
		for k := range n {
			dst[o+k] = v
		}
		o += n
	}
	if o != len(dst) {
		return fmt.Errorf("RLE data expands to %d bytes, want %d", o, len(dst))
	}
	return nil
}

// codec holds one goroutine's scratch buffers and zlib state.
type codec struct {
	level int // deflate level for compress
	tmp   []byte
	out   []byte
	zr    io.ReadCloser
	br    bytes.Reader
	zw    *zlib.Writer
	zbuf  bytes.Buffer
}

func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

// decompress expands a chunk's data into exactly n raw bytes; the result
// aliases the codec's buffers.
func (c *codec) decompress(comp Compression, data []byte, n int) ([]byte, error) {
	c.tmp = grow(c.tmp, n)
	c.out = grow(c.out, n)
	switch comp {
	case RLE:
		if err := rleDecode(c.tmp, data); err != nil {
			return nil, err
		}
	case ZIP, ZIPS:
		c.br.Reset(data)
		if c.zr == nil {
			zr, err := zlib.NewReader(&c.br)
			if err != nil {
				return nil, fmt.Errorf("zlib: %w", err)
			}
			c.zr = zr
		} else if err := c.zr.(zlib.Resetter).Reset(&c.br, nil); err != nil {
			return nil, fmt.Errorf("zlib: %w", err)
		}
		if _, err := io.ReadFull(c.zr, c.tmp); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("zlib data expands to fewer than the %d bytes the chunk needs", n)
			}
			return nil, fmt.Errorf("zlib: %w", err)
		}
		// Reading on to the end verifies the checksum and catches surplus.
		var one [1]byte
		if k, err := c.zr.Read(one[:]); k > 0 {
			return nil, fmt.Errorf("zlib data expands to more than the %d bytes the chunk needs", n)
		} else if err != io.EOF {
			if err == nil {
				err = errors.New("no end of stream")
			}
			return nil, fmt.Errorf("zlib: %w", err)
		}
	default:
		return nil, fmt.Errorf("%v compression is not supported", comp)
	}
	unpredictAndMerge(c.out, c.tmp)
	return c.out, nil
}

// compress returns the compressed form of raw, or raw itself when that is
// not smaller; the result aliases the codec's buffers or raw.
func (c *codec) compress(comp Compression, raw []byte) ([]byte, error) {
	if comp == None {
		return raw, nil
	}
	c.tmp = grow(c.tmp, len(raw))
	predictAndSplit(c.tmp, raw)
	var out []byte
	switch comp {
	case RLE:
		c.out = rleEncode(c.out[:0], c.tmp)
		out = c.out
	case ZIP, ZIPS:
		c.zbuf.Reset()
		if c.zw == nil {
			zw, err := zlib.NewWriterLevel(&c.zbuf, c.level)
			if err != nil {
				return nil, err
			}
			c.zw = zw
		} else {
			c.zw.Reset(&c.zbuf)
		}
		if _, err := c.zw.Write(c.tmp); err != nil {
			return nil, err
		}
		if err := c.zw.Close(); err != nil {
			return nil, err
		}
		out = c.zbuf.Bytes()
	default:
		return nil, fmt.Errorf("%v compression is not supported", comp)
	}
	if len(out) >= len(raw) {
		return raw, nil
	}
	return out, nil
}
