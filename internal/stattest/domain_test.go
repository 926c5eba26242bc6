package stattest

import (
	"math"
	"strings"
	"testing"

	"github.com/go-gl/mathgl/mgl64"
)

// Reference samplers written here from first principles, independent of the
// geom package whose warps these tests exist to check.

// cubeRejectionSphere draws a point of the cube [-1,1]^3 and, if it lies in
// the unit ball, returns its direction: uniform on the sphere, accepted with
// probability (4/3 pi)/8 = pi/6.
func cubeRejectionSphere(u mgl64.Vec3) (mgl64.Vec3, bool) {
	p := mgl64.Vec3{2*u[0] - 1, 2*u[1] - 1, 2*u[2] - 1}
	l := p.Len()
	if l > 1 || l == 0 {
		return mgl64.Vec3{}, false
	}
	return p.Mul(1 / l), true
}

// cosinePowerLobe samples the density (n+1)/(2 pi) cos^n theta about +z by
// inverting its cos theta marginal, cos theta = u^(1/(n+1)).
func cosinePowerLobe(n float64) func(u mgl64.Vec2) (mgl64.Vec3, bool) {
	return func(u mgl64.Vec2) (mgl64.Vec3, bool) {
		return SphericalDirection(math.Pow(1-u[0], 1/(n+1)), 2*math.Pi*u[1]), true
	}
}

func cosinePowerPdf(n float64) func(mgl64.Vec3) float64 {
	return func(d mgl64.Vec3) float64 {
		if d[2] <= 0 {
			return 0
		}
		return (n + 1) / (2 * math.Pi) * math.Pow(d[2], n)
	}
}

func uniformHemisphere(u mgl64.Vec2) (mgl64.Vec3, bool) {
	return SphericalDirection(u[0], 2*math.Pi*u[1]), true
}

func uniformHemispherePdf(d mgl64.Vec3) float64 {
	if d[2] < 0 {
		return 0
	}
	return 1 / (2 * math.Pi)
}

// henyeyGreenstein is the phase function with mean cosine g about +z.
func henyeyGreensteinPdf(g float64) func(mgl64.Vec3) float64 {
	return func(d mgl64.Vec3) float64 {
		den := 1 + g*g - 2*g*d[2]
		return (1 - g*g) / (4 * math.Pi * den * math.Sqrt(den))
	}
}

// henyeyGreenstein inverts the cos theta marginal of the phase function
// (Pharr, Jakob, Humphreys, Physically Based Rendering, 4th ed., 11.3.1).
func henyeyGreenstein(g float64) func(mgl64.Vec2) (mgl64.Vec3, bool) {
	return func(u mgl64.Vec2) (mgl64.Vec3, bool) {
		s := (1 - g*g) / (1 + g - 2*g*u[0])
		z := (1 + g*g - s*s) / (2 * g)
		return SphericalDirection(z, 2*math.Pi*u[1]), true
	}
}

func TestIntegratePdfSphere(t *testing.T) {
	tests := []struct {
		name string
		pdf  func(mgl64.Vec3) float64
		want float64
	}{
		{"uniform sphere", func(mgl64.Vec3) float64 { return 1 / (4 * math.Pi) }, 1},
		{"uniform hemisphere (horizon inside a cell)", uniformHemispherePdf, 1},
		{"cosine", cosinePowerPdf(1), 1},
		{"cos theta without 1/pi", func(d mgl64.Vec3) float64 { return math.Max(0, d[2]) }, math.Pi},
		{"sharp lobe n=2000", cosinePowerPdf(2000), 1},
		{"Henyey-Greenstein g=0.9", henyeyGreensteinPdf(0.9), 1},
		{"Henyey-Greenstein g=-0.5", henyeyGreensteinPdf(-0.5), 1},
		{"tilted cosine lobe", func(d mgl64.Vec3) float64 {
			return math.Max(0, d.Dot(mgl64.Vec3{0.6, 0, 0.8})) / math.Pi
		}, 1},
		{"lower-hemisphere cap z < -0.5", func(d mgl64.Vec3) float64 {
			if d[2] < -0.5 {
				return 1
			}
			return 0
		}, math.Pi}, // solid angle 2 pi (1 - 0.5)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := IntegratePdfSphere(tc.pdf, 0, 0)
			if math.Abs(got-tc.want) > 1e-6*tc.want {
				t.Errorf("integral = %.12g, want %.12g", got, tc.want)
			}
		})
	}
}

