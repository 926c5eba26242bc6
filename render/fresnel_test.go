package render

import (
	"math"
	"testing"
)

// fresnelRef is the textbook form of the unpolarised dielectric Fresnel
// reflectance with explicit angles (Born and Wolf, section 1.5.2), light going
// from index n1 into index n2.
func fresnelRef(cosI, n1, n2 float64) float64 {
	sinI := math.Sqrt(math.Max(0, 1-cosI*cosI))
	sinT := n1 / n2 * sinI
	if sinT >= 1 {
		return 1
	}
	cosT := math.Sqrt(1 - sinT*sinT)
	rs := (n1*cosI - n2*cosT) / (n1*cosI + n2*cosT)
	rp := (n2*cosI - n1*cosT) / (n2*cosI + n1*cosT)
	return 0.5 * (rs*rs + rp*rp)
}

func TestFresnelDielectricReference(t *testing.T) {
	for _, eta := range []float64{1.0001, 1.33, 1.5, 2.4, 0.6} {
		// Normal incidence: ((eta-1)/(eta+1))^2 from either side.
		r0 := (eta - 1) / (eta + 1) * (eta - 1) / (eta + 1)
		if got := FresnelDielectric(1, eta); math.Abs(got-r0) > 1e-15 {
			t.Errorf("F(1, %g) = %g, want %g", eta, got, r0)
		}
		if got := FresnelDielectric(-1, eta); math.Abs(got-r0) > 1e-15 {
			t.Errorf("F(-1, %g) = %g, want %g", eta, got, r0)
		}
		for c := 0.01; c < 1; c += 0.0137 {
			if got, want := FresnelDielectric(c, eta), fresnelRef(c, 1, eta); math.Abs(got-want) > 1e-13 {
				t.Errorf("F(%g, %g) = %.15g, want %.15g", c, eta, got, want)
			}
			// From inside, the relative index is 1/eta.
			if got, want := FresnelDielectric(-c, eta), fresnelRef(c, eta, 1); math.Abs(got-want) > 1e-13 {
				t.Errorf("F(%g, %g) = %.15g, want %.15g", -c, eta, got, want)
			}
		}
	}
	// Special cases: index matched, grazing, total internal reflection,
	// invalid eta.
	cases := []struct{ c, eta, want float64 }{
		{0.5, 1, 0}, {-0.3, 1, 0}, {0, 1.5, 1}, {0, 0.7, 1},
		{-0.1, 1.5, 1}, {0.1, 0.5, 1}, {0.5, 0, 0}, {0.5, -2, 0}, {2, 1.5, FresnelDielectric(1, 1.5)},
	}
	for _, c := range cases {
		if got := FresnelDielectric(c.c, c.eta); got != c.want {
			t.Errorf("F(%g, %g) = %g, want %g", c.c, c.eta, got, c.want)
		}
	}
}

