package bvh_test

import (
	"fmt"
	"math"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/bvh"
	"github.com/invrender/invrender/geom"
	"github.com/invrender/invrender/internal/meshgen"
)

// Build a BVH over a unit box and shoot a ray into it.
func Example() {
	pos, idx := meshgen.Box(mgl64.Vec3{0, 0, 0}, mgl64.Vec3{1, 1, 1})
	b, err := bvh.Build(pos, idx, bvh.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	r := geom.Ray{O: mgl64.Vec3{0.25, 0.5, -2}, D: mgl64.Vec3{0, 0, 1}, TMax: math.Inf(1)}
	if h, ok := b.Intersect(r); ok {
		// Triangles 4 and 5 are the box's -z face.
		fmt.Printf("hit triangle %d at t = %g, point %v\n", h.Tri, h.T, r.At(h.T))
	}
	// A shadow ray that stops short of the box.
	r.TMax = 1.5
	fmt.Println("occluded before t = 1.5:", b.Occluded(r))
	// Output:
	// hit triangle 4 at t = 2, point [0.25 0.5 0]
	// occluded before t = 1.5: false
}

// Refit after moving the vertices, and ask whether a rebuild would pay.
func ExampleBVH_Refit() {
	pos, idx := meshgen.Icosphere(3, 1, mgl64.Vec3{}, 0)
	b, err := bvh.Build(pos, idx, bvh.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	// Stretch the sphere along x: the tree stays good.
	for i := range pos {
		pos[i][0] *= 2
	}
	if err := b.Refit(pos); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("bounds:", b.Bounds().Min, b.Bounds().Max)
	fmt.Println("needs rebuild:", b.NeedsRebuild())
	// Output:
	// bounds: [-2 -1 -1] [2 1 1]
	// needs rebuild: false
}
