package render_test

import (
	"math"
	"strings"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/geom"
	"github.com/invrender/invrender/render"
	"github.com/invrender/invrender/scenes"
)

// moveScene moves the occluder and the light of scenes.OccluderScene in
// place: the occluder slides and tilts, the light shifts and grows (so the
// light tables must change too).
func moveScene(s *render.Scene) {
	for i, p := range s.Shapes[1].Positions {
		s.Shapes[1].Positions[i] = mgl64.Vec3{p[0] + 0.25, p[1] + 0.1*p[0], p[2] - 0.1}
	}
	for i, p := range s.Shapes[2].Positions {
		s.Shapes[2].Positions[i] = mgl64.Vec3{1.5*p[0] - 0.2, p[1], 1.5 * p[2]}
	}
}

// TestUpdateGeometry: after the vertices move, UpdateGeometry (a BVH refit
// and new light tables) renders the same image, bit for bit, as a fresh
// Build of the moved scene: both trace the same rays against the same
// triangles and find the same closest hits.
func TestUpdateGeometry(t *testing.T) {
	s := scenes.OccluderScene()
	setFilm(s, 32, 32, 8)
	mustBuild(t, s)
	before := renderOnce(t, s, render.Options{})
	moveScene(s)
	if err := s.UpdateGeometry(); err != nil {
		t.Fatal(err)
	}
	updated := renderOnce(t, s, render.Options{})

	fresh := scenes.OccluderScene()
	setFilm(fresh, 32, 32, 8)
	moveScene(fresh)
	mustBuild(t, fresh)
	want := renderOnce(t, fresh, render.Options{})
	if i := sameBits(updated.Image, want.Image); i >= 0 {
		t.Errorf("value %d: %v after UpdateGeometry, %v after a fresh Build", i, updated.Image.Pix[i], want.Image.Pix[i])
	}
	if sameBits(before.Image, want.Image) < 0 {
		t.Errorf("moving the occluder and the light changed nothing")
	}
}

// TestUpdateGeometryScrambled moves every vertex of a mesh far from where
// it was (a random permutation of the sphere's positions), which makes the
// refit tree useless; the result must still match a fresh Build.
func TestUpdateGeometryScrambled(t *testing.T) {
	s := scenes.SphereOnPlane()
	setFilm(s, 24, 24, 2)
	mustBuild(t, s)
	scramble := func(s *render.Scene) {
		pos := s.Shapes[0].Positions
		rng := geom.NewRNG(1, 2, 3, 4)
		for i := len(pos) - 1; i > 0; i-- {
			j := rng.Intn(i + 1)
			pos[i], pos[j] = pos[j], pos[i]
		}
	}
	scramble(s)
	if err := s.UpdateGeometry(); err != nil {
		t.Fatal(err)
	}
	got := renderOnce(t, s, render.Options{})
	fresh := scenes.SphereOnPlane()
	setFilm(fresh, 24, 24, 2)
	scramble(fresh)
	mustBuild(t, fresh)
	if i := sameBits(got.Image, renderOnce(t, fresh, render.Options{}).Image); i >= 0 {
		t.Errorf("value %d differs from a fresh Build", i)
	}
}

// TestUpdateGeometryChangedScene: when shapes were added or removed, or a
// shape's vertex count or triangles changed, since Build, UpdateGeometry
// cannot refit and must build afresh, with the same result as Build.
func TestUpdateGeometryChangedScene(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(s *render.Scene)
	}{
		{"shape added", func(s *render.Scene) {
			p, idx := quadXZ(-0.3, 0.3, -0.3, 0.3, 0.5, true)
			s.Shapes = append(s.Shapes, &render.Shape{Name: "extra", Positions: p, Indices: idx, Material: 1})
		}},
		{"shape removed", func(s *render.Scene) { s.Shapes = s.Shapes[:2] }},
		{"last shape grew", func(s *render.Scene) {
			l := s.Shapes[2]
			l.Positions = append(l.Positions, mgl64.Vec3{0.5, 2, 0.5}, mgl64.Vec3{0.8, 2, 0.5}, mgl64.Vec3{0.5, 2, 0.8})
			l.Indices = append(l.Indices, 4, 5, 6)
		}},
		{"last shape shrank", func(s *render.Scene) {
			l := s.Shapes[2]
			l.Positions = l.Positions[:3]
			l.Indices = l.Indices[:3]
		}},
		{"winding flipped", func(s *render.Scene) {
			idx := s.Shapes[2].Indices // the light now faces up, away from the plane
			for t := 0; t < len(idx); t += 3 {
				idx[t+1], idx[t+2] = idx[t+2], idx[t+1]
			}
		}},
		{"triangles added", func(s *render.Scene) {
			o := s.Shapes[1]
			o.Indices = append(o.Indices, 0, 3, 1)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := scenes.OccluderScene()
			setFilm(s, 16, 16, 4)
			mustBuild(t, s)
			tc.edit(s)
			if err := s.UpdateGeometry(); err != nil {
				t.Fatal(err)
			}
			got := renderOnce(t, s, render.Options{})
			fresh := scenes.OccluderScene()
			setFilm(fresh, 16, 16, 4)
			tc.edit(fresh)
			mustBuild(t, fresh)
			if i := sameBits(got.Image, renderOnce(t, fresh, render.Options{}).Image); i >= 0 {
				t.Errorf("value %d differs from a fresh Build", i)
			}
		})
	}
}

// TestUpdateGeometryErrors: a non-finite vertex is rejected, naming the
// shape, and a triangle collapsed to zero area is flagged degenerate.
func TestUpdateGeometryErrors(t *testing.T) {
	s := scenes.OccluderScene()
	mustBuild(t, s)
	s.Shapes[1].Positions[2][0] = math.NaN()
	err := s.UpdateGeometry()
	if err == nil || !strings.Contains(err.Error(), `"occluder"`) {
		t.Errorf("UpdateGeometry with a NaN vertex: %v", err)
	}
	s = scenes.OccluderScene()
	mustBuild(t, s)
	o := s.Shapes[1]
	o.Positions[o.Indices[0]] = o.Positions[o.Indices[1]]
	if err := s.UpdateGeometry(); err != nil {
		t.Fatal(err)
	}
	if !o.Degenerate[0] || o.Degenerate[1] {
		t.Errorf("Degenerate = %v after collapsing triangle 0", o.Degenerate)
	}
}