func TestIntegratePdfRect(t *testing.T) {
	disk := func(p mgl64.Vec2) float64 {
		if p.Len() > 1 {
			return 0
		}
		return 1 / math.Pi
	}
	tri := func(p mgl64.Vec2) float64 {
		if p[0]+p[1] > 1 {
			return 0
		}
		return 2
	}
	if got := IntegratePdfRect(disk, mgl64.Vec2{-1, -1}, mgl64.Vec2{1, 1}, 0, 0); math.Abs(got-1) > 1e-6 {
		t.Errorf("disk: integral = %.12g, want 1", got)
	}
	if got := IntegratePdfRect(tri, mgl64.Vec2{}, mgl64.Vec2{}, 40, 40); math.Abs(got-1) > 1e-6 {
		t.Errorf("triangle, diagonal on cell corners: integral = %.12g, want 1", got)
	}
	if got := IntegratePdfRect(tri, mgl64.Vec2{}, mgl64.Vec2{1, 1}, 0, 0); math.Abs(got-1) > 1e-6 {
		t.Errorf("triangle, diagonal through cells: integral = %.12g, want 1", got)
	}
	gauss := func(p mgl64.Vec2) float64 { return math.Exp(-0.5*p.Dot(p)) / (2 * math.Pi) }
	want := math.Pow(math.Erf(2/math.Sqrt2), 2)
	if got := IntegratePdfRect(gauss, mgl64.Vec2{-2, -2}, mgl64.Vec2{2, 2}, 0, 0); math.Abs(got-want) > 1e-8 {
		t.Errorf("Gaussian over [-2,2]^2: integral = %.12g, want %.12g", got, want)
	}
}

func TestSphereTestPasses(t *testing.T) {
	tests := []SphereTest{
		{Options: Options{Name: "cube rejection (elsewhere category)"}, Sample3: cubeRejectionSphere,
			Pdf: func(mgl64.Vec3) float64 { return (math.Pi / 6) / (4 * math.Pi) }},
		{Options: Options{Name: "cosine"}, Sample: cosinePowerLobe(1), Pdf: cosinePowerPdf(1)},
		{Options: Options{Name: "uniform hemisphere, even grid"}, Sample: uniformHemisphere, Pdf: uniformHemispherePdf,
			CosThetaRes: 40, PhiRes: 80},
		{Options: Options{Name: "Phong n=30"}, Sample: cosinePowerLobe(30), Pdf: cosinePowerPdf(30)},
		{Options: Options{Name: "Henyey-Greenstein g=0.7"}, Sample: henyeyGreenstein(0.7), Pdf: henyeyGreensteinPdf(0.7)},
		{Options: Options{Name: "cosine, fails 10% of the time"}, Sample3: func(u mgl64.Vec3) (mgl64.Vec3, bool) {
			d, _ := cosinePowerLobe(1)(mgl64.Vec2{u[0], u[1]})
			return d, u[2] < 0.9
		}, Pdf: func(d mgl64.Vec3) float64 { return 0.9 * cosinePowerPdf(1)(d) }},
	}
	if testing.Short() {
		tests = tests[:2]
	}
	for i := range tests {
		tc := &tests[i]
		tc.Seed = uint64(i + 1)
		tc.TestCount = len(tests)
		t.Run(tc.Name, func(t *testing.T) { tc.Check(t) })
	}
}

