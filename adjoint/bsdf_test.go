package adjoint

import (
	"fmt"
	"math"
	"testing"

	"github.com/go-gl/mathgl/mgl64"
	"github.com/invrender/invrender/geom"
	"github.com/invrender/invrender/render"
)

// Complex relative indices of refraction of gold and copper at the RGB
// primaries (approximately, from Mitsuba's tabulated spectra).
var (
	auEta = mgl64.Vec3{0.143, 0.374, 1.442}
	auK   = mgl64.Vec3{3.983, 2.386, 1.603}
	cuEta = mgl64.Vec3{0.200, 0.924, 1.102}
	cuK   = mgl64.Vec3{3.912, 2.452, 2.142}
)

const plasticEta = 1.49 / 1.000277

// centralDiff is the oracle: (f(x+h) - f(x-h)) / 2h.
func centralDiff(f func(float64) float64, x, h float64) float64 {
	return (f(x+h) - f(x-h)) / (2 * h)
}

// invariants returns (cos theta_o, cos theta_i, wo.wi) of wo at polar angle
// thetaO (degrees) and azimuth 0 and wi at polar angle thetaI, azimuth phiI.
func invariants(thetaO, thetaI, phiI float64) (cosO, cosI, dot float64) {
	to, ti, pi := thetaO*math.Pi/180, thetaI*math.Pi/180, phiI*math.Pi/180
	wo := mgl64.Vec3{math.Sin(to), 0, math.Cos(to)}
	wi := mgl64.Vec3{math.Sin(ti) * math.Cos(pi), math.Sin(ti) * math.Sin(pi), math.Cos(ti)}
	return wo[2], wi[2], wo.Dot(wi)
}

type bsdfCase struct {
	name string
	b    render.BSDF
	// h is the finite-difference step (relative to the roughness for
	// Alpha; absolute for everything else).
	h float64
}

func bsdfCases() []bsdfCase {
	white := mgl64.Vec3{1, 1, 1}
	col := mgl64.Vec3{0.7, 0.35, 0.1}
	spec := mgl64.Vec3{0.9, 0.8, 1}
	var cs []bsdfCase
	for _, two := range []bool{false, true} {
		sfx := ""
		if two {
			sfx = "/twosided"
		}
		cs = append(cs,
			bsdfCase{"diffuse" + sfx, render.BSDF{Kind: render.Diffuse, TwoSided: two, Diffuse: col}, 1e-6},
			bsdfCase{"plastic-smooth" + sfx, render.BSDF{Kind: render.Plastic, TwoSided: two, Diffuse: col, Specular: spec, Eta: plasticEta}, 1e-6},
			bsdfCase{"plastic-nonlinear" + sfx, render.BSDF{Kind: render.Plastic, TwoSided: two, Diffuse: col, Specular: spec, Eta: 1.7, Alpha: 0.3, Nonlinear: true}, 1e-6},
			bsdfCase{"plastic-0.05" + sfx, render.BSDF{Kind: render.Plastic, TwoSided: two, Diffuse: col, Specular: spec, Eta: plasticEta, Alpha: 0.05}, 1e-7},
			bsdfCase{"plastic-0.3" + sfx, render.BSDF{Kind: render.Plastic, TwoSided: two, Diffuse: white, Specular: white, Eta: plasticEta, Alpha: 0.3}, 1e-6},
			bsdfCase{"plastic-0.8" + sfx, render.BSDF{Kind: render.Plastic, TwoSided: two, Diffuse: col, Specular: spec, Eta: plasticEta, Alpha: 0.8}, 1e-6},
			bsdfCase{"plastic-eta<1" + sfx, render.BSDF{Kind: render.Plastic, TwoSided: two, Diffuse: col, Specular: spec, Eta: 0.8, Alpha: 0.4}, 1e-7},
			bsdfCase{"conductor-au-0.1" + sfx, render.BSDF{Kind: render.Conductor, TwoSided: two, Specular: spec, Alpha: 0.1, CondEta: auEta, CondK: auK}, 1e-7},
			bsdfCase{"conductor-cu-0.5" + sfx, render.BSDF{Kind: render.Conductor, TwoSided: two, Specular: spec, Alpha: 0.5, CondEta: cuEta, CondK: cuK}, 1e-6},
			bsdfCase{"conductor-k0-0.3" + sfx, render.BSDF{Kind: render.Conductor, TwoSided: two, Specular: white, Alpha: 0.3, CondEta: mgl64.Vec3{1.5, 1.2, 0.5}}, 1e-7},
			bsdfCase{"conductor-smooth" + sfx, render.BSDF{Kind: render.Conductor, TwoSided: two, Specular: spec, CondEta: auEta, CondK: auK}, 1e-6},
			bsdfCase{"conductor-tiny-alpha" + sfx, render.BSDF{Kind: render.Conductor, TwoSided: two, Specular: spec, Alpha: 2e-3, CondEta: cuEta, CondK: cuK}, 1e-10},
			bsdfCase{"conductor-clamped-alpha" + sfx, render.BSDF{Kind: render.Conductor, TwoSided: two, Specular: spec, Alpha: 1e-8, CondEta: cuEta, CondK: cuK}, 1e-10},
		)
	}
	return cs
}

