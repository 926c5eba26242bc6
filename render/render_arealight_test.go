package render_test

import (
	"math"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/render"
)

// polygonIrradiance returns the irradiance at p (unit normal n) from a
// uniform Lambertian polygon of radiance 1 with the given vertices, wholly
// above p's tangent plane: Lambert's formula for the point-to-polygon form
// factor (Lambert 1760; Arvo, "Applications of Irradiance Tensors to the
// Simulation of Non-Lambertian Phenomena", SIGGRAPH 1995, eq. 7),
// E = 1/2 sum_i Theta_i (n . Gamma_i), Theta_i the angle the edge
// (v_i, v_i+1) subtends at p and Gamma_i the unit normal of the plane
// through p and that edge.
func polygonIrradiance(p, n mgl64.Vec3, verts []mgl64.Vec3) float64 {
	e := 0.0
	for i := range verts {
		a := verts[i].Sub(p).Normalize()
		b := verts[(i+1)%len(verts)].Sub(p).Normalize()
		theta := math.Acos(math.Max(-1, math.Min(1, a.Dot(b))))
		e += theta * n.Dot(a.Cross(b).Normalize())
	}
	return math.Abs(e) / 2
}

// quadratureIrradiance integrates cos_p cos_l / r^2 over the rectangle
// [x0,x1] x [z0,z1] at height y (facing down) by the midpoint rule on an
// m x m grid: an independent check of polygonIrradiance.
func quadratureIrradiance(p, n mgl64.Vec3, x0, x1, z0, z1, y float64, m int) float64 {
	dx, dz := (x1-x0)/float64(m), (z1-z0)/float64(m)
	e := 0.0
	for i := 0; i < m; i++ {
		for j := 0; j < m; j++ {
			q := mgl64.Vec3{x0 + (float64(i)+0.5)*dx, y, z0 + (float64(j)+0.5)*dz}
			d := q.Sub(p)
			r2 := d.Dot(d)
			w := d.Mul(1 / math.Sqrt(r2))
			e += n.Dot(w) * w[1] / r2 // the light faces -y: cos_l = -(-y).w
		}
	}
	return e * dx * dz
}

// areaLightScene is a large diffuse plane ("plane", albedo (0.5, 0.6,
// 0.7)) under a 0.4 x 0.4 one-sided square light at height 1 facing down
// ("light", radiance (10, 8, 6)), seen obliquely from above, direct light
// only (maxDepth 2). The box filter of radius 1e-4 pixel makes every sample
// look through its pixel's centre.
const (
	alX0, alX1, alZ0, alZ1, alY = 0.1, 0.5, -0.4, 0.0, 1.0
)

var (
	alAlbedo   = mgl64.Vec3{0.5, 0.6, 0.7}
	alRadiance = mgl64.Vec3{10, 8, 6}
)

func areaLightScene() *render.Scene {
	plane, planeIdx := quadXZ(-5, 5, -5, 5, 0, true)
	light, lightIdx := quadXZ(alX0, alX1, alZ0, alZ1, alY, false)
	return &render.Scene{
		Sensors: []*render.Sensor{{Name: "sensor", Origin: mgl64.Vec3{0, 3, 3}, Target: mgl64.Vec3{0.1, 0, -0.3}, Up: mgl64.Vec3{0, 1, 0},
			Fov: 50, Width: 16, Height: 16, SPP: 16, Filter: render.Filter{Kind: render.FilterBox, Radius: 1e-4}}},
		Integrator: render.Integrator{MaxDepth: 2},
		Materials: []*render.Material{
			{Name: "planemat", Kind: render.Diffuse, Reflectance: render.ConstTexture(alAlbedo)},
			{Name: "lightmat", Kind: render.Diffuse},
		},
		Shapes: []*render.Shape{
			{Name: "plane", Positions: plane, Indices: planeIdx, Material: 0},
			{Name: "light", Positions: light, Indices: lightIdx, Material: 1, Emitter: &render.AreaEmitter{Radiance: alRadiance}},
		},
	}
}

