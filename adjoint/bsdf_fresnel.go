package adjoint

import "math"

// Reverse-mode derivatives of render's Fresnel reflectances. Each recomputes
// the forward function and walks its steps backwards; the comments name the
// forward step each block reverses. The indices of refraction are constants
// of the scene and get no gradient.

// DFresnelDielectric returns dF * dF/dcosI for F = render.FresnelDielectric(
// cosI, eta). The derivative is 0 where the forward function is constant or
// clamped: eta == 1, total internal reflection, |cosI| >= 1, cosI == 0.
func DFresnelDielectric(cosI, eta, dF float64) (dCosI float64) {
	if !(eta > 0) || eta == 1 {
		return 0
	}
	c := math.Abs(cosI)
	sgn := 1.0
	etaIT := eta
	if cosI < 0 {
		etaIT = 1 / eta
		sgn = -1
	}
	if c >= 1 || c == 0 {
		return 0
	}
	cosT2 := 1 - (1-c*c)/(etaIT*etaIT)
	if cosT2 <= 0 {
		return 0
	}
	cosT := math.Sqrt(cosT2)
	sN, sD := c-etaIT*cosT, c+etaIT*cosT
	pN, pD := cosT-etaIT*c, cosT+etaIT*c
	as := sN / sD
	ap := pN / pD

	// F = (as^2 + ap^2)/2
	das := dF * as
	dap := dF * ap
	var dc, dT float64
	// ap = (cosT - eta c) / (cosT + eta c)
	dpN := dap / pD
	dpD := -dap * ap / pD
	dT += dpN + dpD
	dc += -etaIT*dpN + etaIT*dpD
	// as = (c - eta cosT) / (c + eta cosT)
	dsN := das / sD
	dsD := -das * as / sD
	dc += dsN + dsD
	dT += -etaIT*dsN + etaIT*dsD
	// cosT = sqrt(1 - (1 - c^2)/eta^2)
	dc += dT / (2 * cosT) * 2 * c / (etaIT * etaIT)
	// c = |cosI|
	return sgn * dc
}

// DFresnelConductor returns dF * dF/dcosI for F = render.FresnelConductor(
// cosI, eta, k); 0 outside (0, 1), where the forward function clamps cosI.
func DFresnelConductor(cosI, eta, k, dF float64) (dCosI float64) {
	if !(cosI > 0 && cosI < 1) {
		return 0
	}
	// Forward.
	c := cosI
	c2 := c * c
	s2 := 1 - c2
	s4 := s2 * s2
	t1 := eta*eta - k*k - s2
	a2pb2 := math.Sqrt(math.Max(0, t1*t1+4*k*k*eta*eta))
	a := math.Sqrt(math.Max(0, 0.5*(a2pb2+t1)))
	term1 := a2pb2 + c2
	term2 := 2 * c * a
	den12 := term1 + term2
	rs := 1.0
	if den12 > 0 {
		rs = (term1 - term2) / den12
	}
	term3 := a2pb2*c2 + s4
	term4 := term2 * s2
	den34 := term3 + term4

	// F = (rs + rp)/2
	drs := 0.5 * dF
	drp := 0.5 * dF
	var dterm1, dterm2, dterm3, dterm4, dA, da, dt1, ds2, ds4, dc2, dc float64
	// rp = rs (term3 - term4)/(term3 + term4), or rs
	if den34 > 0 {
		ratio := (term3 - term4) / den34
		drs += drp * ratio
		dratio := drp * rs
		dterm3 += dratio * 2 * term4 / (den34 * den34)
		dterm4 += -dratio * 2 * term3 / (den34 * den34)
	} else {
		drs += drp
	}
	// term4 = term2 s2
	dterm2 += dterm4 * s2
	ds2 += dterm4 * term2
	// term3 = a2pb2 c2 + s4
	dA += dterm3 * c2
	dc2 += dterm3 * a2pb2
	ds4 += dterm3
	// rs = (term1 - term2)/(term1 + term2), or 1
	if den12 > 0 {
		dterm1 += drs * 2 * term2 / (den12 * den12)
		dterm2 += -drs * 2 * term1 / (den12 * den12)
	}
	// term2 = 2 c a
	dc += dterm2 * 2 * a
	da += dterm2 * 2 * c
	// term1 = a2pb2 + c2
	dA += dterm1
	dc2 += dterm1
	// a = sqrt(max(0, (a2pb2 + t1)/2))
	if a > 0 {
		dA += da * 0.25 / a
		dt1 += da * 0.25 / a
	}
	// a2pb2 = sqrt(max(0, t1^2 + 4 k^2 eta^2))
	if a2pb2 > 0 {
		dt1 += dA * t1 / a2pb2
	}
	// t1 = eta^2 - k^2 - s2
	ds2 -= dt1
	// s4 = s2^2
	ds2 += ds4 * 2 * s2
	// s2 = 1 - c2
	dc2 -= ds2
	// c2 = c^2
	dc += dc2 * 2 * c
	return dc
}
