package scenes

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/render"
)

// saveTestScene is a scene with everything SaveXML writes: two sensors
// (box and Gaussian filters, fov along y), the direct integrator, every
// material kind (rough and smooth, two-sided, textured roughness and
// colour with wrap, nearest lookup and UV scale), a shape with normals
// and UVs, an emitter, point and directional lights and a rotated
// environment map.
func saveTestScene() *render.Scene {
	s := TexturedQuad()
	s.Integrator = render.Integrator{Kind: render.DirectIntegrator, MaxDepth: 2, RRDepth: 5}
	side := *s.Sensors[0]
	side.Name = "side camera"
	side.Origin = mgl64.Vec3{1.5, 0.25, 3}
	side.Up = mgl64.Vec3{0.1, 1, 0}
	side.Fov, side.FovAxis = 33.5, render.FovY
	side.Width, side.Height = 40, 30
	side.Filter = render.Filter{Kind: render.FilterGaussian, Stddev: 0.4}
	side.SPP, side.Seed = 3, 17
	s.Sensors = append(s.Sensors, &side)
	s.Sensors[0].Filter.Radius = 0.7
	quad := s.Shapes[0]
	quad.Normals = make([]mgl64.Vec3, len(quad.Positions))
	for i := range quad.Normals {
		quad.Normals[i] = mgl64.Vec3{0.1 * float64(i), 0.2, 1}.Normalize()
	}
	tex := s.Materials[0].Reflectance
	tex.Wrap, tex.Nearest, tex.UScale, tex.VScale = render.WrapMirror, true, 2, 0.5
	rough := builtinChecker(4, 4)
	s.Materials = append(s.Materials,
		&render.Material{Name: "plastic", Kind: render.Plastic, TwoSided: true, Reflectance: tex,
			SpecularReflectance: render.ConstTexture(mgl64.Vec3{0.9, 0.8, 0.7}), Alpha: render.ConstScalar(0.25),
			IntIOR: 1.5046, ExtIOR: 1.000277, Nonlinear: true},
		&render.Material{Name: "gold", Kind: render.Conductor, Reflectance: render.ConstScalar(0),
			SpecularReflectance: render.ConstScalar(1), Alpha: render.Texture{Image: rough},
			Eta: mgl64.Vec3{0.143036, 0.375307, 1.442045}, K: mgl64.Vec3{3.982997, 2.385556, 1.603359}, IntIOR: 1, ExtIOR: 1},
		&render.Material{Name: "mirror", Kind: render.Conductor, SpecularReflectance: render.ConstScalar(1),
			Eta: mgl64.Vec3{0, 0, 0}, K: mgl64.Vec3{1, 1, 1}, IntIOR: 1, ExtIOR: 1},
		&render.Material{Name: "shiny", Kind: render.Plastic, Reflectance: render.ConstScalar(0.5),
			SpecularReflectance: render.ConstScalar(1), IntIOR: 1.49, ExtIOR: 1.000277},
	)
	tri := func(name string, mat int, z float64) *render.Shape {
		sh := &render.Shape{Name: name, Positions: []mgl64.Vec3{{-1, -1, z}, {1, -1, z}, {0, 1.0 / 3, z}}, Indices: []int32{0, 1, 2}, Material: mat}
		return sh
	}
	s.Shapes = append(s.Shapes, tri("plastic tri", 2, -0.5), tri("gold tri", 3, -0.6), tri("mirror tri", 4, -0.7), tri("shiny tri", 5, -0.8))
	s.Lights = []*render.Light{
		{Name: "bulb", Kind: render.PointLight, Position: mgl64.Vec3{0.3, 2, 1}, Intensity: mgl64.Vec3{5, 4, 3}},
		{Name: "sun", Kind: render.DirectionalLight, Direction: mgl64.Vec3{0.6, -0.8, 0}, Intensity: mgl64.Vec3{1, 1, 0.9}},
	}
	rot := mgl64.Rotate3DY(0.3)
	s.Env = &render.Environment{Name: "sky", Image: builtinSkyMap(16, 8), Scale: 0.5, ToWorld: rot}
	return s
}

