package render

import "math"

// Fresnel reflectances of smooth interfaces (Born and Wolf, "Principles of
// Optics", section 1.5; the conductor form from Moeller, "Optics", 1988, as
// Mitsuba's fresnel.h writes it). Each is paired with its reverse-mode
// derivative in package adjoint (DFresnelDielectric, DFresnelConductor).

// FresnelDielectric returns the unpolarised Fresnel reflectance of a smooth
// dielectric interface with relative index of refraction eta (interior over
// exterior) for light arriving at cosine cosI to the normal. A negative cosI
// means the light arrives from the interior side, so the relative index is
// 1/eta there; total internal reflection gives 1. eta == 1 (index matched)
// gives 0 and a grazing cosI == 0 gives 1, as Mitsuba's fresnel(). eta must
// be positive (a non-positive eta is read as 1).
//
// Its adjoint is adjoint.DFresnelDielectric.
func FresnelDielectric(cosI, eta float64) float64 {
	if !(eta > 0) || eta == 1 {
		return 0
	}
	c := math.Abs(cosI)
	etaIT := eta // relative index in the direction of travel
	if cosI < 0 {
		etaIT = 1 / eta
	}
	if c > 1 {
		c = 1
	}
	if c == 0 {
		return 1
	}
	// Snell: sin^2 theta_t = sin^2 theta_i / etaIT^2.
	cosT2 := 1 - (1-c*c)/(etaIT*etaIT)
	if cosT2 <= 0 {
		return 1 // total internal reflection
	}
	cosT := math.Sqrt(cosT2)
	as := (c - etaIT*cosT) / (c + etaIT*cosT)
	ap := (cosT - etaIT*c) / (cosT + etaIT*c)
	return 0.5 * (as*as + ap*ap)
}

// FresnelConductor returns the unpolarised Fresnel reflectance of a smooth
// conductor with complex relative index of refraction eta + i k, for light
// arriving from outside at cosine cosI (clamped to [0, 1]) to the normal.
//
// Its adjoint is adjoint.DFresnelConductor.
func FresnelConductor(cosI, eta, k float64) float64 {
	c := math.Min(math.Max(cosI, 0), 1)
	c2 := c * c
	s2 := 1 - c2
	s4 := s2 * s2
	t1 := eta*eta - k*k - s2
	a2pb2 := math.Sqrt(math.Max(0, t1*t1+4*k*k*eta*eta))
	a := math.Sqrt(math.Max(0, 0.5*(a2pb2+t1)))
	term1 := a2pb2 + c2
	term2 := 2 * c * a
	rs := 1.0 // limit of rs for c -> 0
	if den := term1 + term2; den > 0 {
		rs = (term1 - term2) / den
	}
	term3 := a2pb2*c2 + s4
	term4 := term2 * s2
	rp := rs // limit when both terms vanish (normal incidence, eta = k = 0)
	if den := term3 + term4; den > 0 {
		rp = rs * (term3 - term4) / den
	}
	return 0.5 * (rs + rp)
}

// FresnelDiffuseReflectance returns the diffuse Fresnel reflectance Fdr of a
// dielectric interface with relative index eta (the index on the far side
// over the index on the side the light comes from): the fraction of
// uniformly diffuse (cosine-weighted) light that the interface reflects,
// 2 * integral_0^1 F(mu) mu dmu. For eta > 1 it is the classical closed form
// of that integral,
//
//	1/2 + (n-1)(3n+1)/(6(n+1)^2) + n^2 (n^2-1)^2/(n^2+1)^3 ln((n-1)/(n+1))
//	- 2n^3 (n^2+2n-1)/((n^2+1)(n^4-1)) + 8n^4 (n^4+1)/((n^2+1)(n^4-1)^2) ln n,
//
// and for eta < 1 it follows from the reciprocity of the interface,
// 1 - Fdr(eta) = eta^2 (1 - Fdr(1/eta)) (light leaving a denser medium).
// Within 1e-4 of eta = 1, where the closed form cancels, the linear term
// |n-1|/3 of Fdr(n) (n > 1) is used (error below 1e-7). Mitsuba uses
// polynomial fits instead (Egan and Hilgeman; d'Eon and Irving), whose 0.1-4 %
// error in 1 - Fdr would let a white plastic reflect more than it receives.
// eta is a constant of the scene (never differentiated). A non-positive eta
// gives 0.
func FresnelDiffuseReflectance(eta float64) float64 {
	if !(eta > 0) || eta == 1 {
		return 0
	}
	if eta < 1 {
		return 1 - eta*eta*(1-fdrExternal(1/eta))
	}
	return fdrExternal(eta)
}

// fdrExternal is Fdr(n) for n > 1 (see FresnelDiffuseReflectance).
func fdrExternal(n float64) float64 {
	if n-1 < 1e-4 {
		return (n - 1) / 3
	}
	n2 := n * n
	n4 := n2 * n2
	r := 0.5 + (n-1)*(3*n+1)/(6*(n+1)*(n+1)) +
		n2*(n2-1)*(n2-1)/((n2+1)*(n2+1)*(n2+1))*math.Log((n-1)/(n+1)) -
		2*n*n2*(n2+2*n-1)/((n2+1)*(n4-1)) +
		8*n4*(n4+1)/((n2+1)*(n4-1)*(n4-1))*math.Log(n)
	if math.IsInf(n, 1) || r > 1 || math.IsNaN(r) {
		return 1
	}
	return math.Max(r, 0)
}
