package render_test

import (
	"math"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/render"
	"github.com/invrender/invrender/scenes"
)

// roughPlastic turns every diffuse material with a non-black reflectance
// into a rough plastic with that diffuse reflectance, a white specular
// coating and roughness alpha.
func roughPlastic(s *render.Scene, alpha float64) {
	for _, m := range s.Materials {
		if m.Kind == render.Diffuse && m.Reflectance.Value != (mgl64.Vec3{}) {
			m.Kind = render.Plastic
			m.SpecularReflectance = render.ConstTexture(grey(1))
			m.Alpha = render.ConstScalar(alpha)
			m.IntIOR, m.ExtIOR = 1.49, 1
		}
	}
}

// TestStrategiesAgree renders scenes with emitter sampling only (NEE), BSDF
// sampling only and both combined by multiple importance sampling: three
// unbiased estimators of the same image. They must agree in every block of
// 8 x 8 pixels and over the whole image, per channel, within nSigma
// standard errors of the difference (from the spread over seeds of both
// estimates). 48 blocks and channels per pair of strategies at 5 sigma
// leave a false alarm probability near 3e-5. A wrong MIS weight, a pdf
// that does not match its sampler, or light counted twice or never by one
// of the strategies shows as a disagreement.
func TestStrategiesAgree(t *testing.T) {
	k := scaled(16, 8)
	cases := []struct {
		name  string
		scene func() *render.Scene
		// BSDF sampling needs more samples to find small lights.
		spp, bsdfSPP int
	}{
		{"cbox/diffuse", scenes.CornellBox, 4, 32},
		{"cbox/roughplastic", func() *render.Scene { s := scenes.CornellBox(); roughPlastic(s, 0.15); return s }, 4, 32},
		{"sphere/diffuse", scenes.SphereOnPlane, 4, 16},
		{"sphere/roughplastic", func() *render.Scene { s := scenes.SphereOnPlane(); roughPlastic(s, 0.1); return s }, 4, 16},
		{"sphere/roughconductor", func() *render.Scene {
			s := scenes.SphereOnPlane()
			*s.Materials[0] = render.Material{Name: "objmat", Kind: render.Conductor, SpecularReflectance: render.ConstTexture(grey(1)),
				Alpha: render.ConstScalar(0.2), Eta: mgl64.Vec3{0.2, 0.9, 1.1}, K: mgl64.Vec3{3.9, 2.4, 2.2}}
			return s
		}, 4, 16},
		{"sphere/smooth", func() *render.Scene {
			// Delta lobes: a mirror sphere on a smooth plastic plane, and
			// three segments so that the mirror shows the lit plane.
			s := scenes.SphereOnPlane()
			s.Integrator.MaxDepth = 3
			*s.Materials[0] = render.Material{Name: "objmat", Kind: render.Conductor, SpecularReflectance: render.ConstTexture(grey(1)),
				Eta: mgl64.Vec3{0.2, 0.9, 1.1}, K: mgl64.Vec3{3.9, 2.4, 2.2}}
			roughPlastic(s, 0)
			return s
		}, 4, 16},
		{"sphere/point+directional", func() *render.Scene {
			s := scenes.SphereOnPlane()
			s.Lights = []*render.Light{
				{Name: "bulb", Kind: render.PointLight, Position: mgl64.Vec3{-0.8, 1.2, 0.6}, Intensity: mgl64.Vec3{2, 1.5, 1}},
				{Name: "sun", Kind: render.DirectionalLight, Direction: mgl64.Vec3{0.5, -1, -0.3}, Intensity: mgl64.Vec3{0.5, 0.6, 0.8}},
			}
			return s
		}, 4, 16},
		{"envlit/diffuse", scenes.EnvLitSphere, 4, 8},
		{"envlit/roughplastic", func() *render.Scene { s := scenes.EnvLitSphere(); roughPlastic(s, 0.2); return s }, 4, 8},
	}
	if testing.Short() {
		cases = []struct {
			name         string
			scene        func() *render.Scene
			spp, bsdfSPP int
		}{cases[0], cases[3], cases[6], cases[7]}
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.scene()
			spp, bsdfSPP := tc.spp, tc.bsdfSPP
			if !testing.Short() {
				spp, bsdfSPP = 2*spp, 2*bsdfSPP
			}
			setFilm(s, 32, 32, spp)
			mustBuild(t, s)
			mis := renderSeeds(t, s, render.Options{Strategy: render.StrategyMIS}, k, 1000)
			nee := renderSeeds(t, s, render.Options{Strategy: render.StrategyNEE}, k, 2000)
			bsdf := renderSeeds(t, s, render.Options{Strategy: render.StrategyBSDF, SPP: bsdfSPP}, k, 3000)
			if m, _, _ := mis.regionMean(0, 0, 32, 32, 1, nil); !(m > 0.01) {
				t.Fatalf("image mean %v: the scene is black", m)
			}
			compareBlocks(t, "NEE", nee, "MIS", mis)
			compareBlocks(t, "BSDF", bsdf, "MIS", mis)
			compareBlocks(t, "NEE", nee, "BSDF", bsdf)
		})
	}
}

// compareBlocks compares the means of two estimates over 8 x 8 blocks and
// over the whole image.
func compareBlocks(t *testing.T, na string, a pixelStats, nb string, b pixelStats) {
	t.Helper()
	const bs = 8
	worst := 0.0
	for y := 0; y < a.H; y += bs {
		for x := 0; x < a.W; x += bs {
			for c := 0; c < 3; c++ {
				ma, ea, _ := a.regionMean(x, y, x+bs, y+bs, c, nil)
				mb, eb, _ := b.regionMean(x, y, x+bs, y+bs, c, nil)
				se := math.Hypot(ea, eb)
				d := math.Abs(ma - mb)
				if d <= floatSlack {
					continue
				}
				worst = math.Max(worst, d/se)
				if d > nSigma*se {
					t.Errorf("block (%d, %d) channel %d: %s %.5g, %s %.5g (se %.2g, %.1f sigma)", x, y, c, na, ma, nb, mb, se, d/se)
				}
			}
		}
	}
	for c := 0; c < 3; c++ {
		ma, ea, _ := a.regionMean(0, 0, a.W, a.H, c, nil)
		mb, eb, _ := b.regionMean(0, 0, b.W, b.H, c, nil)
		se := math.Hypot(ea, eb)
		if math.Abs(ma-mb) > nSigma*se {
			t.Errorf("image channel %d: %s %.5g, %s %.5g (se %.2g)", c, na, ma, nb, mb, se)
		}
		if c == 1 {
			t.Logf("%s vs %s: green means %.5f, %.5f (relative se %.2g); worst block %.2f sigma", na, nb, ma, mb, se/mb, worst)
		}
	}
}
