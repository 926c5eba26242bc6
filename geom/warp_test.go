package geom

import (
	"math"
	"testing"

	"github.com/go-gl/mathgl/mgl64"
	"github.com/invrender/invrender/internal/stattest"
)

// The warps' pdfs, written as densities over their whole domain (zero
// outside the support) for the quadrature and the chi-square tests.

func cosineHemisphereDensity(d mgl64.Vec3) float64 { return CosineHemispherePdf(d[2]) }

func uniformSphereDensity(mgl64.Vec3) float64 { return UniformSpherePdf() }

func uniformHemisphereDensity(d mgl64.Vec3) float64 {
	if d[2] < 0 {
		return 0
	}
	return UniformHemispherePdf()
}

// warpTriangle is a fixed, scalene triangle for the triangle warp.
var warpTriangle = [3]mgl64.Vec3{{0.3, -0.2, 1.1}, {2.1, 0.4, 0.2}, {0.7, 1.9, -0.6}}

// triangleBaryDensity is the density of SquareToUniformTriangle in the
// (b1, b2) plane: UniformTrianglePdf(area) per unit area of the triangle,
// times the area 2*area of the triangle per unit area of (b1, b2).
func triangleBaryDensity(b mgl64.Vec2) float64 {
	if b[0] < 0 || b[1] < 0 || b[0]+b[1] > 1 {
		return 0
	}
	area := TriangleArea(warpTriangle[0], warpTriangle[1], warpTriangle[2])
	return UniformTrianglePdf(area) * 2 * area
}

// The triangle (0,0), (2,0), (0.5,1.5) of the plane z = 0, for testing the
// warp's density in area measure directly.
var planeTriangle = [3]mgl64.Vec3{{0, 0, 0}, {2, 0, 0}, {0.5, 1.5, 0}}

func planeTriangleDensity(p mgl64.Vec2) float64 {
	a, b, c := planeTriangle[0], planeTriangle[1], planeTriangle[2]
	edge := func(p0, p1 mgl64.Vec3) float64 {
		return (p1[0]-p0[0])*(p[1]-p0[1]) - (p1[1]-p0[1])*(p[0]-p0[0])
	}
	if edge(a, b) < 0 || edge(b, c) < 0 || edge(c, a) < 0 {
		return 0
	}
	return UniformTrianglePdf(TriangleArea(a, b, c))
}

func TestWarpPdfsIntegrateToOne(t *testing.T) {
	sphere := []struct {
		name string
		pdf  func(mgl64.Vec3) float64
	}{
		{"CosineHemisphere", cosineHemisphereDensity},
		{"UniformSphere", uniformSphereDensity},
		{"UniformHemisphere", uniformHemisphereDensity},
	}
	for _, tc := range sphere {
		if got := stattest.IntegratePdfSphere(tc.pdf, 0, 0); math.Abs(got-1) > 1e-6 {
			t.Errorf("%s: pdf integrates to %.9g over the sphere, want 1", tc.name, got)
		}
	}
	disk := func(p mgl64.Vec2) float64 { return UniformDiskPdf(p) }
	if got := stattest.IntegratePdfRect(disk, mgl64.Vec2{-1, -1}, mgl64.Vec2{1, 1}, 0, 0); math.Abs(got-1) > 1e-6 {
		t.Errorf("UniformDisk: pdf integrates to %.9g, want 1", got)
	}
	if got := stattest.IntegratePdfRect(triangleBaryDensity, mgl64.Vec2{}, mgl64.Vec2{1, 1}, 0, 0); math.Abs(got-1) > 1e-6 {
		t.Errorf("UniformTriangle (barycentric): pdf integrates to %.9g, want 1", got)
	}
	if got := stattest.IntegratePdfRect(planeTriangleDensity, mgl64.Vec2{0, 0}, mgl64.Vec2{2, 1.5}, 0, 0); math.Abs(got-1) > 1e-6 {
		t.Errorf("UniformTriangle (area): pdf integrates to %.9g, want 1", got)
	}
}

// TestWarpsChiSquare checks that each warp's samples follow its pdf.
func TestWarpsChiSquare(t *testing.T) {
	// Seeds and sample counts are fixed, so the outcome is deterministic;
	// the family's false-alarm rate over seeds is 1%.
	const family = 7 // tests below, for the Sidak correction
	const n = 1_000_000
	opt := func(name string, seed uint64) stattest.Options {
		return stattest.Options{Name: name, SampleCount: n, Seed: seed, TestCount: family}
	}
	spheres := []stattest.SphereTest{
		{Options: opt("SquareToCosineHemisphere", 1), Pdf: cosineHemisphereDensity,
			Sample: func(u mgl64.Vec2) (mgl64.Vec3, bool) { return SquareToCosineHemisphere(u), true }},
		{Options: opt("SquareToUniformSphere", 2), Pdf: uniformSphereDensity,
			Sample: func(u mgl64.Vec2) (mgl64.Vec3, bool) { return SquareToUniformSphere(u), true }},
		{Options: opt("SquareToUniformHemisphere", 3), Pdf: uniformHemisphereDensity,
			Sample: func(u mgl64.Vec2) (mgl64.Vec3, bool) { return SquareToUniformHemisphere(u), true }},
		// The same on an even grid, whose cell boundary z = 0 is the
		// horizon: no sample may fall below it.
		{Options: opt("SquareToCosineHemisphere, even grid", 4), Pdf: cosineHemisphereDensity, CosThetaRes: 40, PhiRes: 80,
			Sample: func(u mgl64.Vec2) (mgl64.Vec3, bool) { return SquareToCosineHemisphere(u), true }},
	}
	for i := range spheres {
		st := &spheres[i]
		t.Run(st.Name, func(t *testing.T) { st.Check(t) })
	}
	rects := []stattest.RectTest{
		{Options: opt("SquareToUniformDisk", 5), Min: mgl64.Vec2{-1, -1}, Max: mgl64.Vec2{1, 1},
			Pdf:    UniformDiskPdf,
			Sample: func(u mgl64.Vec2) (mgl64.Vec2, bool) { return SquareToUniformDisk(u), true }},
		{Options: opt("SquareToUniformTriangle (barycentric)", 6), Pdf: triangleBaryDensity,
			Sample: func(u mgl64.Vec2) (mgl64.Vec2, bool) {
				b1, b2 := SquareToUniformTriangle(u)
				return mgl64.Vec2{b1, b2}, true
			}},
		{Options: opt("SquareToUniformTriangle (area)", 7), Min: mgl64.Vec2{0, 0}, Max: mgl64.Vec2{2, 1.5},
			Pdf: planeTriangleDensity,
			Sample: func(u mgl64.Vec2) (mgl64.Vec2, bool) {
				b1, b2 := SquareToUniformTriangle(u)
				a, b, c := planeTriangle[0], planeTriangle[1], planeTriangle[2]
				p := a.Mul(1 - b1 - b2).Add(b.Mul(b1)).Add(c.Mul(b2))
				return mgl64.Vec2{p[0], p[1]}, true
			}},
	}
	for i := range rects {
		rt := &rects[i]
		t.Run(rt.Name, func(t *testing.T) { rt.Check(t) })
	}
}

