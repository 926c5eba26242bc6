package render

import (
	"math"

	"github.com/go-gl/mathgl/mgl64"
	"github.com/invrender/invrender/geom"
)

// Default indices of refraction of Plastic's coating, used when a Material
// leaves IntIOR or ExtIOR at zero (Mitsuba's "polypropylene" and "air").
const (
	DefaultIntIOR = 1.49
	DefaultExtIOR = 1.000277
)

// MinPlasticDenom bounds the denominator 1 - Fdr (1 - Diffuse Fdr for the
// nonlinear variant) of Plastic's diffuse lobe away from zero; physical
// parameters (Diffuse in [0, 1], Eta below 5) stay far above it.
const MinPlasticDenom = 1e-3

// BSDF is a Material evaluated at a surface point: its textures looked up,
// its indices of refraction reduced to relative ones. It is a small value
// that the path tracer builds per shading point and evaluates, samples and
// differentiates (package adjoint, DEvalBSDF and DPdfBSDF) without
// allocations or interface calls.
//
// All directions are unit vectors in the local shading frame (z = shading
// normal), both pointing away from the surface: wo towards the viewer (where
// the path comes from), wi towards the light. The models follow Mitsuba 3
// (diffuse, plastic / roughplastic, conductor / roughconductor, twosided):
//
//   - Diffuse: f = Diffuse / pi.
//   - Conductor: a GGX microfacet reflector, f = Specular F(wo.h) D(h)
//     G1(wo) G1(wi) / (4 cos_o cos_i), with the complex Fresnel reflectance
//     F per channel (CondEta + i CondK) and Smith's separable masking
//     (GGXSmithG). Alpha == 0 is a smooth mirror (a delta lobe).
//   - Plastic: a dielectric coating (relative index Eta) over a diffuse
//     base. Specular lobe as the conductor's, with the dielectric Fresnel
//     reflectance F(wo.h, Eta); diffuse lobe
//     Diffuse (1 - F(cos_i)) (1 - F(cos_o)) / (pi Eta^2 (1 - Fdr)), with Fdr
//     the internal diffuse Fresnel reflectance FresnelDiffuseReflectance(1/Eta)
//     (times Diffuse when Nonlinear). Unlike Mitsuba's roughplastic, which
//     takes the coating's transmittance from a table of rough-dielectric
//     albedos, the rough variant also uses the smooth transmittance 1 - F:
//     the BSDF stays differentiable in closed form (in Alpha too). Fdr is
//     the exact integral (not Mitsuba's polynomial fit), so the diffuse
//     lobe's albedo is exactly 1 - F(cos_o) and a white smooth plastic
//     reflects exactly what it receives. A white rough coating loses energy
//     at grazing angles (no multiple scattering between microfacets), but
//     at intermediate angles its albedo can exceed 1 slightly: the specular
//     lobe's mean of F(wo.h) over the microfacets is larger than F(cos_o)
//     (F is convex), while the diffuse lobe only gets 1 - F(cos_o). The
//     excess is at most 7.3e-4 (measured over Eta in [1.02, 3] and Alpha
//     in [0.02, 1]; the maximum is near Eta 1.25, Alpha 0.1, theta_o 50
//     degrees, and TestBSDFEnergyConservation checks it there).
//     Alpha == 0 makes the specular lobe a delta lobe.
//
// BSDFs are one-sided: Eval and Pdf are zero unless cos_o > 0 and
// cos_i > 0. A TwoSided BSDF seen from below (cos_o < 0) is evaluated with
// both directions mirrored to the upper side (cos_o, cos_i -> -cos_o,
// -cos_i; wo.wi unchanged), as Mitsuba's twosided adapter does.
//
// Rough lobes (Alpha > 0) clamp Alpha to at least MinAlpha.
type BSDF struct {
	Kind     MaterialKind
	TwoSided bool
	// Diffuse is the reflectance (Diffuse) or the diffuse_reflectance
	// (Plastic); Specular the specular_reflectance (Plastic, Conductor).
	Diffuse, Specular mgl64.Vec3
	// Alpha is the GGX roughness; 0 (or less) means smooth (a delta lobe).
	Alpha float64
	// Eta is Plastic's relative index of refraction IntIOR/ExtIOR.
	Eta float64
	// CondEta and CondK are a Conductor's complex relative index of
	// refraction per channel.
	CondEta, CondK mgl64.Vec3
	// Nonlinear selects Plastic's nonlinear colour shift (Mitsuba's
	// nonlinear=true): the internal reflections scale with Diffuse.
	Nonlinear bool
}

