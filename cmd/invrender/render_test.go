package main

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/invrender/invrender/adjoint"
	"github.com/invrender/invrender/render"
	"github.com/invrender/invrender/scenes"
)

// reference renders a scene in-process as the command should.
func reference(t *testing.T, s *render.Scene, o render.Options) *render.Image {
	t.Helper()
	res, err := render.Render(context.Background(), s, o)
	if err != nil {
		t.Fatal(err)
	}
	return res.Image
}

// readImage reads a file the command wrote.
func readImage(t *testing.T, path string) *render.Image {
	t.Helper()
	im, err := scenes.ReadImage(path)
	if err != nil {
		t.Fatal(err)
	}
	return im
}

// maxRelDiff returns max |a-b| / max(|b|, floor) over all values.
func maxRelDiff(a, b []float64, floor float64) float64 {
	m := 0.0
	for i := range a {
		m = math.Max(m, math.Abs(a[i]-b[i])/math.Max(math.Abs(b[i]), floor))
	}
	return m
}

// TestRenderFormats renders the emissive triangle to each float format and
// to PNG and compares the files with the same render done in-process.
func TestRenderFormats(t *testing.T) {
	dir := t.TempDir()
	ref := reference(t, scenes.EmissiveTriangle(), render.Options{SPP: 2, Seed: 7, SeedSet: true})
	if ref.Sum() < 100 {
		t.Fatalf("reference image sum %g: the triangle is missing", ref.Sum())
	}
	for _, ext := range []string{".pfm", ".exr", ".png", ".hdr", ".tga"} {
		out := filepath.Join(dir, "tri"+ext)
		// Flags after the scene, and before it.
		args := []string{"render", "triangle", "-o", out, "--spp", "2", "--seed", "7", "-q"}
		if ext == ".exr" {
			args = []string{"render", "-o", out, "--spp=2", "--seed", "7", "--threads", "1", "builtin:triangle"}
		}
		stdout, stderr, code := runCmd(t, args...)
		if code != exitOK {
			t.Fatalf("%q: exit %d:\n%s", args, code, stderr)
		}
		if !strings.Contains(stdout, "wrote "+out) {
			t.Errorf("%s: stdout %q does not name the file", ext, stdout)
		}
		if !strings.Contains(stderr, "rendered 64x64 at 2 spp") || !strings.Contains(stderr, "Msamples/s") || !strings.Contains(stderr, "Mrays/s") {
			t.Errorf("%s: no summary line in stderr:\n%s", ext, stderr)
		}
		im := readImage(t, out)
		if im.Width != 64 || im.Height != 64 {
			t.Fatalf("%s: %dx%d, want 64x64", ext, im.Width, im.Height)
		}
		var tol float64
		switch ext {
		case ".pfm", ".exr":
			tol = 1e-7 // float32 storage: half an ulp is 6e-8 relative
		case ".hdr":
			tol = 1.0 / 128 // RGBE: 8-bit mantissa, relative error at most 2^-8 per the writer
		default:
			tol = -1 // 8-bit: compared in sRGB below
		}
		if tol > 0 {
			if d := maxRelDiff(im.Pix, ref.Pix, 1e-3); d > tol {
				t.Errorf("%s: max relative difference %g from the in-process render (tolerance %g)", ext, d, tol)
			}
			continue
		}
		// 8-bit: the file holds the sRGB code of the clamped value, so the
		// decoded value's sRGB encoding is within half a code of it.
		for i, v := range ref.Pix {
			want := scenes.LinearToSRGB(math.Min(math.Max(v, 0), 1))
			if got := scenes.LinearToSRGB(im.Pix[i]); math.Abs(got-want) > 0.5/255+1e-9 {
				t.Fatalf("%s: value %d: sRGB %g, want %g", ext, i, got, want)
			}
		}
	}
	// Only the images: no temporary files left behind.
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	if strings.Join(names, " ") != "tri.exr tri.hdr tri.pfm tri.png tri.tga" {
		t.Errorf("directory holds %q", names)
	}
}

