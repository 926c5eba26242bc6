package render_test

import (
	"math"
	"strings"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/render"
)

// validScene returns a small scene that builds: a textured quad ("quad")
// under a quad light ("lamp"), a plastic and a conductor material, a point
// light and an environment map.
func validScene() *render.Scene {
	q, qi := quadXZ(-1, 1, -1, 1, 0, true)
	l, li := quadXZ(-0.2, 0.2, -0.2, 0.2, 1, false)
	img := render.NewImage(2, 2)
	img.Pix = []float64{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.5, 0.5, 0.5}
	env := render.NewImage(4, 2)
	for i := range env.Pix {
		env.Pix[i] = 0.5
	}
	return &render.Scene{
		Sensors: []*render.Sensor{{Name: "sensor", Origin: mgl64.Vec3{0, 2, 3}, Target: mgl64.Vec3{}, Up: mgl64.Vec3{0, 1, 0},
			Fov: 40, Width: 8, Height: 8, SPP: 1}},
		Integrator: render.Integrator{MaxDepth: 3},
		Materials: []*render.Material{
			{Name: "texmat", Kind: render.Diffuse, Reflectance: render.Texture{Image: img}},
			{Name: "plasticmat", Kind: render.Plastic, Reflectance: render.ConstTexture(grey(0.5)),
				SpecularReflectance: render.ConstTexture(grey(1)), Alpha: render.ConstScalar(0.1), IntIOR: 1.5, ExtIOR: 1},
			{Name: "metal", Kind: render.Conductor, SpecularReflectance: render.ConstTexture(grey(1)),
				Alpha: render.ConstScalar(0.2), Eta: mgl64.Vec3{0.2, 0.9, 1.1}, K: mgl64.Vec3{3, 2.5, 2.3}},
		},
		Shapes: []*render.Shape{
			{Name: "quad", Positions: q, Indices: qi, Material: 0,
				Normals: []mgl64.Vec3{{0, 1, 0}, {0, 1, 0}, {0, 1, 0}, {0, 1, 0}},
				UVs:     []mgl64.Vec2{{0, 0}, {1, 0}, {1, 1}, {0, 1}}},
			{Name: "lamp", Positions: l, Indices: li, Material: 1, Emitter: &render.AreaEmitter{Radiance: grey(3)}},
		},
		Lights: []*render.Light{{Name: "bulb", Kind: render.PointLight, Position: mgl64.Vec3{1, 1, 1}, Intensity: grey(2)}},
		Env:    &render.Environment{Name: "sky", Image: env, Scale: 1},
	}
}

