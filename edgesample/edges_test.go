package edgesample

import (
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/internal/meshgen"
	"github.com/invrender/invrender/render"
)

// checkTopology verifies what every extracted edge promises: V0 -> V1 is a
// side of F0 in its winding, Opp0 is F0's third vertex, F1 (when present)
// has vertices at the positions of V0 and V1 and Opp1 is its third.
func checkTopology(t *testing.T, s *render.Scene, e *Edges) {
	t.Helper()
	for i, ed := range e.List {
		sh := s.Shapes[ed.Shape]
		f := sh.Indices[3*ed.F0 : 3*ed.F0+3]
		found := false
		for k := 0; k < 3; k++ {
			if f[k] == ed.V0 && f[(k+1)%3] == ed.V1 && f[(k+2)%3] == ed.Opp0 {
				found = true
			}
		}
		if !found {
			t.Fatalf("edge %d %+v: (V0, V1, Opp0) is not a side of F0 %v in its winding", i, ed, f)
		}
		if ed.F1 < 0 {
			if ed.Opp1 != -1 || ed.NonManifold {
				t.Fatalf("edge %d %+v: boundary edge with Opp1 or NonManifold", i, ed)
			}
			continue
		}
		if ed.F1 == ed.F0 {
			t.Fatalf("edge %d: F0 == F1", i)
		}
		g := sh.Indices[3*ed.F1 : 3*ed.F1+3]
		p0, p1 := sh.Positions[ed.V0], sh.Positions[ed.V1]
		n0, n1, no := 0, 0, 0
		for _, v := range g {
			switch sh.Positions[v] {
			case p0:
				n0++
			case p1:
				n1++
			default:
				no++
				if v != ed.Opp1 {
					t.Fatalf("edge %d: Opp1 %d is not F1's third vertex %v", i, ed.Opp1, g)
				}
			}
		}
		if n0 != 1 || n1 != 1 || no != 1 {
			t.Fatalf("edge %d: F1 %v does not hold the edge", i, g)
		}
	}
}

func TestExtractIcosphere(t *testing.T) {
	for _, sub := range []int{0, 1, 3} {
		pos, idx := meshgen.Icosphere(sub, 1, mgl64.Vec3{}, 0)
		s := newScene(mesh(pos, idx))
		e := Extract(s)
		F := len(idx) / 3
		if e.Len() != 3*F/2 {
			t.Fatalf("subdiv %d: %d edges, want 3F/2 = %d", sub, e.Len(), 3*F/2)
		}
		for i, ed := range e.List {
			if ed.F1 < 0 || ed.NonManifold || e.flags[i]&edgeFlip != 0 {
				t.Fatalf("subdiv %d: edge %d %+v is not a consistent interior edge", sub, i, ed)
			}
		}
		checkTopology(t, s, e)
	}
}

func TestExtractWeldsSeams(t *testing.T) {
	pos, idx := meshgen.Icosphere(2, 1, mgl64.Vec3{}, 0)
	up, ui := unweld(pos, idx)
	// Per-face (hard) normals, as an OBJ file of a faceted object has them.
	hard := make([]mgl64.Vec3, len(up))
	for f := 0; f < len(ui)/3; f++ {
		a, b, c := up[3*f], up[3*f+1], up[3*f+2]
		n := b.Sub(a).Cross(c.Sub(a)).Normalize()
		hard[3*f], hard[3*f+1], hard[3*f+2] = n, n, n
	}
	soft := smoothNormals(up, mgl64.Vec3{})
	s := newScene(mesh(up, ui),
		testShape{pos: up, idx: ui, normals: hard},
		testShape{pos: up, idx: ui, normals: soft})
	e := Extract(s)
	F := len(idx) / 3
	if e.Len() != 3*(3*F/2) {
		t.Fatalf("%d edges, want %d per shape", e.Len(), 3*F/2)
	}
	checkTopology(t, s, e)
	for i, ed := range e.List {
		if ed.F1 < 0 {
			t.Fatalf("edge %d %+v: a seam edge became a boundary", i, ed)
		}
		// Gradient attribution: the end points are F0's own vertices.
		if ed.V0/3 != ed.F0 || ed.V1/3 != ed.F0 || ed.Opp0/3 != ed.F0 || ed.Opp1/3 != ed.F1 {
			t.Fatalf("edge %d %+v: indices are not the faces' own vertices", i, ed)
		}
		sharp := e.Sharp(s, i)
		switch ed.Shape {
		case 0, 1: // flat shading, or hard normals: every edge is sharp
			if !sharp {
				t.Fatalf("shape %d edge %d: not Sharp", ed.Shape, i)
			}
		case 2: // the same smooth normal on both sides of every seam
			if sharp {
				t.Fatalf("shape 2 edge %d: Sharp across a smooth seam", i)
			}
		}
	}
}

