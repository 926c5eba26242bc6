package scenes

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/invrender/invrender/render"
)

// WritePLY writes s as a binary little-endian PLY mesh: an element vertex
// with double properties x y z, nx ny nz (when the shape has normals) and
// u v (when it has UVs), and an element face with a list uchar int
// vertex_indices per triangle. Values are stored exactly, so ReadPLY
// returns the same arrays (UVs included: PLY texture coordinates are not
// flipped).
func WritePLY(w io.Writer, s *render.Shape) error {
	if err := meshCheckArrays(s); err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	fmt.Fprintf(bw, "ply\nformat binary_little_endian 1.0\n")
	if s.Name != "" && !strings.ContainsAny(s.Name, "\r\n") {
		fmt.Fprintf(bw, "comment %s\n", s.Name)
	}
	fmt.Fprintf(bw, "element vertex %d\nproperty double x\nproperty double y\nproperty double z\n", len(s.Positions))
	if s.Normals != nil {
		fmt.Fprintf(bw, "property double nx\nproperty double ny\nproperty double nz\n")
	}
	if s.UVs != nil {
		fmt.Fprintf(bw, "property double u\nproperty double v\n")
	}
	fmt.Fprintf(bw, "element face %d\nproperty list uchar int vertex_indices\nend_header\n", len(s.Indices)/3)
	var b [8 * 8]byte
	for i, p := range s.Positions {
		n := 0
		put := func(x float64) {
			binary.LittleEndian.PutUint64(b[n:], math.Float64bits(x))
			n += 8
		}
		put(p[0])
		put(p[1])
		put(p[2])
		if s.Normals != nil {
			put(s.Normals[i][0])
			put(s.Normals[i][1])
			put(s.Normals[i][2])
		}
		if s.UVs != nil {
			put(s.UVs[i][0])
			put(s.UVs[i][1])
		}
		bw.Write(b[:n])
	}
	for t := 0; t+2 < len(s.Indices); t += 3 {
		b[0] = 3
		binary.LittleEndian.PutUint32(b[1:], uint32(s.Indices[t]))
		binary.LittleEndian.PutUint32(b[5:], uint32(s.Indices[t+1]))
		binary.LittleEndian.PutUint32(b[9:], uint32(s.Indices[t+2]))
		bw.Write(b[:13])
	}
	return bw.Flush()
}
