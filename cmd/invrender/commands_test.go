package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParams(t *testing.T) {
	stdout, stderr, code := runCmd(t, "params", "sphere")
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	lines := strings.Split(stdout, "\n")
	if !strings.HasPrefix(lines[0], "KEY") {
		t.Errorf("no header: %q", lines[0])
	}
	find := func(out, key string) []string {
		for _, l := range strings.Split(out, "\n") {
			if f := strings.Fields(l); len(f) > 0 && f[0] == key {
				return f
			}
		}
		t.Fatalf("%s is not listed:\n%s", key, out)
		return nil
	}
	if f := find(stdout, "object.translation"); strings.Join(f[1:], " ") != "3 differentiable,discontinuous 0, 0, 0" {
		t.Errorf("object.translation line: %q", f)
	}
	if f := find(stdout, "objmat.reflectance.value"); strings.Join(f[1:], " ") != "3 differentiable 0.7, 0.3, 0.2" {
		t.Errorf("objmat.reflectance.value line: %q", f)
	}
	if f := find(stdout, "sensor.fov"); strings.Join(f[1:], " ") != "1 differentiable,discontinuous 45" {
		t.Errorf("sensor.fov line: %q", f)
	}
	// 20*4^4 triangles of an icosphere have 2562 vertices.
	if f := find(stdout, "object.vertex_positions"); f[1] != "7686" || !strings.HasSuffix(strings.Join(f, " "), "… (7686 values)") {
		t.Errorf("object.vertex_positions line: %q", f)
	}

	// --set shows in the listing; --json parses.
	stdout, stderr, code = runCmd(t, "params", "--json", "sphere", "--set", "object.translation=1,-2,0.5")
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	var got struct {
		Scene      string
		Parameters []paramJSON
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("%v:\n%s", err, stdout)
	}
	seen := map[string]paramJSON{}
	for _, p := range got.Parameters {
		seen[p.Key] = p
	}
	tr := seen["object.translation"]
	if tr.Size != 3 || len(tr.Value) != 3 || tr.Value[0] != 1 || tr.Value[1] != -2 || tr.Value[2] != 0.5 || tr.Truncated {
		t.Errorf("object.translation in JSON: %+v", tr)
	}
	if vp := seen["object.vertex_positions"]; vp.Size != 7686 || len(vp.Value) != paramsShown || !vp.Truncated {
		t.Errorf("object.vertex_positions in JSON: size %d, %d values, truncated %v", vp.Size, len(vp.Value), vp.Truncated)
	}
	if f := seen["sensor.fov"].Flags; strings.Join(f, ",") != "differentiable,discontinuous" {
		t.Errorf("sensor.fov flags %q", f)
	}

	stdout, _, code = runCmd(t, "params", "triangle", "--all")
	if code != exitOK || !strings.Contains(stdout, "-0.6, -0.4, 0, 0.5, -0.5, 0, 0.1, 0.6, 0\n") {
		t.Errorf("--all does not print every vertex (exit %d):\n%s", code, stdout)
	}
}

func TestInfoBuiltin(t *testing.T) {
	stdout, stderr, code := runCmd(t, "info", "cbox")
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	for _, want := range []string{"scene: built-in scene cbox", "shapes: 8 (36 triangles)", `"tallbox": 12 triangles`, "area emitter, radiance (17, 12, 4)", "max depth 3", "parameters: "} {
		if !strings.Contains(stdout, want) {
			t.Errorf("info cbox does not say %q:\n%s", want, stdout)
		}
	}
}

func TestDemo(t *testing.T) {
	dir := t.TempDir()
	start := time.Now()
	stdout, stderr, code := runCmd(t, "demo", "-o", dir, "--spp", "1", "-q")
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	p := filepath.Join(dir, "cbox.png")
	if !strings.Contains(stdout, "wrote "+p) {
		t.Errorf("the demo does not say where it wrote:\n%s", stdout)
	}
	im := readImage(t, p)
	if im.Width != 256 || im.Height != 256 {
		t.Errorf("cbox.png is %dx%d, want 256x256", im.Width, im.Height)
	}
	// The left wall is red and the right wall green.
	l, r := im.At(10, 128), im.At(245, 128)
	if !(l[0] > 2*l[1] && r[1] > 2*r[0]) {
		t.Errorf("left wall %v, right wall %v: want red and green", l, r)
	}
	t.Logf("demo at 1 spp: %v", time.Since(start))
	// cbox.png, cbox-grad.png and the gradient's floats, cbox-grad.pfm.
	if entries, _ := os.ReadDir(dir); len(entries) != 3 {
		t.Errorf("the demo wrote %d files, want 3", len(entries))
	}
	g := readImage(t, filepath.Join(dir, "cbox-grad.pfm"))
	nonzero := 0
	for _, v := range g.Pix {
		if v != 0 {
			nonzero++
		}
	}
	if nonzero == 0 {
		t.Error("the gradient image is zero everywhere")
	}
}

