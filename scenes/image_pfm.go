package scenes

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/invrender/invrender/render"
)

// Portable float map: a text header ("PF" for RGB or "Pf" for grey, width
// and height, a scale whose sign gives the byte order: negative for
// little-endian), one whitespace byte, then 32-bit floats in rows from the
// bottom of the image to the top.

// pfmHeader is a cursor over the text header that counts lines.
type pfmHeader struct {
	b    []byte
	pos  int
	line int
}

func (h *pfmHeader) token() (string, int) {
	for h.pos < len(h.b) && isSpace(h.b[h.pos]) {
		if h.b[h.pos] == '\n' {
			h.line++
		}
		h.pos++
	}
	start := h.pos
	for h.pos < len(h.b) && !isSpace(h.b[h.pos]) && h.pos-start < 64 {
		h.pos++
	}
	return string(h.b[start:h.pos]), h.line
}

func decodePFM(b []byte, name string) (*render.Image, error) {
	h := &pfmHeader{b: b, line: 1}
	magic, _ := h.token()
	var channels int
	switch magic {
	case "PF":
		channels = 3
	case "Pf":
		channels = 1
	default:
		return nil, errorf(name, 1, "bad PFM magic %q, want \"PF\" (colour) or \"Pf\" (grey)", magic)
	}
	dim := func(what string) (int64, error) {
		tok, line := h.token()
		if tok == "" {
			return 0, errorf(name, line, "PFM header ends before the %s", what)
		}
		v, err := strconv.ParseInt(tok, 10, 64)
		if err != nil || v <= 0 {
			return 0, errorf(name, line, "PFM %s %q is not a positive integer", what, tok)
		}
		return v, nil
	}
	w, err := dim("width")
	if err != nil {
		return nil, err
	}
	ht, err := dim("height")
	if err != nil {
		return nil, err
	}
	tok, line := h.token()
	if tok == "" {
		return nil, errorf(name, line, "PFM header ends before the scale")
	}
	scale, err := strconv.ParseFloat(tok, 64)
	if err != nil || scale == 0 || math.IsNaN(scale) || math.IsInf(scale, 0) {
		return nil, errorf(name, line, "PFM scale %q is not a non-zero number (its sign gives the byte order)", tok)
	}
	// Exactly one whitespace byte ends the header; accept "\r\n" too when the
	// remaining bytes say so.
	if h.pos >= len(b) || !isSpace(b[h.pos]) {
		return nil, errorf(name, line, "PFM scale must be followed by a single whitespace byte before the pixel data")
	}
	h.pos++
	if err := checkSize(name, int64(h.pos), w, ht); err != nil {
		return nil, err
	}
	need := w * ht * int64(channels) * 4
	if b[h.pos-1] == '\r' && h.pos < len(b) && b[h.pos] == '\n' && int64(len(b)-h.pos) == need+1 {
		h.pos++
	}
	data := b[h.pos:]
	if int64(len(data)) < need {
		return nil, &ParseError{File: name, Offset: int64(h.pos), Err: fmt.Errorf("PFM pixel data truncated: %dx%d %s pixels need %d bytes, %d are left",
			w, ht, map[int]string{1: "grey", 3: "RGB"}[channels], need, len(data))}
	}
	var order binary.ByteOrder = binary.BigEndian
	if scale < 0 {
		order = binary.LittleEndian
	}
	W, H := int(w), int(ht)
	im := render.NewImage(W, H)
	for r := 0; r < H; r++ {
		src := data[r*W*channels*4:]
		dst := im.Pix[(H-1-r)*W*3:]
		if channels == 3 {
			for i := 0; i < 3*W; i++ {
				dst[i] = float64(math.Float32frombits(order.Uint32(src[4*i:])))
			}
			continue
		}
		for x := 0; x < W; x++ {
			v := float64(math.Float32frombits(order.Uint32(src[4*x:])))
			dst[3*x], dst[3*x+1], dst[3*x+2] = v, v, v
		}
	}
	return im, nil
}

// encodePFM writes a little-endian "PF" file (alpha is dropped).
func encodePFM(w io.Writer, im *render.Image) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "PF\n%d %d\n-1.0\n", im.Width, im.Height)
	row := make([]byte, 12*im.Width)
	for y := im.Height - 1; y >= 0; y-- {
		src := im.Pix[3*im.Width*y : 3*im.Width*(y+1)]
		for i, v := range src {
			binary.LittleEndian.PutUint32(row[4*i:], math.Float32bits(float32(v)))
		}
		if _, err := bw.Write(row); err != nil {
			return err
		}
	}
	return bw.Flush()
}