// TestBuildErrors is a table of invalid scenes: Build must reject each with
// an error that names the offending shape, material, light or environment
// and says what is wrong, and must not panic. Scene data is validated once,
// at Build, so that the renderer's inner loops can trust it: NaN and
// infinite values are rejected wherever they can enter radiance.
func TestBuildErrors(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	cases := []struct {
		name string
		edit func(s *render.Scene)
		want []string
	}{
		{"index out of range", func(s *render.Scene) { s.Shapes[0].Indices[4] = 9 }, []string{`"quad"`, "index 9 out of range"}},
		{"negative index", func(s *render.Scene) { s.Shapes[1].Indices[0] = -1 }, []string{`"lamp"`, "out of range"}},
		{"index count", func(s *render.Scene) { s.Shapes[0].Indices = s.Shapes[0].Indices[:5] }, []string{`"quad"`, "multiple of 3"}},
		{"material out of range", func(s *render.Scene) { s.Shapes[1].Material = 3 }, []string{`"lamp"`, "material index 3 out of range"}},
		{"negative material", func(s *render.Scene) { s.Shapes[0].Material = -1 }, []string{`"quad"`, "material index -1"}},
		{"NaN position", func(s *render.Scene) { s.Shapes[0].Positions[2][1] = nan }, []string{`"quad"`, "vertex 2", "finite"}},
		{"infinite position", func(s *render.Scene) { s.Shapes[1].Positions[0][0] = -inf }, []string{`"lamp"`, "finite"}},
		{"zero normal", func(s *render.Scene) { s.Shapes[0].Normals[3] = mgl64.Vec3{} }, []string{`"quad"`, "vertex 3", "normal"}},
		{"NaN normal", func(s *render.Scene) { s.Shapes[0].Normals[1][2] = nan }, []string{`"quad"`, "normal"}},
		{"normal count", func(s *render.Scene) { s.Shapes[0].Normals = s.Shapes[0].Normals[:3] }, []string{`"quad"`, "3 normals for 4 vertices"}},
		{"NaN uv", func(s *render.Scene) { s.Shapes[0].UVs[0][0] = nan }, []string{`"quad"`, "uv"}},
		{"uv count", func(s *render.Scene) { s.Shapes[0].UVs = s.Shapes[0].UVs[:1] }, []string{`"quad"`, "uvs"}},
		{"negative radiance", func(s *render.Scene) { s.Shapes[1].Emitter.Radiance[1] = -1 }, []string{`"lamp"`, "radiance"}},
		{"NaN radiance", func(s *render.Scene) { s.Shapes[1].Emitter.Radiance[2] = nan }, []string{`"lamp"`, "radiance"}},
		{"infinite radiance", func(s *render.Scene) { s.Shapes[1].Emitter.Radiance[0] = inf }, []string{`"lamp"`, "radiance"}},
		{"NaN texel", func(s *render.Scene) { s.Materials[0].Reflectance.Image.Pix[4] = nan }, []string{`"texmat"`, "finite"}},
		{"infinite texel", func(s *render.Scene) { s.Materials[0].Reflectance.Image.Pix[11] = inf }, []string{`"texmat"`, "finite"}},
		{"texture size", func(s *render.Scene) { s.Materials[0].Reflectance.Image.Pix = s.Materials[0].Reflectance.Image.Pix[:9] }, []string{`"texmat"`, "values"}},
		{"NaN reflectance", func(s *render.Scene) { s.Materials[1].Reflectance.Value[0] = nan }, []string{`"plasticmat"`, "finite"}},
		{"infinite specular", func(s *render.Scene) { s.Materials[2].SpecularReflectance.Value[0] = inf }, []string{`"metal"`, "finite"}},
		{"negative alpha", func(s *render.Scene) { s.Materials[1].Alpha = render.ConstScalar(-0.1) }, []string{`"plasticmat"`, "alpha"}},
		{"negative IOR", func(s *render.Scene) { s.Materials[1].IntIOR = -1.5 }, []string{`"plasticmat"`, "indices of refraction"}},
		{"NaN IOR", func(s *render.Scene) { s.Materials[1].ExtIOR = nan }, []string{`"plasticmat"`, "indices of refraction"}},
		{"NaN eta", func(s *render.Scene) { s.Materials[2].Eta[1] = nan }, []string{`"metal"`, "finite"}},
		{"infinite k", func(s *render.Scene) { s.Materials[2].K[0] = inf }, []string{`"metal"`, "finite"}},
		{"NaN light", func(s *render.Scene) { s.Lights[0].Intensity[0] = nan }, []string{`"bulb"`, "finite"}},
		{"NaN light position", func(s *render.Scene) { s.Lights[0].Position[0] = nan }, []string{`"bulb"`, "finite"}},
		{"zero direction", func(s *render.Scene) {
			s.Lights[0].Kind = render.DirectionalLight
			s.Lights[0].Direction = mgl64.Vec3{}
		}, []string{`"bulb"`, "zero direction"}},
		{"NaN env texel", func(s *render.Scene) { s.Env.Image.Pix[5] = nan }, []string{`"sky"`, "finite"}},
		{"NaN env scale", func(s *render.Scene) { s.Env.Scale = nan }, []string{`"sky"`, "finite"}},
		{"NaN env radiance", func(s *render.Scene) { s.Env.Image = nil; s.Env.Radiance[0] = nan }, []string{`"sky"`, "finite"}},
		{"no materials", func(s *render.Scene) { s.Materials = nil }, []string{"no materials"}},
	}
	if err := validScene().Build(); err != nil {
		t.Fatalf("the valid scene does not build: %v", err)
	}
	for _, c := range cases {
		s := validScene()
		c.edit(s)
		err := s.Build()
		if err == nil {
			t.Errorf("%s: Build accepted the scene", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not say %q", c.name, err, w)
			}
		}
	}
}

// TestBuildDefaults: a plastic material that leaves its indices of
// refraction at zero gets Mitsuba's defaults (BSDFAt's documented reading),
// so Build accepts it.
func TestBuildDefaults(t *testing.T) {
	s := validScene()
	s.Materials[1].IntIOR, s.Materials[1].ExtIOR = 0, 0
	if err := s.Build(); err != nil {
		t.Fatalf("Build: %v", err)
	}
	if b := s.Materials[1].BSDFAt(mgl64.Vec2{}); math.Abs(b.Eta-render.DefaultIntIOR/render.DefaultExtIOR) > 1e-15 {
		t.Errorf("Eta = %v, want the default %v", b.Eta, render.DefaultIntIOR/render.DefaultExtIOR)
	}
	res := renderOnce(t, s, render.Options{})
	if res.Stats.Discarded != 0 {
		t.Errorf("%d samples discarded", res.Stats.Discarded)
	}
}

// TestBuildFlagsDegenerate: zero-area triangles are flagged, never sampled
// as lights, and ray tracing never hits them.
func TestBuildFlagsDegenerate(t *testing.T) {
	s := validScene()
	lamp := s.Shapes[1]
	lamp.Positions = append(lamp.Positions, mgl64.Vec3{0, 1, 0}, mgl64.Vec3{0.1, 1, 0}, mgl64.Vec3{0.2, 1, 0})
	lamp.Indices = append(lamp.Indices, 4, 5, 6, 4, 4, 5)
	mustBuild(t, s)
	if want := []bool{false, false, true, true}; len(lamp.Degenerate) != 4 || lamp.Degenerate[2] != want[2] || lamp.Degenerate[3] != want[3] || lamp.Degenerate[0] || lamp.Degenerate[1] {
		t.Errorf("Degenerate = %v, want %v", lamp.Degenerate, want)
	}
	// 2 quad triangles, point light, environment.
	if n := s.NumEmitters(); n != 4 {
		t.Errorf("%d emitters, want 4", n)
	}
}
