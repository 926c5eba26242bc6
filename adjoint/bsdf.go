package adjoint

import (
	"math"

	"github.com/go-gl/mathgl/mgl64"
	"github.com/invrender/invrender/render"
)

// BSDFGrad is the gradient of a scalar loss with respect to the evaluated
// parameters of a render.BSDF: the reflectances and the roughness at the
// shading point. The adjoint functions accumulate into it (+=); the caller
// scatters it into the textures' parameters (a texture lookup's adjoint).
type BSDFGrad struct {
	Diffuse, Specular mgl64.Vec3
	Alpha             float64
}

// alphaEff returns the roughness a rough lobe uses and whether a gradient
// flows back to b.Alpha (not where render clamps it to render.MinAlpha).
func alphaEff(b *render.BSDF) (a float64, live bool) {
	return math.Max(b.Alpha, render.MinAlpha), b.Alpha > render.MinAlpha
}

// specularLobe holds the forward values of a GGX reflection lobe
// m = D(h) G1(wo)/cos_o G1(wi) / 4 at one configuration.
type specularLobe struct {
	a, cos2H, cosOH float64
	d, goc, gi      float64
}

// newSpecularLobe recomputes the forward lobe (render.BSDF.EvalInv's
// specular factor); ok is false where the half vector is undefined.
func newSpecularLobe(a, cosO, cosI, dotOI float64) (l specularLobe, ok bool) {
	l.a = a
	l.cos2H, l.cosOH, ok = render.HalfVector(cosO, cosI, dotOI)
	if !ok {
		return l, false
	}
	l.d = render.GGXD(a, l.cos2H)
	l.goc = render.GGXG1OverCos(a, cosO)
	l.gi = render.GGXG1(a, cosI)
	return l, true
}

// m returns D G1(wo)/cos_o G1(wi) / 4.
func (l *specularLobe) m() float64 { return l.d * l.goc * l.gi / 4 }

// pdf returns D G1(wo)/cos_o / 4, the visible-normal sampling density.
func (l *specularLobe) pdf() float64 { return l.d * l.goc / 4 }

// backward propagates the gradients dM of m(), dP of pdf() and dCosOH of
// the half-vector cosine to the roughness and the invariants.
func (l *specularLobe) backward(cosO, cosI, dotOI, dM, dP, dCosOH float64) (dA, dCosO, dCosI, dDot float64) {
	// m = D goc gi / 4 and pdf = D goc / 4
	dD := dM*l.goc*l.gi/4 + dP*l.goc/4
	dGoc := dM*l.d*l.gi/4 + dP*l.d/4
	dGi := dM * l.d * l.goc / 4
	// D = GGXD(a, cos2H)
	dA1, dCos2H := DGGXD(l.a, l.cos2H, dD)
	// goc = GGXG1OverCos(a, cosO)
	dA2, dcO := DGGXG1OverCos(l.a, cosO, dGoc)
	// gi = GGXG1(a, cosI)
	dA3, dcI := DGGXG1(l.a, cosI, dGi)
	// (cos2H, cosOH) = HalfVector(cosO, cosI, dotOI)
	hO, hI, hD := DHalfVector(cosO, cosI, dotOI, dCos2H, dCosOH)
	return dA1 + dA2 + dA3, dcO + hO, dcI + hI, hD
}