// TestSaveXMLRoundTrip saves scenes and loads them back: the loaded scene
// must equal the saved one where SaveXML says it is exact and agree
// within the stated roundings elsewhere, and the loader must have nothing
// to warn about.
func TestSaveXMLRoundTrip(t *testing.T) {
	cases := []struct {
		name string
		s    *render.Scene
	}{
		{"sphere", SphereOnPlane()},
		{"cbox", CornellBox()},
		{"furnace", FurnaceSphere(render.Material{Kind: render.Diffuse, Reflectance: render.ConstScalar(0.8)})},
		{"everything", saveTestScene()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "scene.xml")
			if err := SaveXML(path, tc.s); err != nil {
				t.Fatal(err)
			}
			got, err := LoadFile(path)
			if err != nil {
				data, _ := os.ReadFile(path)
				t.Fatalf("%v\n%s", err, data)
			}
			if len(got.Warnings) > 0 {
				t.Errorf("the loader warns:\n%s", strings.Join(got.Warnings, "\n"))
			}
			compareScenes(t, got, tc.s)
			// Nothing but the scene and its files in the directory, no
			// temporary files left.
			ents, _ := os.ReadDir(dir)
			for _, e := range ents {
				if !strings.HasPrefix(e.Name(), "scene") || strings.Contains(e.Name(), ".tmp") {
					t.Errorf("unexpected file %s", e.Name())
				}
			}
		})
	}
}

