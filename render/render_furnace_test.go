package render_test

import (
	"math"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/internal/meshgen"
	"github.com/invrender/invrender/render"
	"github.com/invrender/invrender/scenes"
)

// White furnace tests (Pharr, Jakob, Humphreys, "Physically Based
// Rendering", 4th ed., section 4.5; the "furnace" of Mitsuba's test suite):
// inside a constant environment of radiance 1, an object whose BSDF
// reflects all the light it receives looks exactly like the environment,
// radiance 1 in every pixel, whatever its shape, provided paths are never
// cut short. The tests therefore use unbounded depth (maxDepth -1) with
// Russian roulette, which keeps the estimator unbiased. A BSDF that loses
// energy (single-scattering rough microfacets) must look darker, never
// brighter.
//
// Two objects: the convex FurnaceSphere, from which every reflected ray
// escapes, and a torus, whose hole makes rays bounce between its surfaces,
// so that multiple bounces and the Russian roulette weights are exercised.

// furnaceTorus returns FurnaceSphere's scene with the sphere replaced by a
// torus (major radius 0.9, tube radius 0.4) seen from above at an angle, so
// that the camera looks into the hole.
func furnaceTorus(mat render.Material) *render.Scene {
	s := scenes.FurnaceSphere(mat)
	pos, idx := meshgen.Torus(0.9, 0.4, 48, 24)
	s.Shapes[0] = &render.Shape{Name: "object", Positions: pos, Indices: idx}
	s.Sensors[0].Origin = mgl64.Vec3{0, 2.8, 2.8}
	return s
}

// furnaceCases are materials that reflect exactly all incident light.
func furnaceExactMaterials() []struct {
	name string
	mat  render.Material
} {
	return []struct {
		name string
		mat  render.Material
	}{
		{"diffuse", render.Material{Kind: render.Diffuse, Reflectance: render.ConstTexture(grey(1))}},
		// A smooth coating over a white base reflects F at the coating and
		// 1-F from the base (the diffuse lobe's normalisation uses the
		// exact internal diffuse Fresnel reflectance; see BSDF's doc).
		{"plastic", render.Material{Kind: render.Plastic, Reflectance: render.ConstTexture(grey(1)),
			SpecularReflectance: render.ConstTexture(grey(1)), IntIOR: 1.49, ExtIOR: 1}},
		// eta = 0 makes the conductor's Fresnel reflectance exactly 1 at
		// every angle: a perfect mirror.
		{"conductor", render.Material{Kind: render.Conductor, SpecularReflectance: render.ConstTexture(grey(1)),
			Eta: mgl64.Vec3{}, K: grey(1)}},
	}
}

