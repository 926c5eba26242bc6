package exr

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
)

// Magic is the first four bytes of every OpenEXR file.
const Magic = "\x76\x2f\x31\x01"

// Version-field flags (the bits above the version number 2).
const (
	flagTiled     = 0x200
	flagLongNames = 0x400
	flagDeep      = 0x800
	flagMultipart = 0x1000
)

// PixelType is the storage type of a channel.
type PixelType int32

// Channel pixel types.
const (
	Uint  PixelType = 0 // 32-bit unsigned integer
	Half  PixelType = 1 // 16-bit IEEE 754 float
	Float PixelType = 2 // 32-bit IEEE 754 float
)

// Size returns the number of bytes per value.
func (t PixelType) Size() int {
	if t == Half {
		return 2
	}
	return 4
}

func (t PixelType) String() string {
	switch t {
	case Uint:
		return "UINT"
	case Half:
		return "HALF"
	case Float:
		return "FLOAT"
	}
	return fmt.Sprintf("pixel type %d", int32(t))
}

// Compression is the header's compression method.
type Compression uint8

// Compression methods, with the values the file stores.
const (
	None  Compression = 0
	RLE   Compression = 1
	ZIPS  Compression = 2
	ZIP   Compression = 3
	PIZ   Compression = 4
	PXR24 Compression = 5
	B44   Compression = 6
	B44A  Compression = 7
	DWAA  Compression = 8
	DWAB  Compression = 9
)

var compressionNames = [...]string{"NONE", "RLE", "ZIPS", "ZIP", "PIZ", "PXR24", "B44", "B44A", "DWAA", "DWAB"}

func (c Compression) String() string {
	if int(c) < len(compressionNames) {
		return compressionNames[c]
	}
	return fmt.Sprintf("compression %d", c)
}

// Supported reports whether this package can read and write c.
func (c Compression) Supported() bool { return c <= ZIP }

// LinesPerChunk returns the number of scanlines one chunk holds.
func (c Compression) LinesPerChunk() int {
	switch c {
	case ZIP, PXR24:
		return 16
	case PIZ, B44, B44A, DWAA:
		return 32
	case DWAB:
		return 256
	}
	return 1
}

// ParseCompression maps a case-insensitive name ("none", "rle", "zips",
// "zip", ...) to its Compression.
func ParseCompression(name string) (Compression, bool) {
	for i, n := range compressionNames {
		if strings.EqualFold(n, name) {
			return Compression(i), true
		}
	}
	return 0, false
}

// Line orders.
const (
	IncreasingY = 0
	DecreasingY = 1
	RandomY     = 2
)

// Channel describes one channel of the channel list.
type Channel struct {
	Name                 string
	Type                 PixelType
	PLinear              bool
	XSampling, YSampling int32
}

// Box2i is an inclusive integer rectangle, as the dataWindow and
// displayWindow attributes store it.
type Box2i struct {
	XMin, YMin, XMax, YMax int32
}

// Width returns XMax-XMin+1 (computed without overflow).
func (b Box2i) Width() int64 { return int64(b.XMax) - int64(b.XMin) + 1 }

// Height returns YMax-YMin+1.
func (b Box2i) Height() int64 { return int64(b.YMax) - int64(b.YMin) + 1 }

// Empty reports whether the box holds no pixel.
func (b Box2i) Empty() bool { return b.XMax < b.XMin || b.YMax < b.YMin }

// Header holds the attributes this package understands. Others are skipped
// when reading and not written.
type Header struct {
	// Channels in the file's order (sorted by name, as OpenEXR requires;
	// Encode sorts them).
	Channels           []Channel
	Compression        Compression
	DataWindow         Box2i
	DisplayWindow      Box2i
	LineOrder          uint8
	PixelAspectRatio   float32
	ScreenWindowCenter [2]float32
	ScreenWindowWidth  float32
}

// Error is a malformed or unsupported file; Offset is the byte where the
// problem was found.
type Error struct {
	Offset int64
	Err    error
}

