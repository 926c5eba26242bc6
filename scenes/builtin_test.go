package scenes

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/render"
)

var builtinScenes = map[string]func() *render.Scene{
	"CornellBox":       CornellBox,
	"SphereOnPlane":    SphereOnPlane,
	"DenseScene(2)":    func() *render.Scene { return DenseScene(2) },
	"EmissiveTriangle": EmissiveTriangle,
	"OccluderScene":    OccluderScene,
	"FurnaceSphere":    func() *render.Scene { return FurnaceSphere(*builtinDiffuse("", 1, 1, 1)) },
	"TexturedQuad":     TexturedQuad,
	"EnvLitSphere":     EnvLitSphere,
}

// TestBuiltinScenesWellFormed checks what the renderer relies on in every
// built-in scene.
func TestBuiltinScenesWellFormed(t *testing.T) {
	for name, build := range builtinScenes {
		t.Run(name, func(t *testing.T) {
			sc := build()
			if len(sc.Sensors) != 1 {
				t.Fatalf("%d sensors", len(sc.Sensors))
			}
			s := sc.Sensors[0]
			if s.Name != "sensor" || s.Width <= 0 || s.Height <= 0 || s.SPP <= 0 || s.Fov <= 0 || s.Fov >= 180 ||
				s.NearClip != 0.01 || s.FarClip != 10000 || s.Filter.Kind != render.FilterBox {
				t.Errorf("sensor %+v", *s)
			}
			if s.Origin.Sub(s.Target).Cross(s.Up).Len() < 1e-9 {
				t.Error("up is parallel to the view direction")
			}
			if sc.Integrator.MaxDepth == 0 || sc.Integrator.MaxDepth < -1 {
				t.Errorf("maxDepth %d", sc.Integrator.MaxDepth)
			}
			mats := map[string]bool{}
			for _, m := range sc.Materials {
				if m.Name == "" || mats[m.Name] {
					t.Errorf("material name %q empty or repeated", m.Name)
				}
				mats[m.Name] = true
				if m.Reflectance.Image != nil {
					if err := m.Reflectance.Image.Validate(); err != nil {
						t.Error(err)
					}
				}
			}
			shapes := map[string]bool{}
			lights := 0
			for _, sh := range sc.Shapes {
				if sh.Name == "" || shapes[sh.Name] {
					t.Errorf("shape name %q empty or repeated", sh.Name)
				}
				shapes[sh.Name] = true
				if msg := meshInvariants(sh); msg != "" {
					t.Errorf("shape %q: %s", sh.Name, msg)
				}
				for i, d := range sh.Degenerate {
					if d {
						t.Errorf("shape %q: triangle %d is degenerate", sh.Name, i)
					}
				}
				if sh.Material < 0 || sh.Material >= len(sc.Materials) {
					t.Errorf("shape %q: material %d out of range", sh.Name, sh.Material)
				}
				if sh.Emitter != nil {
					lights++
					// A one-sided light must face the part of the scene
					// it lights (the sensor's target) or the camera.
					a, b, c := sh.Positions[sh.Indices[0]], sh.Positions[sh.Indices[1]], sh.Positions[sh.Indices[2]]
					n := meshCross(a, b, c)
					if n.Dot(s.Target.Sub(a)) <= 0 && n.Dot(s.Origin.Sub(a)) <= 0 {
						t.Errorf("light %q faces away from the scene", sh.Name)
					}
				}
			}
			if lights == 0 && sc.Env == nil {
				t.Error("no light")
			}
			if sc.Env != nil {
				if sc.Env.Name == "" || sc.Env.Scale != 1 || sc.Env.ToWorld != mgl64.Ident3() {
					t.Errorf("environment %+v", *sc.Env)
				}
				if sc.Env.Image != nil {
					if err := sc.Env.Image.Validate(); err != nil {
						t.Error(err)
					}
				}
			}
			// Each call builds a new scene.
			if again := build(); again.Shapes[0] == sc.Shapes[0] || &again.Shapes[0].Positions[0] == &sc.Shapes[0].Positions[0] {
				t.Error("two calls share data")
			}
		})
	}
}

func builtinNames(sc *render.Scene) (shapes, mats []string) {
	for _, s := range sc.Shapes {
		shapes = append(shapes, s.Name+"/"+sc.Materials[s.Material].Name)
	}
	for _, m := range sc.Materials {
		mats = append(mats, m.Name)
	}
	return shapes, mats
}