// BSDFAt evaluates the material's textures at uv and returns the BSDF there.
// Plastic's Eta is IntIOR/ExtIOR, with zero indices read as DefaultIntIOR
// and DefaultExtIOR; a Conductor's CondEta and CondK are Eta and K divided
// by ExtIOR (zero ExtIOR read as 1, Eta and K then taken as relative
// already). The roughness is the Alpha texture's first channel.
func (m *Material) BSDFAt(uv mgl64.Vec2) BSDF {
	b := BSDF{Kind: m.Kind, TwoSided: m.TwoSided, Nonlinear: m.Nonlinear}
	switch m.Kind {
	case Diffuse:
		b.Diffuse = m.Reflectance.Eval(uv)
	case Plastic:
		b.Diffuse = m.Reflectance.Eval(uv)
		b.Specular = m.SpecularReflectance.Eval(uv)
		b.Alpha = m.Alpha.Eval(uv)[0]
		in, ex := m.IntIOR, m.ExtIOR
		if !(in > 0) {
			in = DefaultIntIOR
		}
		if !(ex > 0) {
			ex = DefaultExtIOR
		}
		b.Eta = in / ex
	case Conductor:
		b.Specular = m.SpecularReflectance.Eval(uv)
		b.Alpha = m.Alpha.Eval(uv)[0]
		ex := m.ExtIOR
		if !(ex > 0) {
			ex = 1
		}
		b.CondEta = m.Eta.Mul(1 / ex)
		b.CondK = m.K.Mul(1 / ex)
	}
	return b
}

// BSDFSample is a direction drawn by BSDF.Sample.
type BSDFSample struct {
	// Wi is the sampled unit direction (towards the light).
	Wi mgl64.Vec3
	// Weight is Eval/Pdf for a non-delta sample, and for a delta sample the
	// lobe's reflectance divided by the probability of choosing the lobe.
	Weight mgl64.Vec3
	// Pdf is the solid-angle density of Wi for a non-delta sample (what Pdf
	// returns), and the discrete probability of choosing the lobe for a
	// delta sample.
	Pdf float64
	// Delta reports a sample of a delta lobe (a smooth mirror reflection).
	Delta bool
}

// IsDelta reports whether the BSDF has only delta lobes (a smooth
// conductor): Eval and Pdf are then zero everywhere.
func (b *BSDF) IsDelta() bool {
	return b.Kind == Conductor && !(b.Alpha > 0)
}

// HasDelta reports whether the BSDF has a delta lobe (smooth plastic or
// conductor).
func (b *BSDF) HasDelta() bool {
	return b.Kind != Diffuse && !(b.Alpha > 0)
}

// Albedo returns a colour for the albedo AOV: Diffuse for diffuse and
// plastic materials, Specular times the Fresnel reflectance at normal
// incidence for conductors.
func (b *BSDF) Albedo() mgl64.Vec3 {
	if b.Kind != Conductor {
		return b.Diffuse
	}
	var a mgl64.Vec3
	for c := 0; c < 3; c++ {
		a[c] = b.Specular[c] * FresnelConductor(1, b.CondEta[c], b.CondK[c])
	}
	return a
}

// alpha returns the roughness a rough lobe uses.
func (b *BSDF) alpha() float64 { return math.Max(b.Alpha, MinAlpha) }

// PlasticEta returns the relative index Plastic uses: Eta, or 1 when Eta is
// not positive.
func (b *BSDF) PlasticEta() float64 {
	if b.Eta > 0 {
		return b.Eta
	}
	return 1
}

// SpecularSamplingWeight returns Mitsuba's weight steering Plastic's lobe
// selection towards the specular lobe: mean(Specular) / (mean(Diffuse) +
// mean(Specular)), the means over the three channels, with negative means
// read as 0 and 1/2 when both are 0. Mitsuba averages over the whole
// textures; the values at the shading point are used here, so that the
// weight, and with it Pdf, is a function of the BSDF value alone (its
// gradient with respect to Diffuse and Specular is part of adjoint.DPdfBSDF).
func (b *BSDF) SpecularSamplingWeight() float64 {
	dm := math.Max(0, (b.Diffuse[0]+b.Diffuse[1]+b.Diffuse[2])/3)
	sm := math.Max(0, (b.Specular[0]+b.Specular[1]+b.Specular[2])/3)
	if dm+sm > 0 {
		return sm / (dm + sm)
	}
	return 0.5
}

