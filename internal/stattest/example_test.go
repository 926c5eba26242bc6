package stattest_test

import (
	"fmt"
	"math"

	"github.com/go-gl/mathgl/mgl64"
	"github.com/invrender/invrender/internal/stattest"
)

// A cosine-weighted hemisphere sampler tested against its pdf. In a test,
// call Check(t) instead of Run to report a failure with its worst cells.
func ExampleSphereTest() {
	st := stattest.SphereTest{
		Options: stattest.Options{Name: "cosine", SampleCount: 100_000, Seed: 1},
		Sample: func(u mgl64.Vec2) (mgl64.Vec3, bool) {
			// Malley's method: a uniform disk point lifted to the hemisphere.
			r, phi := math.Sqrt(u[0]), 2*math.Pi*u[1]
			return mgl64.Vec3{r * math.Cos(phi), r * math.Sin(phi), math.Sqrt(1 - u[0])}, true
		},
		Pdf: func(d mgl64.Vec3) float64 { return math.Max(0, d[2]) / math.Pi },
	}
	r := st.Run()
	fmt.Println(r.Passed, r.PValue > r.Alpha)
	// Output: true true
}

func ExampleChiSquare() {
	chi2, dof, p := stattest.ChiSquare([]float64{10, 20, 30}, []float64{20, 20, 20}, 5)
	fmt.Printf("chi2 = %g, dof = %d, p = %.4f\n", chi2, dof, p)
	// Output: chi2 = 10, dof = 2, p = 0.0067
}