// geometries are (thetaO, thetaI, phiI) in degrees: generic, near the
// mirror direction, grazing, normal incidence.
var geometries = [][3]float64{
	{30, 40, 170},
	{60, 55, 180},
	{45, 45, 179.5},
	{20, 70, 90},
	{0.5, 10, 30},
	{85, 80, 150},
	{87, 89, 178},
	{89, 60, 10},
	{30, 30.1, 180},
}

// paramAccess names one scalar input of the loss: a BSDF parameter or an
// invariant.
type paramAccess struct {
	name string
	get  func(b *render.BSDF, x *[3]float64) float64
	set  func(b *render.BSDF, x *[3]float64, v float64)
}

func params() []paramAccess {
	var ps []paramAccess
	for c := 0; c < 3; c++ {
		c := c
		ps = append(ps,
			paramAccess{fmt.Sprintf("Diffuse[%d]", c),
				func(b *render.BSDF, _ *[3]float64) float64 { return b.Diffuse[c] },
				func(b *render.BSDF, _ *[3]float64, v float64) { b.Diffuse[c] = v }},
			paramAccess{fmt.Sprintf("Specular[%d]", c),
				func(b *render.BSDF, _ *[3]float64) float64 { return b.Specular[c] },
				func(b *render.BSDF, _ *[3]float64, v float64) { b.Specular[c] = v }},
		)
	}
	ps = append(ps, paramAccess{"Alpha",
		func(b *render.BSDF, _ *[3]float64) float64 { return b.Alpha },
		func(b *render.BSDF, _ *[3]float64, v float64) { b.Alpha = v }})
	for i, n := range []string{"cosO", "cosI", "dotOI"} {
		i := i
		ps = append(ps, paramAccess{n,
			func(_ *render.BSDF, x *[3]float64) float64 { return x[i] },
			func(_ *render.BSDF, x *[3]float64, v float64) { x[i] = v }})
	}
	return ps
}

// gradOf returns the adjoint's value for parameter p.
func gradOf(p string, g *BSDFGrad, d [3]float64) float64 {
	switch p {
	case "Alpha":
		return g.Alpha
	case "cosO":
		return d[0]
	case "cosI":
		return d[1]
	case "dotOI":
		return d[2]
	}
	c := int(p[len(p)-2] - '0') // "Diffuse[c]" or "Specular[c]"
	if p[0] == 'D' {
		return g.Diffuse[c]
	}
	return g.Specular[c]
}