func (e *Error) Error() string { return fmt.Sprintf("byte %d: %v", e.Offset, e.Err) }

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

func errAt(off int, format string, args ...any) error {
	return &Error{Offset: int64(off), Err: fmt.Errorf(format, args...)}
}

// ErrNotEXR is the error (wrapped in an *Error) for a file that does not
// start with the OpenEXR magic number.
var ErrNotEXR = errors.New("not an OpenEXR file: the first bytes are not the magic number 76 2f 31 01")

// reader is a bounds-checked little-endian cursor over the file bytes.
type reader struct {
	b   []byte
	off int
}

func (r *reader) need(n int, what string) error {
	if n < 0 || len(r.b)-r.off < n {
		return errAt(r.off, "file ends inside %s (need %d bytes, %d left)", what, n, len(r.b)-r.off)
	}
	return nil
}

func (r *reader) cstring(max int, what string) (string, error) {
	start := r.off
	for i := r.off; i < len(r.b); i++ {
		if r.b[i] == 0 {
			if i-start > max {
				return "", errAt(start, "%s is %d bytes long, longer than the %d allowed", what, i-start, max)
			}
			r.off = i + 1
			return string(r.b[start:i]), nil
		}
		if i-start > max {
			return "", errAt(start, "%s is not terminated within %d bytes", what, max)
		}
	}
	return "", errAt(start, "file ends inside %s (no terminating zero byte)", what)
}

func le32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }

// requiredAttrs are the attributes whose type is checked; the first four
// must be present.
var attrTypes = map[string]string{
	"channels":           "chlist",
	"compression":        "compression",
	"dataWindow":         "box2i",
	"displayWindow":      "box2i",
	"lineOrder":          "lineOrder",
	"pixelAspectRatio":   "float",
	"screenWindowCenter": "v2f",
	"screenWindowWidth":  "float",
	"type":               "string",
}

// parseHeader reads the magic number, version and header of b and returns
// the header and the offset just past its terminating zero byte.
func parseHeader(b []byte) (*Header, int, error) {
	r := &reader{b: b}
	if len(b) < 4 || string(b[:4]) != Magic {
		return nil, 0, &Error{Err: ErrNotEXR}
	}
	r.off = 4
	if err := r.need(4, "the version field"); err != nil {
		return nil, 0, err
	}
	v := le32(b[4:])
	if v&0xff != 2 {
		return nil, 0, errAt(4, "OpenEXR version %d, want 2", v&0xff)
	}
	flags := v &^ 0xff
	switch {
	case flags&flagMultipart != 0:
		return nil, 0, errAt(4, "multi-part OpenEXR files are not supported (only single-part scanline files)")
	case flags&flagDeep != 0:
		return nil, 0, errAt(4, "deep-data OpenEXR files are not supported (only single-part scanline files)")
	case flags&flagTiled != 0:
		return nil, 0, errAt(4, "tiled OpenEXR files are not supported (only scanline files)")
	case flags&^flagLongNames != 0:
		return nil, 0, errAt(4, "unknown version flags %#x", flags&^flagLongNames)
	}
	r.off = 8
	// Names are at most 31 bytes, or 255 with the long-names flag; accept 255
	// either way, as OpenEXR's own reader does.
	const maxName = 255
	h := &Header{PixelAspectRatio: 1, ScreenWindowWidth: 1}
	seen := map[string]bool{}
	for {
		if err := r.need(1, "the header"); err != nil {
			return nil, 0, err
		}
		if b[r.off] == 0 {
			r.off++
			break
		}
		nameOff := r.off
		name, err := r.cstring(maxName, "an attribute name")
		if err != nil {
			return nil, 0, err
		}
		typ, err := r.cstring(maxName, fmt.Sprintf("the type of attribute %q", name))
		if err != nil {
			return nil, 0, err
		}
		if err := r.need(4, fmt.Sprintf("the size of attribute %q", name)); err != nil {
			return nil, 0, err
		}
		size := int32(le32(b[r.off:]))
		r.off += 4
		if size < 0 {
			return nil, 0, errAt(r.off-4, "attribute %q has negative size %d", name, size)
		}
		if err := r.need(int(size), fmt.Sprintf("the value of attribute %q", name)); err != nil {
			return nil, 0, err
		}
		val := b[r.off : r.off+int(size)]
		valOff := r.off
		r.off += int(size)
		if seen[name] {
			return nil, 0, errAt(nameOff, "attribute %q appears twice", name)
		}
		seen[name] = true
		if want, ok := attrTypes[name]; ok && typ != want {
			return nil, 0, errAt(nameOff, "attribute %q has type %q, want %q", name, typ, want)
		}
		if err := h.setAttr(name, val, valOff); err != nil {
			return nil, 0, err
		}
	}
	for _, name := range []string{"channels", "compression", "dataWindow", "displayWindow"} {
		if !seen[name] {
			return nil, 0, errAt(r.off-1, "header lacks the required attribute %q", name)
		}
	}
	if h.DataWindow.Empty() {
		return nil, 0, errAt(r.off-1, "empty dataWindow (%d,%d)-(%d,%d)", h.DataWindow.XMin, h.DataWindow.YMin, h.DataWindow.XMax, h.DataWindow.YMax)
	}
	if h.DisplayWindow.Empty() {
		return nil, 0, errAt(r.off-1, "empty displayWindow (%d,%d)-(%d,%d)", h.DisplayWindow.XMin, h.DisplayWindow.YMin, h.DisplayWindow.XMax, h.DisplayWindow.YMax)
	}
	return h, r.off, nil
}