// TestRenderSet checks that --set changes the image exactly as setting the
// parameter through the registry does, that one value broadcasts to all
// components, and that the film, depth and sample flags apply.
func TestRenderSet(t *testing.T) {
	dir := t.TempDir()
	base := []string{"render", "sphere", "--width", "32", "--spp", "1", "--max-depth", "2", "-q"}
	out := func(name string, extra ...string) *render.Image {
		p := filepath.Join(dir, name+".pfm")
		args := append(append(append([]string{}, base...), "-o", p), extra...)
		_, stderr, code := runCmd(t, args...)
		if code != exitOK {
			t.Fatalf("%q: exit %d:\n%s", args, code, stderr)
		}
		return readImage(t, p)
	}
	plain := out("plain")
	if plain.Width != 32 || plain.Height != 32 {
		t.Fatalf("--width 32 on a square film gave %dx%d", plain.Width, plain.Height)
	}
	moved := out("moved", "--set", "object.translation=0.3,0,0")
	if d := maxRelDiff(moved.Pix, plain.Pix, 1e-2); d < 0.1 {
		t.Errorf("--set object.translation changed the image by at most %g", d)
	}

	// The same through the registry.
	s := scenes.SphereOnPlane()
	s.Sensors[0].Width, s.Sensors[0].Height = 32, 32
	ps, err := adjoint.NewParams(s)
	if err != nil {
		t.Fatal(err)
	}
	copy(ps.Get("object.translation").Value, []float64{0.3, 0, 0})
	if err := ps.Update(); err != nil {
		t.Fatal(err)
	}
	want := reference(t, s, render.Options{SPP: 1})
	if d := maxRelDiff(moved.Pix, want.Pix, 1e-3); d > 1e-7 {
		t.Errorf("--set differs from Params.Update by %g", d)
	}

	grey := out("grey", "--set", "objmat.reflectance.value=0.5")
	grey3 := out("grey3", "--set", "objmat.reflectance.value=0.5,0.5,0.5")
	if d := maxRelDiff(grey.Pix, grey3.Pix, 1e-3); d != 0 {
		t.Errorf("a single value and three equal values differ by %g", d)
	}
	if d := maxRelDiff(grey.Pix, plain.Pix, 1e-2); d < 0.1 {
		t.Errorf("--set objmat.reflectance.value changed the image by at most %g", d)
	}
}

