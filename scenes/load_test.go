package scenes

import (
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/render"
)

// loadString loads the scene text xml as if it were the file name in dir.
func xmlLoadString(t *testing.T, dir, xml string, opts ...LoadOption) (*render.Scene, error) {
	t.Helper()
	var o LoadOptions
	for _, f := range opts {
		f(&o)
	}
	if dir == "" {
		dir = t.TempDir()
	}
	return LoadReader(strings.NewReader(xml), "test.xml", dir, o)
}

// mustLoad loads xml (wrapped in <scene version="3.0.0"> unless it starts
// with "<scene") and fails the test on error.
func xmlMustLoad(t *testing.T, dir, xml string, opts ...LoadOption) *render.Scene {
	t.Helper()
	if !strings.HasPrefix(strings.TrimSpace(xml), "<scene") && !strings.HasPrefix(strings.TrimSpace(xml), "<?xml") {
		xml = `<scene version="3.0.0">` + xml + `</scene>`
	}
	s, err := xmlLoadString(t, dir, xml, opts...)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return s
}

// testdataDir is the directory of the hand-written test scenes.
func xmlTestdata(t *testing.T) string {
	t.Helper()
	d, err := filepath.Abs(filepath.Join("testdata", "xml"))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func xmlNear(a, b, tol float64) bool {
	return math.Abs(a-b) <= tol*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

func xmlNearVec(a, b mgl64.Vec3, tol float64) bool {
	return xmlNear(a[0], b[0], tol) && xmlNear(a[1], b[1], tol) && xmlNear(a[2], b[2], tol)
}

// xmlOtherWarnings returns the warnings except those about a missing
// sensor or integrator, which the short test scenes leave out.
func xmlOtherWarnings(s *render.Scene) []string {
	var out []string
	for _, w := range s.Warnings {
		if !strings.Contains(w, "no integrator") && !strings.Contains(w, "no sensor") {
			out = append(out, w)
		}
	}
	return out
}

// hasWarning reports whether some warning contains all the parts.
func xmlHasWarning(s *render.Scene, parts ...string) bool {
outer:
	for _, w := range s.Warnings {
		for _, p := range parts {
			if !strings.Contains(w, p) {
				continue outer
			}
		}
		return true
	}
	return false
}

// checkBenchCbox checks the Cornell box benchmark scene.
func xmlCheckCbox(t *testing.T, s *render.Scene) {
	t.Helper()
	if len(s.Warnings) != 0 {
		t.Errorf("warnings: %q", s.Warnings)
	}
	if len(s.Sensors) != 1 {
		t.Fatalf("%d sensors", len(s.Sensors))
	}
	c := s.Sensors[0]
	want := render.Sensor{
		Name: "sensor", Origin: mgl64.Vec3{0, 1, 3.9}, Target: mgl64.Vec3{0, 1, 0}, Up: mgl64.Vec3{0, 1, 0},
		Fov: 39.3, FovAxis: render.FovX, NearClip: 0.01, FarClip: 10000, Width: 256, Height: 256,
		Filter: render.Filter{Kind: render.FilterBox, Radius: 0.5}, SPP: 16,
	}
	if !reflect.DeepEqual(*c, want) {
		t.Errorf("sensor %+v, want %+v", *c, want)
	}
	if s.Integrator != (render.Integrator{Kind: render.PathIntegrator, MaxDepth: 3, RRDepth: 5}) {
		t.Errorf("integrator %+v", s.Integrator)
	}
	names := []string{"floor", "ceiling", "back", "left", "right", "shortbox", "tallbox", "light"}
	mats := []string{"white", "white", "white", "red", "green", "white", "white", "lightmat"}
	tris := []int{2, 2, 2, 2, 2, 12, 12, 2}
	if len(s.Shapes) != len(names) {
		t.Fatalf("%d shapes", len(s.Shapes))
	}
	for i, sh := range s.Shapes {
		if sh.Name != names[i] || s.Materials[sh.Material].Name != mats[i] || sh.NumTriangles() != tris[i] {
			t.Errorf("shape %d: %q material %q, %d triangles; want %q %q %d", i, sh.Name, s.Materials[sh.Material].Name, sh.NumTriangles(), names[i], mats[i], tris[i])
		}
		if sh.Normals != nil {
			t.Errorf("shape %q has vertex normals despite faceNormals", sh.Name)
		}
		if (sh.Emitter != nil) != (sh.Name == "light") {
			t.Errorf("shape %q emitter %v", sh.Name, sh.Emitter)
		}
	}
	if e := s.Shapes[7].Emitter; e == nil || e.Radiance != (mgl64.Vec3{17, 12, 4}) {
		t.Errorf("light emitter %+v", e)
	}
	if len(s.Materials) != 4 {
		t.Errorf("%d materials, want 4 (white, red, green, lightmat)", len(s.Materials))
	}
	red := s.Materials[s.Shapes[3].Material]
	if red.Kind != render.Diffuse || red.Reflectance.Value != (mgl64.Vec3{0.63, 0.065, 0.05}) || red.TwoSided {
		t.Errorf("red %+v", red)
	}
	if len(s.Lights) != 0 || s.Env != nil {
		t.Errorf("lights %v env %v", s.Lights, s.Env)
	}
}

func TestLoadHandWrittenCbox(t *testing.T) {
	s, err := LoadFile(filepath.Join(xmlTestdata(t), "cbox", "scene.xml"))
	if err != nil {
		t.Fatal(err)
	}
	xmlCheckCbox(t, s)
}

// genBenchScenes runs the benchmark generator into a temporary directory,
// or skips the test when python3 or the script is missing.
func xmlGenBench(t testing.TB) string {
	t.Helper()
	script := filepath.Join("..", "..", "shared", "bench", "genscenes.py")
	if env := os.Getenv("INVRENDER_GENSCENES"); env != "" {
		script = env
	}
	if _, err := os.Stat(script); err != nil {
		t.Skipf("benchmark generator %s not found", script)
	}
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found")
	}
	dir := t.TempDir()
	if out, err := exec.Command(py, script, dir).CombinedOutput(); err != nil {
		t.Fatalf("genscenes.py: %v\n%s", err, out)
	}
	return dir
}

func TestLoadBenchScenes(t *testing.T) {
	dir := xmlGenBench(t)
	s, err := LoadFile(filepath.Join(dir, "cbox", "scene.xml"))
	if err != nil {
		t.Fatal(err)
	}
	xmlCheckCbox(t, s)

	for _, name := range []string{"sphere", "dense"} {
		start := time.Now()
		s, err := LoadFile(filepath.Join(dir, name, "scene.xml"))
		if err != nil {
			t.Fatal(err)
		}
		el := time.Since(start)
		if len(s.Warnings) != 0 {
			t.Errorf("%s: warnings %q", name, s.Warnings)
		}
		if len(s.Shapes) != 3 || s.Shapes[0].Name != "object" || s.Shapes[1].Name != "plane" || s.Shapes[2].Name != "light" {
			t.Fatalf("%s: shapes %v", name, s.Shapes)
		}
		obj := s.Shapes[0]
		if m := s.Materials[obj.Material]; m.Name != "objmat" || m.Reflectance.Value != (mgl64.Vec3{0.7, 0.3, 0.2}) {
			t.Errorf("%s: object material %+v", name, m)
		}
		if s.Integrator.MaxDepth != 2 || s.Sensors[0].Fov != 45 {
			t.Errorf("%s: integrator %+v fov %g", name, s.Integrator, s.Sensors[0].Fov)
		}
		if e := s.Shapes[2].Emitter; e == nil || e.Radiance != (mgl64.Vec3{20, 20, 20}) {
			t.Errorf("%s: light %+v", name, e)
		}
		t.Logf("%s: %d triangles loaded in %v", name, obj.NumTriangles(), el)
		if name == "dense" && obj.NumTriangles() < 300000 {
			t.Errorf("dense: only %d triangles", obj.NumTriangles())
		}
	}
}

// BenchmarkLoadDense times loading the 327k-triangle benchmark scene.
func BenchmarkLoadDense(b *testing.B) {
	dir := xmlGenBench(b)
	path := filepath.Join(dir, "dense", "scene.xml")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := LoadFile(path); err != nil {
			b.Fatal(err)
		}
	}
}

