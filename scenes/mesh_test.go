package scenes

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/render"
)

// meshInvariants returns what is wrong with a shape a loader returned: the
// guarantees validateMesh documents.
func meshInvariants(s *render.Shape) string {
	nv := len(s.Positions)
	switch {
	case len(s.Indices) == 0 || len(s.Indices)%3 != 0:
		return "index count not a positive multiple of 3"
	case s.Normals != nil && len(s.Normals) != nv:
		return "normal count differs from vertex count"
	case s.UVs != nil && len(s.UVs) != nv:
		return "uv count differs from vertex count"
	case len(s.Degenerate) != len(s.Indices)/3:
		return "Degenerate has the wrong length"
	}
	for _, i := range s.Indices {
		if i < 0 || int(i) >= nv {
			return "index out of range"
		}
	}
	for _, p := range s.Positions {
		if !meshFinite3(p) {
			return "non-finite position"
		}
	}
	for _, n := range s.Normals {
		if !meshFinite3(n) || math.Abs(n.Len()-1) > 1e-12 {
			return "normal not finite and unit"
		}
	}
	for _, uv := range s.UVs {
		if !meshFinite(uv[0]) || !meshFinite(uv[1]) {
			return "non-finite uv"
		}
	}
	for t := range s.Degenerate {
		a, b, c := s.Indices[3*t], s.Indices[3*t+1], s.Indices[3*t+2]
		zero := a == b || b == c || a == c ||
			meshCross(s.Positions[a], s.Positions[b], s.Positions[c]) == mgl64.Vec3{}
		if zero && !s.Degenerate[t] {
			return "zero-area triangle not flagged"
		}
	}
	return ""
}

func TestValidateMeshRepairsNormalsAndFlagsDegenerate(t *testing.T) {
	s := &render.Shape{
		Positions: []mgl64.Vec3{{0, 0, 0}, {1, 0, 0}, {0, 1, 0}, {1, 1, 0}, {2, 2, 0}, {5, 5, 5}},
		Normals:   []mgl64.Vec3{{0, 0, 3}, {0, 0, 0}, {1e-310, 0, 0}, {0, 0, 0}, {0, 2, 0}, {0, 0, 0}},
		// Triangle 1 is collinear, triangle 2 repeats an index.
		Indices: []int32{0, 1, 2, 0, 3, 4, 5, 5, 1},
	}
	n, err := validateMesh("m", s)
	if err != nil {
		t.Fatal(err)
	}
	// Vertex 1 is used by triangle 0 (normal +z) and by the degenerate
	// triangle 2; vertex 3 only by the collinear triangle 1, so it falls
	// back to +z; vertex 5 only by the degenerate triangle 2.
	if n != 3 {
		t.Errorf("repaired %d normals, want 3", n)
	}
	want := []mgl64.Vec3{{0, 0, 1}, {0, 0, 1}, {1, 0, 0}, {0, 0, 1}, {0, 1, 0}, {0, 0, 1}}
	for i, w := range want {
		if s.Normals[i] != w {
			t.Errorf("normal %d = %v, want %v", i, s.Normals[i], w)
		}
	}
	if got := s.Degenerate; len(got) != 3 || got[0] || !got[1] || !got[2] {
		t.Errorf("Degenerate = %v, want [false true true]", got)
	}
	if msg := meshInvariants(s); msg != "" {
		t.Error(msg)
	}
}

func TestValidateMeshAreaWeightedRepair(t *testing.T) {
	// Vertex 0 is shared by a big triangle facing +z and a small one facing
	// +x: the repaired normal leans towards +z in proportion to the areas.
	s := &render.Shape{
		Positions: []mgl64.Vec3{{0, 0, 0}, {2, 0, 0}, {0, 2, 0}, {0, 1, 0}, {0, 0, 1}},
		Normals:   make([]mgl64.Vec3, 5),
		Indices:   []int32{0, 1, 2, 0, 3, 4},
	}
	if _, err := validateMesh("m", s); err != nil {
		t.Fatal(err)
	}
	want := mgl64.Vec3{1, 0, 4}.Normalize() // cross products (0,0,4) and (1,0,0)
	if !s.Normals[0].ApproxEqualThreshold(want, 1e-15) {
		t.Errorf("normal = %v, want %v", s.Normals[0], want)
	}
}

func TestValidateMeshErrors(t *testing.T) {
	nan := math.NaN()
	base := func() *render.Shape {
		return &render.Shape{
			Positions: []mgl64.Vec3{{0, 0, 0}, {1, 0, 0}, {0, 1, 0}},
			Indices:   []int32{0, 1, 2},
		}
	}
	cases := []struct {
		name   string
		modify func(s *render.Shape)
		want   string
	}{
		{"index", func(s *render.Shape) { s.Indices[2] = 3 }, "triangle 0: vertex index 3 out of range [0, 3)"},
		{"negative index", func(s *render.Shape) { s.Indices[1] = -1 }, "vertex index -1 out of range"},
		{"count", func(s *render.Shape) { s.Indices = s.Indices[:2] }, "not a multiple of 3"},
		{"empty", func(s *render.Shape) { s.Indices = nil }, "no triangles"},
		{"nan position", func(s *render.Shape) { s.Positions[1][2] = nan }, "vertex 1 has a non-finite position"},
		{"inf position", func(s *render.Shape) { s.Positions[2][0] = math.Inf(-1) }, "vertex 2 has a non-finite position"},
		{"nan normal", func(s *render.Shape) {
			s.Normals = []mgl64.Vec3{{0, 0, 1}, {0, nan, 1}, {0, 0, 1}}
		}, "vertex 1 has a non-finite normal"},
		{"inf uv", func(s *render.Shape) {
			s.UVs = []mgl64.Vec2{{0, 0}, {0, 0}, {math.Inf(1), 0}}
		}, "vertex 2 has non-finite texture coordinates"},
		{"normal count", func(s *render.Shape) { s.Normals = []mgl64.Vec3{{0, 0, 1}} }, "1 normals for 3 vertices"},
		{"uv count", func(s *render.Shape) { s.UVs = []mgl64.Vec2{{0, 0}} }, "1 texture coordinates for 3 vertices"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := base()
			c.modify(s)
			_, err := validateMesh("mesh.obj", s)
			if err == nil {
				t.Fatalf("no error, want %q", c.want)
			}
			var pe *ParseError
			if !errors.As(err, &pe) || pe.File != "mesh.obj" {
				t.Errorf("error %v is not a *ParseError naming mesh.obj", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not contain %q", err, c.want)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	cases := []struct {
		in   mgl64.Vec3
		want mgl64.Vec3
		ok   bool
	}{
		{mgl64.Vec3{3, 0, 4}, mgl64.Vec3{0.6, 0, 0.8}, true},
		{mgl64.Vec3{1e-320, 0, 0}, mgl64.Vec3{1, 0, 0}, true},
		{mgl64.Vec3{1e300, 1e300, 0}, mgl64.Vec3{1 / math.Sqrt2, 1 / math.Sqrt2, 0}, true},
		{mgl64.Vec3{}, mgl64.Vec3{}, false},
		{mgl64.Vec3{math.Inf(1), 0, 0}, mgl64.Vec3{}, false},
		{mgl64.Vec3{math.NaN(), 0, 0}, mgl64.Vec3{}, false},
	}
	for _, c := range cases {
		got, ok := meshNormalize(c.in)
		if ok != c.ok || !got.ApproxEqualThreshold(c.want, 1e-15) {
			t.Errorf("meshNormalize(%v) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}