func TestExtractQuad(t *testing.T) {
	pos, idx := meshgen.Quad(mgl64.Vec3{0, 0, 0}, mgl64.Vec3{1, 0, 0}, mgl64.Vec3{1, 1, 0}, mgl64.Vec3{0, 1, 0})
	s := newScene(mesh(pos, idx))
	e := Extract(s)
	checkTopology(t, s, e)
	boundary, interior := 0, 0
	for _, ed := range e.List {
		if ed.F1 < 0 {
			boundary++
		} else {
			interior++
			if !((ed.V0 == 0 && ed.V1 == 2) || (ed.V0 == 2 && ed.V1 == 0)) {
				t.Fatalf("interior edge %+v is not the diagonal 0-2", ed)
			}
		}
	}
	if boundary != 4 || interior != 1 {
		t.Fatalf("%d boundary and %d interior edges, want 4 and 1", boundary, interior)
	}
	for i := range e.List {
		p := mgl64.Vec3{0.3, 0.4, 2}
		if got, want := e.Silhouette(s, i, p), e.List[i].F1 < 0; got != want {
			t.Fatalf("edge %d: Silhouette %v, want %v", i, got, want)
		}
		if e.Sharp(s, i) {
			t.Fatalf("edge %d of a flat quad is Sharp", i)
		}
	}
}

func TestExtractNonManifoldFan(t *testing.T) {
	// Three triangles share the edge (0, 1): a fan of fins.
	pos := []mgl64.Vec3{{0, 0, 0}, {1, 0, 0}, {0.5, 1, 0}, {0.5, -1, 0.2}, {0.5, 0, 1}}
	idx := []int32{0, 1, 2, 1, 0, 3, 0, 1, 4}
	s := newScene(mesh(pos, idx))
	e := Extract(s)
	checkTopology(t, s, e)
	if e.Len() != 7 {
		t.Fatalf("%d edges, want 7", e.Len())
	}
	nm := 0
	for i, ed := range e.List {
		if ed.NonManifold {
			nm++
			if ed.F1 < 0 {
				t.Fatalf("non-manifold edge without F1")
			}
			if !e.Silhouette(s, i, mgl64.Vec3{0.5, 0.3, -3}) || !e.Candidate(s, i, mgl64.Vec3{0.5, 0.3, -3}) {
				t.Fatalf("non-manifold edge is not always a candidate")
			}
		} else if ed.F1 >= 0 {
			t.Fatalf("edge %+v: fins have no other shared edge", ed)
		}
	}
	if nm != 1 {
		t.Fatalf("%d non-manifold edges, want 1", nm)
	}
}

func TestExtractSkipsDegenerate(t *testing.T) {
	pos := []mgl64.Vec3{{0, 0, 0}, {1, 0, 0}, {0, 1, 0}, {2, 0, 0}, {1, 0, 0}}
	// A valid triangle, one with a repeated index, a collinear one and one
	// whose two corners are welded duplicates (vertices 1 and 4).
	idx := []int32{0, 1, 2, 0, 0, 1, 0, 1, 3, 1, 4, 2}
	s := newScene(mesh(pos, idx))
	e := Extract(s)
	if e.Len() != 3 {
		t.Fatalf("%d edges, want the valid triangle's 3", e.Len())
	}
	for _, ed := range e.List {
		if ed.F0 != 0 || ed.F1 != -1 {
			t.Fatalf("edge %+v comes from a degenerate triangle", ed)
		}
	}
}

func TestExtractInconsistentWinding(t *testing.T) {
	// A folded quad whose second triangle is wound backwards: the
	// classification must not depend on winding.
	pos := []mgl64.Vec3{{0, 0, 0}, {1, 0, 0}, {1, 1, 0.5}, {0, 1, 0}}
	good := []int32{0, 1, 2, 0, 2, 3}
	bad := []int32{0, 1, 2, 0, 3, 2}
	s := newScene(mesh(pos, good), mesh(pos, bad))
	e := Extract(s)
	if e.Len() != 10 {
		t.Fatalf("%d edges, want 10", e.Len())
	}
	var diag [2]int
	for i, ed := range e.List {
		if ed.F1 >= 0 {
			diag[ed.Shape] = i
		}
	}
	if e.flags[diag[0]]&edgeFlip != 0 || e.flags[diag[1]]&edgeFlip == 0 {
		t.Fatalf("winding flags wrong: %v %v", e.flags[diag[0]], e.flags[diag[1]])
	}
	for _, p := range []mgl64.Vec3{{0.5, 0.5, 3}, {0.5, 0.5, -3}, {3, -2, 0.1}, {-2, 3, 1}, {2, 2, 0.4}} {
		if a, b := e.Silhouette(s, diag[0], p), e.Silhouette(s, diag[1], p); a != b {
			t.Fatalf("from %v: Silhouette %v with consistent winding, %v with flipped", p, a, b)
		}
	}
}