// sceneDiff compares two scenes field by field (floats to a relative
// 1e-12, images by content) and returns the first difference.
func xmlSceneDiff(a, b any) string {
	return xmlDeepDiff(reflect.ValueOf(a), reflect.ValueOf(b), "scene")
}

func xmlDeepDiff(a, b reflect.Value, path string) string {
	if a.Kind() != b.Kind() {
		return path + ": kinds differ"
	}
	switch a.Kind() {
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() != b.IsNil() {
				return path + ": one is nil"
			}
			return ""
		}
		return xmlDeepDiff(a.Elem(), b.Elem(), path)
	case reflect.Struct:
		for i := 0; i < a.NumField(); i++ {
			f := a.Type().Field(i)
			if !f.IsExported() || f.Name == "Warnings" {
				continue
			}
			if d := xmlDeepDiff(a.Field(i), b.Field(i), path+"."+f.Name); d != "" {
				return d
			}
		}
		return ""
	case reflect.Slice, reflect.Array:
		if a.Len() != b.Len() {
			return fmt.Sprintf("%s: lengths %d and %d", path, a.Len(), b.Len())
		}
		if a.Kind() == reflect.Slice && a.IsNil() != b.IsNil() {
			return path + ": one is nil"
		}
		for i := 0; i < a.Len(); i++ {
			if d := xmlDeepDiff(a.Index(i), b.Index(i), fmt.Sprintf("%s[%d]", path, i)); d != "" {
				return d
			}
		}
		return ""
	case reflect.Float64:
		if !xmlNear(a.Float(), b.Float(), 1e-12) {
			return fmt.Sprintf("%s: %v and %v", path, a.Float(), b.Float())
		}
		return ""
	default:
		if !reflect.DeepEqual(a.Interface(), b.Interface()) {
			return fmt.Sprintf("%s: %v and %v", path, a.Interface(), b.Interface())
		}
		return ""
	}
}

