package render

import (
	"fmt"
	"math"
	"testing"

	"github.com/go-gl/mathgl/mgl64"
	"github.com/invrender/invrender/internal/stattest"
)

// ggxDVector is D(m) in Mitsuba's vector form, 1 / (pi alpha^2
// ((m.x^2 + m.y^2)/alpha^2 + m.z^2)^2), for a unit normal m.
func ggxDVector(alpha float64, m mgl64.Vec3) float64 {
	q := (m[0]*m[0]+m[1]*m[1])/(alpha*alpha) + m[2]*m[2]
	return 1 / (math.Pi * alpha * alpha * q * q)
}

// ggxG1Tan is Smith's G1 in its tangent form 2 / (1 + sqrt(1 + alpha^2
// tan^2 theta)) (Walter et al. 2007, eq. 34).
func ggxG1Tan(alpha, c float64) float64 {
	t2 := (1 - c*c) / (c * c)
	return 2 / (1 + math.Sqrt(1+alpha*alpha*t2))
}

func dirAt(thetaDeg, phiDeg float64) mgl64.Vec3 {
	st, ct := math.Sincos(thetaDeg * math.Pi / 180)
	sp, cp := math.Sincos(phiDeg * math.Pi / 180)
	return mgl64.Vec3{st * cp, st * sp, ct}
}

func TestGGXFormsAgree(t *testing.T) {
	for _, a := range []float64{1e-4, 0.05, 0.3, 1, 2} {
		for th := 0.0; th < 90; th += 7.3 {
			m := dirAt(th, 40)
			if got, want := GGXD(a, m[2]*m[2]), ggxDVector(a, m); math.Abs(got-want) > 1e-12*want {
				t.Errorf("D(%g, theta %g) = %g, vector form %g", a, th, got, want)
			}
			c := m[2]
			if got, want := GGXG1(a, c), ggxG1Tan(a, c); math.Abs(got-want) > 1e-14 {
				t.Errorf("G1(%g, %g) = %g, tangent form %g", a, c, got, want)
			}
			if got, want := GGXG1OverCos(a, c)*c, GGXG1(a, c); got != want {
				t.Errorf("G1OverCos*c = %g, G1 = %g", got, want)
			}
		}
		if got, want := GGXG1OverCos(a, 0), 2/a; math.Abs(got-want) > 1e-12*want {
			t.Errorf("G1OverCos(%g, 0) = %g, want %g", a, got, want)
		}
		if GGXG1(a, 1) != 1 || GGXG1(a, 0) != 0 {
			t.Errorf("G1(%g, 1) = %g, G1(%g, 0) = %g", a, GGXG1(a, 1), a, GGXG1(a, 0))
		}
	}
}

// The normal distribution is normalised over projected area, and the
// distribution of visible normals over solid angle (which checks G1 against
// D: integral G1(wo) max(0, wo.m) D(m) dm = cos theta_o).
func TestGGXNormalisation(t *testing.T) {
	t.Parallel()
	for _, a := range []float64{0.1, 0.5, 1} {
		got := integrateSphere(func(m mgl64.Vec3) mgl64.Vec4 {
			if m[2] <= 0 {
				return mgl64.Vec4{}
			}
			return mgl64.Vec4{GGXD(a, m[2]*m[2]) * m[2]}
		}, 1e-7)[0]
		if math.Abs(got-1) > 1e-6 {
			t.Errorf("integral of D cos for alpha %g = %.8f, want 1", a, got)
		}
		for _, th := range []float64{0, 45, 80} {
			wo := dirAt(th, 0)
			got := integrateSphere(func(m mgl64.Vec3) mgl64.Vec4 {
				return mgl64.Vec4{GGXVNDFPdf(a, wo, m)}
			}, 1e-7)[0]
			if math.Abs(got-1) > 1e-6 {
				t.Errorf("integral of D_wo for alpha %g, theta_o %g = %.8f, want 1", a, th, got)
			}
		}
	}
}

// SampleGGXVNDF draws normals with density GGXVNDFPdf.
func TestSampleGGXVNDFChiSquare(t *testing.T) {
	t.Parallel()
	type tc struct{ alpha, theta float64 }
	cases := []tc{{0.05, 30}, {0.3, 0}, {0.3, 60}, {0.8, 85}, {1, 89}, {1.5, 45}}
	for i, c := range cases {
		wo := dirAt(c.theta, 20)
		st := stattest.SphereTest{
			Options: stattest.Options{
				Name:        fmt.Sprintf("VNDF alpha %g theta %g", c.alpha, c.theta),
				SampleCount: 200_000, Seed: uint64(1000 + i), TestCount: len(cases),
			},
			Sample: func(u mgl64.Vec2) (mgl64.Vec3, bool) { return SampleGGXVNDF(c.alpha, wo, u), true },
			Pdf:    func(m mgl64.Vec3) float64 { return GGXVNDFPdf(c.alpha, wo, m) },
		}
		st.Check(t)
	}
}

func TestHalfVector(t *testing.T) {
	for i := 0; i < 200; i++ {
		wo := dirAt(float64(i%89), float64(i*37%360))
		wi := dirAt(float64(i*13%90), float64(i*71%360))
		h := wo.Add(wi).Normalize()
		c2, coh, ok := HalfVector(wo[2], wi[2], wo.Dot(wi))
		if !ok || math.Abs(c2-h[2]*h[2]) > 1e-12 || math.Abs(coh-wo.Dot(h)) > 1e-12 {
			t.Errorf("HalfVector(%v, %v) = %g %g %v, want %g %g", wo, wi, c2, coh, ok, h[2]*h[2], wo.Dot(h))
		}
	}
	if _, _, ok := HalfVector(0, 0, -1); ok {
		t.Error("HalfVector of opposite directions is defined")
	}
}