// benchXML is a small scene in the shape of the benchmark files.
const benchXML = `<scene version="0.6.0">
  <sensor type="perspective">
    <float name="fov" value="40"/>
    <transform name="toWorld"><lookat origin="0, 0, 4" target="0, 0, 0" up="0, 1, 0"/></transform>
    <sampler type="independent"><integer name="sampleCount" value="64"/></sampler>
    <film type="hdrfilm"><integer name="width" value="300"/><integer name="height" value="200"/><rfilter type="box"/></film>
  </sensor>
  <integrator type="path"><integer name="maxDepth" value="7"/></integrator>
  <bsdf type="diffuse" id="grey"/>
  <shape type="rectangle" id="back"><transform name="toWorld"><scale value="2"/></transform><ref id="grey"/></shape>
  <shape type="sphere" id="light"><point name="center" x="0" y="1" z="1"/><float name="radius" value="0.3"/>
    <emitter type="area"><rgb name="radiance" value="5"/></emitter></shape>
</scene>
`

func TestBench(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "cbox/scene.xml", benchXML)
	writeFile(t, dir, "dense/scene.xml", benchXML)
	stdout, stderr, code := runCmd(t, "bench", "--scenes", dir, "--size", "8", "--repeat", "2", "--threads", "1,2", "--json")
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	var got struct {
		Repeat int
		Scenes []benchResult
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("%v:\n%s", err, stdout)
	}
	if got.Repeat != 2 || len(got.Scenes) != 2 {
		t.Fatalf("repeat %d, %d scenes:\n%s", got.Repeat, len(got.Scenes), stdout)
	}
	for i, want := range []struct {
		name          string
		spp, maxDepth int
	}{{"cbox", 16, 3}, {"dense", 4, 2}} {
		r := got.Scenes[i]
		if r.Name != want.name || r.SPP != want.spp || r.MaxDepth != want.maxDepth || r.Width != 8 || r.Height != 8 {
			t.Errorf("scene %d: %+v, want %s with %d spp and max depth %d at 8x8", i, r, want.name, want.spp, want.maxDepth)
		}
		if !strings.HasSuffix(r.Source, filepath.Join(want.name, "scene.xml")) || r.LoadSeconds <= 0 {
			t.Errorf("%s: source %q, load %g s", r.Name, r.Source, r.LoadSeconds)
		}
		if len(r.Runs) != 2 || r.Runs[0].Threads != 1 || r.Runs[1].Threads != 2 {
			t.Fatalf("%s: runs %+v", r.Name, r.Runs)
		}
		for _, run := range r.Runs {
			if run.SamplesPerRun != int64(8*8*want.spp) || run.RaysPerRun < run.SamplesPerRun || run.BestSeconds <= 0 || run.MSamplesPerS <= 0 || run.MRaysPerS <= 0 {
				t.Errorf("%s: run %+v", r.Name, run)
			}
		}
		if r.Runs[0].Speedup != 1 || r.Runs[1].Speedup <= 0 {
			t.Errorf("%s: speed-ups %g, %g", r.Name, r.Runs[0].Speedup, r.Runs[1].Speedup)
		}
	}

	// A directory holding scene.xml is a scene; the film keeps its aspect
	// ratio when only one side is given; --max-depth turns the direct
	// integrator into a path tracer, saying so.
	direct := strings.Replace(benchXML, `<integrator type="path"><integer name="maxDepth" value="7"/></integrator>`, `<integrator type="direct"/>`, 1)
	writeFile(t, dir, "direct/scene.xml", direct)
	out := filepath.Join(dir, "d.pfm")
	_, stderr, code = runCmd(t, "render", filepath.Join(dir, "direct"), "-o", out, "--height", "10", "--spp", "1", "--max-depth", "3")
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	if im := readImage(t, out); im.Width != 15 || im.Height != 10 {
		t.Errorf("--height 10 on a 300x200 film gave %dx%d, want 15x10", im.Width, im.Height)
	}
	if !strings.Contains(stderr, "--max-depth 3 turns the scene's direct integrator into a path tracer") {
		t.Errorf("no note on the integrator:\n%s", stderr)
	}

	// The text table, from the built-in Cornell box.
	stdout, stderr, code = runCmd(t, "bench", "--only", "cbox", "--size", "8", "--repeat", "1")
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	for _, want := range []string{"cbox (built-in): 36 triangles, 8x8, 16 spp, max depth 3; load+build ", "threads", "Msamples/s", "Mrays/s", "speed-up", "1.00x"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("bench output does not contain %q:\n%s", want, stdout)
		}
	}
}

// TestBuiltinsRender renders every built-in scene name at 8x8 (dense, whose
// BVH over 327,680 triangles takes about a second to build, only without
// -short) and checks the furnace's expected value.
func TestBuiltinsRender(t *testing.T) {
	dir := t.TempDir()
	for _, b := range builtins {
		if b.name == "dense" && testing.Short() {
			continue
		}
		out := filepath.Join(dir, b.name+".pfm")
		_, stderr, code := runCmd(t, "render", b.name, "-o", out, "--width", "8", "--height", "8", "--spp", "4", "-q")
		if code != exitOK {
			t.Errorf("%s: exit %d:\n%s", b.name, code, stderr)
			continue
		}
		im := readImage(t, out)
		if im.Sum() <= 0 {
			t.Errorf("%s: the image is black", b.name)
		}
		if b.name == "furnace" {
			// A white diffuse sphere in a unit environment: every pixel is 1
			// up to Russian roulette noise, which is unbiased but not zero;
			// the mean over 64 pixels x 4 samples is well within 10 %.
			if m := im.Sum() / float64(len(im.Pix)); m < 0.9 || m > 1.1 {
				t.Errorf("furnace mean %g, want 1", m)
			}
		}
	}
}