func builtinEqualStrings(a, b []string) bool {
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

// Vertices of the generated benchmark files (cbox/shortbox.obj,
// cbox/tallbox.obj, sphere/object.obj, dense/object.obj), copied from the
// scene generator's output.
var (
	goldenShortbox = []mgl64.Vec3{{0.130820, 0, -0.004603}, {0.704603, 0, 0.170820}, {0.529180, 0, 0.744603}, {-0.044603, 0, 0.569180},
		{0.130820, 0.6, -0.004603}, {0.704603, 0.6, 0.170820}, {0.529180, 0.6, 0.744603}, {-0.044603, 0.6, 0.569180}}
	goldenTallbox = []mgl64.Vec3{{-0.734514, 0, -0.479302}, {-0.170698, 0, -0.684514}, {0.034514, 0, -0.120698}, {-0.529302, 0, 0.084514},
		{-0.734514, 1.2, -0.479302}, {-0.170698, 1.2, -0.684514}, {0.034514, 1.2, -0.120698}, {-0.529302, 1.2, 0.084514}}
	goldenSphere = map[int]mgl64.Vec3{12: {-0.404508, 0.75, 0.154508}, 100: {0, 0.636633, -0.480969}, 2561: {0.470809, 0.667070, 0.020651}}
	goldenDense  = map[int]mgl64.Vec3{0: {-0.262866, 0.975325, 0}, 4999: {-0.094819, 0.724834, 0.436889}, 163841: {0.468105, 0.730403, -0.002593}}
)

func TestCornellBoxMatchesBenchmark(t *testing.T) {
	sc := CornellBox()
	shapes, mats := builtinNames(sc)
	wantShapes := []string{"floor/white", "ceiling/white", "back/white", "left/red", "right/green", "shortbox/white", "tallbox/white", "light/lightmat"}
	if !builtinEqualStrings(shapes, wantShapes) || !builtinEqualStrings(mats, []string{"white", "red", "green", "lightmat"}) {
		t.Errorf("shapes %v materials %v", shapes, mats)
	}
	for i, want := range goldenShortbox {
		if got := sc.Shapes[5].Positions[i]; got != want {
			t.Errorf("shortbox vertex %d = %v, want %v", i, got, want)
		}
	}
	for i, want := range goldenTallbox {
		if got := sc.Shapes[6].Positions[i]; got != want {
			t.Errorf("tallbox vertex %d = %v, want %v", i, got, want)
		}
	}
	if sc.Shapes[7].Emitter == nil || sc.Shapes[7].Emitter.Radiance != (mgl64.Vec3{17, 12, 4}) {
		t.Error("light radiance")
	}
	for _, s := range sc.Shapes[:7] {
		if s.Emitter != nil {
			t.Errorf("%s emits", s.Name)
		}
	}
	if r := sc.Materials[1].Reflectance.Value; r != (mgl64.Vec3{0.63, 0.065, 0.05}) {
		t.Errorf("red = %v", r)
	}
	s := sc.Sensors[0]
	if s.Origin != (mgl64.Vec3{0, 1, 3.9}) || s.Target != (mgl64.Vec3{0, 1, 0}) || s.Fov != 39.3 || s.FovAxis != render.FovX ||
		s.Width != 256 || s.Height != 256 || s.SPP != 16 || sc.Integrator.MaxDepth != 3 || sc.Integrator.Kind != render.PathIntegrator {
		t.Errorf("sensor %+v integrator %+v", *s, sc.Integrator)
	}
}

func TestSphereAndDenseMatchBenchmark(t *testing.T) {
	sc := SphereOnPlane()
	shapes, mats := builtinNames(sc)
	if !builtinEqualStrings(shapes, []string{"object/objmat", "plane/planemat", "light/lightmat"}) ||
		!builtinEqualStrings(mats, []string{"objmat", "planemat", "lightmat"}) {
		t.Errorf("shapes %v materials %v", shapes, mats)
	}
	obj := sc.Shapes[0]
	if len(obj.Positions) != 2562 || obj.NumTriangles() != 5120 {
		t.Fatalf("sphere has %d vertices, %d triangles", len(obj.Positions), obj.NumTriangles())
	}
	for i, want := range goldenSphere {
		if obj.Positions[i] != want {
			t.Errorf("sphere vertex %d = %v, want %v", i, obj.Positions[i], want)
		}
	}
	// First and last faces of sphere/object.obj: "f 1 643 645", "f 2561 2562 2560".
	if !meshEqualIndices(obj.Indices[:3], []int32{0, 642, 644}) || !meshEqualIndices(obj.Indices[len(obj.Indices)-3:], []int32{2560, 2561, 2559}) {
		t.Errorf("sphere faces differ from the benchmark's")
	}
	s := sc.Sensors[0]
	if s.Origin != (mgl64.Vec3{0, 1.6, 3.2}) || s.Target != (mgl64.Vec3{0, 0.45, 0}) || s.Fov != 45 || s.SPP != 16 ||
		sc.Integrator.MaxDepth != 2 || sc.Shapes[2].Emitter.Radiance != (mgl64.Vec3{20, 20, 20}) {
		t.Errorf("sensor %+v integrator %+v", *s, sc.Integrator)
	}
	if DenseScene(3).Shapes[0].NumTriangles() != 1280 || DenseScene(-2).Shapes[0].NumTriangles() != 20 {
		t.Error("DenseScene triangle counts")
	}
	if testing.Short() {
		t.Skip("the 327,680-triangle mesh in -short mode")
	}
	d := DenseScene(7)
	if d.Sensors[0].SPP != 4 || d.Shapes[0].NumTriangles() != 327680 {
		t.Errorf("dense: spp %d, %d triangles", d.Sensors[0].SPP, d.Shapes[0].NumTriangles())
	}
	for i, want := range goldenDense {
		if got := d.Shapes[0].Positions[i]; got != want {
			t.Errorf("dense vertex %d = %v, want %v", i, got, want)
		}
	}
}

// TestBuiltinAgainstGeneratedFiles compares the benchmark scenes with the
// scene generator's OBJ files, vertex for vertex, when the environment
// variable INVRENDER_BENCH_SCENES names the generator's output directory.
func TestBuiltinAgainstGeneratedFiles(t *testing.T) {
	dir := os.Getenv("INVRENDER_BENCH_SCENES")
	if dir == "" {
		t.Skip("INVRENDER_BENCH_SCENES is not set")
	}
	cases := map[string]*render.Scene{"cbox": CornellBox(), "sphere": SphereOnPlane()}
	if !testing.Short() {
		cases["dense"] = DenseScene(7)
	}
	for sub, sc := range cases {
		for _, sh := range sc.Shapes {
			path := filepath.Join(dir, sub, sh.Name+".obj")
			f, err := LoadOBJ(path)
			if err != nil {
				t.Fatal(err)
			}
			if !meshEqualIndices(f.Indices, sh.Indices) || len(f.Positions) != len(sh.Positions) {
				t.Errorf("%s: topology differs", path)
				continue
			}
			bad := 0
			for i := range f.Positions {
				if f.Positions[i] != sh.Positions[i] {
					bad++
				}
			}
			if bad > 0 {
				t.Errorf("%s: %d of %d vertices differ", path, bad, len(f.Positions))
			}
		}
	}
}

func TestTexturedQuadOrientation(t *testing.T) {
	sc := TexturedQuad()
	q := sc.Shapes[0]
	tex := &sc.Materials[q.Material].Reflectance
	im := tex.Image
	// The vertex at the quad's top-left corner (as the camera sees it) has
	// UV (0, 0), which is the image's first texel.
	for i, p := range q.Positions {
		if p == (mgl64.Vec3{-1, 1, 0}) && q.UVs[i] != (mgl64.Vec2{}) {
			t.Errorf("top-left vertex has UV %v", q.UVs[i])
		}
	}
	at := tex.Eval(mgl64.Vec2{0.5 / float64(im.Width), 0.5 / float64(im.Height)})
	want := mgl64.Vec3{0.5 / 16, 0.5 / 12, 0.9}
	if !at.ApproxEqualThreshold(want, 1e-12) {
		t.Errorf("texel (0, 0) = %v, want %v", at, want)
	}
	if im.Width != 16 || im.Height != 12 || im.At(4, 0)[2] != 0.1 || im.At(4, 4)[2] != 0.9 || im.At(15, 11)[0] != 15.5/16 {
		t.Error("texture layout")
	}
	// The camera looks down -z at the quad's front.
	n := meshCross(q.Positions[q.Indices[0]], q.Positions[q.Indices[1]], q.Positions[q.Indices[2]])
	if n.Dot(sc.Sensors[0].Origin) <= 0 {
		t.Error("quad faces away from the camera")
	}
}

func TestEmissiveTriangleFacesCamera(t *testing.T) {
	sc := EmissiveTriangle()
	tri := sc.Shapes[0]
	n := meshCross(tri.Positions[0], tri.Positions[1], tri.Positions[2])
	if n.Dot(sc.Sensors[0].Origin.Sub(tri.Positions[0])) <= 0 {
		t.Error("triangle faces away from the camera")
	}
	if sc.Env != nil || len(sc.Lights) != 0 || tri.Emitter.Radiance != (mgl64.Vec3{1, 1, 1}) ||
		sc.Materials[0].Reflectance.Value != (mgl64.Vec3{}) {
		t.Error("the triangle must be the only light, on black")
	}
	// The documented expected image sum: projected area over pixel area,
	// both on the plane at unit distance from the pinhole.
	s := sc.Sensors[0]
	pixel := 2 * math.Tan(s.Fov/2*math.Pi/180) / float64(s.Width)
	d := s.Origin[2] - tri.Positions[0][2]
	if sum := 0.5 * n.Len() / (d * d) / (pixel * pixel); math.Abs(sum-723.509) > 1e-3 {
		t.Errorf("expected image sum %v, documented 723.5", sum)
	}
	// The whole triangle is inside the field of view.
	half := math.Tan(s.Fov / 2 * math.Pi / 180)
	for _, p := range tri.Positions {
		d := s.Origin[2] - p[2]
		if math.Abs(p[0]) > half*d || math.Abs(p[1]) > half*d {
			t.Errorf("vertex %v outside the view", p)
		}
	}
}

func TestFurnaceSphereCopiesMaterial(t *testing.T) {
	m := render.Material{Kind: render.Plastic, Reflectance: render.ConstScalar(0.5)}
	sc := FurnaceSphere(m)
	if sc.Materials[0].Name != "objmat" || sc.Materials[0].Kind != render.Plastic || m.Name != "" {
		t.Errorf("material %+v", *sc.Materials[0])
	}
	named := FurnaceSphere(render.Material{Name: "gold", Kind: render.Conductor})
	if named.Materials[0].Name != "gold" {
		t.Errorf("name %q", named.Materials[0].Name)
	}
	if sc.Env.Radiance != (mgl64.Vec3{1, 1, 1}) || sc.Env.Image != nil || len(sc.Shapes) != 1 || sc.Integrator.MaxDepth != -1 {
		t.Error("furnace setup")
	}
	// The camera is outside the unit sphere.
	if sc.Sensors[0].Origin.Len() <= 1 {
		t.Error("camera inside the sphere")
	}
}

func TestOccluderSceneCastsShadow(t *testing.T) {
	sc := OccluderScene()
	// The segment from the light's centre to the plane's centre crosses the
	// occluder, and the occluder does not cover the whole plane.
	occ := sc.Shapes[1]
	var lo, hi mgl64.Vec3 = occ.Positions[0], occ.Positions[0]
	for _, p := range occ.Positions {
		for k := 0; k < 3; k++ {
			lo[k], hi[k] = math.Min(lo[k], p[k]), math.Max(hi[k], p[k])
		}
	}
	if !(lo[0] < 0 && hi[0] > 0 && lo[2] < 0 && hi[2] > 0 && lo[1] == 1 && hi[1] == 1) {
		t.Errorf("occluder bounds %v %v", lo, hi)
	}
	if sc.Shapes[2].Emitter == nil || sc.Shapes[2].Positions[0][1] != 2 {
		t.Error("light")
	}
}

func TestEnvLitSphereSun(t *testing.T) {
	sc := EnvLitSphere()
	im := sc.Env.Image
	if im.Width != 32 || im.Height != 16 || im.At(11, 3)[0] != 60 || im.At(12, 4)[0] != 60 || im.At(13, 4)[0] == 60 {
		t.Error("sun texels")
	}
	if im.At(0, 15) != (mgl64.Vec3{0.05, 0.05, 0.05}) || im.At(0, 0)[2] < 0.9 {
		t.Error("sky and ground")
	}
	for _, s := range sc.Shapes {
		if s.Emitter != nil {
			t.Error("area light in an environment-lit scene")
		}
	}
}
