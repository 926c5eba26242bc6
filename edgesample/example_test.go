package edgesample_test

import (
	"fmt"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/edgesample"
	"github.com/invrender/invrender/internal/meshgen"
	"github.com/invrender/invrender/render"
)

// A box seen from a corner: its contour is a hexagon of 6 silhouette edges.
func ExampleEdges_Silhouette() {
	pos, idx := meshgen.Box(mgl64.Vec3{-1, -1, -1}, mgl64.Vec3{1, 1, 1})
	s := &render.Scene{
		Materials: []*render.Material{{Kind: render.Diffuse}},
		Shapes:    []*render.Shape{{Positions: pos, Indices: idx}},
	}
	e := edgesample.Extract(s)
	eye := mgl64.Vec3{3, 2.5, 2}
	sil, cand := 0, 0
	for i := range e.List {
		if e.Silhouette(s, i, eye) {
			sil++
		}
		if e.Candidate(s, i, eye) {
			cand++
		}
	}
	fmt.Println(e.Len(), "edges,", sil, "silhouettes,", cand, "candidates")
	// Output: 18 edges, 6 silhouettes, 9 candidates
}

// Sampling a point on an edge seen from a shading point on the floor.
func ExampleSecondary_Sample() {
	bp, bi := meshgen.Box(mgl64.Vec3{-0.5, 0, -0.5}, mgl64.Vec3{0.5, 1, 0.5})
	s := &render.Scene{
		Materials: []*render.Material{{Kind: render.Diffuse}},
		Shapes:    []*render.Shape{{Positions: bp, Indices: bi}},
	}
	e := edgesample.Extract(s)
	h := edgesample.NewSecondary(s, e, edgesample.SecondaryOptions{})
	p, n := mgl64.Vec3{2, 0, 0}, mgl64.Vec3{0, 1, 0}
	es, ok := h.Sample(p, n, 0.3, 0.6)
	fmt.Println(ok, e.Candidate(s, int(es.Edge), p), es.Pdf == h.Pdf(p, n, int(es.Edge), es.S))
	// Output: true true true
}