func compareScenes(t *testing.T, got, want *render.Scene) {
	t.Helper()
	if got.Integrator != want.Integrator {
		t.Errorf("integrator %+v, want %+v", got.Integrator, want.Integrator)
	}
	if len(got.Sensors) != len(want.Sensors) {
		t.Fatalf("%d sensors, want %d", len(got.Sensors), len(want.Sensors))
	}
	for i, w := range want.Sensors {
		g := *got.Sensors[i]
		wf, gf := w.Filter, g.Filter
		if wf.SupportRadius() != gf.SupportRadius() || wf.Kind != gf.Kind || (wf.Kind == render.FilterGaussian && wf.Stddev != gf.Stddev) {
			t.Errorf("sensor %d filter %+v, want %+v", i, gf, wf)
		}
		g.Filter = w.Filter
		if w.Name != "" && g != *w {
			t.Errorf("sensor %d:\n got %+v\nwant %+v", i, g, *w)
		}
	}
	// Materials by name: the loader orders them by first use.
	mats := map[string]*render.Material{}
	for _, m := range got.Materials {
		mats[m.Name] = m
	}
	used := map[int]bool{}
	for _, sh := range want.Shapes {
		used[sh.Material] = true
	}
	for i, w := range want.Materials {
		g := mats[w.Name]
		if g == nil {
			if used[i] {
				t.Errorf("material %q is missing", w.Name)
			}
			continue
		}
		if g.Kind != w.Kind || g.TwoSided != w.TwoSided || g.Nonlinear != w.Nonlinear || g.Eta != w.Eta || g.K != w.K {
			t.Errorf("material %q: %+v, want %+v", w.Name, g, w)
		}
		if w.Kind == render.Plastic && (g.IntIOR != w.IntIOR || g.ExtIOR != w.ExtIOR) {
			t.Errorf("material %q: indices %g, %g, want %g, %g", w.Name, g.IntIOR, g.ExtIOR, w.IntIOR, w.ExtIOR)
		}
		compareTexture(t, w.Name+" reflectance", &g.Reflectance, &w.Reflectance, w.Kind != render.Conductor, false)
		compareTexture(t, w.Name+" specular", &g.SpecularReflectance, &w.SpecularReflectance, w.Kind != render.Diffuse, false)
		compareTexture(t, w.Name+" alpha", &g.Alpha, &w.Alpha, w.Kind != render.Diffuse, true)
	}
	if len(got.Shapes) != len(want.Shapes) {
		t.Fatalf("%d shapes, want %d", len(got.Shapes), len(want.Shapes))
	}
	for i, w := range want.Shapes {
		g := got.Shapes[i]
		if g.Name != w.Name || got.Materials[g.Material].Name != want.Materials[w.Material].Name {
			t.Errorf("shape %d: %q with %q, want %q with %q", i, g.Name, got.Materials[g.Material].Name, w.Name, want.Materials[w.Material].Name)
		}
		if !equalVec3s(g.Positions, w.Positions, 0) || !equalInts(g.Indices, w.Indices) {
			t.Errorf("shape %q: geometry differs", w.Name)
		}
		// Normals are normalised by the PLY reader: equal to rounding.
		if (g.Normals == nil) != (w.Normals == nil) || !equalVec3s(g.Normals, w.Normals, 1e-15) {
			t.Errorf("shape %q: normals %v, want %v", w.Name, g.Normals, w.Normals)
		}
		if len(g.UVs) != len(w.UVs) {
			t.Errorf("shape %q: %d UVs, want %d", w.Name, len(g.UVs), len(w.UVs))
		}
		for k := range w.UVs {
			if g.UVs[k] != w.UVs[k] {
				t.Errorf("shape %q: uv %d = %v, want %v", w.Name, k, g.UVs[k], w.UVs[k])
				break
			}
		}
		if (g.Emitter == nil) != (w.Emitter == nil) || (w.Emitter != nil && *g.Emitter != *w.Emitter) {
			t.Errorf("shape %q: emitter %v, want %v", w.Name, g.Emitter, w.Emitter)
		}
	}
	if len(got.Lights) != len(want.Lights) {
		t.Fatalf("%d lights, want %d", len(got.Lights), len(want.Lights))
	}
	for i, w := range want.Lights {
		if *got.Lights[i] != *w {
			t.Errorf("light %d: %+v, want %+v", i, *got.Lights[i], *w)
		}
	}
	switch w, g := want.Env, got.Env; {
	case (w == nil) != (g == nil):
		t.Fatalf("environment %v, want %v", g, w)
	case w == nil:
	case w.Image == nil:
		// The scale is folded into the radiance.
		scale := w.Scale
		if scale == 0 {
			scale = 1
		}
		if g.Name != w.Name || g.Image != nil || g.Radiance != w.Radiance.Mul(scale) || g.Scale != 1 {
			t.Errorf("environment %+v, want %+v", g, w)
		}
	default:
		if g.Name != w.Name || g.Scale != w.Scale || !closeMat3(g.ToWorld, w.ToWorld) {
			t.Errorf("environment %+v, want %+v", g, w)
		}
		compareImages(t, "environment", g.Image, w.Image)
	}
}

// closeMat3 compares rotations: the loader recovers the rotation part of
// the matrix it reads, exact up to the Gram-Schmidt rounding.
func closeMat3(a, b mgl64.Mat3) bool {
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-15 {
			return false
		}
	}
	return true
}

// compareTexture compares constant textures exactly (scalar ones by their
// first channel) and bitmaps to float32 rounding.
func compareTexture(t *testing.T, what string, g, w *render.Texture, used, scalar bool) {
	t.Helper()
	if !used {
		return
	}
	if (g.Image == nil) != (w.Image == nil) {
		t.Errorf("%s: bitmap %v, want %v", what, g.Image != nil, w.Image != nil)
		return
	}
	if w.Image == nil {
		if scalar && g.Value[0] != w.Value[0] || !scalar && g.Value != w.Value {
			t.Errorf("%s = %v, want %v", what, g.Value, w.Value)
		}
		return
	}
	scale := func(v float64) float64 {
		if v == 0 {
			return 1
		}
		return v
	}
	if g.Wrap != w.Wrap || g.Nearest != w.Nearest || scale(g.UScale) != scale(w.UScale) || scale(g.VScale) != scale(w.VScale) {
		t.Errorf("%s: %+v, want %+v", what, *g, *w)
	}
	compareImages(t, what, g.Image, w.Image)
}