// TestWarpsDomain checks the corners and edges of the unit square, where
// square roots and divisions are most fragile: every result must be finite,
// inside its domain, and (for directions) of unit length, with a positive
// pdf.
func TestWarpsDomain(t *testing.T) {
	below1 := math.Nextafter(1, 0)
	vals := []float64{0, 1e-300, 1e-17, 0.25, 0.5, math.Nextafter(0.5, 0), math.Nextafter(0.5, 1), 0.75, 1 - 1e-17, below1}
	for _, a := range vals {
		for _, b := range vals {
			u := mgl64.Vec2{a, b}
			p := SquareToUniformDisk(u)
			if !(p.Dot(p) <= 1+1e-15) || math.IsNaN(p[0]) || math.IsNaN(p[1]) || UniformDiskPdf(p) <= 0 {
				t.Errorf("SquareToUniformDisk(%v) = %v", u, p)
			}
			for _, w := range []struct {
				name  string
				d     mgl64.Vec3
				hemi  bool
				dense func(mgl64.Vec3) float64
			}{
				{"SquareToCosineHemisphere", SquareToCosineHemisphere(u), true, nil},
				{"SquareToUniformSphere", SquareToUniformSphere(u), false, uniformSphereDensity},
				{"SquareToUniformHemisphere", SquareToUniformHemisphere(u), true, uniformHemisphereDensity},
			} {
				if math.Abs(w.d.Len()-1) > 1e-12 || (w.hemi && w.d[2] < 0) {
					t.Errorf("%s(%v) = %v (length %v)", w.name, u, w.d, w.d.Len())
				}
				if w.dense != nil && w.dense(w.d) <= 0 {
					t.Errorf("%s(%v): pdf of the sample is %v", w.name, u, w.dense(w.d))
				}
			}
			b1, b2 := SquareToUniformTriangle(u)
			if !(b1 >= 0 && b2 >= 0 && b1+b2 <= 1+1e-15) {
				t.Errorf("SquareToUniformTriangle(%v) = %v, %v", u, b1, b2)
			}
		}
	}
	if p := SquareToUniformDisk(mgl64.Vec2{0.5, 0.5}); p != (mgl64.Vec2{}) {
		t.Errorf("SquareToUniformDisk(centre) = %v, want the origin", p)
	}
	if UniformDiskPdf(mgl64.Vec2{0.8, 0.7}) != 0 || CosineHemispherePdf(-0.1) != 0 || CosineHemispherePdf(0) != 0 {
		t.Error("a pdf is non-zero outside its support")
	}
	if UniformTrianglePdf(0) != 0 || UniformTrianglePdf(-1) != 0 || UniformTrianglePdf(4) != 0.25 {
		t.Error("UniformTrianglePdf is wrong at 0, -1 or 4")
	}
}

// TestSquareToUniformTriangleContinuous checks the property the renderer
// relies on to differentiate through the warp: the sample moves
// continuously with u (no fold or branch), with the square-root map's
// known derivatives.
func TestSquareToUniformTriangleContinuous(t *testing.T) {
	for _, u := range []mgl64.Vec2{{0.3, 0.2}, {0.9, 0.5}, {0.04, 0.97}, {0.5, 0.5}} {
		const h = 1e-6
		b1p, b2p := SquareToUniformTriangle(mgl64.Vec2{u[0] + h, u[1]})
		b1m, b2m := SquareToUniformTriangle(mgl64.Vec2{u[0] - h, u[1]})
		s := math.Sqrt(u[0])
		// d/du0 of (sqrt(u0)(1-u1), sqrt(u0) u1) = (1-u1, u1) / (2 sqrt(u0)).
		if g := (b1p - b1m) / (2 * h); math.Abs(g-(1-u[1])/(2*s)) > 1e-6 {
			t.Errorf("u=%v: db1/du0 = %v, want %v", u, g, (1-u[1])/(2*s))
		}
		if g := (b2p - b2m) / (2 * h); math.Abs(g-u[1]/(2*s)) > 1e-6 {
			t.Errorf("u=%v: db2/du0 = %v, want %v", u, g, u[1]/(2*s))
		}
	}
}