func (h *Header) setAttr(name string, val []byte, off int) error {
	f32 := func(i int) float32 { return math.Float32frombits(le32(val[4*i:])) }
	wantSize := func(n int) error {
		if len(val) != n {
			return errAt(off, "attribute %q has %d bytes, want %d", name, len(val), n)
		}
		return nil
	}
	switch name {
	case "channels":
		return h.parseChannels(val, off)
	case "compression":
		if err := wantSize(1); err != nil {
			return err
		}
		c := Compression(val[0])
		if !c.Supported() {
			if int(c) < len(compressionNames) {
				return errAt(off, "%v compression is not supported (only NONE, RLE, ZIPS and ZIP)", c)
			}
			return errAt(off, "unknown compression %d (want 0-3: NONE, RLE, ZIPS, ZIP)", val[0])
		}
		h.Compression = c
	case "dataWindow", "displayWindow":
		if err := wantSize(16); err != nil {
			return err
		}
		bx := Box2i{int32(le32(val)), int32(le32(val[4:])), int32(le32(val[8:])), int32(le32(val[12:]))}
		if name == "dataWindow" {
			h.DataWindow = bx
		} else {
			h.DisplayWindow = bx
		}
	case "lineOrder":
		if err := wantSize(1); err != nil {
			return err
		}
		if val[0] > RandomY {
			return errAt(off, "unknown lineOrder %d (want 0, 1 or 2)", val[0])
		}
		h.LineOrder = val[0]
	case "pixelAspectRatio":
		if err := wantSize(4); err != nil {
			return err
		}
		h.PixelAspectRatio = f32(0)
	case "screenWindowCenter":
		if err := wantSize(8); err != nil {
			return err
		}
		h.ScreenWindowCenter = [2]float32{f32(0), f32(1)}
	case "screenWindowWidth":
		if err := wantSize(4); err != nil {
			return err
		}
		h.ScreenWindowWidth = f32(0)
	case "type":
		if s := strings.TrimRight(string(val), "\x00"); s != "scanlineimage" {
			return errAt(off, "part type %q is not supported (only scanlineimage)", s)
		}
	}
	return nil
}