// checkAllOne checks that every pixel and the image mean equal 1 within
// nSigma standard errors.
func checkAllOne(t *testing.T, ps pixelStats) {
	t.Helper()
	bad := 0
	for y := 0; y < ps.H; y++ {
		for x := 0; x < ps.W; x++ {
			for c := 0; c < 3; c++ {
				m, se := ps.at(x, y, c)
				if math.Abs(m-1) > nSigma*se+floatSlack {
					if bad < 5 {
						t.Errorf("pixel (%d, %d) channel %d: mean %.6g, want 1 (se %.3g, %.1f sigma)", x, y, c, m, se, (m-1)/se)
					}
					bad++
				}
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d pixel values differ from 1 by more than %d standard errors", bad, nSigma)
	}
	for c := 0; c < 3; c++ {
		m, se, _ := ps.regionMean(0, 0, ps.W, ps.H, c, nil)
		t.Logf("channel %d: image mean %.7f, se %.2g", c, m, se)
		if math.Abs(m-1) > nSigma*se+floatSlack {
			t.Errorf("channel %d: image mean %.7g, want 1 (se %.3g)", c, m, se)
		}
	}
	if ps.Discarded != 0 {
		t.Errorf("%d samples discarded", ps.Discarded)
	}
}

func TestFurnaceExact(t *testing.T) {
	k := scaled(24, 12)
	for _, tc := range furnaceExactMaterials() {
		for _, torus := range []bool{false, true} {
			name := tc.name + "/sphere"
			s := scenes.FurnaceSphere(tc.mat)
			if torus {
				name = tc.name + "/torus"
				s = furnaceTorus(tc.mat)
			}
			t.Run(name, func(t *testing.T) {
				setFilm(s, 24, 24, scaled(8, 4))
				ps := renderSeeds(t, s, render.Options{}, k, 100)
				checkAllOne(t, ps)
			})
		}
	}
}

// TestFurnaceLossy checks BSDFs that reflect at most what they receive:
// rough (single-scattering) GGX lobes lose the energy of the light their
// microfacets shadow. No pixel may be significantly above 1. The rough
// plastic's specular albedo may exceed F(cos_o) by 2e-4 near normal
// incidence (see BSDF's doc), which the bound allows. As a check that the
// object is not simply black, the image mean must stay above 0.8: the
// single-scattering loss at these roughnesses is a few percent (Kulla and
// Conty, "Revisiting Physically Based Shading at Imageworks", 2017, fig. 3).
func TestFurnaceLossy(t *testing.T) {
	k := scaled(24, 12)
	cases := []struct {
		name  string
		mat   render.Material
		slack float64
	}{
		{"roughplastic", render.Material{Kind: render.Plastic, Reflectance: render.ConstTexture(grey(1)),
			SpecularReflectance: render.ConstTexture(grey(1)), Alpha: render.ConstScalar(0.3), IntIOR: 1.49, ExtIOR: 1}, 2e-4},
		{"roughplastic-smooth-ish", render.Material{Kind: render.Plastic, Reflectance: render.ConstTexture(grey(1)),
			SpecularReflectance: render.ConstTexture(grey(1)), Alpha: render.ConstScalar(0.05), IntIOR: 1.49, ExtIOR: 1}, 2e-4},
		{"roughconductor", render.Material{Kind: render.Conductor, SpecularReflectance: render.ConstTexture(grey(1)),
			Alpha: render.ConstScalar(0.2), Eta: mgl64.Vec3{}, K: grey(1)}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := scenes.FurnaceSphere(tc.mat)
			setFilm(s, 24, 24, 4)
			ps := renderSeeds(t, s, render.Options{}, k, 200)
			bad := 0
			for y := 0; y < ps.H; y++ {
				for x := 0; x < ps.W; x++ {
					for c := 0; c < 3; c++ {
						m, se := ps.at(x, y, c)
						if m > 1+tc.slack+nSigma*se+floatSlack {
							if bad < 5 {
								t.Errorf("pixel (%d, %d) channel %d: mean %.6g above 1 (se %.3g)", x, y, c, m, se)
							}
							bad++
						}
					}
				}
			}
			for c := 0; c < 3; c++ {
				m, se, _ := ps.regionMean(0, 0, ps.W, ps.H, c, nil)
				if c == 0 {
					t.Logf("image mean %.5f (se %.2g)", m, se)
				}
				if m > 1+tc.slack+nSigma*se || m < 0.8 {
					t.Errorf("channel %d: image mean %.6g (se %.3g), want in [0.8, 1]", c, m, se)
				}
			}
			if ps.Discarded != 0 {
				t.Errorf("%d samples discarded", ps.Discarded)
			}
		})
	}
}

// TestFurnaceDepth checks Mitsuba's maxDepth semantics on the convex white
// sphere: 0 renders nothing, 1 only what the camera sees directly (the
// environment around a black sphere: each pixel is exactly the fraction of
// its samples that miss, 1 - alpha), 2 adds one bounce, which on a convex
// object is all there is (every pixel 1). HideEmitters hides the
// environment seen directly but not the light the sphere reflects.
func TestFurnaceDepth(t *testing.T) {
	white := render.Material{Kind: render.Diffuse, Reflectance: render.ConstTexture(grey(1))}
	k := scaled(24, 12)
	t.Run("maxDepth0", func(t *testing.T) {
		s := scenes.FurnaceSphere(white)
		setFilm(s, 16, 16, 4)
		s.Integrator.MaxDepth = 0
		res := renderOnce(t, s, render.Options{})
		if sum := res.Image.Sum(); sum != 0 {
			t.Errorf("maxDepth 0: image sum %g, want 0", sum)
		}
	})
	t.Run("maxDepth1", func(t *testing.T) {
		s := scenes.FurnaceSphere(white)
		setFilm(s, 16, 16, 16)
		s.Integrator.MaxDepth = 1
		res := renderOnce(t, s, render.Options{AOVs: render.AOVAlpha})
		im := res.Image
		covered := 0
		for i := 0; i < im.Width*im.Height; i++ {
			want := 1 - im.Alpha[i]
			for c := 0; c < 3; c++ {
				if math.Abs(im.Pix[3*i+c]-want) > 1e-12 {
					t.Fatalf("pixel %d: %g, want 1 - alpha = %g", i, im.Pix[3*i+c], want)
				}
			}
			if im.Alpha[i] == 1 {
				covered++
			}
		}
		if covered == 0 {
			t.Fatal("the sphere covers no pixel")
		}
	})
	t.Run("maxDepth2", func(t *testing.T) {
		s := scenes.FurnaceSphere(white)
		setFilm(s, 16, 16, 4)
		s.Integrator.MaxDepth = 2
		checkAllOne(t, renderSeeds(t, s, render.Options{}, k, 300))
	})
	t.Run("hideEmitters", func(t *testing.T) {
		s := scenes.FurnaceSphere(white)
		setFilm(s, 16, 16, 4)
		s.Integrator.HideEmitters = true
		ps := renderSeeds(t, s, render.Options{AOVs: render.AOVAlpha}, k, 400)
		inside, outside := 0, 0
		for i := 0; i < ps.W*ps.H; i++ {
			for c := 0; c < 3; c++ {
				m, se := ps.Mean[3*i+c], ps.SE[3*i+c]
				switch {
				case ps.AlphaMax[i] == 0:
					// Only the hidden environment: exactly black.
					if m != 0 {
						t.Errorf("background pixel %d: %g, want 0", i, m)
					}
					outside++
				case ps.AlphaMin[i] == 1:
					if math.Abs(m-1) > nSigma*se+floatSlack {
						t.Errorf("sphere pixel %d: %g, want 1 (se %.3g)", i, m, se)
					}
					inside++
				}
			}
		}
		if inside == 0 || outside == 0 {
			t.Fatalf("%d pixel values inside and %d outside the sphere: the test sees nothing", inside, outside)
		}
	})
}

// TestFurnaceTwoSided: a white quad seen from its back is black when its
// BSDF is one-sided (Mitsuba's default) and white, radiance 1 like its
// surroundings, when it is two-sided.
func TestFurnaceTwoSided(t *testing.T) {
	k := scaled(16, 8)
	for _, twoSided := range []bool{false, true} {
		mat := render.Material{Kind: render.Diffuse, TwoSided: twoSided, Reflectance: render.ConstTexture(grey(1))}
		s := scenes.FurnaceSphere(mat)
		p, idx := quadXY(-0.8, 0.8, -0.8, 0.8, 0)
		idx = []int32{0, 2, 1, 0, 3, 2} // facing -z, away from the camera at +z
		s.Shapes[0] = &render.Shape{Name: "object", Positions: p, Indices: idx}
		setFilm(s, 16, 16, 4)
		ps := renderSeeds(t, s, render.Options{AOVs: render.AOVAlpha}, k, 900)
		covered := 0
		for i := 0; i < ps.W*ps.H; i++ {
			if ps.AlphaMin[i] != 1 {
				continue
			}
			covered++
			for c := 0; c < 3; c++ {
				m, se := ps.Mean[3*i+c], ps.SE[3*i+c]
				if twoSided && math.Abs(m-1) > nSigma*se+floatSlack {
					t.Errorf("two-sided: pixel %d: %g, want 1 (se %.2g)", i, m, se)
				}
				if !twoSided && m != 0 {
					t.Errorf("one-sided: pixel %d: %g, want 0", i, m)
				}
			}
		}
		if covered < 20 {
			t.Fatalf("the quad covers only %d pixels", covered)
		}
	}
}

// TestEnvironmentOnly renders a scene without shapes (an empty BVH): every
// pixel shows the environment. With a constant environment each value is
// exactly its radiance; with a map and a filter of radius 1e-4 pixel each
// pixel is the map's radiance along the ray through its centre (to the
// 1e-4 pixel footprint times the map's gradient, well below 1e-3).
func TestEnvironmentOnly(t *testing.T) {
	sensor := &render.Sensor{Origin: mgl64.Vec3{0, 0, 0}, Target: mgl64.Vec3{1, 0.2, -1}, Up: mgl64.Vec3{0, 1, 0},
		Fov: 90, Width: 16, Height: 12, SPP: 2, Filter: render.Filter{Kind: render.FilterBox, Radius: 1e-4}}
	s := &render.Scene{Sensors: []*render.Sensor{sensor}, Integrator: render.Integrator{MaxDepth: -1},
		Env: &render.Environment{Radiance: mgl64.Vec3{0.3, 0.5, 0.7}, Scale: 2}}
	res := renderOnce(t, s, render.Options{})
	for i, v := range res.Image.Pix {
		if want := []float64{0.6, 1, 1.4}[i%3]; v != want {
			t.Fatalf("constant environment: value %d is %v, want %v", i, v, want)
		}
	}
	s = &render.Scene{Sensors: []*render.Sensor{sensor}, Integrator: render.Integrator{MaxDepth: -1},
		Env: &render.Environment{Image: skyImage(8, 4), Scale: 1, ToWorld: rotation(mgl64.Vec3{0, 1, 0}, 0.3)}}
	res = renderOnce(t, s, render.Options{})
	cam := mustCamera(t, s)
	for y := 0; y < cam.Height; y++ {
		for x := 0; x < cam.Width; x++ {
			want := s.EnvRadiance(cam.Ray(float64(x)+0.5, float64(y)+0.5).D)
			if d := res.Image.At(x, y).Sub(want).Len(); d > 1e-3 {
				t.Fatalf("pixel (%d, %d): %v, want %v", x, y, res.Image.At(x, y), want)
			}
		}
	}
}
