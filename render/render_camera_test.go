package render_test

import (
	"math"
	"strings"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/geom"
	"github.com/invrender/invrender/render"
)

var allFovAxes = []render.FovAxis{render.FovX, render.FovY, render.FovDiagonal, render.FovSmaller, render.FovLarger}

// testSensor returns a sensor with an oblique pose and an up vector that is
// not perpendicular to the viewing direction.
func testSensor(w, h int, axis render.FovAxis) *render.Sensor {
	return &render.Sensor{
		Name:   "cam",
		Origin: mgl64.Vec3{0.3, 1.2, 4}, Target: mgl64.Vec3{-0.2, 0.4, 0.5}, Up: mgl64.Vec3{0.1, 1, 0.3},
		Fov: 47, FovAxis: axis, NearClip: 0.05, FarClip: 100,
		Width: w, Height: h, SPP: 1,
	}
}

// Camera.Project must invert Camera.Ray: a point anywhere along the ray
// through film position (x, y) projects back to (x, y). The tolerance is
// rounding: a few hundred ulps of the film size.
func TestCameraProjectInvertsRay(t *testing.T) {
	rng := geom.NewRNG(1, 2, 3, 4)
	for _, axis := range allFovAxes {
		for _, film := range [][2]int{{64, 64}, {64, 48}, {48, 64}, {33, 17}, {1, 7}} {
			s := testSensor(film[0], film[1], axis)
			cam, err := render.NewCamera(s)
			if err != nil {
				t.Fatal(err)
			}
			w, h := float64(film[0]), float64(film[1])
			tol := 1e-12 * math.Max(w, h) * 100
			for i := 0; i < 200; i++ {
				x, y := rng.Float64()*w, rng.Float64()*h
				r := cam.Ray(x, y)
				if l := r.D.Len(); math.Abs(l-1) > 1e-14 {
					t.Fatalf("%v %v: ray direction length %v", axis, film, l)
				}
				dir := cam.Direction(x, y)
				if f := dir.Dot(cam.Forward); math.Abs(f-1) > 1e-14 {
					t.Fatalf("%v %v: Direction's forward component %v, want 1", axis, film, f)
				}
				// Points between the clip planes.
				tt := r.TMin + rng.Float64()*(math.Min(r.TMax, 50)-r.TMin)
				px, py, ok := cam.Project(r.At(tt))
				if !ok || math.Abs(px-x) > tol || math.Abs(py-y) > tol {
					t.Fatalf("%v film %v: Project(Ray(%v, %v).At(%v)) = (%v, %v, %v)", axis, film, x, y, tt, px, py, ok)
				}
			}
			// Points behind the camera do not project.
			if _, _, ok := cam.Project(cam.Origin.Sub(cam.Forward)); ok {
				t.Errorf("%v: a point behind the camera projects", axis)
			}
			if _, _, ok := cam.Project(cam.Origin.Add(cam.Left).Sub(cam.Forward.Mul(1e-9))); ok {
				t.Errorf("%v: a point just behind the camera plane projects", axis)
			}
		}
	}
}

// Clip distances are measured along the viewing axis, as in Mitsuba: the
// ray's TMin and TMax reach the planes at depths NearClip and FarClip.
func TestCameraClipPlanes(t *testing.T) {
	cam, err := render.NewCamera(testSensor(40, 30, render.FovX))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range [][2]float64{{0, 0}, {20, 15}, {40, 30}, {3.5, 27}} {
		r := cam.Ray(p[0], p[1])
		near := r.At(r.TMin).Sub(cam.Origin).Dot(cam.Forward)
		far := r.At(r.TMax).Sub(cam.Origin).Dot(cam.Forward)
		if math.Abs(near-0.05) > 1e-14 || math.Abs(far-100) > 1e-11 {
			t.Errorf("film %v: clip depths %v, %v, want 0.05, 100", p, near, far)
		}
	}
}

