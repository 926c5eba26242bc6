package optimize_test

import (
	"math"
	"testing"

	"github.com/invrender/invrender/adjoint"
	"github.com/invrender/invrender/optimize"
	"github.com/invrender/invrender/scenes"
)

// The geometry demos recover what moves visibility: their gradients come
// from the boundary term of edge sampling (silhouettes, shadow edges, the
// edges of everything the camera sees).

// TestDemoTranslation is demo 3: the sphere of scenes.SphereOnPlane moved
// back to where the target shows it, from 0.12 scene units away (24 % of
// its radius 0.5), to within 1 % of the radius (0.005). Only its
// silhouette and its shadow reveal the position, so the gradient is all
// boundary term. Forward and backward passes take 16 and 8 samples per
// pixel. The target takes 4096: its noise moves the loss's minimum, along
// the viewing direction (z) most, where the image changes least (with
// targets of 1024 samples the recovered z moved by up to 0.0023 between
// target seeds, with 4096 by up to 0.0016). Over four run seeds the error
// was 0.31-0.68 % of the radius, a twentieth of a pixel.
//
// The short version (a 32-pixel film, 60 iterations) is held to 2 % of
// the radius: a pixel spans 0.09 scene units at the sphere (0.07 in the
// full version), and fewer iterations average less of the gradient's
// noise (over six run seeds its error reached 1.2 % of the radius).
func TestDemoTranslation(t *testing.T) {
	const key = "object.translation"
	size, iters, tol := 40, 100, 0.01*0.5
	if testing.Short() {
		size, iters, tol = 32, 60, 0.02*0.5
	}
	s, ps := sphereScene(t, size)
	truth := []float64{0.07, 0, -0.1}
	setParam(t, ps, key, truth...)
	target := renderTarget(t, s, 0, 4096, 77)
	start := []float64{0, 0, 0}
	setParam(t, ps, key, start...)
	res, spi := demoRun(t, optimize.Config{
		Params:      ps,
		Keys:        []optimize.KeyRate{{Key: key, LR: 0.01}},
		Targets:     []optimize.Target{{Image: target}},
		SPP:         16,
		BackwardSPP: 8,
		Iterations:  iters,
		Schedule:    optimize.Cosine(iters, 0.05),
		Seed:        1 + *demoSeed,
		Truth:       map[string][]float64{key: truth},
	})
	got := res.Values[key]
	d0, d := dist(start, truth), dist(got, truth)
	t.Logf("%dx%d film, %d iterations, %.3f s/iteration (%s): %s = %.4f, truth %.4f: error %.4f = %.2f%% of the radius (start %.4f = %.0f%%)",
		size, size, res.Iterations, spi, threadsLabel(), key, got, truth, d, 100*d/0.5, d0, 100*d0/0.5)
	if d0 < 0.2*0.5 {
		t.Fatalf("the start is %.3f from the truth, less than 20%% of the radius", d0)
	}
	if !(d < tol) {
		t.Errorf("%s = %.4f is %.4f from the truth %.4f, want < %.4f", key, got, d, truth, tol)
	}
}

// rayPoint returns the point at distance d from o towards t: the camera
// target at distance d along the viewing ray of a camera at o looking at t.
func rayPoint(o, t []float64, d float64) []float64 {
	l := dist(o, t)
	out := make([]float64, len(o))
	for i := range out {
		out[i] = o[i] + (t[i]-o[i])*d/l
	}
	return out
}

// viewAngle returns the angle in degrees between the viewing directions
// t1 - o1 and t2 - o2.
func viewAngle(o1, t1, o2, t2 []float64) float64 {
	var d, n1, n2 float64
	for i := range 3 {
		a, b := t1[i]-o1[i], t2[i]-o2[i]
		d, n1, n2 = d+a*b, n1+a*a, n2+b*b
	}
	return math.Acos(math.Min(1, d/math.Sqrt(n1*n2))) * 180 / math.Pi
}