// compareImages allows the rounding of OpenEXR FLOAT channels: half an
// ulp of float32, 2^-24 relative.
func compareImages(t *testing.T, what string, g, w *render.Image) {
	t.Helper()
	if g.Width != w.Width || g.Height != w.Height {
		t.Errorf("%s: %dx%d, want %dx%d", what, g.Width, g.Height, w.Width, w.Height)
		return
	}
	for i, v := range w.Pix {
		if math.Abs(g.Pix[i]-v) > 0x1p-24*math.Abs(v) {
			t.Errorf("%s: value %d = %v, want %v", what, i, g.Pix[i], v)
			return
		}
	}
}

func equalVec3s(a, b []mgl64.Vec3, tol float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		for k := 0; k < 3; k++ {
			if math.Abs(a[i][k]-b[i][k]) > tol {
				return false
			}
		}
	}
	return true
}

func equalInts(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestSaveXMLNames checks ids: anonymous objects get the names the
// parameter registry gives them, names two objects share get suffixes, and
// file names keep only safe characters.
func TestSaveXMLNames(t *testing.T) {
	s := EmissiveTriangle()
	s.Shapes[0].Name = ""
	s.Materials[0].Name = ""
	s.Sensors[0].Name = ""
	s.Lights = []*render.Light{{Kind: render.PointLight, Position: mgl64.Vec3{0, 0, 1}, Intensity: mgl64.Vec3{1, 1, 1}}}
	extra := *s.Shapes[0]
	extra.Name = "a/b c"
	twin := extra
	s.Shapes = append(s.Shapes, &extra, &twin)
	dir := t.TempDir()
	path := filepath.Join(dir, "out.xml")
	if err := SaveXML(path, s); err != nil {
		t.Fatal(err)
	}
	got, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, sh := range got.Shapes {
		names = append(names, sh.Name)
	}
	if strings.Join(names, ",") != "shape_0,a/b c,a/b c_2" || got.Materials[0].Name != "bsdf_0" || got.Sensors[0].Name != "sensor" || got.Lights[0].Name != "light_0" {
		t.Errorf("shapes %q, material %q, sensor %q, light %q", names, got.Materials[0].Name, got.Sensors[0].Name, got.Lights[0].Name)
	}
	for _, f := range []string{"out-shape_0.ply", "out-a_b_c.ply", "out-a_b_c_2.ply"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
}

// TestSaveXMLErrors checks that what the XML cannot hold is refused with
// the object named, and that nothing is written then.
func TestSaveXMLErrors(t *testing.T) {
	cases := []struct {
		name string
		edit func(s *render.Scene)
		want string
	}{
		{"fov", func(s *render.Scene) { s.Sensors[0].Fov = 200 }, "field of view"},
		{"nan", func(s *render.Scene) { s.Sensors[0].Origin[1] = math.NaN() }, "non-finite"},
		{"material", func(s *render.Scene) { s.Shapes[0].Material = 7 }, "material index 7"},
		{"radiance", func(s *render.Scene) { s.Shapes[0].Emitter.Radiance[0] = math.Inf(1) }, "not finite"},
		{"nil", nil, "nil scene"},
	}
	for _, tc := range cases {
		dir := t.TempDir()
		var s *render.Scene
		if tc.edit != nil {
			s = EmissiveTriangle()
			tc.edit(s)
		}
		err := SaveXML(filepath.Join(dir, "x.xml"), s)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to mention %q", tc.name, err, tc.want)
		}
		if _, err := os.Stat(filepath.Join(dir, "x.xml")); err == nil {
			t.Errorf("%s: the XML was written", tc.name)
		}
	}
}