// DEvalBSDF is the adjoint of b.EvalInv(cosO, cosI, dotOI): given the
// upstream gradient dOut of its RGB value, it accumulates the gradients
// with respect to b's Diffuse, Specular and Alpha into g and returns those
// with respect to the three invariants. Where the forward value is
// identically zero (below the surface, delta-only BSDFs, undefined half
// vector) everything is zero. Alpha gets no gradient where the forward
// function clamps it to render.MinAlpha.
func DEvalBSDF(b *render.BSDF, cosO, cosI, dotOI float64, dOut mgl64.Vec3, g *BSDFGrad) (dCosO, dCosI, dDot float64) {
	// Forward: a two-sided BSDF seen from below mirrors both directions.
	sign := 1.0
	if b.TwoSided && cosO < 0 {
		cosO, cosI = -cosO, -cosI
		sign = -1
	}
	if !(cosO > 0 && cosI > 0) {
		return 0, 0, 0
	}
	switch b.Kind {
	case render.Diffuse:
		// r = Diffuse cosI / pi
		g.Diffuse = g.Diffuse.Add(dOut.Mul(cosI / math.Pi))
		dCosI = dOut.Dot(b.Diffuse) / math.Pi

	case render.Conductor:
		if !(b.Alpha > 0) {
			return 0, 0, 0
		}
		a, live := alphaEff(b)
		l, ok := newSpecularLobe(a, cosO, cosI, dotOI)
		if !ok {
			return 0, 0, 0
		}
		m := l.m()
		// r_c = Specular_c F_c(cosOH) m
		var dM, dCosOH float64
		for c := 0; c < 3; c++ {
			f := render.FresnelConductor(l.cosOH, b.CondEta[c], b.CondK[c])
			g.Specular[c] += dOut[c] * f * m
			dCosOH += DFresnelConductor(l.cosOH, b.CondEta[c], b.CondK[c], dOut[c]*b.Specular[c]*m)
			dM += dOut[c] * b.Specular[c] * f
		}
		dA, dcO, dcI, dd := l.backward(cosO, cosI, dotOI, dM, 0, dCosOH)
		if live {
			g.Alpha += dA
		}
		dCosO, dCosI, dDot = dcO, dcI, dd

	case render.Plastic:
		eta := b.PlasticEta()
		fo := render.FresnelDielectric(cosO, eta)
		fi := render.FresnelDielectric(cosI, eta)
		fdr := render.FresnelDiffuseReflectance(1 / eta)
		scale := 1 / (math.Pi * eta * eta)
		k := (1 - fo) * (1 - fi) * cosI * scale

		// Specular lobe: r += Specular F(cosOH) m.
		if b.Alpha > 0 {
			a, live := alphaEff(b)
			if l, ok := newSpecularLobe(a, cosO, cosI, dotOI); ok {
				m := l.m()
				fh := render.FresnelDielectric(l.cosOH, eta)
				g.Specular = g.Specular.Add(dOut.Mul(m * fh))
				dS := dOut.Dot(b.Specular)
				dCosOH := DFresnelDielectric(l.cosOH, eta, dS*m)
				dA, dcO, dcI, dd := l.backward(cosO, cosI, dotOI, dS*fh, 0, dCosOH)
				if live {
					g.Alpha += dA
				}
				dCosO += dcO
				dCosI += dcI
				dDot += dd
			}
		}

		// Diffuse lobe: r_c = Diffuse_c / max(den_c, MinPlasticDenom) k.
		var dk float64
		for c := 0; c < 3; c++ {
			d := b.Diffuse[c]
			den := 1 - fdr
			if b.Nonlinear {
				den = 1 - d*fdr
			}
			denC := math.Max(den, render.MinPlasticDenom)
			dk += dOut[c] * d / denC
			// d/dd of d/den: 1/den, plus d fdr/den^2 when den = 1 - d fdr.
			dd := 1 / denC
			if b.Nonlinear && den > render.MinPlasticDenom {
				dd += d * fdr / (den * den)
			}
			g.Diffuse[c] += dOut[c] * k * dd
		}
		// k = (1 - fo)(1 - fi) cosI / (pi eta^2)
		dfo := -dk * (1 - fi) * cosI * scale
		dfi := -dk * (1 - fo) * cosI * scale
		dCosI += dk * (1 - fo) * (1 - fi) * scale
		// fo = F(cosO), fi = F(cosI)
		dCosO += DFresnelDielectric(cosO, eta, dfo)
		dCosI += DFresnelDielectric(cosI, eta, dfi)
	}
	return sign * dCosO, sign * dCosI, dDot
}