// TestSphereTestRejects checks that the test catches wrong samplers, each
// with a reason a reader can act on.
func TestSphereTestRejects(t *testing.T) {
	tests := []struct {
		test   SphereTest
		reason string
	}{
		{SphereTest{Options: Options{Name: "uniform hemisphere vs cosine pdf"}, Sample: uniformHemisphere, Pdf: cosinePowerPdf(1)},
			"p-value"},
		{SphereTest{Options: Options{Name: "cos^1.05 vs cosine pdf"}, Sample: cosinePowerLobe(1.05), Pdf: cosinePowerPdf(1)},
			"p-value"},
		{SphereTest{Options: Options{Name: "HG g=0.7 vs g=0.69"}, Sample: henyeyGreenstein(0.7), Pdf: henyeyGreensteinPdf(0.69)},
			"p-value"},
		{SphereTest{Options: Options{Name: "sphere samples vs hemisphere pdf"},
			Sample: func(u mgl64.Vec2) (mgl64.Vec3, bool) { return SphericalDirection(2*u[0]-1, 2*math.Pi*u[1]), true },
			Pdf:    uniformHemispherePdf}, "pdf integrates to zero"},
		{SphereTest{Options: Options{Name: "pdf twice too large"}, Sample: cosinePowerLobe(1),
			Pdf: func(d mgl64.Vec3) float64 { return 2 * cosinePowerPdf(1)(d) }}, "more than 1"},
		{SphereTest{Options: Options{Name: "pdf claims 1% failures that never happen"},
			Sample: cosinePowerLobe(1), Pdf: func(d mgl64.Vec3) float64 { return 0.99 * cosinePowerPdf(1)(d) }}, "p-value"},
		{SphereTest{Options: Options{Name: "sampler fails 2% of the time, pdf claims 1%"},
			Sample3: func(u mgl64.Vec3) (mgl64.Vec3, bool) {
				d, _ := cosinePowerLobe(1)(mgl64.Vec2{u[0], u[1]})
				return d, u[2] >= 0.02
			}, Pdf: func(d mgl64.Vec3) float64 { return 0.99 * cosinePowerPdf(1)(d) }}, "p-value"},
		{SphereTest{Options: Options{Name: "non-unit directions"},
			Sample: func(u mgl64.Vec2) (mgl64.Vec3, bool) { d, _ := cosinePowerLobe(1)(u); return d.Mul(1.01), true },
			Pdf:    cosinePowerPdf(1)}, "not a unit vector"},
		{SphereTest{Options: Options{Name: "NaN pdf"}, Sample: cosinePowerLobe(1),
			Pdf: func(d mgl64.Vec3) float64 { return math.Sqrt(d[2]) }}, "NaN"},
	}
	for i := range tests {
		tc := &tests[i]
		tc.test.Seed = uint64(100 + i)
		if !strings.Contains(tc.test.Name, "vs") {
			// Gross errors show with few samples; the near misses above
			// (a 5% change of exponent, a 0.01 change of g) need the
			// default million.
			tc.test.SampleCount = 200_000
		}
		t.Run(tc.test.Name, func(t *testing.T) {
			r := tc.test.Run()
			if r.Passed {
				t.Fatalf("a wrong sampler passed:\n%s", r)
			}
			if !strings.Contains(r.Reason, tc.reason) {
				t.Errorf("reason %q does not mention %q", r.Reason, tc.reason)
			}
			t.Logf("%s", r)
		})
	}
}