// TestDemoCameraPose is demo 4: the camera pose in the Cornell box, its
// position sensor.origin and the point it looks at sensor.target
// optimised together, from a start 10.4 % of the camera distance D = 3.9
// away in position and 11.8 % in the target (the view turned by 9.8
// degrees), to within 1 % of D (0.039) in both.
//
// The image depends on the target only through the viewing direction
// (t - o)/|t - o|: sliding sensor.target along the viewing ray changes no
// pixel, so its distance from the camera is not recoverable and its error
// is measured where the truth puts it, at distance D along the recovered
// viewing ray (rayPoint); that error is D times the angle between the
// recovered and the true viewing directions, plus the origin's error. The
// start keeps the target at distance D, a rigid change of pose; the raw
// |target - truth| is logged too. Over four run seeds the errors were at
// most 0.62 % of D (origin) and 0.28 % (target).
//
// Three choices make the pose recoverable:
//
//   - SGD with heavy-ball momentum, not Adam. A camera moved with its
//     target held in place turns about that point, and scene points at the
//     target's depth keep their place in the image: only parallax (the box
//     front at depth 2.9 moves against the back wall at 4.9) tells that
//     motion from a turn of the view. The image moves three to four times
//     less along it than under a turn of the same size, so the loss is
//     flat there, and along the ray it is flat exactly. Adam normalises
//     each component's step and walks along flat directions as fast as
//     along steep ones: in trials one of three run seeds ended 0.077 off
//     in position and the target drifted 0.05 to 0.4 along the ray.
//     Gradient descent steps in proportion to the gradient and never moves
//     along the ray. The learning rates are per key, the origin's larger
//     since its gradient is weaker.
//   - The light is hidden from the camera (Integrator.HideEmitters, as
//     Mitsuba's hide_emitters): seen directly it is 25 times brighter
//     than the walls, so its few pixels and their edges made most of the
//     gradient, and runs with the light visible slid away in trials (with
//     Adam and with SGD). It still lights the room.
//   - L1, whose gradient has the same size on every mismatched pixel.
//
// The short version (a 32-pixel film, 80 iterations) is held to 2.5 % of
// D: a pixel there spans 1.2 degrees, and the parallax that pins the
// position along the turning direction is a pixel for a 0.15-unit move
// (over four run seeds its origin error reached 1.1 % of D).
func TestDemoCameraPose(t *testing.T) {
	const okey, tkey = "sensor.origin", "sensor.target"
	size, iters, tol := 48, 100, 0.01
	if testing.Short() {
		size, iters, tol = 32, 80, 0.025
	}
	s := scenes.CornellBox()
	s.Sensors[0].Width, s.Sensors[0].Height = size, size
	s.Integrator.HideEmitters = true
	ps, err := adjoint.NewParams(s)
	if err != nil {
		t.Fatal(err)
	}
	trueO := append([]float64(nil), ps.Get(okey).Value...)
	trueT := append([]float64(nil), ps.Get(tkey).Value...)
	D := dist(trueO, trueT)
	target := renderTarget(t, s, 0, 512, 78)

	startO := offset(trueO, 0.25, -0.2, 0.25)
	startT := rayPoint(startO, offset(trueT, -0.3, 0.26, 0), D)
	setParam(t, ps, okey, startO...)
	setParam(t, ps, tkey, startT...)
	eo0, et0 := dist(startO, trueO), dist(rayPoint(startO, startT, D), trueT)
	if eo0 < 0.1*D || et0 < 0.1*D {
		t.Fatalf("the start is %.3f and %.3f from the truth, less than 10%% of the camera distance %.3f", eo0, et0, D)
	}

	res, spi := demoRun(t, optimize.Config{
		Params:      ps,
		Keys:        []optimize.KeyRate{{Key: okey, LR: 0.2}, {Key: tkey, LR: 0.03}},
		Targets:     []optimize.Target{{Image: target}},
		Loss:        optimize.L1(),
		Optimizer:   "sgd",
		Momentum:    0.9,
		SPP:         8,
		BackwardSPP: 4,
		Iterations:  iters,
		Schedule:    optimize.Cosine(iters, 0.05),
		Seed:        2 + *demoSeed,
	})
	o, tg := res.Values[okey], res.Values[tkey]
	eo, et := dist(o, trueO), dist(rayPoint(o, tg, D), trueT)
	angle := viewAngle(o, tg, trueO, trueT)
	t.Logf("%dx%d film, %d iterations, %.3f s/iteration (%s)", size, size, res.Iterations, spi, threadsLabel())
	t.Logf("%s = %.4f, truth %.4f: error %.4f = %.2f%% of D (start %.2f%%)", okey, o, trueO, eo, 100*eo/D, 100*eo0/D)
	t.Logf("%s = %.4f, truth %.4f: error at distance D %.4f = %.2f%% of D (start %.2f%%), view direction %.3f degrees off (start %.1f); raw |target - truth| %.4f",
		tkey, tg, trueT, et, 100*et/D, 100*et0/D, angle, viewAngle(startO, startT, trueO, trueT), dist(tg, trueT))
	if !(eo < tol*D) || !(et < tol*D) {
		t.Errorf("pose errors %.4f (origin) and %.4f (target), want both < %.4f", eo, et, tol*D)
	}
}