func TestFresnelConductorReference(t *testing.T) {
	// Normal incidence: ((n-1)^2 + k^2) / ((n+1)^2 + k^2).
	for _, nk := range [][2]float64{{0.143, 3.983}, {0.2, 3.912}, {1.5, 0}, {2.5, 1}, {0, 0}} {
		n, k := nk[0], nk[1]
		want := ((n-1)*(n-1) + k*k) / ((n+1)*(n+1) + k*k)
		if got := FresnelConductor(1, n, k); math.Abs(got-want) > 1e-14 {
			t.Errorf("Fc(1, %g, %g) = %g, want %g", n, k, got, want)
		}
		if got := FresnelConductor(0, n, k); math.Abs(got-1) > 1e-14 {
			t.Errorf("Fc(0, %g, %g) = %g, want 1", n, k, got)
		}
	}
	// With k = 0 it is the dielectric reflectance.
	for _, eta := range []float64{1.2, 1.5, 3, 0.7} {
		for c := 0.005; c <= 1; c += 0.0113 {
			if got, want := FresnelConductor(c, eta, 0), FresnelDielectric(c, eta); math.Abs(got-want) > 1e-12 {
				t.Errorf("Fc(%g, %g, 0) = %.15g, dielectric %.15g", c, eta, got, want)
			}
		}
	}
	// Against the complex-arithmetic form r_s = (cos - sqrt(n^2 - sin^2)) /
	// (cos + sqrt(n^2 - sin^2)), r_p = (n^2 cos - sqrt(n^2 - sin^2)) /
	// (n^2 cos + sqrt(n^2 - sin^2)) with n = eta + i k.
	for _, nk := range [][2]float64{{0.143, 3.983}, {1.442, 1.603}, {0.2, 3.912}} {
		n := complex(nk[0], nk[1])
		for c := 0.0; c <= 1; c += 0.05 {
			s2 := complex(1-c*c, 0)
			root := cmplxSqrt(n*n - s2)
			cc := complex(c, 0)
			rs := (cc - root) / (cc + root)
			rp := (n*n*cc - root) / (n*n*cc + root)
			want := 0.5 * (cabs2(rs) + cabs2(rp))
			if got := FresnelConductor(c, nk[0], nk[1]); math.Abs(got-want) > 1e-12 {
				t.Errorf("Fc(%g, %v) = %.15g, complex form %.15g", c, nk, got, want)
			}
		}
	}
}

func cmplxSqrt(z complex128) complex128 {
	r := math.Hypot(real(z), imag(z))
	re := math.Sqrt(0.5 * (r + real(z)))
	im := math.Copysign(math.Sqrt(0.5*(r-real(z))), imag(z))
	return complex(re, im)
}

func cabs2(z complex128) float64 { return real(z)*real(z) + imag(z)*imag(z) }

// fdrQuadrature is 2 * integral_0^1 F(mu, eta) mu dmu by composite Simpson
// quadrature in mu, split at the critical angle where F has a kink.
func fdrQuadrature(eta float64) float64 {
	simpson := func(a, b float64, n int) float64 {
		h := (b - a) / float64(n)
		s := 0.0
		for i := 0; i <= n; i++ {
			mu := a + float64(i)*h
			w := 2.0
			if i == 0 || i == n {
				w = 1
			} else if i%2 == 1 {
				w = 4
			}
			s += w * FresnelDielectric(mu, eta) * mu
		}
		return s * h / 3
	}
	if eta >= 1 {
		return 2 * simpson(0, 1, 20000)
	}
	muc := math.Sqrt(1 - eta*eta) // critical cosine
	return 2 * (simpson(0, muc, 20000) + simpson(muc, 1, 20000))
}

func TestFresnelDiffuseReflectance(t *testing.T) {
	for _, eta := range []float64{1 + 2e-4, 1.01, 1.2, 1.33, 1.49 / 1.000277, 1.8, 2.5, 5, 1 / 1.01, 1 / 1.33, 1 / 1.49, 0.4, 0.2} {
		got, want := FresnelDiffuseReflectance(eta), fdrQuadrature(eta)
		if math.Abs(got-want) > 1e-7 {
			t.Errorf("Fdr(%g) = %.10g, quadrature %.10g", eta, got, want)
		}
	}
	// Near 1 (linear branch), at 1 and for invalid arguments.
	for _, c := range []struct{ eta, want, tol float64 }{
		{1, 0, 0}, {1 + 1e-6, 1e-6 / 3, 1e-9}, {1 - 1e-6, 1 - (1-1e-6)*(1-1e-6)*(1-(1/(1-1e-6)-1)/3), 1e-12},
		{0, 0, 0}, {-1, 0, 0}, {1e300, 1, 1e-9},
	} {
		if got := FresnelDiffuseReflectance(c.eta); !(math.Abs(got-c.want) <= c.tol) {
			t.Errorf("Fdr(%g) = %g, want %g", c.eta, got, c.want)
		}
	}
}
