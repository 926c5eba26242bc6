package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"image/gif"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/invrender/invrender/optimize"
	"github.com/invrender/invrender/scenes"
)

// optimizeArgs is a small run: the sphere's colour on a 16x16 film from a
// 20 % wrong start.
func optimizeArgs(target, out string, iters string, extra ...string) []string {
	args := []string{"optimize", "sphere", "--target", target, "--param", "objmat.reflectance.value",
		"--set", "objmat.reflectance.value=0.84,0.36,0.24", "--truth", "objmat.reflectance.value=0.7,0.3,0.2",
		"--width", "16", "--spp", "2", "--backward-spp", "1", "--iters", iters, "--out", out,
		"--progress-every", "2", "--checkpoint-every", "3", "--seed", "5"}
	return append(args, extra...)
}

// readParams reads params.json.
func readParams(t *testing.T, dir string) map[string][]float64 {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "params.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string][]float64
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("params.json: %v\n%s", err, data)
	}
	return m
}

// readCSV reads loss.csv.
func readCSV(t *testing.T, dir string) [][]string {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "loss.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// TestOptimizeOutputs runs the command end to end on a tiny scene and
// checks every file it writes.
func TestOptimizeOutputs(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target.exr")
	// A 32x32 target for a 16x16 film: resampled, with a warning.
	writeTarget(t, target, scenes.SphereOnPlane(), 32, 32, 16)
	out := filepath.Join(dir, "run")
	stdout, stderr, code := runCmd(t, optimizeArgs(target, out, "6")...)
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	checkClean(t, stderr)
	if !strings.Contains(stderr, "resampled to sensor 0's 16x16 film") {
		t.Errorf("no resampling warning:\n%s", stderr)
	}
	// Plain progress lines every 2 iterations and the last.
	for _, want := range []string{"iteration 1/6: loss ", "iteration 3/6", "iteration 5/6", "iteration 6/6", "objmat.reflectance.value error"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	for _, f := range []string{"loss.csv", "loss.png", "progress.gif", "params.json", "final.xml", "checkpoint.json"} {
		if !strings.Contains(stdout, "wrote "+filepath.Join(out, f)) {
			t.Errorf("stdout does not report %s:\n%s", f, stdout)
		}
	}
	if !strings.Contains(stdout, "objmat.reflectance.value = ") || !strings.Contains(stdout, "relative error") {
		t.Errorf("stdout:\n%s", stdout)
	}

	recs := readCSV(t, out)
	if len(recs) != 7 || strings.Join(recs[0], ",") != "iteration,loss,seconds,error_objmat.reflectance.value" {
		t.Fatalf("loss.csv: %q", recs)
	}
	for i, r := range recs[1:] {
		if r[0] != string(rune('0'+i)) || r[1] == "" || r[2] == "" || r[3] == "" {
			t.Errorf("loss.csv row %d: %q", i, r)
		}
	}
	// The first row's error is the start's: |(0.14, 0.06, 0.04)| / |(0.7, 0.3, 0.2)| = 0.2.
	if e := parseCSVFloat(recs[1][3]); math.Abs(e-0.2) > 1e-12 {
		t.Errorf("first error %g, want 0.2", e)
	}

	f, err := os.Open(filepath.Join(out, "loss.png"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil || img.Bounds().Dx() < 200 {
		t.Errorf("loss.png: %v %v", err, img.Bounds())
	}
	f, err = os.Open(filepath.Join(out, "progress.gif"))
	if err != nil {
		t.Fatal(err)
	}
	anim, err := gif.DecodeAll(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	// Frames at iterations 0, 2 and 4, each the render beside the target.
	if len(anim.Image) != 3 || anim.Image[0].Bounds().Dx() != 2*16+gifGap || anim.Image[0].Bounds().Dy() != 16 {
		t.Errorf("progress.gif: %d frames of %v", len(anim.Image), anim.Image[0].Bounds())
	}

	params := readParams(t, out)
	v := params["objmat.reflectance.value"]
	if len(params) != 1 || len(v) != 3 {
		t.Fatalf("params.json: %v", params)
	}
	// final.xml loads, with the recovered colour, and renders again.
	s, err := scenes.LoadFile(filepath.Join(out, "final.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Warnings) > 0 {
		t.Errorf("final.xml warnings: %q", s.Warnings)
	}
	for _, m := range s.Materials {
		if m.Name == "objmat" && (m.Reflectance.Value[0] != v[0] || m.Reflectance.Value[1] != v[1] || m.Reflectance.Value[2] != v[2]) {
			t.Errorf("final.xml reflectance %v, params.json %v", m.Reflectance.Value, v)
		}
	}
	if s.Sensors[0].Width != 16 {
		t.Errorf("final.xml film %dx%d", s.Sensors[0].Width, s.Sensors[0].Height)
	}
	if _, stderr, code := runCmd(t, "render", filepath.Join(out, "final.xml"), "-o", filepath.Join(dir, "final.png"), "--spp", "1", "-q"); code != exitOK {
		t.Errorf("render final.xml: exit %d:\n%s", code, stderr)
	}
	ck, err := optimize.LoadCheckpoint(filepath.Join(out, "checkpoint.json"))
	if err != nil || ck.Iteration != 6 {
		t.Fatalf("checkpoint: %v, %+v", err, ck)
	}
}

// cancelWriter cancels a context when it has seen n lines.
type cancelWriter struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	n      int
	cancel context.CancelFunc
}

func (w *cancelWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if bytes.Count(w.buf.Bytes(), []byte("\n")) >= w.n {
		w.cancel()
	}
	return len(p), nil
}

// TestOptimizeResume checks --resume: after a shorter run and after an
// interrupt, the resumed run ends with the same values bit for bit as the
// uninterrupted one, and its loss.csv holds every iteration.
func TestOptimizeResume(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target.pfm")
	writeTarget(t, target, scenes.SphereOnPlane(), 16, 16, 16)

	var want []float64
	var wantCSV [][]string
	uninterrupted := func(extra ...string) {
		full := filepath.Join(dir, "full")
		if _, stderr, code := runCmd(t, optimizeArgs(target, full, "6", append(extra, "--threads", "1")...)...); code != exitOK {
			t.Fatalf("full run: exit %d:\n%s", code, stderr)
		}
		want = readParams(t, full)["objmat.reflectance.value"]
		wantCSV = readCSV(t, full)
	}

	same := func(what, dir string) {
		t.Helper()
		got := readParams(t, dir)["objmat.reflectance.value"]
		for i := range want {
			if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
				t.Errorf("%s: value %d = %v, uninterrupted %v", what, i, got[i], want[i])
			}
		}
		recs := readCSV(t, dir)
		if len(recs) != len(wantCSV) {
			t.Fatalf("%s: loss.csv has %d lines, want %d", what, len(recs), len(wantCSV))
		}
		for i := range recs {
			if recs[i][0] != wantCSV[i][0] || recs[i][1] != wantCSV[i][1] || recs[i][3] != wantCSV[i][3] {
				t.Errorf("%s: loss.csv line %d = %q, uninterrupted %q", what, i, recs[i], wantCSV[i])
			}
		}
	}

	// A 3-iteration run, continued to 6 with more threads. The cosine
	// schedule spans --iters, so a shorter run anneals differently: this
	// one has a constant rate.
	uninterrupted("--schedule", "constant")
	part := filepath.Join(dir, "part")
	if _, stderr, code := runCmd(t, optimizeArgs(target, part, "3", "--schedule", "constant")...); code != exitOK {
		t.Fatalf("short run: exit %d:\n%s", code, stderr)
	}
	// Resumed into another directory: the history comes from the first.
	part2 := filepath.Join(dir, "part2")
	if _, stderr, code := runCmd(t, optimizeArgs(target, part2, "6", "--resume", part, "--threads", "2", "--schedule", "constant")...); code != exitOK {
		t.Fatalf("resumed run: exit %d:\n%s", code, stderr)
	}
	same("resumed", part2)

	uninterrupted()

	// Interrupted after two iterations (the context is cancelled when the
	// second JSON line is out), then resumed.
	intr := filepath.Join(dir, "intr")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &cancelWriter{n: 2, cancel: cancel}
	var errb bytes.Buffer
	code := runContext(ctx, optimizeArgs(target, intr, "6", "--json"), w, &errb, false)
	if code != exitInterrupted || !strings.Contains(errb.String(), "--resume "+intr) {
		t.Fatalf("interrupted run: exit %d:\n%s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(w.buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("interrupted run printed %d JSON lines:\n%s", len(lines), w.buf.String())
	}
	for _, l := range lines {
		var it iterationJSON
		if err := json.Unmarshal([]byte(l), &it); err != nil || len(it.Values["objmat.reflectance.value"]) != 3 || !(it.Loss > 0) {
			t.Errorf("JSON line %q: %v", l, err)
		}
	}
	ck, err := optimize.LoadCheckpoint(filepath.Join(intr, "checkpoint.json"))
	if err != nil || ck.Iteration != 2 {
		t.Fatalf("checkpoint after the interrupt: %v, %+v", err, ck)
	}
	if recs := readCSV(t, intr); len(recs) != 3 {
		t.Errorf("loss.csv after the interrupt has %d lines, want 3", len(recs))
	}
	if _, stderr, code := runCmd(t, optimizeArgs(target, intr, "6", "--resume", intr)...); code != exitOK {
		t.Fatalf("resumed after the interrupt: exit %d:\n%s", code, stderr)
	}
	same("resumed after an interrupt", intr)
	f, err := os.Open(filepath.Join(intr, "progress.gif"))
	if err != nil {
		t.Fatal(err)
	}
	anim, err := gif.DecodeAll(f)
	f.Close()
	if err != nil || len(anim.Image) != 3 {
		t.Errorf("progress.gif after resuming: %v, %d frames, want 3", err, len(anim.Image))
	}

	// Other settings are refused, naming the difference.
	_, stderr, code := runCmd(t, optimizeArgs(target, intr, "8", "--resume", intr, "--spp", "3")...)
	if code != exitUsage || !strings.Contains(stderr, `spp: "2", now "3"`) {
		t.Errorf("resume with another --spp: exit %d:\n%s", code, stderr)
	}
	_, stderr, code = runCmd(t, optimizeArgs(target, intr, "8", "--resume", filepath.Join(dir, "nothing"))...)
	if code != exitFailure || !strings.Contains(stderr, "checkpoint") {
		t.Errorf("resume without a checkpoint: exit %d:\n%s", code, stderr)
	}
}

// TestOptimizeErrors checks mistakes and bad files.
func TestOptimizeErrors(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target.pfm")
	writeTarget(t, target, scenes.SphereOnPlane(), 16, 16, 1)
	wide := filepath.Join(dir, "wide.pfm")
	writeTarget(t, wide, scenes.SphereOnPlane(), 24, 16, 1)
	out := filepath.Join(dir, "out")
	run := func(extra ...string) []string {
		return append([]string{"optimize", "sphere", "--width", "16", "--spp", "1", "--iters", "1", "--out", out}, extra...)
	}
	cases := []struct {
		args []string
		code int
		want string
	}{
		{run("--param", "objmat.reflectance.value"), exitUsage, "no target"},
		{run("--target", target), exitUsage, "no parameter"},
		{run("--target", target, "--param", "objmat.reflectanse.value"), exitUsage, "did you mean objmat.reflectance.value"},
		{run("--target", filepath.Join(dir, "missing.exr"), "--param", "objmat.reflectance.value"), exitFailure, "missing.exr"},
		{run("--target", wide, "--param", "objmat.reflectance.value"), exitFailure, "another aspect ratio"},
		{run("--target", target, "--sensor", "1", "--param", "objmat.reflectance.value"), exitUsage, "sensor 1 does not exist"},
		{run("--target", target, "--param", "objmat.reflectance.value", "--truth", "objmat.reflectance.value=1,2"), exitUsage, "got 2 values"},
		{run("--target", target, "--param", "objmat.reflectance.value", "--truth", "planemat.reflectance.value=1"), exitUsage, "not one of the --param keys"},
		{run("--target", target, "--param", "objmat.reflectance.value", "--large-steps", "10"), exitUsage, "vertex_positions"},
		{run("--target", target, "--param", "objmat.reflectance.value", "--loss", "sum"), exitUsage, "l1, l2 or pyramid"},
		{run("--target", target, "--param", "objmat.reflectance.value:-1"), exitUsage, "not a positive number"},
		{run("--target", target, "--param", "objmat.reflectance.value", "--optimizer", "lbfgs"), exitUsage, "adam or sgd"},
		{run("--target", target, "--param", "objmat.reflectance.value", "--schedule", "steps"), exitUsage, "cosine, constant or exp:GAMMA"},
		{run("--mask", target, "--target", target, "--param", "objmat.reflectance.value"), exitUsage, "--mask follows"},
	}
	for _, tc := range cases {
		_, stderr, code := runCmd(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: exit %d, want %d with %q; stderr:\n%s", tc.args[5:], code, tc.code, tc.want, stderr)
		}
		checkClean(t, stderr)
	}
	// Two views, one masked, SGD, a minibatch of one view and JSON lines.
	stdout, stderr, code := runCmd(t, run("--target", target, "--target", target, "--mask", target,
		"--param", "light.emitter.radiance.value:0.5", "--optimizer", "sgd", "--momentum", "0.5",
		"--views-per-iter", "1", "--iters", "3", "--json", "--schedule", "exp:0.9")...)
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 3 {
		t.Errorf("--json printed %d lines:\n%s", len(lines), stdout)
	}
}