// stepFor returns the finite-difference step for parameter p: relative
// (1e-6) for the roughness, absolute h otherwise, but small against the
// distance 1 - cos^2 theta_h to the mirror configuration, where the
// independently perturbed invariants would leave the set of consistent
// geometries (the forward function clamps cos^2 theta_h at 1).
func stepFor(p string, b *render.BSDF, x [3]float64, h float64) float64 {
	if p == "Alpha" {
		return 1e-6 * math.Max(b.Alpha, 1e-3)
	}
	if c2, _, ok := render.HalfVector(math.Abs(x[0]), math.Abs(x[1]), x[2]); ok {
		h = math.Min(h, 1e-3*(1-c2))
	}
	return h
}

// checkGrad compares an adjoint value with the finite difference: the
// tolerance is relative (1e-5) plus an absolute floor scaled by the
// function's magnitude over the step (the difference quotient's rounding
// error, a few ulps of f divided by h).
func checkGrad(t *testing.T, what string, ad, fd, fmag, h float64) {
	t.Helper()
	tol := 1e-5*math.Max(math.Abs(fd), math.Abs(ad)) + 1e-9 + 1e-13*fmag/h
	if !(math.Abs(ad-fd) <= tol) {
		t.Errorf("%s: adjoint %.10g, finite difference %.10g (|diff| %.3g > tol %.3g)", what, ad, fd, math.Abs(ad-fd), tol)
	}
}

func TestDEvalBSDFMatchesFiniteDifferences(t *testing.T) {
	rng := geom.NewRNG(7, 0, 0, 0)
	for _, tc := range bsdfCases() {
		for gi, geo := range geometries {
			for _, below := range []bool{false, true} {
				if below && !tc.b.TwoSided {
					continue
				}
				cosO, cosI, dot := invariants(geo[0], geo[1], geo[2])
				if below {
					cosO, cosI = -cosO, -cosI
				}
				x0 := [3]float64{cosO, cosI, dot}
				dOut := mgl64.Vec3{rng.Float64()*2 - 1, rng.Float64()*2 - 1, rng.Float64()*2 - 1}
				loss := func(b *render.BSDF, x *[3]float64) float64 {
					return dOut.Dot(b.EvalInv(x[0], x[1], x[2]))
				}
				b0 := tc.b
				var g BSDFGrad
				dcO, dcI, dd := DEvalBSDF(&b0, cosO, cosI, dot, dOut, &g)
				d := [3]float64{dcO, dcI, dd}
				fmag := math.Abs(loss(&b0, &x0)) + b0.EvalInv(cosO, cosI, dot).Len()
				for _, p := range params() {
					b := tc.b
					x := x0
					v0 := p.get(&b, &x)
					h := stepFor(p.name, &b, x0, tc.h)
					if p.name == "Alpha" && !(b.Alpha > 0) {
						// The forward function jumps from a delta lobe to a
						// rough one at Alpha = 0: no derivative there.
						if ga := gradOf(p.name, &g, d); ga != 0 {
							t.Errorf("%s geometry %d: smooth BSDF has alpha gradient %g", tc.name, gi, ga)
						}
						continue
					}
					fd := centralDiff(func(v float64) float64 {
						bb, xx := b, x
						p.set(&bb, &xx, v)
						return loss(&bb, &xx)
					}, v0, h)
					checkGrad(t, fmt.Sprintf("%s geometry %d below=%v d/d%s", tc.name, gi, below, p.name),
						gradOf(p.name, &g, d), fd, fmag, h)
				}
			}
		}
	}
}