func TestSilhouetteBoxFromCorner(t *testing.T) {
	pos, idx := meshgen.Box(mgl64.Vec3{-1, -1, -1}, mgl64.Vec3{1, 1, 1})
	s := newScene(mesh(pos, idx))
	e := Extract(s)
	if e.Len() != 18 {
		t.Fatalf("%d edges, want 12 + 6 diagonals", e.Len())
	}
	for _, p := range []mgl64.Vec3{{3, 2.5, 2}, {-4, 3, -2.5}, {2.2, -3, 5}} {
		// A face is visible when p is beyond its plane; the contour is
		// made of the box edges between a visible and a hidden face.
		visible := func(n mgl64.Vec3) bool { return n.Dot(p) > 1 }
		for i, ed := range e.List {
			v0, v1 := e.Vertices(s, i)
			d := v1.Sub(v0)
			zero := 0
			for k := 0; k < 3; k++ {
				if d[k] == 0 {
					zero++
				}
			}
			boxEdge := zero == 2
			var wantSil, wantSharp, wantCand bool
			if boxEdge {
				// The two faces' normals: the axes along which both end
				// points sit on the box's surface.
				var ns []mgl64.Vec3
				for k := 0; k < 3; k++ {
					if d[k] == 0 {
						var n mgl64.Vec3
						n[k] = v0[k]
						ns = append(ns, n)
					}
				}
				a, b := visible(ns[0]), visible(ns[1])
				wantSil = a != b
				wantSharp = true
				wantCand = a || b
			}
			if got := e.Silhouette(s, i, p); got != wantSil {
				t.Errorf("from %v edge %v-%v: Silhouette %v, want %v", p, v0, v1, got, wantSil)
			}
			if got := e.Sharp(s, i); got != wantSharp {
				t.Errorf("edge %v-%v: Sharp %v, want %v", v0, v1, got, wantSharp)
			}
			if got := e.Candidate(s, i, p); got != wantCand {
				t.Errorf("from %v edge %v-%v: Candidate %v, want %v (faces %v)", p, v0, v1, got, wantCand, ed)
			}
		}
		n := 0
		for i := range e.List {
			if e.Silhouette(s, i, p) {
				n++
			}
		}
		if n != 6 {
			t.Errorf("from %v: %d silhouette edges, want the 6 of the hexagonal contour", p, n)
		}
	}
	// Two-sided: edges between two hidden faces become candidates.
	s.Materials[0].TwoSided = true
	p := mgl64.Vec3{3, 2.5, 2}
	n := 0
	for i := range e.List {
		if e.Candidate(s, i, p) {
			n++
		}
	}
	if n != 12 {
		t.Errorf("two-sided box: %d candidates, want all 12 box edges", n)
	}
}

func TestSharpIcosphere(t *testing.T) {
	c := mgl64.Vec3{0.2, -0.1, 0.3}
	pos, idx := meshgen.Icosphere(2, 1, c, 0)
	s := newScene(mesh(pos, idx), testShape{pos: pos, idx: idx, normals: smoothNormals(pos, c)})
	e := Extract(s)
	p := mgl64.Vec3{3, 1, 2}
	sil := [2]int{}
	for i, ed := range e.List {
		flat := ed.Shape == 0
		if e.Sharp(s, i) != flat {
			t.Fatalf("shape %d edge %d: Sharp %v", ed.Shape, i, !flat)
		}
		if e.Silhouette(s, i, p) {
			sil[ed.Shape]++
		}
		// The smooth sphere's candidates are exactly its silhouettes.
		if !flat && e.Candidate(s, i, p) != e.Silhouette(s, i, p) {
			t.Fatalf("smooth edge %d: Candidate differs from Silhouette", i)
		}
	}
	if sil[0] == 0 || sil[0] != sil[1] || sil[0] > e.Len()/4 {
		t.Fatalf("silhouette counts %v of %d edges", sil, e.Len())
	}
}

func TestPlanarGridNeither(t *testing.T) {
	pos, idx := meshgen.Plane(5, 4, 2)
	s := newScene(mesh(pos, idx))
	e := Extract(s)
	if want := 5*4*3 + 5 + 4; e.Len() != want {
		t.Fatalf("%d edges, want %d", e.Len(), want)
	}
	for _, p := range []mgl64.Vec3{{0.1, 1, 0.2}, {3, 0.5, -2}, {0.3, -2, 0.1}} {
		for i, ed := range e.List {
			boundary := ed.F1 < 0
			if e.Silhouette(s, i, p) != boundary || e.Sharp(s, i) || e.Candidate(s, i, p) != boundary {
				t.Fatalf("from %v edge %d %+v: Silhouette %v Sharp %v Candidate %v", p, i, ed,
					e.Silhouette(s, i, p), e.Sharp(s, i), e.Candidate(s, i, p))
			}
		}
	}
}
