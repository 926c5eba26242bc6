package scenes

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/invrender/invrender/render"
	"github.com/invrender/invrender/scenes/internal/exr"
)

// OpenEXR glue: picking the channels of a file, placing its data window in
// the display window, and writing R, G, B (and A) channels. The format
// itself lives in scenes/internal/exr.

func exrCompression(s string) (exr.Compression, error) {
	if s == "" {
		return exr.ZIP, nil
	}
	c, ok := exr.ParseCompression(s)
	if !ok || !c.Supported() {
		return 0, fmt.Errorf("unknown OpenEXR compression %q (want none, rle, zips or zip)", s)
	}
	return c, nil
}

func exrError(name string, err error) error {
	var e *exr.Error
	if errors.As(err, &e) {
		return &ParseError{File: name, Offset: e.Offset, Err: fmt.Errorf("OpenEXR: %w", e.Err)}
	}
	return &ParseError{File: name, Err: fmt.Errorf("OpenEXR: %w", err)}
}

// exrSelection is the set of channels that make the image.
type exrSelection struct {
	r, g, b, a, y string // full channel names, "" when absent
}

// pickEXRChannels chooses R, G, B, A (or Y, A) from the unprefixed channel
// names if any of R, G, B or Y is there, otherwise from the first layer (in
// channel-list order) that has one of them.
func pickEXRChannels(h *exr.Header) (exrSelection, error) {
	var order []string
	layers := map[string]*exrSelection{}
	hasChroma := map[string]bool{}
	for _, c := range h.Channels {
		prefix, suffix := "", c.Name
		if i := strings.LastIndexByte(c.Name, '.'); i >= 0 {
			prefix, suffix = c.Name[:i], c.Name[i+1:]
		}
		l := layers[prefix]
		if l == nil {
			l = &exrSelection{}
			layers[prefix] = l
			order = append(order, prefix)
		}
		switch suffix {
		case "R":
			l.r = c.Name
		case "G":
			l.g = c.Name
		case "B":
			l.b = c.Name
		case "A":
			l.a = c.Name
		case "Y":
			l.y = c.Name
		case "RY", "BY":
			hasChroma[prefix] = true
		}
	}
	usable := func(p string) bool {
		l := layers[p]
		return l != nil && (l.r != "" || l.g != "" || l.b != "" || l.y != "")
	}
	pick := ""
	if !usable("") {
		pick = "\x00"
		for _, p := range order {
			if usable(p) {
				pick = p
				break
			}
		}
	}
	if pick == "\x00" {
		var names []string
		for i, c := range h.Channels {
			if i == 12 {
				names = append(names, "...")
				break
			}
			names = append(names, c.Name)
		}
		return exrSelection{}, fmt.Errorf("no R, G, B or Y channel (the file has %s)", strings.Join(names, ", "))
	}
	sel := *layers[pick]
	if sel.r == "" && sel.g == "" && sel.b == "" && hasChroma[pick] {
		return exrSelection{}, fmt.Errorf("luminance/chroma images (Y, RY, BY channels) are not supported")
	}
	if sel.r != "" || sel.g != "" || sel.b != "" {
		sel.y = ""
	}
	for _, n := range []string{sel.r, sel.g, sel.b, sel.a, sel.y} {
		for _, c := range h.Channels {
			if n != "" && c.Name == n && (c.XSampling != 1 || c.YSampling != 1) {
				return exrSelection{}, fmt.Errorf("channel %q is subsampled (%dx%d); only full-resolution channels can be read", n, c.XSampling, c.YSampling)
			}
		}
	}
	return sel, nil
}

func decodeEXR(b []byte, name string) (*render.Image, error) {
	f, err := exr.Open(b)
	if err != nil {
		return nil, exrError(name, err)
	}
	h := &f.Header
	sel, err := pickEXRChannels(h)
	if err != nil {
		return nil, &ParseError{File: name, Err: fmt.Errorf("OpenEXR: %w", err)}
	}
	disp := h.DisplayWindow
	if err := checkSize(name, 0, disp.Width(), disp.Height()); err != nil {
		return nil, err
	}
	W, H := int(disp.Width()), int(disp.Height())
	im := render.NewImage(W, H)
	// Index of pixel (x, y) of the file = base + 3x + 3Wy, with the display
	// window's corner at 0.
	base := -(int64(disp.XMin)*3 + int64(disp.YMin)*3*int64(W))
	if base != int64(int(base)) {
		return nil, errorf(name, 0, "OpenEXR display window origin (%d, %d) is out of range", disp.XMin, disp.YMin)
	}
	fb := &exr.FrameBuffer{Window: disp}
	add := func(ch string, data []float64, base, xs, ys int) {
		if ch != "" {
			fb.Slices = append(fb.Slices, exr.Slice{Name: ch, Data: data, Base: base, XStride: xs, YStride: ys})
		}
	}
	if sel.y != "" {
		for c := 0; c < 3; c++ {
			add(sel.y, im.Pix, int(base)+c, 3, 3*W)
		}
	} else {
		add(sel.r, im.Pix, int(base), 3, 3*W)
		add(sel.g, im.Pix, int(base)+1, 3, 3*W)
		add(sel.b, im.Pix, int(base)+2, 3, 3*W)
	}
	if sel.a != "" {
		im.Alpha = make([]float64, W*H)
		add(sel.a, im.Alpha, int(base/3), 1, W)
	}
	if err := f.ReadPixels(fb); err != nil {
		return nil, exrError(name, err)
	}
	return im, nil
}

func encodeEXR(w io.Writer, im *render.Image, o ImageOptions) error {
	comp, err := exrCompression(o.EXRCompression)
	if err != nil {
		return err
	}
	if int64(im.Width) > math.MaxInt32 || int64(im.Height) > math.MaxInt32 {
		return fmt.Errorf("OpenEXR cannot hold %dx%d pixels", im.Width, im.Height)
	}
	typ := exr.Float
	if o.HalfEXR {
		typ = exr.Half
	}
	win := exr.Box2i{XMin: 0, YMin: 0, XMax: int32(im.Width - 1), YMax: int32(im.Height - 1)}
	h := &exr.Header{Compression: comp, DataWindow: win, DisplayWindow: win, LineOrder: exr.IncreasingY,
		PixelAspectRatio: 1, ScreenWindowWidth: 1}
	W := im.Width
	fb := &exr.FrameBuffer{}
	for c, n := range []string{"R", "G", "B"} {
		h.Channels = append(h.Channels, exr.Channel{Name: n, Type: typ, XSampling: 1, YSampling: 1})
		fb.Slices = append(fb.Slices, exr.Slice{Name: n, Data: im.Pix, Base: c, XStride: 3, YStride: 3 * W})
	}
	if im.Alpha != nil {
		h.Channels = append(h.Channels, exr.Channel{Name: "A", Type: typ, XSampling: 1, YSampling: 1})
		fb.Slices = append(fb.Slices, exr.Slice{Name: "A", Data: im.Alpha, Base: 0, XStride: 1, YStride: W})
	}
	return exr.Encode(w, h, fb)
}