func TestDPdfBSDFMatchesFiniteDifferences(t *testing.T) {
	rng := geom.NewRNG(8, 0, 0, 0)
	for _, tc := range bsdfCases() {
		for gi, geo := range geometries {
			for _, below := range []bool{false, true} {
				if below && !tc.b.TwoSided {
					continue
				}
				cosO, cosI, dot := invariants(geo[0], geo[1], geo[2])
				if below {
					cosO, cosI = -cosO, -cosI
				}
				x0 := [3]float64{cosO, cosI, dot}
				dOut := rng.Float64()*2 - 1
				loss := func(b *render.BSDF, x *[3]float64) float64 {
					return dOut * b.PdfInv(x[0], x[1], x[2])
				}
				b0 := tc.b
				var g BSDFGrad
				dcO, dcI, dd := DPdfBSDF(&b0, cosO, cosI, dot, dOut, &g)
				d := [3]float64{dcO, dcI, dd}
				fmag := b0.PdfInv(cosO, cosI, dot)
				for _, p := range params() {
					b := tc.b
					x := x0
					v0 := p.get(&b, &x)
					h := stepFor(p.name, &b, x0, tc.h)
					if p.name == "Alpha" && !(b.Alpha > 0) {
						// The forward function jumps from a delta lobe to a
						// rough one at Alpha = 0: no derivative there.
						if ga := gradOf(p.name, &g, d); ga != 0 {
							t.Errorf("%s geometry %d: smooth BSDF has alpha gradient %g", tc.name, gi, ga)
						}
						continue
					}
					fd := centralDiff(func(v float64) float64 {
						bb, xx := b, x
						p.set(&bb, &xx, v)
						return loss(&bb, &xx)
					}, v0, h)
					checkGrad(t, fmt.Sprintf("%s geometry %d below=%v dPdf/d%s", tc.name, gi, below, p.name),
						gradOf(p.name, &g, d), fd, fmag, h)
				}
			}
		}
	}
}

func TestDFresnelMatchesFiniteDifferences(t *testing.T) {
	const h = 1e-7
	for _, eta := range []float64{1.0001, 1.33, plasticEta, 2.4, 0.7} {
		for _, c := range []float64{-0.99, -0.9, -0.5, -0.2, 0.01, 0.05, 0.3, 0.7, 0.999} {
			fd := centralDiff(func(x float64) float64 { return render.FresnelDielectric(x, eta) }, c, h)
			checkGrad(t, fmt.Sprintf("DFresnelDielectric(%g, %g)", c, eta), DFresnelDielectric(c, eta, 1), fd, 1, h)
		}
	}
	for i := 0; i < 3; i++ {
		for _, ek := range [][2]float64{{auEta[i], auK[i]}, {cuEta[i], cuK[i]}, {1.5, 0}, {0.5, 0}, {0.2, 1e-3}} {
			for _, c := range []float64{0.01, 0.1, 0.4, 0.8, 0.999} {
				if ek[1] == 0 && math.Abs(c*c-(1-ek[0]*ek[0])) < 1e-3 {
					continue // the critical angle of a k = 0 "conductor": a kink
				}
				fd := centralDiff(func(x float64) float64 { return render.FresnelConductor(x, ek[0], ek[1]) }, c, h)
				checkGrad(t, fmt.Sprintf("DFresnelConductor(%g, %v)", c, ek), DFresnelConductor(c, ek[0], ek[1], 1), fd, 1, h)
			}
		}
	}
}

func TestDMicrofacetMatchesFiniteDifferences(t *testing.T) {
	const h = 1e-7
	for _, a := range []float64{0.01, 0.1, 0.5, 1, 1.5} {
		for _, c := range []float64{0.001, 0.2, 0.6, 0.95} {
			hA := h * a
			dA, dC := DGGXD(a, c, 1)
			checkGrad(t, fmt.Sprintf("DGGXD(%g,%g)/dalpha", a, c), dA,
				centralDiff(func(x float64) float64 { return render.GGXD(x, c) }, a, hA), render.GGXD(a, c), hA)
			checkGrad(t, fmt.Sprintf("DGGXD(%g,%g)/dcos2", a, c), dC,
				centralDiff(func(x float64) float64 { return render.GGXD(a, x) }, c, h*1e-2), render.GGXD(a, c), h*1e-2)
			dA, dC = DGGXG1(a, c, 1)
			checkGrad(t, fmt.Sprintf("DGGXG1(%g,%g)/dalpha", a, c), dA,
				centralDiff(func(x float64) float64 { return render.GGXG1(x, c) }, a, hA), 1, hA)
			checkGrad(t, fmt.Sprintf("DGGXG1(%g,%g)/dc", a, c), dC,
				centralDiff(func(x float64) float64 { return render.GGXG1(a, x) }, c, h*1e-2), 1, h*1e-2)
		}
	}
	for gi, geo := range geometries {
		cosO, cosI, dot := invariants(geo[0], geo[1], geo[2])
		x0 := [3]float64{cosO, cosI, dot}
		w2, wh := 0.3, -0.7
		d := [3]float64{}
		d[0], d[1], d[2] = DHalfVector(cosO, cosI, dot, w2, wh)
		for i := 0; i < 3; i++ {
			fd := centralDiff(func(v float64) float64 {
				x := x0
				x[i] = v
				c2, coh, _ := render.HalfVector(x[0], x[1], x[2])
				return w2*c2 + wh*coh
			}, x0[i], h)
			checkGrad(t, fmt.Sprintf("DHalfVector geometry %d input %d", gi, i), d[i], fd, 1, h)
		}
	}
}