// DPdfBSDF is the adjoint of b.PdfInv(cosO, cosI, dotOI): given the
// upstream gradient dOut of the density, it accumulates the gradients with
// respect to Alpha and, through Plastic's lobe-selection probability, to
// Diffuse and Specular into g, and returns those with respect to the
// invariants.
func DPdfBSDF(b *render.BSDF, cosO, cosI, dotOI float64, dOut float64, g *BSDFGrad) (dCosO, dCosI, dDot float64) {
	// Forward: a two-sided BSDF seen from below mirrors both directions.
	sign := 1.0
	if b.TwoSided && cosO < 0 {
		cosO, cosI = -cosO, -cosI
		sign = -1
	}
	if !(cosO > 0 && cosI > 0) {
		return 0, 0, 0
	}
	switch b.Kind {
	case render.Diffuse:
		// p = cosI / pi
		dCosI = dOut / math.Pi

	case render.Conductor:
		if !(b.Alpha > 0) {
			return 0, 0, 0
		}
		a, live := alphaEff(b)
		l, ok := newSpecularLobe(a, cosO, cosI, dotOI)
		if !ok {
			return 0, 0, 0
		}
		// p = D G1(wo)/cos_o / 4
		dA, dcO, dcI, dd := l.backward(cosO, cosI, dotOI, 0, dOut, 0)
		if live {
			g.Alpha += dA
		}
		dCosO, dCosI, dDot = dcO, dcI, dd

	case render.Plastic:
		eta := b.PlasticEta()
		fo := render.FresnelDielectric(cosO, eta)
		ps := b.SpecularProb(fo)
		a, live := alphaEff(b)
		spec := 0.0
		var l specularLobe
		rough := false
		if b.Alpha > 0 {
			l, rough = newSpecularLobe(a, cosO, cosI, dotOI)
			if rough {
				spec = l.pdf()
			}
		}
		// p = (1 - ps) cosI / pi + ps spec
		dps := dOut * (spec - cosI/math.Pi)
		dCosI += dOut * (1 - ps) / math.Pi
		if rough {
			dA, dcO, dcI, dd := l.backward(cosO, cosI, dotOI, 0, dOut*ps, 0)
			if live {
				g.Alpha += dA
			}
			dCosO += dcO
			dCosI += dcI
			dDot += dd
		}
		// ps = SpecularProb(fo)
		dfo := dSpecularProb(b, fo, dps, g)
		// fo = F(cosO)
		dCosO += DFresnelDielectric(cosO, eta, dfo)
	}
	return sign * dCosO, sign * dCosI, dDot
}

// dSpecularProb is the adjoint of b.SpecularProb(fo): it accumulates the
// gradients with respect to Diffuse and Specular (through the sampling
// weight) into g and returns the one with respect to fo.
func dSpecularProb(b *render.BSDF, fo, dps float64, g *BSDFGrad) (dfo float64) {
	// Forward: ws = sm / (dm + sm) (1/2 when both vanish).
	dMean := (b.Diffuse[0] + b.Diffuse[1] + b.Diffuse[2]) / 3
	sMean := (b.Specular[0] + b.Specular[1] + b.Specular[2]) / 3
	dm, sm := math.Max(0, dMean), math.Max(0, sMean)
	ws := 0.5
	if dm+sm > 0 {
		ws = sm / (dm + sm)
	}
	psRaw := fo * ws
	pdRaw := (1 - fo) * (1 - ws)
	sum := psRaw + pdRaw

	// ps = psRaw / (psRaw + pdRaw), or ws
	var dws float64
	if sum > 0 {
		ps := psRaw / sum
		dPsRaw := dps * (1 - ps) / sum
		dPdRaw := -dps * ps / sum
		// psRaw = fo ws, pdRaw = (1 - fo)(1 - ws)
		dfo = dPsRaw*ws - dPdRaw*(1-ws)
		dws = dPsRaw*fo - dPdRaw*(1-fo)
	} else {
		dws = dps
	}
	// ws = sm / (dm + sm)
	if dm+sm > 0 {
		t := dm + sm
		dsm := dws * dm / (t * t)
		ddm := -dws * sm / (t * t)
		// dm = max(0, mean(Diffuse)), sm = max(0, mean(Specular))
		if dMean > 0 {
			g.Diffuse = g.Diffuse.Add(mgl64.Vec3{ddm / 3, ddm / 3, ddm / 3})
		}
		if sMean > 0 {
			g.Specular = g.Specular.Add(mgl64.Vec3{dsm / 3, dsm / 3, dsm / 3})
		}
	}
	return dfo
}
