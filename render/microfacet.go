package render

import (
	"math"

	"github.com/go-gl/mathgl/mgl64"
)

// The isotropic GGX (Trowbridge-Reitz) microfacet distribution with Smith's
// separable shadowing-masking, as in Walter, Marschner, Li and Torrance,
// "Microfacet Models for Refraction through Rough Surfaces", EGSR 2007, and
// Heitz, "Understanding the Masking-Shadowing Function in Microfacet-Based
// BRDFs", JCGT 3(2), 2014. Directions live in the local shading frame
// (z = normal). Every function is paired with its reverse-mode derivative in
// package adjoint (DGGXD, DGGXG1OverCos, DHalfVector).

// MinAlpha is the smallest roughness a rough lobe uses: smaller positive
// values are clamped to it (as Mitsuba does), so that D stays finite.
const MinAlpha = 1e-4

// minHalfNorm2 is the squared length |wo+wi|^2 = 2 + 2 wo.wi below which the
// half vector is considered undefined and specular lobes return 0.
const minHalfNorm2 = 1e-12

// GGXD returns the GGX normal distribution D(h) = alpha^2 / (pi (alpha^2
// cos^2 theta_h + sin^2 theta_h)^2) for a microfacet normal h whose squared
// cosine to the macro normal is cos2H (in [0, 1]). alpha must be positive.
// The denominator is summed as alpha^2 cos2H + (1 - cos2H), which stays
// accurate near the peak for tiny alpha (1 - cos2H is exact there).
func GGXD(alpha, cos2H float64) float64 {
	a2 := alpha * alpha
	q := a2*cos2H + (1 - cos2H)
	return a2 / (math.Pi * q * q)
}

// GGXG1OverCos returns Smith's masking function of GGX divided by the
// direction's cosine, G1(v)/cos theta_v = 2 / (cos + sqrt(cos^2 +
// alpha^2 (1 - cos^2))), for a direction at cosine c (clamped to [0, 1]) to
// the macro normal, assuming it sees the front of the microfacet (v.h > 0,
// which holds for both directions of a reflection). It stays finite at
// c == 0 (2/alpha), which is why the lobes are written with it.
func GGXG1OverCos(alpha, c float64) float64 {
	c = math.Min(math.Max(c, 0), 1)
	r := math.Sqrt(c*c + alpha*alpha*(1-c*c))
	return 2 / (c + r)
}

// GGXG1 returns Smith's masking function G1(v) = 2 cos / (cos + sqrt(cos^2 +
// alpha^2 (1 - cos^2))) of GGX for a direction at cosine c to the normal
// (clamped to [0, 1]; see GGXG1OverCos).
func GGXG1(alpha, c float64) float64 {
	c = math.Min(math.Max(c, 0), 1)
	return c * GGXG1OverCos(alpha, c)
}

// GGXSmithG returns the separable shadowing-masking term G1(wo) G1(wi) of
// the two directions of a reflection (Mitsuba's choice; the height-correlated
// form is not used).
func GGXSmithG(alpha, cosO, cosI float64) float64 {
	return GGXG1(alpha, cosO) * GGXG1(alpha, cosI)
}

// HalfVector returns, for a reflection with cos theta_o = cosO,
// cos theta_i = cosI and wo.wi = dotOI, the squared cosine of the half
// vector h = (wo+wi)/|wo+wi| to the normal, cos2H = (cosO+cosI)^2 /
// (2 + 2 wo.wi), and the cosine between wo (or wi) and h,
// cosOH = |wo+wi|/2 = sqrt((1 + wo.wi)/2), both clamped to [0, 1]. ok is
// false when |wo+wi| is (nearly) zero and h is undefined.
func HalfVector(cosO, cosI, dotOI float64) (cos2H, cosOH float64, ok bool) {
	s2 := 2 + 2*dotOI
	if !(s2 >= minHalfNorm2) {
		return 0, 0, false
	}
	sum := cosO + cosI
	cos2H = math.Min(sum*sum/s2, 1)
	cosOH = math.Min(0.5*math.Sqrt(s2), 1)
	return cos2H, cosOH, true
}

// SampleGGXVNDF draws a microfacet normal from the distribution of normals
// visible from wo, D_wo(h) = G1(wo) max(0, wo.h) D(h) / cos theta_o, with
// Heitz's method ("Sampling the GGX Distribution of Visible Normals", JCGT
// 7(4), 2018): stretch wo to the alpha = 1 configuration, sample the
// projected hemisphere as a disk warped towards the visible half, and
// unstretch. wo must be a unit vector with wo.z > 0 and alpha positive. The
// density of h is GGXVNDFPdf.
func SampleGGXVNDF(alpha float64, wo mgl64.Vec3, u mgl64.Vec2) mgl64.Vec3 {
	// Stretch the view direction to the hemisphere configuration.
	vh := mgl64.Vec3{alpha * wo[0], alpha * wo[1], wo[2]}
	if l := vh.Len(); l > 0 {
		vh = vh.Mul(1 / l)
	} else {
		vh = mgl64.Vec3{0, 0, 1}
	}
	// Orthonormal basis around vh (T1 is horizontal).
	lensq := vh[0]*vh[0] + vh[1]*vh[1]
	t1v := mgl64.Vec3{1, 0, 0}
	if lensq > 0 {
		inv := 1 / math.Sqrt(lensq)
		t1v = mgl64.Vec3{-vh[1] * inv, vh[0] * inv, 0}
	}
	t2v := vh.Cross(t1v)
	// Uniform point on the disk, warped so that the part hidden from vh
	// is squeezed away.
	r := math.Sqrt(u[0])
	sinPhi, cosPhi := math.Sincos(2 * math.Pi * u[1])
	t1 := r * cosPhi
	t2 := r * sinPhi
	s := 0.5 * (1 + vh[2])
	t2 = (1-s)*math.Sqrt(math.Max(0, 1-t1*t1)) + s*t2
	// Project back onto the hemisphere.
	tz := math.Sqrt(math.Max(0, 1-t1*t1-t2*t2))
	nh := t1v.Mul(t1).Add(t2v.Mul(t2)).Add(vh.Mul(tz))
	// Unstretch.
	ne := mgl64.Vec3{alpha * nh[0], alpha * nh[1], math.Max(0, nh[2])}
	l := ne.Len()
	if !(l > 0) {
		return mgl64.Vec3{0, 0, 1}
	}
	return ne.Mul(1 / l)
}

// GGXVNDFPdf returns the solid-angle density with which SampleGGXVNDF
// returns the unit microfacet normal h for the view direction wo:
// G1(wo) max(0, wo.h) D(h) / cos theta_o (0 when wo.z <= 0 or h.z <= 0).
func GGXVNDFPdf(alpha float64, wo, h mgl64.Vec3) float64 {
	if !(wo[2] > 0) || !(h[2] > 0) {
		return 0
	}
	woh := wo.Dot(h)
	if !(woh > 0) {
		return 0
	}
	return GGXG1OverCos(alpha, wo[2]) * woh * GGXD(alpha, h[2]*h[2])
}