// TestBSDFGradientsFinite feeds degenerate inputs to the adjoints: zero and
// grazing cosines, opposite directions (wo.wi = -1), normal incidence, out
// of range invariants, extreme roughness and indices. Every gradient must be
// finite.
func TestBSDFGradientsFinite(t *testing.T) {
	vals := []float64{-1, -0.5, -1e-300, 0, 1e-300, 1e-12, 1e-6, 0.5, 1 - 1e-15, 1, 1.5}
	dots := []float64{-1.5, -1, -1 + 1e-15, -1 + 1e-9, -0.3, 0, 0.9, 1, 1.2}
	var bs []render.BSDF
	for _, two := range []bool{false, true} {
		for _, alpha := range []float64{0, 1e-8, 1e-4, 0.01, 1, 5} {
			for _, nl := range []bool{false, true} {
				for _, eta := range []float64{1, 1.49, 0.5, 0} {
					bs = append(bs, render.BSDF{Kind: render.Plastic, TwoSided: two, Alpha: alpha, Eta: eta, Nonlinear: nl,
						Diffuse: mgl64.Vec3{0, 1, 3}, Specular: mgl64.Vec3{0, 1, -1}})
				}
				bs = append(bs, render.BSDF{Kind: render.Plastic, TwoSided: two, Alpha: alpha, Eta: 1.49, Nonlinear: nl})
			}
			bs = append(bs,
				render.BSDF{Kind: render.Conductor, TwoSided: two, Alpha: alpha, Specular: mgl64.Vec3{1, 0, 2}, CondEta: auEta, CondK: auK},
				render.BSDF{Kind: render.Conductor, TwoSided: two, Alpha: alpha, Specular: mgl64.Vec3{1, 1, 1}},
				render.BSDF{Kind: render.Conductor, TwoSided: two, Alpha: alpha, Specular: mgl64.Vec3{1, 1, 1}, CondEta: mgl64.Vec3{1, 0.5, 1e-9}})
		}
		bs = append(bs, render.BSDF{Kind: render.Diffuse, TwoSided: two, Diffuse: mgl64.Vec3{1, 0, 0.5}})
	}
	finite := func(v ...float64) bool {
		for _, x := range v {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return false
			}
		}
		return true
	}
	dOut := mgl64.Vec3{0.3, -1, 2}
	for bi := range bs {
		b := &bs[bi]
		for _, co := range vals {
			for _, ci := range vals {
				for _, dt := range dots {
					var g BSDFGrad
					a, c, d := DEvalBSDF(b, co, ci, dt, dOut, &g)
					e, f, h := DPdfBSDF(b, co, ci, dt, -0.7, &g)
					if !finite(a, c, d, e, f, h, g.Alpha, g.Diffuse[0], g.Diffuse[1], g.Diffuse[2], g.Specular[0], g.Specular[1], g.Specular[2]) {
						t.Fatalf("%+v at (%g, %g, %g): non-finite gradient: eval (%g %g %g) pdf (%g %g %g) %+v", *b, co, ci, dt, a, c, d, e, f, h, g)
					}
				}
			}
		}
	}
}
