package main

import (
	"context"
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/invrender/invrender/render"
	"github.com/invrender/invrender/scenes"
)

// writeTarget renders a built-in scene's sensor 0 at a film size and
// writes it as a float image, the target of grad and optimize tests.
func writeTarget(t *testing.T, path string, s *render.Scene, w, h, spp int) {
	t.Helper()
	s.Sensors[0].Width, s.Sensors[0].Height = w, h
	r, err := render.Render(context.Background(), s, render.Options{SPP: spp, Seed: 4242, SeedSet: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := scenes.WriteImage(path, r.Image); err != nil {
		t.Fatal(err)
	}
}

// gradOutput parses grad --json.
func gradOutput(t *testing.T, stdout string) gradJSON {
	t.Helper()
	var g gradJSON
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&g); err != nil {
		t.Fatalf("%v:\n%s", err, stdout)
	}
	return g
}

// TestGradFD checks the gradient of the sphere's reflectance against the
// finite differences of grad --fd: the material gradient has no boundary
// term, so the two agree (three standard errors plus 1 %), and the JSON
// object has the documented fields.
func TestGradFD(t *testing.T) {
	stdout, stderr, code := runCmd(t, "grad", "sphere", "--param", "objmat.reflectance.value",
		"--width", "24", "--spp", "4", "--seeds", "4", "--fd", "--json")
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	checkClean(t, stderr)
	var raw map[string]any
	if err := json.Unmarshal([]byte(stdout), &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"param", "loss", "grad", "grad_stderr", "fd", "fd_stderr", "spp", "seeds", "seconds"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("--json has no %q: %s", k, stdout)
		}
	}
	g := gradOutput(t, stdout)
	if g.Param != "objmat.reflectance.value" || g.Size != 3 || len(g.Grad) != 3 || len(g.FD) != 3 || g.SPP != 4 || g.Seeds != 4 || !(g.Seconds > 0) {
		t.Fatalf("output %+v", g)
	}
	for i := range g.Grad {
		if !g.Agree[i] || !(g.Grad[i] > 0) || !(g.GradStdErr[i] > 0) {
			t.Errorf("component %d: gradient %g ± %g, finite difference %g ± %g, agree %v", i, g.Grad[i], g.GradStdErr[i], g.FD[i], g.FDStdErr[i], g.Agree[i])
		}
	}
	// The sum loss is the image sum; the gradient of the sum with respect
	// to a diffuse reflectance under direct light is the sum of the
	// sphere's irradiance: (image sum over the sphere) / reflectance, the
	// same for the three channels of a white light. Here only check the
	// sum loss itself against a render of the same size.
	if !(g.Loss > 0) || !(g.LossStdErr > 0) {
		t.Errorf("loss %g ± %g", g.Loss, g.LossStdErr)
	}

	// The table says the same.
	stdout, stderr, code = runCmd(t, "grad", "sphere", "--param", "objmat.reflectance.value",
		"--width", "16", "--spp", "2", "--seeds", "2", "--fd", "--fd-spp", "4", "--fd-seeds", "3", "--fd-step", "0.01")
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	for _, want := range []string{"INDEX", "FINITE DIFF", "AGREE", "step 0.01", "loss ", "±"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, stdout)
		}
	}
}

// TestGradLossAndImage checks an L2 loss against a target and the
// gradient image: its pixels sum to the gradient component (every
// pixel's contribution), the PNG is written beside the float values and
// the scale is stated.
func TestGradLossAndImage(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target.pfm")
	writeTarget(t, target, scenes.SphereOnPlane(), 20, 20, 8)
	png := filepath.Join(dir, "grad.png")
	stdout, stderr, code := runCmd(t, "grad", "sphere", "--param", "objmat.reflectance.value", "--index", "1",
		"--width", "20", "--spp", "2", "--seeds", "1", "--loss", "l2", "--target", target,
		"--set", "objmat.reflectance.value=0.9,0.5,0.4", "-o", png, "--json")
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	g := gradOutput(t, stdout)
	// Too bright everywhere on the sphere: positive gradients.
	if !(g.Grad[1] > 0) || g.GradStdErr[1] != 0 || !(g.ImageScale > 0) {
		t.Errorf("gradient %v ± %v, image scale %g", g.Grad, g.GradStdErr, g.ImageScale)
	}
	vals, err := scenes.ReadImage(filepath.Join(dir, "grad.pfm"))
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for i := 0; i < vals.Width*vals.Height; i++ {
		sum += vals.Pix[3*i]
	}
	// PFM stores float32: the sum of 400 rounded terms is good to ~1e-6.
	if math.Abs(sum-g.Grad[1]) > 1e-5*math.Abs(g.Grad[1]) {
		t.Errorf("gradient image sums to %g, gradient component 1 is %g", sum, g.Grad[1])
	}
	col, err := scenes.ReadImage(png)
	if err != nil {
		t.Fatal(err)
	}
	if col.Width != 20 || col.Height != 20 {
		t.Errorf("PNG is %dx%d", col.Width, col.Height)
	}
	// Somewhere on the sphere the colour is red (positive): R > B.
	red := false
	for i := 0; i < 400; i++ {
		red = red || col.Pix[3*i] > col.Pix[3*i+2]+0.1
	}
	if !red {
		t.Error("the gradient PNG has no red pixel")
	}

	// The text output names the files and the scale.
	stdout, stderr, code = runCmd(t, "grad", "sphere", "--param", "objmat.reflectance.value", "--direction", "1,1,1",
		"--width", "20", "--spp", "1", "--seeds", "1", "-o", png)
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "wrote "+png+" (blue negative, white zero, red positive; full colour at |g| >=") || !strings.Contains(stdout, "grad.pfm") {
		t.Errorf("output:\n%s", stdout)
	}
}