// TestCameraOrientation checks Mitsuba's image orientation: with the camera
// looking down -z and up +y, the top-left corner of the film (0, 0) looks
// up and to the left (world -x, +y), the film's x grows to the right.
func TestCameraOrientation(t *testing.T) {
	s := &render.Sensor{Origin: mgl64.Vec3{}, Target: mgl64.Vec3{0, 0, -1}, Up: mgl64.Vec3{0, 1, 0},
		Fov: 60, Width: 40, Height: 20}
	cam, err := render.NewCamera(s)
	if err != nil {
		t.Fatal(err)
	}
	if d := cam.Left.Sub(mgl64.Vec3{-1, 0, 0}).Len(); d > 1e-15 {
		t.Errorf("Left = %v, want (-1, 0, 0)", cam.Left)
	}
	d := cam.Ray(0, 0).D
	if !(d[0] < 0 && d[1] > 0 && d[2] < 0) {
		t.Errorf("ray through the top-left corner %v, want (-x, +y, -z)", d)
	}
	d = cam.Ray(40, 20).D
	if !(d[0] > 0 && d[1] < 0 && d[2] < 0) {
		t.Errorf("ray through the bottom-right corner %v, want (+x, -y, -z)", d)
	}
	x, y, ok := cam.Project(mgl64.Vec3{-1, 0.2, -5})
	if !ok || !(x < 20 && y < 10) {
		t.Errorf("a point up-left of the axis projects to (%v, %v, %v), want the top-left quarter", x, y, ok)
	}
}

// TestRenderOrientation renders a small emitter up and to the left of the
// viewing axis and checks that it shows in the image's top-left quarter
// only: the end-to-end version of TestCameraOrientation (pixel (0, 0) is
// the image's first value and shows the camera's up-left).
func TestRenderOrientation(t *testing.T) {
	p, idx := quadXY(-1.2, -0.2, 0.2, 0.8, -3) // x in [-1.2,-0.2], y in [0.2,0.8], z = -3, facing +z
	s := &render.Scene{
		Sensors:    []*render.Sensor{{Origin: mgl64.Vec3{}, Target: mgl64.Vec3{0, 0, -1}, Up: mgl64.Vec3{0, 1, 0}, Fov: 60, Width: 32, Height: 24, SPP: 4}},
		Integrator: render.Integrator{MaxDepth: 1},
		Materials:  []*render.Material{{Kind: render.Diffuse}},
		Shapes:     []*render.Shape{{Name: "emitter", Positions: p, Indices: idx, Emitter: &render.AreaEmitter{Radiance: grey(1)}}},
	}
	res := renderOnce(t, s, render.Options{})
	im := res.Image
	var quarters [2][2]float64
	for y := 0; y < im.Height; y++ {
		for x := 0; x < im.Width; x++ {
			quarters[2*y/im.Height][2*x/im.Width] += im.At(x, y)[0]
		}
	}
	if !(quarters[0][0] > 10) || quarters[0][1] != 0 || quarters[1][0] != 0 || quarters[1][1] != 0 {
		t.Errorf("emitter sums by quarter (rows top, bottom; columns left, right) %v, want only the top-left lit", quarters)
	}
}

// quadXY returns the rectangle [x0,x1] x [y0,y1] in the plane z facing +z.
func quadXY(x0, x1, y0, y1, z float64) ([]mgl64.Vec3, []int32) {
	return []mgl64.Vec3{{x0, y0, z}, {x1, y0, z}, {x1, y1, z}, {x0, y1, z}}, []int32{0, 1, 2, 0, 2, 3}
}

// angle returns the angle in degrees between two directions.
func angle(a, b mgl64.Vec3) float64 {
	return math.Acos(math.Max(-1, math.Min(1, a.Normalize().Dot(b.Normalize())))) * 180 / math.Pi
}