// SpecularProb returns the probability with which Plastic's Sample picks
// the specular lobe for a view direction whose Fresnel reflectance is fo:
// ws fo / (ws fo + (1 - ws)(1 - fo)) with ws = SpecularSamplingWeight (ws
// itself when both products are 0).
func (b *BSDF) SpecularProb(fo float64) float64 {
	ws := b.SpecularSamplingWeight()
	ps := fo * ws
	pd := (1 - fo) * (1 - ws)
	if ps+pd > 0 {
		return ps / (ps + pd)
	}
	return ws
}

// Eval returns f(wo, wi) |cos theta_i| of the non-delta lobes (Mitsuba's
// convention: the cosine is included). It is EvalInv of the directions'
// invariants.
func (b *BSDF) Eval(wo, wi mgl64.Vec3) mgl64.Vec3 {
	return b.EvalInv(wo[2], wi[2], wo.Dot(wi))
}

// Pdf returns the solid-angle density with which Sample returns wi for the
// view direction wo, counting only non-delta lobes (and including the
// probability of selecting the lobe). It is PdfInv of the invariants.
func (b *BSDF) Pdf(wo, wi mgl64.Vec3) float64 {
	return b.PdfInv(wo[2], wi[2], wo.Dot(wi))
}

// EvalInv returns what Eval returns, written in the three rotation
// invariants of an isotropic BSDF: cosO = wo.z, cosI = wi.z and
// dotOI = wo.wi. Its adjoint is adjoint.DEvalBSDF.
func (b *BSDF) EvalInv(cosO, cosI, dotOI float64) mgl64.Vec3 {
	if b.TwoSided && cosO < 0 {
		cosO, cosI = -cosO, -cosI
	}
	if !(cosO > 0 && cosI > 0) {
		return mgl64.Vec3{}
	}
	switch b.Kind {
	case Diffuse:
		return b.Diffuse.Mul(cosI / math.Pi)
	case Conductor:
		if !(b.Alpha > 0) {
			return mgl64.Vec3{}
		}
		a := b.alpha()
		cos2H, cosOH, ok := HalfVector(cosO, cosI, dotOI)
		if !ok {
			return mgl64.Vec3{}
		}
		// D G1(wo) G1(wi) / (4 cos_o cos_i) * cos_i
		m := GGXD(a, cos2H) * GGXG1OverCos(a, cosO) * GGXG1(a, cosI) / 4
		var r mgl64.Vec3
		for c := 0; c < 3; c++ {
			r[c] = b.Specular[c] * FresnelConductor(cosOH, b.CondEta[c], b.CondK[c]) * m
		}
		return r
	case Plastic:
		eta := b.PlasticEta()
		fo := FresnelDielectric(cosO, eta)
		fi := FresnelDielectric(cosI, eta)
		fdr := FresnelDiffuseReflectance(1 / eta)
		k := (1 - fo) * (1 - fi) * cosI / (math.Pi * eta * eta)
		var r mgl64.Vec3
		for c := 0; c < 3; c++ {
			d := b.Diffuse[c]
			den := 1 - fdr
			if b.Nonlinear {
				den = 1 - d*fdr
			}
			r[c] = d / math.Max(den, MinPlasticDenom) * k
		}
		if b.Alpha > 0 {
			a := b.alpha()
			if cos2H, cosOH, ok := HalfVector(cosO, cosI, dotOI); ok {
				m := GGXD(a, cos2H) * GGXG1OverCos(a, cosO) * GGXG1(a, cosI) / 4 *
					FresnelDielectric(cosOH, eta)
				r = r.Add(b.Specular.Mul(m))
			}
		}
		return r
	}
	return mgl64.Vec3{}
}

