package edgesample

import (
	"math"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/geom"
	"github.com/invrender/invrender/internal/meshgen"
	"github.com/invrender/invrender/render"
)

// testShape is a mesh with an optional flag set for the test scenes.
type testShape struct {
	pos      []mgl64.Vec3
	idx      []int32
	normals  []mgl64.Vec3
	twoSided bool
	emitter  bool
}

// newScene makes a scene of the shapes, each with its own diffuse
// material (two-sided where asked).
func newScene(shapes ...testShape) *render.Scene {
	s := &render.Scene{}
	for i, ts := range shapes {
		m := &render.Material{Kind: render.Diffuse, TwoSided: ts.twoSided}
		m.Reflectance.Value = mgl64.Vec3{0.5, 0.5, 0.5}
		s.Materials = append(s.Materials, m)
		sh := &render.Shape{Positions: ts.pos, Indices: ts.idx, Normals: ts.normals, Material: i}
		if ts.emitter {
			sh.Emitter = &render.AreaEmitter{Radiance: mgl64.Vec3{1, 1, 1}}
		}
		s.Shapes = append(s.Shapes, sh)
	}
	return s
}

func mesh(pos []mgl64.Vec3, idx []int32) testShape { return testShape{pos: pos, idx: idx} }

// smoothNormals returns the unit direction from c of every vertex (the
// exact normals of a sphere about c).
func smoothNormals(pos []mgl64.Vec3, c mgl64.Vec3) []mgl64.Vec3 {
	n := make([]mgl64.Vec3, len(pos))
	for i, p := range pos {
		n[i] = p.Sub(c).Normalize()
	}
	return n
}

// unweld gives every triangle its own three vertices, as an OBJ file with
// per-face attributes stores them.
func unweld(pos []mgl64.Vec3, idx []int32) ([]mgl64.Vec3, []int32) {
	np := make([]mgl64.Vec3, len(idx))
	ni := make([]int32, len(idx))
	for k, v := range idx {
		np[k] = pos[v]
		ni[k] = int32(k)
	}
	return np, ni
}

// testScene is the sampling tests' scene: a flat-shaded icosphere resting
// above a plane, a smooth-shaded icosphere, and an emissive quad above
// facing down.
func testScene() *render.Scene {
	s1p, s1i := meshgen.Icosphere(2, 0.5, mgl64.Vec3{0, 0.6, 0}, 0)
	s2p, s2i := meshgen.Icosphere(2, 0.35, mgl64.Vec3{1.1, 0.5, -0.4}, 0)
	pp, pi := meshgen.Plane(8, 8, 4)
	qp, qi := meshgen.Quad(
		mgl64.Vec3{0.4, 2, -0.4}, mgl64.Vec3{0.4, 2, 0.4},
		mgl64.Vec3{-0.4, 2, 0.4}, mgl64.Vec3{-0.4, 2, -0.4})
	return newScene(
		mesh(s1p, s1i),
		testShape{pos: s2p, idx: s2i, normals: smoothNormals(s2p, mgl64.Vec3{1.1, 0.5, -0.4})},
		mesh(pp, pi),
		testShape{pos: qp, idx: qi, emitter: true},
	)
}

// randomQuery draws a shading point and a hemisphere normal: half of them
// on the scene's surfaces (the plane, the spheres) with the surface normal,
// half in the air with a random normal.
func randomQuery(r *geom.RNG) (p, n mgl64.Vec3) {
	switch r.Intn(4) {
	case 0: // on the plane
		p = mgl64.Vec3{4*r.Float64() - 2, 0, 4*r.Float64() - 2}
		return p, mgl64.Vec3{0, 1, 0}
	case 1: // near the flat sphere, just outside
		d := geom.SquareToUniformSphere(mgl64.Vec2{r.Float64(), r.Float64()})
		return mgl64.Vec3{0, 0.6, 0}.Add(d.Mul(0.52)), d
	default: // in the air
		p = mgl64.Vec3{3*r.Float64() - 1.5, 0.05 + 1.9*r.Float64(), 3*r.Float64() - 1.5}
		n = geom.SquareToUniformSphere(mgl64.Vec2{r.Float64(), r.Float64()})
		return p, n
	}
}

// contributes reports whether edge i is a candidate from p with a point
// strictly above the plane through p with normal n: the edges Secondary
// must give a positive probability.
func contributes(s *render.Scene, e *Edges, i int, p, n mgl64.Vec3) bool {
	v0, v1 := e.Vertices(s, i)
	if !(n.Dot(v0.Sub(p)) > 0 || n.Dot(v1.Sub(p)) > 0) {
		return false
	}
	return e.Candidate(s, i, p)
}

func near(a, b, tol float64) bool {
	return math.Abs(a-b) <= tol*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

func mustCamera(t testing.TB, origin, target mgl64.Vec3, fov float64, w, h int) render.Camera {
	t.Helper()
	cam, err := render.NewCamera(&render.Sensor{
		Origin: origin, Target: target, Up: mgl64.Vec3{0, 1, 0},
		Fov: fov, Width: w, Height: h, NearClip: 0, FarClip: 0,
	})
	if err != nil {
		t.Fatal(err)
	}
	return cam
}