func TestSpellings06And3Agree(t *testing.T) {
	dir := xmlTestdata(t)
	s06, err := LoadFile(filepath.Join(dir, "spelling06.xml"))
	if err != nil {
		t.Fatal(err)
	}
	s3, err := LoadFile(filepath.Join(dir, "spelling3.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if d := xmlSceneDiff(s06, s3); d != "" {
		t.Errorf("0.6 and Mitsuba 3 spellings differ: %s", d)
	}
	// Spot checks that the common scene is what the files say.
	c := s3.Sensors[0]
	if c.Name != "cam" || c.FovAxis != render.FovSmaller || c.Fov != 40 || c.NearClip != 0.1 || c.FarClip != 100 ||
		c.SPP != 8 || c.Seed != 7 || c.Width != 64 || c.Height != 48 ||
		c.Filter != (render.Filter{Kind: render.FilterGaussian, Stddev: 0.3}) ||
		c.Origin != (mgl64.Vec3{0, 2, 5}) || c.Target != (mgl64.Vec3{0, 0.5, 0}) || c.Up != (mgl64.Vec3{0, 1, 0}) {
		t.Errorf("sensor %+v", *c)
	}
	if s3.Integrator != (render.Integrator{Kind: render.PathIntegrator, MaxDepth: 5, RRDepth: 3, HideEmitters: true}) {
		t.Errorf("integrator %+v", s3.Integrator)
	}
	names := []string{"tri", "quad", "shape_2", "light"}
	for i, sh := range s3.Shapes {
		if sh.Name != names[i] {
			t.Errorf("shape %d named %q, want %q", i, sh.Name, names[i])
		}
	}
	pl := s3.Materials[s3.Shapes[0].Material]
	if pl.Name != "plastic" || pl.Kind != render.Plastic || pl.IntIOR != 1.5046 || pl.ExtIOR != 1 || !pl.Nonlinear ||
		pl.Alpha.Value[0] != 0.2 || pl.Reflectance.Image == nil || pl.Reflectance.UScale != 2 || pl.Reflectance.VScale != 3 ||
		pl.Reflectance.Wrap != render.WrapMirror || !pl.Reflectance.Nearest || pl.SpecularReflectance.Value != (mgl64.Vec3{0.9, 0.8, 0.7}) {
		t.Errorf("plastic %+v", pl)
	}
	gold := s3.Materials[s3.Shapes[1].Material]
	if gold.Name != "gold" || !gold.TwoSided || gold.Kind != render.Conductor || gold.Eta != mtsConductors["Au"].eta || gold.Alpha.Value[0] != 0.05 {
		t.Errorf("gold %+v", gold)
	}
	if m := s3.Materials[s3.Shapes[2].Material]; m.Name != "bsdf_2" {
		t.Errorf("anonymous bsdf named %q, want bsdf_2", m.Name)
	}
	if len(s3.Lights) != 2 || s3.Lights[0].Name != "pt" || s3.Lights[0].Position != (mgl64.Vec3{1, 2, 3}) ||
		s3.Lights[1].Direction != (mgl64.Vec3{0, -1, 0}) || s3.Lights[1].Intensity != (mgl64.Vec3{2, 2, 2}) {
		t.Errorf("lights %+v %+v", s3.Lights[0], s3.Lights[1])
	}
	if s3.Env == nil || s3.Env.Name != "sky" || s3.Env.Scale != 0.5 || s3.Env.Image == nil || s3.Env.Image.Width != 4 {
		t.Errorf("env %+v", s3.Env)
	} else if x := s3.Env.ToWorld.Mul3x1(mgl64.Vec3{1, 0, 0}); !xmlNearVec(x, mgl64.Vec3{0, 0, -1}, 1e-12) {
		t.Errorf("env rotation maps +x to %v, want -z", x)
	}
	// The two files' warnings: none for Mitsuba 3 but the note on the
	// constant spectrum for 0.6 is absent too (0.6 reads it as grey).
	if len(s3.Warnings) != 0 || len(s06.Warnings) != 0 {
		t.Errorf("warnings: %q / %q", s3.Warnings, s06.Warnings)
	}
}

func TestDefaultsAndDefines(t *testing.T) {
	const xml = `<scene version="3.0.0">
		<default name="spp" value="16"/>
		<default name="res" value="32"/>
		<sensor type="perspective">
			<sampler type="independent"><integer name="sample_count" value="$spp"/></sampler>
			<film type="hdrfilm"><integer name="width" value="${res}"/><integer name="height" value="$res"/></film>
		</sensor>
	</scene>`
	s := xmlMustLoad(t, "", xml)
	if c := s.Sensors[0]; c.SPP != 16 || c.Width != 32 || c.Height != 32 {
		t.Errorf("defaults: spp %d, %dx%d", c.SPP, c.Width, c.Height)
	}
	s = xmlMustLoad(t, "", xml, WithDefine("spp", "64"), WithDefines(map[string]string{"res": "8"}))
	if c := s.Sensors[0]; c.SPP != 64 || c.Width != 8 || c.Height != 8 {
		t.Errorf("overrides: spp %d, %dx%d", c.SPP, c.Width, c.Height)
	}
	// A define with no default in the file is used too.
	s = xmlMustLoad(t, "", `<sensor type="perspective"><float name="fov" value="$f"/></sensor>`, WithDefine("f", "30"))
	if s.Sensors[0].Fov != 30 {
		t.Errorf("fov %g", s.Sensors[0].Fov)
	}
	// Defaults apply from where they appear (Mitsuba's document order).
	_, err := xmlLoadString(t, "", `<scene version="3.0.0"><sensor type="perspective"><float name="fov" value="$f"/></sensor><default name="f" value="3"/></scene>`)
	if err == nil || !strings.Contains(err.Error(), "undefined variable $f") {
		t.Errorf("use before default: %v", err)
	}
	if _, err := xmlLoadString(t, "", `<scene version="3.0.0"/>`, WithDefine("a b", "1")); err == nil {
		t.Error("invalid define name accepted")
	}
}

func TestInclude(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "parts")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(path, text string) {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(filepath.Join(xmlTestdata(t), "tri.obj"))
	if err != nil {
		t.Fatal(err)
	}
	write(filepath.Join(sub, "tri.obj"), string(data))
	// The included file refers to tri.obj and to a nested include relative
	// to itself, and uses the includer's default.
	write(filepath.Join(sub, "mat.xml"), `<scene version="3.0.0"><bsdf type="diffuse" id="m"><float name="reflectance" value="$refl"/></bsdf></scene>`)
	write(filepath.Join(sub, "shape.xml"), `<scene version="3.0.0">
		<include filename="mat.xml"/>
		<shape type="obj" id="tri"><string name="filename" value="tri.obj"/><ref id="m"/></shape>
	</scene>`)
	write(filepath.Join(dir, "main.xml"), `<scene version="3.0.0">
		<default name="refl" value="0.25"/>
		<include filename="parts/shape.xml"/>
	</scene>`)
	s, err := LoadFile(filepath.Join(dir, "main.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Shapes) != 1 || s.Shapes[0].Name != "tri" || s.Materials[0].Reflectance.Value != (mgl64.Vec3{0.25, 0.25, 0.25}) {
		t.Errorf("included scene: %+v %+v", s.Shapes, s.Materials)
	}

	write(filepath.Join(dir, "a.xml"), `<scene version="3.0.0"><include filename="b.xml"/></scene>`)
	write(filepath.Join(dir, "b.xml"), `<scene version="3.0.0">
<include filename="a.xml"/></scene>`)
	_, err = LoadFile(filepath.Join(dir, "a.xml"))
	if err == nil || !strings.Contains(err.Error(), "include cycle") || !strings.Contains(err.Error(), "b.xml:2") {
		t.Errorf("cycle: %v", err)
	}
}

func TestRefAndAlias(t *testing.T) {
	dir := xmlTestdata(t)
	s := xmlMustLoad(t, dir, `
		<bsdf type="diffuse" id="red"><rgb name="reflectance" value="1, 0, 0"/></bsdf>
		<alias id="red" as="crimson"/>
		<shape type="rectangle" id="a"><ref id="red"/></shape>
		<shape type="rectangle" id="b"><ref name="bsdf" id="crimson"/></shape>
		<shape type="rectangle" id="c"/>`)
	if len(s.Materials) != 2 || s.Shapes[0].Material != 0 || s.Shapes[1].Material != 0 || s.Shapes[2].Material != 1 {
		t.Fatalf("materials %d, indices %d %d %d", len(s.Materials), s.Shapes[0].Material, s.Shapes[1].Material, s.Shapes[2].Material)
	}
	def := s.Materials[1]
	if def.Name != "bsdf_1" || def.Kind != render.Diffuse || def.Reflectance.Value != (mgl64.Vec3{0.5, 0.5, 0.5}) {
		t.Errorf("default material %+v", def)
	}
	// Generated names avoid ids in use.
	s = xmlMustLoad(t, dir, `<shape type="rectangle"/><shape type="rectangle" id="shape_1"/><shape type="rectangle"/>`)
	got := []string{s.Shapes[0].Name, s.Shapes[1].Name, s.Shapes[2].Name}
	if got[0] != "shape_0" || got[1] != "shape_1" || got[2] != "shape_2" {
		t.Errorf("names %q", got)
	}
	s = xmlMustLoad(t, dir, `<shape type="rectangle" id="shape_0"/><shape type="rectangle"/>`)
	if s.Shapes[1].Name != "shape_1" {
		t.Errorf("name %q", s.Shapes[1].Name)
	}
	s = xmlMustLoad(t, dir, `<shape type="rectangle" id="shape_1"/><shape type="rectangle"/>`)
	if s.Shapes[1].Name != "shape_1_2" {
		t.Errorf("name %q, want shape_1_2", s.Shapes[1].Name)
	}
}

func TestTwoSided(t *testing.T) {
	s := xmlMustLoad(t, "", `
		<bsdf type="roughplastic" id="inner">
			<float name="alpha" value="0.3"/>
			<string name="distribution" value="ggx"/>
		</bsdf>
		<bsdf type="twosided" id="outer"><ref id="inner"/></bsdf>
		<bsdf type="twosided" id="inline">
			<bsdf type="diffuse"><rgb name="reflectance" value="0.1, 0.2, 0.3"/></bsdf>
		</bsdf>
		<shape type="rectangle" id="a"><ref id="outer"/></shape>
		<shape type="rectangle" id="b"><ref id="inner"/></shape>
		<shape type="rectangle" id="c"><ref id="inline"/></shape>`)
	a, b, c := s.Materials[s.Shapes[0].Material], s.Materials[s.Shapes[1].Material], s.Materials[s.Shapes[2].Material]
	if a.Name != "outer" || !a.TwoSided || a.Kind != render.Plastic || a.Alpha.Value[0] != 0.3 {
		t.Errorf("outer %+v", a)
	}
	if b.Name != "inner" || b.TwoSided || b.Alpha.Value[0] != 0.3 {
		t.Errorf("inner %+v", b)
	}
	if c.Name != "inline" || !c.TwoSided || c.Reflectance.Value != (mgl64.Vec3{0.1, 0.2, 0.3}) {
		t.Errorf("inline %+v", c)
	}
	if len(s.Materials) != 3 {
		t.Errorf("%d materials", len(s.Materials))
	}
}

func TestBSDFs(t *testing.T) {
	c := func(v float64) render.Texture { return render.ConstScalar(v) }
	rgb := func(r, g, b float64) render.Texture { return render.ConstTexture(mgl64.Vec3{r, g, b}) }
	cases := []struct {
		name, xml string
		want      render.Material
		warn      string
	}{
		{"diffuse default", `<bsdf type="diffuse" id="m"/>`,
			render.Material{Name: "m", Kind: render.Diffuse, Reflectance: c(0.5)}, ""},
		{"diffuse rgb", `<bsdf type="diffuse" id="m"><rgb name="reflectance" value="0.1, 0.2, 0.3"/></bsdf>`,
			render.Material{Name: "m", Kind: render.Diffuse, Reflectance: rgb(0.1, 0.2, 0.3)}, ""},
		{"diffuse float", `<bsdf type="diffuse" id="m"><float name="reflectance" value="0.7"/></bsdf>`,
			render.Material{Name: "m", Kind: render.Diffuse, Reflectance: c(0.7)}, ""},
		{"diffuse 0.6 diffuseReflectance", `<bsdf type="diffuse" id="m"><spectrum name="diffuseReflectance" value="0.3"/></bsdf>`,
			render.Material{Name: "m", Kind: render.Diffuse, Reflectance: c(0.3)}, ""},
		{"diffuse wavelength list", `<bsdf type="diffuse" id="m"><spectrum name="reflectance" value="400:0.2, 500:0.4, 700:0.4"/></bsdf>`,
			render.Material{Name: "m", Kind: render.Diffuse, Reflectance: c((0.3*100 + 0.4*200) / 300)}, "reduced to its mean"},
		{"plastic defaults", `<bsdf type="plastic" id="m"/>`,
			render.Material{Name: "m", Kind: render.Plastic, Reflectance: c(0.5), SpecularReflectance: c(1), Alpha: c(0), IntIOR: 1.49, ExtIOR: 1.000277}, ""},
		{"roughplastic defaults", `<bsdf type="roughplastic" id="m"/>`,
			render.Material{Name: "m", Kind: render.Plastic, Reflectance: c(0.5), SpecularReflectance: c(1), Alpha: c(0.1), IntIOR: 1.49, ExtIOR: 1.000277},
			`default microfacet distribution "beckmann" is rendered with GGX`},
		{"roughplastic named iors", `<bsdf type="roughplastic" id="m">
				<string name="distribution" value="GGX"/><string name="int_ior" value="Water"/><string name="ext_ior" value="vacuum"/>
				<float name="alpha" value="0.3"/><boolean name="nonlinear" value="true"/></bsdf>`,
			render.Material{Name: "m", Kind: render.Plastic, Reflectance: c(0.5), SpecularReflectance: c(1), Alpha: c(0.3), IntIOR: 1.333, ExtIOR: 1, Nonlinear: true}, ""},
		{"roughplastic beckmann", `<bsdf type="roughplastic" id="m"><string name="distribution" value="beckmann"/></bsdf>`,
			render.Material{Name: "m", Kind: render.Plastic, Reflectance: c(0.5), SpecularReflectance: c(1), Alpha: c(0.1), IntIOR: 1.49, ExtIOR: 1.000277},
			`microfacet distribution "beckmann" is rendered with GGX`},
		{"conductor default mirror", `<bsdf type="conductor" id="m"/>`,
			render.Material{Name: "m", Kind: render.Conductor, SpecularReflectance: c(1), Alpha: c(0), Eta: mgl64.Vec3{0, 0, 0}, K: mgl64.Vec3{1, 1, 1}, IntIOR: 1, ExtIOR: 1}, ""},
		{"conductor Cu", `<bsdf type="conductor" id="m"><string name="material" value="Cu"/></bsdf>`,
			render.Material{Name: "m", Kind: render.Conductor, SpecularReflectance: c(1), Alpha: c(0), Eta: mtsConductors["Cu"].eta, K: mtsConductors["Cu"].k, IntIOR: 1, ExtIOR: 1}, ""},
		{"roughconductor Al", `<bsdf type="roughconductor" id="m"><string name="material" value="al"/><float name="alpha" value="0.2"/><string name="distribution" value="ggx"/></bsdf>`,
			render.Material{Name: "m", Kind: render.Conductor, SpecularReflectance: c(1), Alpha: c(0.2), Eta: mtsConductors["Al"].eta, K: mtsConductors["Al"].k, IntIOR: 1, ExtIOR: 1}, ""},
		{"conductor eta k", `<bsdf type="conductor" id="m"><rgb name="eta" value="0.2, 0.9, 1.1"/><spectrum name="k" value="3"/><rgb name="specular_reflectance" value="0.5, 0.5, 0.5"/></bsdf>`,
			render.Material{Name: "m", Kind: render.Conductor, SpecularReflectance: c(0.5), Alpha: c(0), Eta: mgl64.Vec3{0.2, 0.9, 1.1}, K: mgl64.Vec3{3, 3, 3}, IntIOR: 1, ExtIOR: 1}, ""},
		{"conductor extEta", `<bsdf type="conductor" id="m"><rgb name="eta" value="2"/><rgb name="k" value="4"/><float name="extEta" value="2"/></bsdf>`,
			render.Material{Name: "m", Kind: render.Conductor, SpecularReflectance: c(1), Alpha: c(0), Eta: mgl64.Vec3{1, 1, 1}, K: mgl64.Vec3{2, 2, 2}, IntIOR: 1, ExtIOR: 1}, ""},
		{"roughconductor anisotropic", `<bsdf type="roughconductor" id="m"><float name="alpha_u" value="0.1"/><float name="alpha_v" value="0.4"/><string name="distribution" value="ggx"/></bsdf>`,
			render.Material{Name: "m", Kind: render.Conductor, SpecularReflectance: c(1), Alpha: c(0.2), Eta: mgl64.Vec3{0, 0, 0}, K: mgl64.Vec3{1, 1, 1}, IntIOR: 1, ExtIOR: 1}, "anisotropic"},
		{"srgb", `<bsdf type="diffuse" id="m"><srgb name="reflectance" value="#ff8000"/></bsdf>`,
			render.Material{Name: "m", Kind: render.Diffuse, Reflectance: rgb(1, mtsSRGBToLinear(128.0/255), 0)}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := xmlMustLoad(t, "", tc.xml+`<shape type="rectangle"><ref id="m"/></shape>`)
			got := s.Materials[0]
			if d := xmlDeepDiff(reflect.ValueOf(*got), reflect.ValueOf(tc.want), "material"); d != "" {
				t.Errorf("%s\n got %+v\nwant %+v", d, *got, tc.want)
			}
			if w := xmlOtherWarnings(s); tc.warn == "" && len(w) > 0 {
				t.Errorf("unexpected warnings %q", w)
			}
			if tc.warn != "" && !xmlHasWarning(s, tc.warn, "test.xml:1") {
				t.Errorf("no warning %q in %q", tc.warn, s.Warnings)
			}
		})
	}
	// A 0.6 conductor without a material is told that 0.6 used copper.
	s := xmlMustLoad(t, "", `<scene version="0.6.0"><bsdf type="conductor" id="m"/><shape type="rectangle"><ref id="m"/></shape></scene>`)
	if !xmlHasWarning(s, "Mitsuba 0.6 used \"Cu\"") || s.Materials[0].K != (mgl64.Vec3{1, 1, 1}) {
		t.Errorf("0.6 conductor: %+v %q", s.Materials[0], s.Warnings)
	}
}

func TestTextures(t *testing.T) {
	dir := xmlTestdata(t)
	s := xmlMustLoad(t, dir, `
		<texture type="bitmap" id="a">
			<string name="filename" value="tex.png"/>
			<boolean name="raw" value="true"/>
			<string name="wrap_mode" value="clamp"/>
			<transform name="to_uv"><scale x="4" y="0.5"/></transform>
		</texture>
		<texture type="bitmap" id="b"><string name="filename" value="tex.png"/></texture>
		<bsdf type="diffuse" id="ma"><ref name="reflectance" id="a"/></bsdf>
		<bsdf type="diffuse" id="mb"><ref name="reflectance" id="b"/></bsdf>
		<bsdf type="roughconductor" id="mc">
			<texture type="checkerboard" name="alpha">
				<float name="color0" value="0.1"/><float name="color1" value="0.3"/>
				<transform name="to_uv"><scale value="10"/></transform>
			</texture>
			<string name="distribution" value="ggx"/>
		</bsdf>
		<shape type="rectangle"><ref id="ma"/></shape>
		<shape type="rectangle"><ref id="mb"/></shape>
		<shape type="rectangle"><ref id="mc"/></shape>`)
	if w := xmlOtherWarnings(s); len(w) != 0 {
		t.Errorf("warnings %q", w)
	}
	ta, tb := s.Materials[0].Reflectance, s.Materials[1].Reflectance
	if ta.Image == nil || tb.Image == nil || ta.Wrap != render.WrapClamp || ta.UScale != 4 || ta.VScale != 0.5 || ta.Nearest {
		t.Fatalf("bitmap a %+v", ta)
	}
	if tb.Wrap != render.WrapRepeat || tb.UScale != 1 || tb.VScale != 1 {
		t.Errorf("bitmap b %+v", tb)
	}
	// Pixel (1, 0) of tex.png is sRGB (60, 0, 128)/255: raw keeps it, the
	// default decodes it.
	if got := ta.Image.At(1, 0); !xmlNearVec(got, mgl64.Vec3{60.0 / 255, 0, 128.0 / 255}, 1e-6) {
		t.Errorf("raw texel %v", got)
	}
	if got := tb.Image.At(1, 0); !xmlNearVec(got, mgl64.Vec3{mtsSRGBToLinear(60.0 / 255), 0, mtsSRGBToLinear(128.0 / 255)}, 1e-4) {
		t.Errorf("sRGB texel %v", got)
	}
	// The checkerboard is color0 where floor(2u) and floor(2v) have the
	// same parity.
	ck := s.Materials[2].Alpha
	if ck.UScale != 10 || ck.VScale != 10 {
		t.Errorf("checkerboard scale %g %g", ck.UScale, ck.VScale)
	}
	for _, tc := range []struct {
		u, v, want float64
	}{{0.01, 0.01, 0.1}, {0.06, 0.01, 0.3}, {0.01, 0.06, 0.3}, {0.06, 0.06, 0.1}, {0.11, 0.01, 0.1}} {
		if got := ck.Eval(mgl64.Vec2{tc.u, tc.v})[0]; got != tc.want {
			t.Errorf("checkerboard at (%g, %g) = %g, want %g", tc.u, tc.v, got, tc.want)
		}
	}
	// A rotating to_uv and a per-axis wrap mode warn or fail.
	s = xmlMustLoad(t, dir, `<texture type="bitmap" id="a"><string name="filename" value="tex.png"/>
		<transform name="to_uv"><rotate z="1" angle="30"/></transform></texture>`)
	if !xmlHasWarning(s, "to_uv rotates") {
		t.Errorf("no rotation warning: %q", s.Warnings)
	}
}

func TestEmitters(t *testing.T) {
	dir := xmlTestdata(t)
	s := xmlMustLoad(t, dir, `
		<emitter type="point"><transform name="to_world"><translate value="1, 2, 3"/></transform><rgb name="intensity" value="1, 2, 3"/></emitter>
		<emitter type="directional" id="sun"><transform name="to_world"><lookat origin="0, 0, 0" target="1, 0, 0"/></transform></emitter>
		<emitter type="constant"><rgb name="radiance" value="0.5, 0.6, 0.7"/></emitter>
		<shape type="disk"><emitter type="area"><float name="radiance" value="3"/></emitter></shape>`)
	if len(s.Lights) != 2 {
		t.Fatalf("%d lights", len(s.Lights))
	}
	p, d := s.Lights[0], s.Lights[1]
	if p.Name != "light_0" || p.Kind != render.PointLight || p.Position != (mgl64.Vec3{1, 2, 3}) || p.Intensity != (mgl64.Vec3{1, 2, 3}) {
		t.Errorf("point %+v", p)
	}
	if d.Name != "sun" || d.Kind != render.DirectionalLight || !xmlNearVec(d.Direction, mgl64.Vec3{1, 0, 0}, 1e-12) || d.Intensity != (mgl64.Vec3{1, 1, 1}) {
		t.Errorf("directional %+v", d)
	}
	if s.Env == nil || s.Env.Image != nil || s.Env.Radiance != (mgl64.Vec3{0.5, 0.6, 0.7}) || s.Env.Name != "environment_0" {
		t.Errorf("constant %+v", s.Env)
	}
	if e := s.Shapes[0].Emitter; e == nil || e.Radiance != (mgl64.Vec3{3, 3, 3}) {
		t.Errorf("area %+v", e)
	}

	// An envmap whose to_world scales keeps its rotation, with a warning.
	s = xmlMustLoad(t, dir, `<emitter type="envmap"><string name="filename" value="env.pfm"/>
		<transform name="to_world"><scale value="2"/><rotate x="1" angle="90"/><translate value="5, 5, 5"/></transform></emitter>`)
	if !xmlHasWarning(s, "envmap's to_world scales") {
		t.Errorf("no scale warning: %q", s.Warnings)
	}
	if y := s.Env.ToWorld.Mul3x1(mgl64.Vec3{0, 1, 0}); !xmlNearVec(y, mgl64.Vec3{0, 0, 1}, 1e-12) {
		t.Errorf("envmap rotation maps +y to %v", y)
	}
	// env.pfm stores its rows bottom-up (as PFM does): the first row
	// written, (0.25, 1.25, 2.25) at x = 0, is the image's bottom row.
	if got := s.Env.Image.At(0, 0); !xmlNearVec(got, mgl64.Vec3{1.25, 2.25, 3.25}, 1e-6) {
		t.Errorf("envmap top-left texel %v", got)
	}
}

func TestSensors(t *testing.T) {
	// Several sensors, in document order, with their own films.
	s := xmlMustLoad(t, "", `
		<sensor type="perspective"><float name="fov" value="30"/></sensor>
		<sensor type="perspective" id="side">
			<string name="focal_length" value="50mm"/>
			<film type="ldrfilm"><integer name="width" value="10"/><integer name="height" value="20"/><rfilter type="tent"/></film>
			<transform name="to_world"><rotate y="1" angle="90"/><translate value="1, 2, 3"/></transform>
		</sensor>`)
	if len(s.Sensors) != 2 || s.Sensors[0].Name != "sensor" || s.Sensors[1].Name != "side" {
		t.Fatalf("sensors %+v", s.Sensors)
	}
	a, b := s.Sensors[0], s.Sensors[1]
	if a.Fov != 30 || a.Width != 768 || a.Height != 576 || a.SPP != 4 || a.Filter != (render.Filter{Kind: render.FilterGaussian, Stddev: 0.5}) ||
		a.Origin != (mgl64.Vec3{}) || a.Target != (mgl64.Vec3{0, 0, 1}) || a.Up != (mgl64.Vec3{0, 1, 0}) {
		t.Errorf("default sensor %+v", *a)
	}
	if !xmlNear(b.Fov, 46.79300334396557, 1e-12) || b.FovAxis != render.FovDiagonal || b.Width != 10 || b.Height != 20 || b.Filter != (render.Filter{Kind: render.FilterTent, Radius: 1}) {
		t.Errorf("focal length sensor %+v", *b)
	}
	// Rotating +z by 90 degrees about y gives +x.
	if !xmlNearVec(b.Origin, mgl64.Vec3{1, 2, 3}, 1e-12) || !xmlNearVec(b.Target, mgl64.Vec3{2, 2, 3}, 1e-12) || !xmlNearVec(b.Up, mgl64.Vec3{0, 1, 0}, 1e-12) {
		t.Errorf("frame %v %v %v", b.Origin, b.Target, b.Up)
	}
	if w := xmlOtherWarnings(s); len(w) != 0 {
		t.Errorf("warnings %q", w)
	}

	// A mirrored camera (scale x=-1, as exporters write) warns.
	s = xmlMustLoad(t, "", `<sensor type="perspective"><transform name="to_world">
		<scale x="-1"/><lookat origin="0, 0, 5" target="0, 0, 0" up="0, 1, 0"/></transform></sensor>`)
	c := s.Sensors[0]
	if !xmlHasWarning(s, "test.xml:1", "mirrors the image") || c.Origin != (mgl64.Vec3{0, 0, 5}) || c.Target != (mgl64.Vec3{0, 0, 0}) || c.Up != (mgl64.Vec3{0, 1, 0}) {
		t.Errorf("mirrored camera %+v %q", *c, s.Warnings)
	}
	s = xmlMustLoad(t, "", `<sensor type="perspective"><transform name="to_world"><scale value="2"/></transform></sensor>`)
	if !xmlHasWarning(s, "scales by (2, 2, 2)") {
		t.Errorf("no scale warning: %q", s.Warnings)
	}
	// The lookat's own target and up survive when nothing follows it; a
	// later translation moves the camera and the target is then 1 ahead.
	s = xmlMustLoad(t, "", `<sensor type="perspective"><transform name="to_world">
		<lookat origin="1, 1, 1" target="1, 1, -9" up="0, 5, 0"/><translate value="0, 1, 0"/></transform></sensor>`)
	if c := s.Sensors[0]; c.Origin != (mgl64.Vec3{1, 2, 1}) || !xmlNearVec(c.Target, mgl64.Vec3{1, 2, 0}, 1e-12) || !xmlNearVec(c.Up, mgl64.Vec3{0, 1, 0}, 1e-12) {
		t.Errorf("translated lookat %+v", *c)
	}
	s = xmlMustLoad(t, "", `<sensor type="perspective"><transform name="to_world">
		<lookat origin="1, 1, 1" target="1, 1, -9" up="0, 5, 1"/></transform></sensor>`)
	if c := s.Sensors[0]; c.Target != (mgl64.Vec3{1, 1, -9}) || c.Up != (mgl64.Vec3{0, 5, 1}) {
		t.Errorf("lookat %+v", *c)
	}

	// Film settings the renderer honours pass silently; others warn.
	s = xmlMustLoad(t, "", `<sensor type="perspective"><film type="ldrfilm">
		<string name="pixel_format" value="rgb"/><string name="file_format" value="png"/><float name="gamma" value="-1"/>
		<string name="tonemap_method" value="reinhard"/><integer name="crop_width" value="10"/></film>
		<sampler type="stratified"><integer name="sampleCount" value="9"/></sampler></sensor>`)
	if w := xmlOtherWarnings(s); len(w) != 2 || !xmlHasWarning(s, `tonemap_method "reinhard"`) || !xmlHasWarning(s, `"crop_width"`, "cropping is not supported") {
		t.Errorf("film warnings %q", w)
	}
	if s.Sensors[0].SPP != 9 {
		t.Errorf("spp %d", s.Sensors[0].SPP)
	}

	// No sensor: Mitsuba's default camera sees the scene's bounding box.
	s = xmlMustLoad(t, "", `<shape type="cube"/>`)
	if c := s.Sensors[0]; !xmlHasWarning(s, "no sensor") || c.Fov != 45 || !xmlNearVec(c.Origin, mgl64.Vec3{0, 0, -1 - 1/math.Tan(22.5*math.Pi/180)}, 1e-12) ||
		c.Target.Sub(c.Origin) != (mgl64.Vec3{0, 0, 1}) {
		t.Errorf("default camera %+v", *c)
	}
}

func TestIntegrators(t *testing.T) {
	cases := []struct {
		xml  string
		want render.Integrator
		warn string
	}{
		{`<integrator type="path"/>`, render.Integrator{Kind: render.PathIntegrator, MaxDepth: -1, RRDepth: 5}, ""},
		{`<integrator type="direct"><boolean name="hide_emitters" value="true"/><integer name="emitter_samples" value="4"/></integrator>`,
			render.Integrator{Kind: render.DirectIntegrator, MaxDepth: 2, RRDepth: 5, HideEmitters: true}, ""},
		{`<integrator type="volpath"><integer name="max_depth" value="7"/></integrator>`,
			render.Integrator{Kind: render.PathIntegrator, MaxDepth: 7, RRDepth: 5}, `integrator "volpath" is not supported`},
		{`<integrator type="prb"><integer name="max_depth" value="3"/></integrator>`,
			render.Integrator{Kind: render.PathIntegrator, MaxDepth: 3, RRDepth: 5}, `integrator "prb" is not supported`},
		{`<integrator type="aov"><string name="aovs" value="dd.y:depth"/><integrator type="path" name="img"><integer name="max_depth" value="4"/></integrator></integrator>`,
			render.Integrator{Kind: render.PathIntegrator, MaxDepth: 4, RRDepth: 5}, `integrator "aov" is not supported: rendering with the integrator nested in it`},
		{``, render.Integrator{Kind: render.PathIntegrator, MaxDepth: -1, RRDepth: 5}, "no integrator"},
	}
	for _, tc := range cases {
		s := xmlMustLoad(t, "", tc.xml)
		if s.Integrator != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.xml, s.Integrator, tc.want)
		}
		if tc.warn != "" && !xmlHasWarning(s, tc.warn) {
			t.Errorf("%s: no warning %q in %q", tc.xml, tc.warn, s.Warnings)
		}
		if w := xmlOtherWarnings(s); tc.warn == "" && len(w) > 0 {
			t.Errorf("%s: warnings %q", tc.xml, w)
		}
	}
}

