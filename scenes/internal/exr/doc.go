// Package exr reads and writes the OpenEXR subset that renderers exchange:
// single-part scanline files with UINT, HALF and FLOAT channels, compressed
// with NONE, RLE, ZIPS or ZIP. Tiled, deep and multi-part files and the
// lossy or wavelet compressions (PIZ, PXR24, B44, B44A, DWAA, DWAB) are
// rejected with an error that says so.
//
// The implementation follows the OpenEXR file layout document ("OpenEXR File
// Layout", openexr.com, and "Technical Introduction to OpenEXR"):
//
//	magic 76 2f 31 01 | version 2 + flags (4 bytes)
//	header: attributes (name\0 type\0 int32 size, value), then \0
//	offset table: one uint64 file offset per chunk, chunks in increasing y
//	chunks: int32 y, int32 size, size bytes of (compressed) pixel data
//
// All numbers are little-endian. Inside a chunk, pixels are stored line by
// line, and within a line channel by channel in the header's (alphabetical)
// channel order. RLE and ZIP compression first split the bytes into two
// halves (even and odd positions) and replace each byte by its difference
// to the previous one plus 128; RLE then encodes runs (a count byte c >= 0
// repeats the next byte c+1 times, c < 0 copies -c literal bytes) and ZIP
// deflates with a zlib wrapper. ZIPS holds one scanline per chunk, ZIP
// sixteen. A chunk whose compressed size would not be smaller than its raw
// size is stored raw, which readers recognise by the size.
//
// Pixel values move through a FrameBuffer of Slices, OpenEXR's own
// abstraction: each slice names a channel and says where in a []float64 the
// value of pixel (x, y) lives, so decoding writes straight into an
// interleaved image without intermediate planes.
package exr