// TestRenderAOVs writes every AOV beside an OpenEXR output.
func TestRenderAOVs(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "r.exr")
	stdout, stderr, code := runCmd(t, "render", "occluder", "-o", out, "--spp", "2", "--aov", "albedo,normal", "--aov", "depth,alpha", "-q")
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	for _, n := range []string{"albedo", "normal", "depth", "alpha"} {
		p := filepath.Join(dir, "r-"+n+".exr")
		if !strings.Contains(stdout, "wrote "+p) {
			t.Errorf("stdout does not name %s:\n%s", p, stdout)
		}
		if _, err := os.Stat(p); err != nil {
			t.Error(err)
		}
	}
	main := readImage(t, out)
	alpha := readImage(t, filepath.Join(dir, "r-alpha.exr"))
	if main.Alpha == nil {
		t.Fatal("the main image has no alpha channel")
	}
	for i, a := range main.Alpha {
		if a < 0 || a > 1 || alpha.Pix[3*i] != a {
			t.Fatalf("pixel %d: alpha %g in the image, %g in the AOV", i, a, alpha.Pix[3*i])
		}
	}
	// The camera looks straight down from height 5. Pixel (32, 27) sees the
	// up-facing occluder (height 1, z in [-0.35, 0.25]) about 0.23 from the
	// axis along z, beside the light (|z| < 0.15 at height 2) whichever way
	// the image's rows run: depth 4/cos(atan(0.23/4)) ~ 4.007, normal +y,
	// albedo 0.5.
	depth := readImage(t, filepath.Join(dir, "r-depth.exr"))
	normal := readImage(t, filepath.Join(dir, "r-normal.exr"))
	albedo := readImage(t, filepath.Join(dir, "r-albedo.exr"))
	const px, py = 32, 27
	if d := depth.At(px, py)[0]; math.Abs(d-4.007) > 0.01 {
		t.Errorf("depth %g, want 4.007", d)
	}
	if n := normal.At(px, py); math.Abs(n[1]-1) > 1e-6 {
		t.Errorf("normal %v, want +y", n)
	}
	if a := albedo.At(px, py); math.Abs(a[0]-0.5) > 1e-6 {
		t.Errorf("albedo %v, want 0.5", a)
	}

	// 8-bit outputs map normals to [0, 1].
	png := filepath.Join(dir, "r.png")
	if _, stderr, code := runCmd(t, "render", "occluder", "-o", png, "--spp", "1", "--aov", "normal", "-q"); code != exitOK {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	raw, err := scenes.ReadImageOpts(filepath.Join(dir, "r-normal.png"), scenes.ImageOptions{Raw: true})
	if err != nil {
		t.Fatal(err)
	}
	if n := raw.At(px, py); math.Abs(n[0]-0.5) > 1.0/255 || math.Abs(n[1]-1) > 1.0/255 {
		t.Errorf("PNG normal %v, want (0.5, 1, 0.5)", n)
	}
}

// TestRenderInterrupted cancels the context as Ctrl-C does: exit status
// 130, a message, and no file.
func TestRenderInterrupted(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "x.png")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr strings.Builder
	code := runContext(ctx, []string{"render", "triangle", "-o", out}, &stdout, &stderr, false)
	if code != exitInterrupted || !strings.Contains(stderr.String(), "nothing written") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr.String())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("an interrupted render left %v", entries)
	}
}

// TestDefines loads an XML scene with $variables set by both spellings of
// -D and checks what info reports, warnings included.
func TestDefines(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "s.xml", `<scene version="3.0.0">
  <default name="r" value="0.5"/>
  <default name="res" value="16"/>
  <sensor type="perspective">
    <float name="fov" value="40"/>
    <transform name="to_world"><lookat origin="0, 0, 4" target="0, 0, 0" up="0, 1, 0"/></transform>
    <film type="hdrfilm"><integer name="width" value="$res"/><integer name="height" value="$res"/></film>
  </sensor>
  <bsdf type="diffuse" id="paint"><rgb name="reflectance" value="$r"/><float name="roughnes" value="1"/></bsdf>
  <shape type="rectangle" id="board"><ref id="paint"/></shape>
  <shape type="sphere" id="ball"><ref id="paint"/>
    <emitter type="area"><rgb name="radiance" value="1"/></emitter>
  </shape>
</scene>
`)
	stdout, stderr, code := runCmd(t, "info", p, "-Dr=0.25", "-D", "res=8")
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	for _, want := range []string{`"board": 2 triangles`, `"ball": `, "reflectance 0.25", "film 8x8", "area emitter", `unknown parameter "roughnes"`, "warnings: "} {
		if !strings.Contains(stdout, want) {
			t.Errorf("info does not say %q:\n%s", want, stdout)
		}
	}
	// render prints the warnings to stderr and uses the variables.
	out := filepath.Join(dir, "s.pfm")
	_, stderr, code = runCmd(t, "render", p, "-o", out, "-D", "res=8", "--spp", "1")
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	if !strings.Contains(stderr, `warning: `) || !strings.Contains(stderr, `"roughnes"`) {
		t.Errorf("render does not show the loader's warning:\n%s", stderr)
	}
	if im := readImage(t, out); im.Width != 8 {
		t.Errorf("-D res=8 gave width %d", im.Width)
	}
}
