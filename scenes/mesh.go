package scenes

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/render"
)

// maxMeshVertices bounds the vertex count of one mesh: indices are int32.
const maxMeshVertices = math.MaxInt32

// validateMesh checks a triangle mesh and repairs what can be repaired
// without guessing, so that the renderer's kernels can trust the data:
//
//   - len(Indices) is a multiple of 3 and every index lies in
//     [0, len(Positions));
//   - Normals and UVs are either absent or hold one entry per position;
//   - positions, normals and UVs are finite (no NaN, no Inf): an error names
//     the first offending vertex;
//   - normals are normalised to unit length. A normal of zero length (or one
//     too small to normalise) is repaired, not rejected: it is replaced by the
//     area-weighted mean of the geometric normals of the triangles that use
//     the vertex (the usual smooth vertex normal), or by (0, 0, 1) when all of
//     them are degenerate. It returns how many normals it repaired;
//   - triangles of zero area (including those with a repeated index, and
//     those whose area overflows float64) are kept but flagged in
//     s.Degenerate, which always gets one entry per triangle.
//
// file names the source in errors (a *ParseError without a line). The OBJ
// and PLY loaders report the line or byte of bad data themselves before
// calling it; it also serves meshes built by the XML loader or by hand.
func validateMesh(file string, s *render.Shape) (repaired int, err error) {
	fail := func(format string, args ...any) (int, error) {
		return 0, &ParseError{File: file, Err: fmt.Errorf(format, args...)}
	}
	nv := len(s.Positions)
	if nv > maxMeshVertices {
		return fail("mesh has %d vertices, more than the %d supported", nv, maxMeshVertices)
	}
	if len(s.Indices)%3 != 0 {
		return fail("mesh has %d indices, not a multiple of 3", len(s.Indices))
	}
	if len(s.Indices) == 0 {
		return fail("mesh has no triangles")
	}
	if s.Normals != nil && len(s.Normals) != nv {
		return fail("mesh has %d normals for %d vertices", len(s.Normals), nv)
	}
	if s.UVs != nil && len(s.UVs) != nv {
		return fail("mesh has %d texture coordinates for %d vertices", len(s.UVs), nv)
	}
	for i, p := range s.Positions {
		if !meshFinite3(p) {
			return fail("vertex %d has a non-finite position (%g, %g, %g)", i, p[0], p[1], p[2])
		}
	}
	for i, n := range s.Normals {
		if !meshFinite3(n) {
			return fail("vertex %d has a non-finite normal (%g, %g, %g)", i, n[0], n[1], n[2])
		}
	}
	for i, uv := range s.UVs {
		if !meshFinite(uv[0]) || !meshFinite(uv[1]) {
			return fail("vertex %d has non-finite texture coordinates (%g, %g)", i, uv[0], uv[1])
		}
	}
	nt := len(s.Indices) / 3
	for t := 0; t < nt; t++ {
		for k := 0; k < 3; k++ {
			if i := s.Indices[3*t+k]; i < 0 || int(i) >= nv {
				return fail("triangle %d: vertex index %d out of range [0, %d)", t, i, nv)
			}
		}
	}

	if len(s.Degenerate) != nt {
		s.Degenerate = make([]bool, nt)
	}
	for t := 0; t < nt; t++ {
		a, b, c := s.Indices[3*t], s.Indices[3*t+1], s.Indices[3*t+2]
		deg := a == b || b == c || a == c
		if !deg {
			n := meshCross(s.Positions[a], s.Positions[b], s.Positions[c])
			deg = n == (mgl64.Vec3{}) || !meshFinite3(n)
		}
		s.Degenerate[t] = deg
	}

	var bad []int32 // vertices whose normal needs repair
	for i, n := range s.Normals {
		u, ok := meshNormalize(n)
		if !ok {
			bad = append(bad, int32(i))
			continue
		}
		s.Normals[i] = u
	}
	if len(bad) > 0 {
		repairNormals(s, bad)
	}
	return len(bad), nil
}

// repairNormals replaces the normals of the vertices in bad with the
// area-weighted mean of the geometric normals of their non-degenerate
// triangles, or (0, 0, 1) when there is none.
func repairNormals(s *render.Shape, bad []int32) {
	sum := make(map[int32]mgl64.Vec3, len(bad))
	for _, v := range bad {
		sum[v] = mgl64.Vec3{}
	}
	for t := 0; t < len(s.Indices)/3; t++ {
		if s.Degenerate[t] {
			continue
		}
		tri := s.Indices[3*t : 3*t+3]
		var n mgl64.Vec3
		have := false
		for _, v := range tri {
			acc, ok := sum[v]
			if !ok {
				continue
			}
			if !have {
				// |cross| is twice the area: the sum is area-weighted.
				n = meshCross(s.Positions[tri[0]], s.Positions[tri[1]], s.Positions[tri[2]])
				have = true
			}
			sum[v] = acc.Add(n)
		}
	}
	for _, v := range bad {
		u, ok := meshNormalize(sum[v])
		if !ok {
			u = mgl64.Vec3{0, 0, 1}
		}
		s.Normals[v] = u
	}
}

// meshCross returns (b-a) x (c-a): the geometric normal of the
// counter-clockwise triangle, twice its area long.
func meshCross(a, b, c mgl64.Vec3) mgl64.Vec3 {
	return b.Sub(a).Cross(c.Sub(a))
}

// normalize returns v scaled to unit length. It rescales by the largest
// component first, so tiny and huge finite vectors normalise correctly; it
// reports false for the zero vector and for non-finite input.
func meshNormalize(v mgl64.Vec3) (mgl64.Vec3, bool) {
	m := math.Max(math.Abs(v[0]), math.Max(math.Abs(v[1]), math.Abs(v[2])))
	if m == 0 || !meshFinite(m) {
		return mgl64.Vec3{}, false
	}
	w := mgl64.Vec3{v[0] / m, v[1] / m, v[2] / m}
	l := w.Len()
	return mgl64.Vec3{w[0] / l, w[1] / l, w[2] / l}, true
}

// meshFinite reports whether x is neither NaN nor infinite: x - x is 0 for
// finite x and NaN otherwise.
func meshFinite(x float64) bool { return x-x == 0 }

func meshFinite3(v mgl64.Vec3) bool { return meshFinite(v[0]) && meshFinite(v[1]) && meshFinite(v[2]) }

// meshName returns the default name of a shape loaded from path: the file's
// base name without its extension ("bunny" for "models/bunny.ply").
func meshName(path string) string {
	base := filepath.Base(path)
	return strings.TrimSuffix(base, filepath.Ext(base))
}

// meshReadFileError turns a failure to read path into a *ParseError naming it;
// errors.Is(err, fs.ErrNotExist) still holds for a missing file.
func meshReadFileError(path string, err error) error {
	if pe, ok := err.(*os.PathError); ok {
		err = fmt.Errorf("cannot %s mesh file: %w", pe.Op, pe.Err)
	}
	return &ParseError{File: path, Err: err}
}
