package edgesample

import (
	"sync"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/geom"
	"github.com/invrender/invrender/internal/meshgen"
	"github.com/invrender/invrender/render"
)

var (
	denseOnce  sync.Once
	denseScene *render.Scene
)

// dense returns the benchmark's "dense" scene: the 327,680-triangle bumpy
// icosphere on a plane, with an emissive quad above.
func dense() *render.Scene {
	denseOnce.Do(func() {
		sp, si := meshgen.Icosphere(7, 0.5, mgl64.Vec3{0, 0.55, 0}, 0.08)
		pp, pi := meshgen.Plane(1, 1, 4)
		qp, qi := meshgen.Quad(
			mgl64.Vec3{-0.4, 2, -0.4}, mgl64.Vec3{-0.4, 2, 0.4},
			mgl64.Vec3{0.4, 2, 0.4}, mgl64.Vec3{0.4, 2, -0.4})
		denseScene = newScene(mesh(sp, si), mesh(pp, pi), testShape{pos: qp, idx: qi, emitter: true})
	})
	return denseScene
}

// denseQueries are shading points on the plane and on the sphere, and
// points in the air, as a path tracer meets them.
func denseQueries(n int) ([]mgl64.Vec3, []mgl64.Vec3) {
	r := geom.NewRNG(99, 0, 0, 0)
	ps := make([]mgl64.Vec3, n)
	ns := make([]mgl64.Vec3, n)
	for k := range ps {
		switch k % 3 {
		case 0:
			ps[k] = mgl64.Vec3{3*r.Float64() - 1.5, 0, 3*r.Float64() - 1.5}
			ns[k] = mgl64.Vec3{0, 1, 0}
		case 1:
			d := geom.SquareToUniformSphere(mgl64.Vec2{r.Float64(), r.Float64()})
			ps[k] = mgl64.Vec3{0, 0.55, 0}.Add(d.Mul(0.5))
			ns[k] = d
		default:
			ps[k] = mgl64.Vec3{2*r.Float64() - 1, 0.1 + 1.8*r.Float64(), 1 + r.Float64()}
			ns[k] = geom.SquareToUniformSphere(mgl64.Vec2{r.Float64(), r.Float64()})
		}
	}
	return ps, ns
}

func BenchmarkExtractDense(b *testing.B) {
	s := dense()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		Extract(s)
	}
}

func BenchmarkNewSecondaryDense(b *testing.B) {
	s := dense()
	e := Extract(s)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		NewSecondary(s, e, SecondaryOptions{})
	}
	b.ReportMetric(float64(e.Len()), "edges")
}

func benchSecondary(b *testing.B, o SecondaryOptions) {
	s := dense()
	e := Extract(s)
	h := NewSecondary(s, e, o)
	ps, ns := denseQueries(1024)
	r := geom.NewRNG(5, 0, 0, 0)
	fails := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := i & 1023
		if _, ok := h.Sample(ps[k], ns[k], r.Float64(), r.Float64()); !ok {
			fails++
		}
	}
	b.ReportMetric(float64(fails)/float64(b.N), "fail/op")
}

func BenchmarkSecondarySampleDense(b *testing.B) { benchSecondary(b, SecondaryOptions{}) }

func BenchmarkSecondarySampleDenseUniform(b *testing.B) {
	benchSecondary(b, SecondaryOptions{Uniform: true})
}

func BenchmarkNewPrimaryDense(b *testing.B) {
	s := dense()
	e := Extract(s)
	cam := mustCamera(b, mgl64.Vec3{0, 1, 3}, mgl64.Vec3{0, 0.5, 0}, 40, 256, 256)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		NewPrimary(s, e, &cam)
	}
}

func BenchmarkPrimarySample(b *testing.B) {
	s := dense()
	e := Extract(s)
	cam := mustCamera(b, mgl64.Vec3{0, 1, 3}, mgl64.Vec3{0, 0.5, 0}, 40, 256, 256)
	pr := NewPrimary(s, e, &cam)
	r := geom.NewRNG(6, 0, 0, 0)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		pr.Sample(r.Float64(), r.Float64())
	}
}
