package adjoint

import (
	"math"

	"github.com/invrender/invrender/render"
)

// Reverse-mode derivatives of render's GGX microfacet functions. Each
// recomputes the forward function; the comments name the forward step each
// block reverses.

// DGGXD returns the gradients of D = render.GGXD(alpha, cos2H) scaled by the
// upstream gradient dD.
func DGGXD(alpha, cos2H, dD float64) (dAlpha, dCos2H float64) {
	a2 := alpha * alpha
	q := a2*cos2H + (1 - cos2H)
	// D = a2 / (pi q^2)
	da2 := dD / (math.Pi * q * q)
	dq := -dD * 2 * a2 / (math.Pi * q * q * q)
	// q = a2 cos2H + (1 - cos2H)
	dCos2H = dq * (a2 - 1)
	da2 += dq * cos2H
	// a2 = alpha^2
	return da2 * 2 * alpha, dCos2H
}

// DGGXG1OverCos returns the gradients of G = render.GGXG1OverCos(alpha, c)
// scaled by dG; dC is 0 outside [0, 1], where the forward function clamps c.
func DGGXG1OverCos(alpha, c, dG float64) (dAlpha, dC float64) {
	inside := c >= 0 && c <= 1
	c = math.Min(math.Max(c, 0), 1)
	r := math.Sqrt(c*c + alpha*alpha*(1-c*c))
	g := 2 / (c + r)
	// G = 2 / (c + r)
	dsum := -dG * g * g / 2
	dr := dsum
	dC = dsum
	// r = sqrt(c^2 + alpha^2 (1 - c^2))
	if r > 0 {
		dC += dr * c * (1 - alpha*alpha) / r
		dAlpha = dr * alpha * (1 - c*c) / r
	}
	if !inside {
		dC = 0
	}
	return dAlpha, dC
}

// DGGXG1 returns the gradients of G1 = render.GGXG1(alpha, c) scaled by dG.
func DGGXG1(alpha, c, dG float64) (dAlpha, dC float64) {
	inside := c >= 0 && c <= 1
	cc := math.Min(math.Max(c, 0), 1)
	// G1 = c * G1OverCos(alpha, c)
	goc := render.GGXG1OverCos(alpha, cc)
	dAlpha, dC = DGGXG1OverCos(alpha, cc, dG*cc)
	if !inside {
		return dAlpha, 0
	}
	return dAlpha, dC + dG*goc
}

// DHalfVector returns the gradients with respect to the invariants of
// (cos2H, cosOH) = render.HalfVector(cosO, cosI, dotOI), given the upstream
// gradients of both outputs. Clamped outputs pass no gradient; an undefined
// half vector gives zeros.
func DHalfVector(cosO, cosI, dotOI, dCos2H, dCosOH float64) (dCosO, dCosI, dDot float64) {
	s2 := 2 + 2*dotOI
	if _, _, ok := render.HalfVector(cosO, cosI, dotOI); !ok {
		return 0, 0, 0
	}
	sum := cosO + cosI
	var dsum, ds2 float64
	// cos2H = min(sum^2 / s2, 1)
	if x := sum * sum / s2; x < 1 {
		dsum = dCos2H * 2 * sum / s2
		ds2 = -dCos2H * x / s2
	}
	// cosOH = min(sqrt(s2)/2, 1)
	if sq := math.Sqrt(s2); 0.5*sq < 1 {
		ds2 += dCosOH * 0.25 / sq
	}
	// s2 = 2 + 2 dotOI; sum = cosO + cosI
	return dsum, dsum, 2 * ds2
}