// TestAreaLightIrradiance checks pixel values of the diffuse plane against
// the analytic radiance albedo/pi * E, E the light's irradiance at the
// point the pixel's centre sees, for each direct-light strategy. The
// analytic formula is first checked against quadrature. Tolerances: nSigma
// standard errors of each pixel over seeds, and of the mean over all plane
// pixels.
func TestAreaLightIrradiance(t *testing.T) {
	lightVerts := []mgl64.Vec3{{alX0, alY, alZ0}, {alX1, alY, alZ0}, {alX1, alY, alZ1}, {alX0, alY, alZ1}}
	up := mgl64.Vec3{0, 1, 0}
	for _, p := range []mgl64.Vec3{{0.3, 0, -0.2}, {-1, 0, 0.7}, {2, 0, -3}} {
		a := polygonIrradiance(p, up, lightVerts)
		b := quadratureIrradiance(p, up, alX0, alX1, alZ0, alZ1, alY, 400)
		// The midpoint rule's error is below 1e-5 relative on a 400 x 400
		// grid for these distances.
		if math.Abs(a-b) > 1e-5*b {
			t.Fatalf("irradiance at %v: Lambert's formula %v, quadrature %v", p, a, b)
		}
	}

	s := areaLightScene()
	mustBuild(t, s)
	cam := mustCamera(t, s)
	// The expected value of each pixel whose centre sees the plane.
	want := make([]float64, 3*cam.Width*cam.Height)
	onPlane := make([]bool, cam.Width*cam.Height)
	for py := 0; py < cam.Height; py++ {
		for px := 0; px < cam.Width; px++ {
			r := cam.Ray(float64(px)+0.5, float64(py)+0.5)
			h, ok := s.Intersect(r)
			if !ok {
				continue
			}
			if sh, _ := s.TriangleShape(h.Tri); sh != 0 {
				continue // the light's back
			}
			p := r.At(-r.O[1] / r.D[1])
			e := polygonIrradiance(p, up, lightVerts)
			i := py*cam.Width + px
			onPlane[i] = true
			for c := 0; c < 3; c++ {
				want[3*i+c] = alAlbedo[c] / math.Pi * alRadiance[c] * e
			}
		}
	}
	k := scaled(24, 12)
	for _, st := range []struct {
		name     string
		s        render.Strategy
		spp      int
		perPixel bool
	}{
		{"MIS", render.StrategyMIS, 8, true},
		{"NEE", render.StrategyNEE, 8, true},
		// BSDF sampling finds the small light rarely (in some pixels
		// with a probability near 1e-4 per sample): more samples, and
		// only region means are checked, since a pixel's few hits give
		// neither a normal estimate nor a usable standard error.
		{"BSDF", render.StrategyBSDF, 64, false},
	} {
		t.Run(st.name, func(t *testing.T) {
			ps := renderSeeds(t, s, render.Options{Strategy: st.s, SPP: st.spp}, k, 700)
			n, bad := 0, 0
			for i, on := range onPlane {
				if !on || !st.perPixel {
					continue
				}
				n++
				for c := 0; c < 3; c++ {
					m, se := ps.Mean[3*i+c], ps.SE[3*i+c]
					if math.Abs(m-want[3*i+c]) > nSigma*se {
						bad++
						if bad < 5 {
							t.Errorf("pixel %d channel %d: %.6g, want %.6g (se %.3g)", i, c, m, want[3*i+c], se)
						}
					}
				}
			}
			if st.perPixel && n < 150 {
				t.Fatalf("only %d pixels see the plane", n)
			}
			// The four quarters of the image and the whole.
			w, h := cam.Width, cam.Height
			for _, r := range [][4]int{{0, 0, w / 2, h / 2}, {w / 2, 0, w, h / 2}, {0, h / 2, w / 2, h}, {w / 2, h / 2, w, h}, {0, 0, w, h}} {
				for c := 0; c < 3; c++ {
					var sumD, sumV float64
					for y := r[1]; y < r[3]; y++ {
						for x := r[0]; x < r[2]; x++ {
							i := y*w + x
							if !onPlane[i] {
								continue
							}
							m, se := ps.at(x, y, c)
							sumD += m - want[3*i+c]
							sumV += se * se
						}
					}
					if se := math.Sqrt(sumV); math.Abs(sumD) > nSigma*se {
						t.Errorf("region %v channel %d: summed error %.4g, se %.3g", r, c, sumD, se)
					}
				}
			}
		})
	}
}