// PdfInv returns what Pdf returns, written in the invariants cosO = wo.z,
// cosI = wi.z and dotOI = wo.wi. The specular lobes sample visible normals,
// so their density is D_wo(h) / (4 wo.h) = D(h) G1(wo) / (4 cos_o). Its
// adjoint is adjoint.DPdfBSDF.
func (b *BSDF) PdfInv(cosO, cosI, dotOI float64) float64 {
	if b.TwoSided && cosO < 0 {
		cosO, cosI = -cosO, -cosI
	}
	if !(cosO > 0 && cosI > 0) {
		return 0
	}
	switch b.Kind {
	case Diffuse:
		return cosI / math.Pi
	case Conductor:
		if !(b.Alpha > 0) {
			return 0
		}
		a := b.alpha()
		cos2H, _, ok := HalfVector(cosO, cosI, dotOI)
		if !ok {
			return 0
		}
		return GGXD(a, cos2H) * GGXG1OverCos(a, cosO) / 4
	case Plastic:
		ps := b.SpecularProb(FresnelDielectric(cosO, b.PlasticEta()))
		p := (1 - ps) * cosI / math.Pi
		if b.Alpha > 0 {
			a := b.alpha()
			if cos2H, _, ok := HalfVector(cosO, cosI, dotOI); ok {
				p += ps * GGXD(a, cos2H) * GGXG1OverCos(a, cosO) / 4
			}
		}
		return p
	}
	return 0
}

// reflectAbout mirrors w about the unit vector h.
func reflectAbout(w, h mgl64.Vec3) mgl64.Vec3 {
	return h.Mul(2 * w.Dot(h)).Sub(w)
}

// Sample draws a direction wi for the view direction wo: uLobe picks the
// lobe (Plastic), u the direction within it (cosine-weighted hemisphere for
// diffuse lobes, visible GGX normals for rough specular ones, see
// SampleGGXVNDF). It returns false when there is no valid sample: wo below
// the surface of a one-sided BSDF, a microfacet reflection that points
// below the horizon, or a zero density.
func (b *BSDF) Sample(wo mgl64.Vec3, uLobe float64, u mgl64.Vec2) (BSDFSample, bool) {
	flip := b.TwoSided && wo[2] < 0
	w := wo // wo on the upper side
	if flip {
		w[2] = -w[2]
	}
	if !(w[2] > 0) {
		return BSDFSample{}, false
	}
	var wi mgl64.Vec3
	switch b.Kind {
	case Diffuse:
		wi = geom.SquareToCosineHemisphere(u)
	case Conductor:
		if !(b.Alpha > 0) {
			// Smooth mirror: the delta lobe is always chosen.
			var wt mgl64.Vec3
			for c := 0; c < 3; c++ {
				wt[c] = b.Specular[c] * FresnelConductor(w[2], b.CondEta[c], b.CondK[c])
			}
			return BSDFSample{Wi: mgl64.Vec3{-wo[0], -wo[1], wo[2]}, Weight: wt, Pdf: 1, Delta: true}, true
		}
		wi = reflectAbout(w, SampleGGXVNDF(b.alpha(), w, u))
	case Plastic:
		fo := FresnelDielectric(w[2], b.PlasticEta())
		ps := b.SpecularProb(fo)
		if uLobe < ps {
			if !(b.Alpha > 0) {
				// Smooth coating: mirror reflection, weight Specular F / ps.
				return BSDFSample{
					Wi:     mgl64.Vec3{-wo[0], -wo[1], wo[2]},
					Weight: b.Specular.Mul(fo / ps),
					Pdf:    ps,
					Delta:  true,
				}, true
			}
			wi = reflectAbout(w, SampleGGXVNDF(b.alpha(), w, u))
		} else {
			wi = geom.SquareToCosineHemisphere(u)
		}
	default:
		return BSDFSample{}, false
	}
	if !(wi[2] > 0) {
		return BSDFSample{}, false
	}
	if flip {
		wi[2] = -wi[2]
	}
	cosO, cosI, dot := wo[2], wi[2], wo.Dot(wi)
	pdf := b.PdfInv(cosO, cosI, dot)
	if !(pdf > 0) || math.IsInf(pdf, 0) {
		return BSDFSample{}, false
	}
	f := b.EvalInv(cosO, cosI, dot)
	return BSDFSample{Wi: wi, Weight: mgl64.Vec3{f[0] / pdf, f[1] / pdf, f[2] / pdf}, Pdf: pdf}, true
}