func TestRectTest(t *testing.T) {
	inDisk := func(p mgl64.Vec2) bool { return p.Dot(p) <= 1 }
	polarDisk := func(u mgl64.Vec2) (mgl64.Vec2, bool) {
		r, s, c := math.Sqrt(u[0]), math.Sin(2*math.Pi*u[1]), math.Cos(2*math.Pi*u[1])
		return mgl64.Vec2{r * c, r * s}, true
	}
	diskPdf := func(p mgl64.Vec2) float64 {
		if !inDisk(p) {
			return 0
		}
		return 1 / math.Pi
	}
	disk := mgl64.Vec2{-1, -1}
	one := mgl64.Vec2{1, 1}
	triPdf := func(p mgl64.Vec2) float64 {
		if p[0] < 0 || p[1] < 0 || p[0]+p[1] > 1 {
			return 0
		}
		return 2
	}
	boxMuller := func(u mgl64.Vec2) (mgl64.Vec2, bool) {
		r := math.Sqrt(-2 * math.Log(1-u[0]))
		return mgl64.Vec2{r * math.Cos(2*math.Pi*u[1]), r * math.Sin(2*math.Pi*u[1])}, true
	}
	gaussPdf := func(p mgl64.Vec2) float64 { return math.Exp(-0.5*p.Dot(p)) / (2 * math.Pi) }
	tests := []struct {
		test RectTest
		pass bool
	}{
		{RectTest{Options: Options{Name: "polar disk"}, Sample: polarDisk, Pdf: diskPdf, Min: disk, Max: one}, true},
		{RectTest{Options: Options{Name: "rejection disk"}, Pdf: func(p mgl64.Vec2) float64 {
			if !inDisk(p) {
				return 0
			}
			return 0.25 // density of the square's points that are kept
		}, Sample: func(u mgl64.Vec2) (mgl64.Vec2, bool) {
			p := mgl64.Vec2{2*u[0] - 1, 2*u[1] - 1}
			return p, inDisk(p)
		}, Min: disk, Max: one}, true},
		{RectTest{Options: Options{Name: "triangle, square-root map"}, Sample: func(u mgl64.Vec2) (mgl64.Vec2, bool) {
			s := math.Sqrt(u[0])
			return mgl64.Vec2{s * (1 - u[1]), s * u[1]}, true
		}, Pdf: triPdf}, true},
		{RectTest{Options: Options{Name: "Gaussian, tails outside the grid"}, Sample: boxMuller, Pdf: gaussPdf,
			Min: mgl64.Vec2{-2, -2}, Max: mgl64.Vec2{2, 2}}, true},
		{RectTest{Options: Options{Name: "disk with r = u (wrong)"}, Sample: func(u mgl64.Vec2) (mgl64.Vec2, bool) {
			return polarDisk(mgl64.Vec2{u[0] * u[0], u[1]})
		}, Pdf: diskPdf, Min: disk, Max: one}, false},
		{RectTest{Options: Options{Name: "triangle folded without square root (wrong)"}, Sample: func(u mgl64.Vec2) (mgl64.Vec2, bool) {
			return mgl64.Vec2{u[0] * (1 - u[1]), u[0] * u[1]}, true
		}, Pdf: triPdf}, false},
		{RectTest{Options: Options{Name: "Gaussian with sigma 1.02 (wrong)"}, Sample: func(u mgl64.Vec2) (mgl64.Vec2, bool) {
			p, ok := boxMuller(u)
			return p.Mul(1.02), ok
		}, Pdf: gaussPdf, Min: mgl64.Vec2{-2, -2}, Max: mgl64.Vec2{2, 2}}, false},
	}
	for i := range tests {
		tc := &tests[i]
		tc.test.Seed = uint64(200 + i)
		tc.test.TestCount = 4 // the passing ones
		t.Run(tc.test.Name, func(t *testing.T) {
			r := tc.test.Run()
			if r.Passed != tc.pass {
				t.Errorf("passed = %v, want %v:\n%s", r.Passed, tc.pass, r)
			} else {
				t.Logf("%s", r)
			}
		})
	}
}

// TestRunDeterministic checks that a seed fixes the histogram.
func TestRunDeterministic(t *testing.T) {
	mk := func(seed uint64) Result {
		st := SphereTest{Options: Options{SampleCount: 10_000, Seed: seed}, Sample: cosinePowerLobe(1), Pdf: cosinePowerPdf(1),
			CosThetaRes: 10, PhiRes: 20}
		return st.Run()
	}
	a, b, c := mk(7), mk(7), mk(8)
	if a.Chi2 != b.Chi2 {
		t.Errorf("same seed, different statistics %v and %v", a.Chi2, b.Chi2)
	}
	if a.Chi2 == c.Chi2 {
		t.Errorf("different seeds, same statistic %v", a.Chi2)
	}
}
