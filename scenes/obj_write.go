package scenes

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/invrender/invrender/render"
)

// WriteOBJ writes s as a Wavefront OBJ mesh: one v line per vertex, vt and
// vn lines when the shape has UVs and normals, and one triangle per f line
// with the same index for v, vt and vn. Numbers are written in the shortest
// form that parses back to the same float64, so ReadOBJ returns the same
// positions, normals and indices (for a mesh whose vertices are all used).
// UVs are written as (u, 1 - v), undoing ReadOBJ's flip; the round trip
// 1 - (1 - v) may differ from v in the last bits.
func WriteOBJ(w io.Writer, s *render.Shape) error {
	if err := meshCheckArrays(s); err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	buf := make([]byte, 0, 128)
	num := func(prefix string, xs ...float64) {
		buf = append(buf[:0], prefix...)
		for _, x := range xs {
			buf = append(buf, ' ')
			buf = strconv.AppendFloat(buf, x, 'g', -1, 64)
		}
		buf = append(buf, '\n')
		bw.Write(buf)
	}
	if s.Name != "" && !strings.ContainsAny(s.Name, "\r\n") {
		fmt.Fprintf(bw, "o %s\n", s.Name)
	}
	for _, p := range s.Positions {
		num("v", p[0], p[1], p[2])
	}
	for _, t := range s.UVs {
		num("vt", t[0], 1-t[1])
	}
	for _, n := range s.Normals {
		num("vn", n[0], n[1], n[2])
	}
	for t := 0; t+2 < len(s.Indices); t += 3 {
		buf = append(buf[:0], 'f')
		for _, i := range s.Indices[t : t+3] {
			buf = append(buf, ' ')
			buf = strconv.AppendInt(buf, int64(i)+1, 10)
			switch {
			case s.UVs != nil && s.Normals != nil:
				buf = append(buf, '/')
				buf = strconv.AppendInt(buf, int64(i)+1, 10)
				buf = append(buf, '/')
				buf = strconv.AppendInt(buf, int64(i)+1, 10)
			case s.UVs != nil:
				buf = append(buf, '/')
				buf = strconv.AppendInt(buf, int64(i)+1, 10)
			case s.Normals != nil:
				buf = append(buf, '/', '/')
				buf = strconv.AppendInt(buf, int64(i)+1, 10)
			}
		}
		buf = append(buf, '\n')
		bw.Write(buf)
	}
	return bw.Flush()
}

// meshCheckArrays checks what a writer relies on: whole triangles, indices
// in range and attribute arrays matching the positions.
func meshCheckArrays(s *render.Shape) error {
	nv := len(s.Positions)
	switch {
	case len(s.Indices)%3 != 0:
		return fmt.Errorf("scenes: shape %q has %d indices, not a multiple of 3", s.Name, len(s.Indices))
	case s.Normals != nil && len(s.Normals) != nv:
		return fmt.Errorf("scenes: shape %q has %d normals for %d vertices", s.Name, len(s.Normals), nv)
	case s.UVs != nil && len(s.UVs) != nv:
		return fmt.Errorf("scenes: shape %q has %d texture coordinates for %d vertices", s.Name, len(s.UVs), nv)
	}
	for k, i := range s.Indices {
		if i < 0 || int(i) >= nv {
			return fmt.Errorf("scenes: shape %q: triangle %d: vertex index %d out of range [0, %d)", s.Name, k/3, i, nv)
		}
	}
	return nil
}