func (h *Header) parseChannels(val []byte, off int) error {
	r := &reader{b: val}
	names := map[string]bool{}
	for {
		if r.off >= len(val) {
			return errAt(off+r.off, "channel list is not terminated by a zero byte")
		}
		if val[r.off] == 0 {
			r.off++
			break
		}
		chOff := off + r.off
		name, err := r.cstring(255, "a channel name")
		if err != nil {
			var e *Error
			if errors.As(err, &e) {
				e.Offset += int64(off)
			}
			return err
		}
		if len(val)-r.off < 16 {
			return errAt(chOff, "channel %q: channel list ends inside its description", name)
		}
		d := val[r.off:]
		c := Channel{
			Name:      name,
			Type:      PixelType(le32(d)),
			PLinear:   d[4] != 0,
			XSampling: int32(le32(d[8:])),
			YSampling: int32(le32(d[12:])),
		}
		r.off += 16
		if c.Type != Uint && c.Type != Half && c.Type != Float {
			return errAt(chOff, "channel %q has unknown pixel type %d (want 0 UINT, 1 HALF or 2 FLOAT)", name, int32(c.Type))
		}
		if c.XSampling < 1 || c.YSampling < 1 {
			return errAt(chOff, "channel %q has sampling %dx%d, want positive", name, c.XSampling, c.YSampling)
		}
		if names[name] {
			return errAt(chOff, "channel %q appears twice", name)
		}
		names[name] = true
		h.Channels = append(h.Channels, c)
	}
	if len(h.Channels) == 0 {
		return errAt(off, "the channel list is empty")
	}
	return nil
}

// appendHeader appends the magic number, version and header attributes in
// alphabetical order, as OpenEXR writes them.
func (h *Header) appendHeader(b []byte) []byte {
	b = append(b, Magic...)
	long := false
	for _, c := range h.Channels {
		if len(c.Name) > 31 {
			long = true
		}
	}
	v := uint32(2)
	if long {
		v |= flagLongNames
	}
	b = binary.LittleEndian.AppendUint32(b, v)
	attr := func(name, typ string, val []byte) {
		b = append(b, name...)
		b = append(b, 0)
		b = append(b, typ...)
		b = append(b, 0)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(val)))
		b = append(b, val...)
	}
	var cl []byte
	for _, c := range h.Channels {
		cl = append(cl, c.Name...)
		cl = append(cl, 0)
		cl = binary.LittleEndian.AppendUint32(cl, uint32(c.Type))
		pl := byte(0)
		if c.PLinear {
			pl = 1
		}
		cl = append(cl, pl, 0, 0, 0)
		cl = binary.LittleEndian.AppendUint32(cl, uint32(c.XSampling))
		cl = binary.LittleEndian.AppendUint32(cl, uint32(c.YSampling))
	}
	cl = append(cl, 0)
	box := func(bx Box2i) []byte {
		var v []byte
		for _, x := range []int32{bx.XMin, bx.YMin, bx.XMax, bx.YMax} {
			v = binary.LittleEndian.AppendUint32(v, uint32(x))
		}
		return v
	}
	f32 := func(fs ...float32) []byte {
		var v []byte
		for _, f := range fs {
			v = binary.LittleEndian.AppendUint32(v, math.Float32bits(f))
		}
		return v
	}
	attr("channels", "chlist", cl)
	attr("compression", "compression", []byte{byte(h.Compression)})
	attr("dataWindow", "box2i", box(h.DataWindow))
	attr("displayWindow", "box2i", box(h.DisplayWindow))
	attr("lineOrder", "lineOrder", []byte{h.LineOrder})
	attr("pixelAspectRatio", "float", f32(h.PixelAspectRatio))
	attr("screenWindowCenter", "v2f", f32(h.ScreenWindowCenter[0], h.ScreenWindowCenter[1]))
	attr("screenWindowWidth", "float", f32(h.ScreenWindowWidth))
	return append(b, 0)
}

// sortChannels sorts the channel list by name (byte order, as OpenEXR's
// std::map of names does).
func (h *Header) sortChannels() {
	sort.SliceStable(h.Channels, func(i, j int) bool { return h.Channels[i].Name < h.Channels[j].Name })
}
