package scenes

import (
	"path/filepath"
	"testing"

	"github.com/go-gl/mathgl/mgl64"
)

// Meshes in testdata/meshes are written as common tools write them: the
// default cube exported by Blender, a quad saved by MeshLab (binary, with
// colours), and an ascii file in the style of the Stanford scans.

func TestLoadBlenderCube(t *testing.T) {
	s, err := LoadOBJ(filepath.Join("testdata", "meshes", "cube_blender.obj"))
	if err != nil {
		t.Fatal(err)
	}
	if msg := meshInvariants(s); msg != "" {
		t.Fatal(msg)
	}
	// Six quads with one normal each: 24 distinct (v, vt, vn) corners.
	if s.Name != "cube_blender" || len(s.Positions) != 24 || s.NumTriangles() != 12 {
		t.Fatalf("name %q, %d vertices, %d triangles", s.Name, len(s.Positions), s.NumTriangles())
	}
	for tri := 0; tri < s.NumTriangles(); tri++ {
		a, b, c := s.Indices[3*tri], s.Indices[3*tri+1], s.Indices[3*tri+2]
		g := meshCross(s.Positions[a], s.Positions[b], s.Positions[c])
		// Blender winds faces counter-clockwise around their normals.
		for _, v := range []int32{a, b, c} {
			if g.Dot(s.Normals[v]) <= 0 {
				t.Errorf("triangle %d: winding disagrees with normal %v", tri, s.Normals[v])
			}
		}
		// An axis-aligned unit cube face: the normal is the face's axis.
		if n := g.Normalize(); !n.ApproxEqualThreshold(s.Normals[a], 1e-12) {
			t.Errorf("triangle %d: geometric normal %v, shading normal %v", tri, n, s.Normals[a])
		}
	}
	// Vertex 0 is "1/1/1": position (1, 1, -1), vt (0.625, 0.5) read as
	// (0.625, 1 - 0.5).
	if s.Positions[0] != (mgl64.Vec3{1, 1, -1}) || s.UVs[0] != (mgl64.Vec2{0.625, 0.5}) {
		t.Errorf("vertex 0: %v %v", s.Positions[0], s.UVs[0])
	}
	// "7/6/2": vt (0.625, 1) becomes (0.625, 0).
	found := false
	for i, p := range s.Positions {
		if p == (mgl64.Vec3{-1, 1, 1}) && s.Normals[i] == (mgl64.Vec3{0, 0, 1}) {
			found = s.UVs[i] == mgl64.Vec2{0.625, 0}
		}
	}
	if !found {
		t.Error("corner 7/6/2 not found with UV (0.625, 0)")
	}
}

func TestLoadMeshLabQuad(t *testing.T) {
	s, err := LoadPLY(filepath.Join("testdata", "meshes", "quad_meshlab.ply"))
	if err != nil {
		t.Fatal(err)
	}
	if msg := meshInvariants(s); msg != "" {
		t.Fatal(msg)
	}
	wantPos := []mgl64.Vec3{{-1, -1, 0}, {1, -1, 0}, {1, 1, 0}, {-1, 1, 0}}
	wantUV := []mgl64.Vec2{{0, 1}, {1, 1}, {1, 0}, {0, 0}} // texture_u, texture_v as stored
	for i := range wantPos {
		if s.Positions[i] != wantPos[i] || s.UVs[i] != wantUV[i] || s.Normals[i] != (mgl64.Vec3{0, 0, 1}) {
			t.Errorf("vertex %d: %v %v %v", i, s.Positions[i], s.UVs[i], s.Normals[i])
		}
	}
	if !meshEqualIndices(s.Indices, []int32{0, 1, 2, 0, 2, 3}) {
		t.Errorf("Indices = %v", s.Indices)
	}
}

func TestLoadStanfordStylePLY(t *testing.T) {
	s, err := LoadPLY(filepath.Join("testdata", "meshes", "stanford_style.ply"))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Positions) != 5 || s.Normals != nil || s.UVs != nil {
		t.Fatalf("%d vertices, normals %v, uvs %v", len(s.Positions), s.Normals != nil, s.UVs != nil)
	}
	if !meshEqualIndices(s.Indices, []int32{0, 1, 4, 4, 1, 3, 0, 2, 3, 0, 3, 1}) {
		t.Errorf("Indices = %v", s.Indices)
	}
	// float properties hold float32 values, in ascii as in binary files.
	if s.Positions[2] != (mgl64.Vec3{float64(float32(-0.0680095)), float64(float32(0.151244)), float64(float32(0.0371953))}) {
		t.Errorf("vertex 2 = %v", s.Positions[2])
	}
}