func TestUnknownParameterWarns(t *testing.T) {
	s := xmlMustLoad(t, "", `<scene version="3.0.0">
<bsdf type="diffuse" id="m">
	<rgb name="reflectanse" value="0.1"/>
</bsdf>
<shape type="rectangle"><ref id="m"/><boolean name="flip_normal" value="true"/></shape>
</scene>`)
	if !xmlHasWarning(s, "test.xml:3", `unknown parameter "reflectanse"`, `<bsdf type="diffuse" id="m">`) {
		t.Errorf("warnings %q", s.Warnings)
	}
	if !xmlHasWarning(s, "test.xml:5", `unknown parameter "flip_normal"`) {
		t.Errorf("warnings %q", s.Warnings)
	}
	var got []string
	xmlMustLoad(t, "", `<bsdf type="diffuse" id="m"><float name="x" value="1"/></bsdf>`, WithWarn(func(m string) { got = append(got, m) }))
	if len(got) != 3 || !strings.Contains(got[0], `"x"`) || !strings.Contains(got[1], "no integrator") {
		t.Errorf("Warn callback got %q", got)
	}
}

func TestBrokenInputs(t *testing.T) {
	dir := xmlTestdata(t)
	cases := []struct {
		name, xml string
		want      []string // substrings of the error
	}{
		{"malformed", "<scene version=\"3.0.0\">\n<shape type=\"cube\">\n</scene>", []string{"test.xml:3", "malformed XML"}},
		{"not xml", "hello", []string{"test.xml", "no <scene> element"}},
		{"wrong root", `<shape type="cube"/>`, []string{"test.xml:1", "root element is <shape>"}},
		{"unknown shape", "<scene version=\"3.0.0\">\n<shape type=\"teapot\"/></scene>", []string{"test.xml:2", `<shape type="teapot">`, `unknown shape type "teapot"`}},
		{"unsupported bsdf", "<scene version=\"3.0.0\">\n\n<bsdf type=\"dielectric\" id=\"glass\"/></scene>", []string{"test.xml:3", `id="glass"`, `bsdf type "dielectric" is not supported`}},
		{"unknown bsdf", `<scene version="3.0.0"><bsdf type="difuse" id="m"/></scene>`, []string{"test.xml:1", `unknown bsdf type "difuse"`, `<bsdf type="difuse" id="m">`}},
		{"unknown emitter", `<scene version="3.0.0"><emitter type="laser"/></scene>`, []string{"test.xml:1", `unknown emitter type "laser"`, `<emitter type="laser">`}},
		{"unknown element", "<scene version=\"3.0.0\">\n<shape type=\"cube\"><colour name=\"x\" value=\"1\"/></shape></scene>", []string{"test.xml:2", "unknown element <colour>", `<colour name="x">`}},
		{"unknown ref", "<scene version=\"3.0.0\">\n<shape type=\"cube\">\n<ref id=\"nosuch\"/></shape></scene>", []string{"test.xml:3", `unknown id "nosuch"`, `<ref id="nosuch">`}},
		{"ref of wrong kind", `<scene version="3.0.0"><texture type="checkerboard" id="t"/><shape type="cube"><ref name="bsdf" id="t"/></shape></scene>`, []string{"test.xml:1", "<texture"}},
		{"unparsable float", "<scene version=\"3.0.0\">\n<sensor type=\"perspective\">\n<float name=\"fov\" value=\"4o\"/></sensor></scene>", []string{"test.xml:3", `<float name="fov">`, `cannot parse "4o" as a number`}},
		{"unparsable integer", `<scene version="3.0.0"><sensor type="perspective"><film type="hdrfilm"><integer name="width" value="1.5"/></film></sensor></scene>`, []string{"test.xml:1", `cannot parse "1.5" as an integer`, `<integer name="width">`}},
		{"bad boolean", `<scene version="3.0.0"><shape type="cube"><boolean name="flip_normals" value="yes"/></shape></scene>`, []string{"test.xml:1", `cannot parse "yes" as a boolean`, `<boolean name="flip_normals">`}},
		{"wrong value type", "<scene version=\"3.0.0\">\n<sensor type=\"perspective\"><string name=\"fov\" value=\"45\"/></sensor></scene>", []string{"test.xml:2", `parameter "fov" of <sensor type="perspective"> must be a float, not a string`}},
		{"rgb wrong count", `<scene version="3.0.0"><bsdf type="diffuse" id="m"><rgb name="reflectance" value="1, 2"/></bsdf></scene>`, []string{"test.xml:1", "has 2 values, expected 1 or 3", `<rgb name="reflectance">`}},
		{"missing mesh", "<scene version=\"3.0.0\">\n<shape type=\"obj\" id=\"bunny\">\n<string name=\"filename\" value=\"meshes/bunny.obj\"/></shape></scene>",
			[]string{"test.xml:2", `<shape type="obj" id="bunny">`, filepath.Join(dir, "meshes", "bunny.obj")}},
		{"missing texture", "<scene version=\"3.0.0\">\n<texture type=\"bitmap\" id=\"t\">\n<string name=\"filename\" value=\"nope.png\"/></texture></scene>",
			[]string{"test.xml:3", filepath.Join(dir, "nope.png"), `<texture type="bitmap" id="t">`, `"filename"`}},
		{"missing envmap", `<scene version="3.0.0"><emitter type="envmap"><string name="filename" value="sky.exr"/></emitter></scene>`, []string{"test.xml:1", filepath.Join(dir, "sky.exr"), `<emitter type="envmap">`}},
		{"undefined variable", "<scene version=\"3.0.0\">\n<sensor type=\"perspective\"><float name=\"fov\" value=\"$fov\"/></sensor></scene>", []string{"test.xml:2", "undefined variable $fov", `<float name="fov">`}},
		{"duplicate id", "<scene version=\"3.0.0\"><bsdf type=\"diffuse\" id=\"a\"/>\n<bsdf type=\"diffuse\" id=\"a\"/></scene>", []string{"test.xml:2", `id "a" is already used`, "line 1", `<bsdf type="diffuse" id="a">`}},
		{"duplicate parameter", "<scene version=\"0.6.0\"><shape type=\"cube\"><transform name=\"toWorld\"/>\n<transform name=\"to_world\"/></shape></scene>", []string{"test.xml:2", `given twice`, `<transform name="to_world">`}},
		{"twosided cycle", `<scene version="3.0.0"><bsdf type="twosided" id="a"><ref id="a"/></bsdf></scene>`, []string{"test.xml:1", "refers to itself", `<bsdf type="twosided" id="a">`}},
		{"two envs", "<scene version=\"3.0.0\"><emitter type=\"constant\"/>\n<emitter type=\"constant\"/></scene>", []string{"test.xml:2", "only one environment emitter", `<emitter type="constant">`}},
		{"singular transform", "<scene version=\"3.0.0\"><shape type=\"cube\">\n<transform name=\"to_world\"><scale x=\"0\"/></transform></shape></scene>", []string{"test.xml:2", "singular", `<transform name="to_world">`}},
		{"bad transform op", `<scene version="3.0.0"><shape type="cube"><transform name="to_world"><shear value="1"/></transform></shape></scene>`, []string{"test.xml:1", "unknown transform operation <shear>", `<shear>`}},
		{"bad lookat", `<scene version="3.0.0"><sensor type="perspective"><transform name="to_world"><lookat origin="0,0,0" target="0,0,0"/></transform></sensor></scene>`, []string{"test.xml:1", "<lookat>", "coincide"}},
		{"bad fov", `<scene version="3.0.0"><sensor type="perspective"><float name="fov" value="180"/></sensor></scene>`, []string{"test.xml:1", "not in (0, 180)", `<float name="fov">`}},
		{"bad ior name", `<scene version="3.0.0"><bsdf type="plastic" id="m"><string name="int_ior" value="glass"/></bsdf></scene>`, []string{"test.xml:1", `unknown material "glass"`, `"bk7"`, `"int_ior"`}},
		{"bad conductor", `<scene version="3.0.0"><bsdf type="conductor" id="m"><string name="material" value="Fe"/></bsdf></scene>`, []string{"test.xml:1", `unknown conductor material "Fe"`, "Au", `"material"`}},
		{"bad wrap", `<scene version="3.0.0"><texture type="bitmap" id="t"><string name="filename" value="tex.png"/><string name="wrap_mode" value="tile"/></texture></scene>`, []string{"test.xml:1", `unknown wrap mode "tile"`, `"wrap_mode"`}},
		{"negative radiance", `<scene version="3.0.0"><shape type="cube"><emitter type="area"><rgb name="radiance" value="-1, 0, 0"/></emitter></shape></scene>`, []string{"test.xml:1", "negative", `<rgb name="radiance">`}},
		{"textured radiance", `<scene version="3.0.0"><shape type="cube"><emitter type="area"><texture type="bitmap" name="radiance"><string name="filename" value="tex.png"/></texture></emitter></shape></scene>`, []string{"test.xml:1", "a texture is not supported here", `"radiance"`}},
		{"medium", `<scene version="3.0.0"><medium type="homogeneous" id="fog"/></scene>`, []string{"test.xml:1", "media are not supported", `<medium type="homogeneous" id="fog">`}},
		{"two integrators", "<scene version=\"3.0.0\"><integrator type=\"path\"/>\n<integrator type=\"path\"/></scene>", []string{"test.xml:2", "only one integrator", `<integrator type="path">`}},
		{"bad version", `<scene version="three"/>`, []string{"test.xml:1", `cannot parse version "three"`, `<scene>`}},
		{"blackbody", `<scene version="0.6.0"><shape type="cube"><emitter type="area"><blackbody name="radiance" temperature="3000"/></emitter></shape></scene>`, []string{"test.xml:1", "blackbody", `<blackbody name="radiance">`}},
		{"missing name", `<scene version="3.0.0"><shape type="cube"><float value="1"/></shape></scene>`, []string{"test.xml:1", "missing attribute name", `<float>`}},
		{"bad sample count", `<scene version="3.0.0"><sensor type="perspective"><sampler type="independent"><integer name="sample_count" value="0"/></sampler></sensor></scene>`, []string{"test.xml:1", `"sample_count"`, "not in [1", `<integer name="sample_count">`}},
		{"unknown sampler", `<scene version="3.0.0"><sensor type="perspective"><sampler type="magic"/></sensor></scene>`, []string{"test.xml:1", `unknown sampler type "magic"`, `<sampler type="magic">`}},
		{"orthographic", `<scene version="3.0.0"><sensor type="orthographic"/></scene>`, []string{"test.xml:1", `sensor type "orthographic" is not supported`, `<sensor type="orthographic">`}},
		{"twosided two bsdfs", `<scene version="3.0.0"><bsdf type="twosided" id="t"><bsdf type="diffuse"/><bsdf type="conductor"/></bsdf></scene>`, []string{"test.xml:1", "different front and back", `<bsdf type="conductor">`}},
		{"bad mesh data", "<scene version=\"3.0.0\">\n<shape type=\"obj\"><string name=\"filename\" value=\"quad.ply\"/></shape></scene>", []string{"test.xml:2", "quad.ply", `<shape type="obj">`}},
		{"nan", `<scene version="3.0.0"><shape type="sphere"><float name="radius" value="NaN"/></shape></scene>`, []string{"test.xml:1", "not a finite number", `<float name="radius">`}},
		{"negative radius", `<scene version="3.0.0"><shape type="sphere"><float name="radius" value="-1"/></shape></scene>`, []string{"test.xml:1", "radius -1 is not positive", `<float name="radius">`}},
		{"transform outside", `<scene version="3.0.0"><shape type="cube"><translate x="1"/></shape></scene>`, []string{"test.xml:1", "must be inside <transform>", `<translate>`}},
		{"unterminated var", `<scene version="3.0.0"><shape type="cube" id="${a"/></scene>`, []string{"test.xml:1", "unterminated ${", `<shape type="cube"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := xmlLoadString(t, dir, tc.xml)
			if err == nil {
				t.Fatalf("no error")
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Errorf("error %v is not a *ParseError", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestMissingMeshIsNotExist(t *testing.T) {
	_, err := xmlLoadString(t, "", `<scene version="3.0.0"><shape type="ply"><string name="filename" value="none.ply"/></shape></scene>`)
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("errors.Is(%v, os.ErrNotExist) is false", err)
	}
}

func TestInfo(t *testing.T) {
	s, err := LoadFile(filepath.Join(xmlTestdata(t), "spelling3.xml"))
	if err != nil {
		t.Fatal(err)
	}
	info := Info(s)
	for _, want := range []string{
		`camera "cam": origin (0, 2, 5), target (0, 0.5, 0), up (0, 1, 0), fov 40 deg along smaller, clip [0.1, 100]`,
		`film 64x48, filter gaussian (stddev 0.3), 8 spp, seed 7`,
		`integrator: path, max depth 5, Russian roulette from depth 3, emitters hidden`,
		`shapes: 4 (3973 triangles)`,
		`"tri": 1 triangle, face normals, uv; material "plastic": roughplastic (GGX), alpha 0.2, diffuse_reflectance bitmap 4x2 uv scale (2, 3) wrap mirror nearest, specular_reflectance (0.9, 0.8, 0.7), int_ior 1.5046, ext_ior 1, nonlinear`,
		`"quad": 2 triangles, vertex normals, uv; material "gold": twosided roughconductor (GGX), alpha 0.05, eta (0.143036, 0.375307, 1.442045)`,
		`"shape_2": 3968 triangles, vertex normals, uv; material "bsdf_2": diffuse, reflectance (0.2140`,
		`"light": 2 triangles, face normals, uv; material "bsdf_3": diffuse, reflectance 0.5; area emitter, radiance (10, 10, 10)`,
		`point "pt": position (1, 2, 3), intensity (5, 5, 5)`,
		`directional "sun": direction (0, -1, 0), irradiance (2, 2, 2)`,
		`environment "sky": envmap 4x2, scale 0.5, rotated`,
		`warnings: none`,
	} {
		if !strings.Contains(info, want) {
			t.Errorf("info lacks %q:\n%s", want, info)
		}
	}
	s = xmlMustLoad(t, "", `<bsdf type="diffuse" id="m"><float name="x" value="1"/></bsdf>`)
	if info := Info(s); !strings.Contains(info, "warnings: 3") || !strings.Contains(info, `unknown parameter "x"`) {
		t.Errorf("info warnings:\n%s", info)
	}
}