// TestFovScale checks the field of view along each axis geometrically: the
// angle between the rays through the ends of the film's width, height or
// diagonal (whichever the axis names) is the fov, and pixels are square.
// Hand values for a 200 x 100 film with a 90 degree fov complete it.
func TestFovScale(t *testing.T) {
	for _, film := range [][2]int{{200, 100}, {100, 200}, {64, 64}, {37, 91}} {
		w, h := film[0], film[1]
		for _, axis := range allFovAxes {
			for _, fov := range []float64{10, 45, 90, 150} {
				s := testSensor(w, h, axis)
				s.Fov = fov
				cam, err := render.NewCamera(s)
				if err != nil {
					t.Fatal(err)
				}
				fw, fh := float64(w), float64(h)
				across := map[string]float64{
					"x":        angle(cam.Direction(0, fh/2), cam.Direction(fw, fh/2)),
					"y":        angle(cam.Direction(fw/2, 0), cam.Direction(fw/2, fh)),
					"diagonal": angle(cam.Direction(0, 0), cam.Direction(fw, fh)),
				}
				across["smaller"], across["larger"] = across["x"], across["y"]
				if w > h {
					across["smaller"], across["larger"] = across["y"], across["x"]
				}
				if got := across[axis.String()]; math.Abs(got-fov) > 1e-9 {
					t.Errorf("film %dx%d fov %v along %v: angle across %v", w, h, fov, axis, got)
				}
				if r := cam.TanX / cam.TanY; math.Abs(r-fw/fh) > 1e-12*r {
					t.Errorf("film %dx%d %v: TanX/TanY = %v, want %v (square pixels)", w, h, axis, r, fw/fh)
				}
			}
		}
	}
	hand := []struct {
		axis   render.FovAxis
		tx, ty float64
	}{
		{render.FovX, 1, 0.5},
		{render.FovY, 2, 1},
		{render.FovDiagonal, 2 / math.Sqrt(5), 1 / math.Sqrt(5)},
		{render.FovSmaller, 2, 1},
		{render.FovLarger, 1, 0.5},
	}
	for _, c := range hand {
		tx, ty := render.FovScale(90, c.axis, 200, 100)
		if math.Abs(tx-c.tx) > 1e-15 || math.Abs(ty-c.ty) > 1e-15 {
			t.Errorf("FovScale(90, %v, 200, 100) = %v, %v, want %v, %v", c.axis, tx, ty, c.tx, c.ty)
		}
	}
}

func TestNewCameraErrors(t *testing.T) {
	nan := math.NaN()
	cases := []struct {
		name string
		edit func(s *render.Sensor)
		want string
	}{
		{"zero width", func(s *render.Sensor) { s.Width = 0 }, "film size"},
		{"negative height", func(s *render.Sensor) { s.Height = -3 }, "film size"},
		{"fov 0", func(s *render.Sensor) { s.Fov = 0 }, "fov"},
		{"fov 180", func(s *render.Sensor) { s.Fov = 180 }, "fov"},
		{"fov NaN", func(s *render.Sensor) { s.Fov = nan }, "fov"},
		{"origin NaN", func(s *render.Sensor) { s.Origin[1] = nan }, "not finite"},
		{"target Inf", func(s *render.Sensor) { s.Target[2] = math.Inf(1) }, "not finite"},
		{"origin at target", func(s *render.Sensor) { s.Target = s.Origin }, "coincide"},
		{"up along view", func(s *render.Sensor) { s.Up = s.Target.Sub(s.Origin) }, "parallel"},
		{"zero up", func(s *render.Sensor) { s.Up = mgl64.Vec3{} }, "zero"},
	}
	for _, c := range cases {
		s := testSensor(16, 16, render.FovX)
		c.edit(s)
		_, err := render.NewCamera(s)
		if err == nil || !containsAll(err.Error(), c.want, `"cam"`) {
			t.Errorf("%s: error %v, want one naming the sensor and saying %q", c.name, err, c.want)
		}
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