// TestGradLargeParam checks a parameter of thousands of values: the norm,
// the sum and the component --index.
func TestGradLargeParam(t *testing.T) {
	stdout, stderr, code := runCmd(t, "grad", "sphere", "--param", "object.vertex_positions", "--index", "7",
		"--width", "12", "--spp", "1", "--seeds", "2", "--json")
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	g := gradOutput(t, stdout)
	if g.Size != 7686 || len(g.Grad) != 1 || len(g.Index) != 1 || g.Index[0] != 7 || !(g.Norm > 0) {
		t.Errorf("output %+v", g)
	}
	stdout, _, code = runCmd(t, "grad", "sphere", "--param", "object.vertex_positions", "--width", "12", "--spp", "1", "--seeds", "1")
	if code != exitOK || !strings.Contains(stdout, "gradient norm") {
		t.Errorf("exit %d:\n%s", code, stdout)
	}
}

// TestGradErrors checks mistakes: exit status 2 for the command line, 1
// for files, with messages naming what is wrong.
func TestGradErrors(t *testing.T) {
	dir := t.TempDir()
	wide := filepath.Join(dir, "wide.pfm")
	writeTarget(t, wide, scenes.SphereOnPlane(), 30, 20, 1)
	square := filepath.Join(dir, "square.pfm")
	writeTarget(t, square, scenes.SphereOnPlane(), 30, 30, 1)
	base := []string{"grad", "sphere", "--width", "12", "--spp", "1", "--seeds", "1"}
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--param", "objmat.reflectanse.value"}, exitUsage, `did you mean objmat.reflectance.value`},
		{[]string{}, exitUsage, "no parameter"},
		{[]string{"--param", "objmat.reflectance.value", "--loss", "l2"}, exitUsage, "give --target"},
		{[]string{"--param", "objmat.reflectance.value", "--loss", "huber", "--target", square}, exitUsage, "unknown loss"},
		{[]string{"--param", "objmat.reflectance.value", "--loss", "l2", "--target", filepath.Join(dir, "missing.png")}, exitFailure, "missing.png"},
		{[]string{"--param", "objmat.reflectance.value", "--loss", "l1", "--target", wide}, exitFailure, "another aspect ratio"},
		{[]string{"--param", "objmat.reflectance.value", "--index", "3"}, exitUsage, "has 3 components"},
		{[]string{"--param", "objmat.reflectance.value", "-o", filepath.Join(dir, "g.jpg")}, exitUsage, ".png"},
		{[]string{"--param", "objmat.reflectance.value", "--fd-step", "0.1"}, exitUsage, "need --fd"},
		{[]string{"--param", "objmat.reflectance.value", "--boundary", "maybe"}, exitUsage, "auto, on or off"},
		{[]string{"--param", "objmat.reflectance.value", "--direction", "1,2", "-o", filepath.Join(dir, "g.png")}, exitUsage, "--direction has 2 values"},
	}
	for _, tc := range cases {
		args := append(append([]string(nil), base...), tc.args...)
		_, stderr, code := runCmd(t, args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: exit %d, want %d with %q; stderr:\n%s", tc.args, code, tc.code, tc.want, stderr)
		}
		checkClean(t, stderr)
	}
	// A target of the film's aspect ratio is resampled, with a warning.
	_, stderr, code := runCmd(t, append(base, "--param", "objmat.reflectance.value", "--loss", "l2", "--target", square)...)
	if code != exitOK || !strings.Contains(stderr, "resampled to sensor 0's 12x12 film") {
		t.Errorf("square target: exit %d:\n%s", code, stderr)
	}
}
