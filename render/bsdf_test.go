package render

import (
	"fmt"
	"math"
	"testing"

	"github.com/go-gl/mathgl/mgl64"
	"github.com/invrender/invrender/geom"
	"github.com/invrender/invrender/internal/stattest"
)

// Complex relative indices of refraction of gold and copper at the RGB
// primaries (approximately, from Mitsuba's tabulated spectra).
var (
	goldEta   = mgl64.Vec3{0.143, 0.374, 1.442}
	goldK     = mgl64.Vec3{3.983, 2.386, 1.603}
	copperEta = mgl64.Vec3{0.200, 0.924, 1.102}
	copperK   = mgl64.Vec3{3.912, 2.452, 2.142}
	white     = mgl64.Vec3{1, 1, 1}
)

const polypropylene = 1.49 / 1.000277

type namedBSDF struct {
	name string
	b    BSDF
}

// testBSDFs lists every kind, rough and smooth, one- and two-sided.
func testBSDFs() []namedBSDF {
	col := mgl64.Vec3{0.8, 0.4, 0.15}
	spec := mgl64.Vec3{0.9, 0.95, 1}
	var bs []namedBSDF
	for _, two := range []bool{false, true} {
		sfx := ""
		if two {
			sfx = "/twosided"
		}
		bs = append(bs,
			namedBSDF{"diffuse" + sfx, BSDF{Kind: Diffuse, TwoSided: two, Diffuse: col}},
			namedBSDF{"plastic-0.05" + sfx, BSDF{Kind: Plastic, TwoSided: two, Diffuse: col, Specular: spec, Alpha: 0.05, Eta: polypropylene}},
			namedBSDF{"plastic-0.3" + sfx, BSDF{Kind: Plastic, TwoSided: two, Diffuse: col, Specular: spec, Alpha: 0.3, Eta: polypropylene, Nonlinear: true}},
			namedBSDF{"plastic-0.8" + sfx, BSDF{Kind: Plastic, TwoSided: two, Diffuse: col, Specular: spec, Alpha: 0.8, Eta: 1.8}},
			namedBSDF{"plastic-smooth" + sfx, BSDF{Kind: Plastic, TwoSided: two, Diffuse: col, Specular: spec, Eta: polypropylene}},
			namedBSDF{"conductor-gold-0.1" + sfx, BSDF{Kind: Conductor, TwoSided: two, Specular: spec, Alpha: 0.1, CondEta: goldEta, CondK: goldK}},
			namedBSDF{"conductor-copper-0.5" + sfx, BSDF{Kind: Conductor, TwoSided: two, Specular: spec, Alpha: 0.5, CondEta: copperEta, CondK: copperK}},
			namedBSDF{"conductor-smooth" + sfx, BSDF{Kind: Conductor, TwoSided: two, Specular: spec, CondEta: goldEta, CondK: goldK}},
		)
	}
	return bs
}

// testThetas are the view directions' polar angles in degrees, from normal
// to grazing incidence.
var testThetas = []float64{0, 30, 60, 85, 89}

// viewDir returns wo at polar angle theta (degrees) and azimuth 30 degrees,
// mirrored below the surface when below is set.
func viewDir(theta float64, below bool) mgl64.Vec3 {
	st, ct := math.Sincos(theta * math.Pi / 180)
	wo := mgl64.Vec3{st * math.Cos(0.5236), st * math.Sin(0.5236), ct}
	if below {
		wo[2] = -wo[2]
	}
	return wo
}

// viewDirs returns the view directions a BSDF is tested at: above the
// surface, or below it for a two-sided BSDF (which shares the one-sided
// code above the surface; TestBSDFTwoSidedMirror checks the symmetry).
func viewDirs(b *BSDF) (wos []mgl64.Vec3, labels []string) {
	thetas := testThetas
	if testing.Short() {
		thetas = []float64{30, 89}
	}
	for _, th := range thetas {
		if b.TwoSided {
			wos = append(wos, viewDir(th, true))
			labels = append(labels, fmt.Sprintf("theta_o %g below", th))
		} else {
			wos = append(wos, viewDir(th, false))
			labels = append(labels, fmt.Sprintf("theta_o %g", th))
		}
	}
	return wos, labels
}

// deltaAlbedo is the reflectance of the BSDF's delta lobe towards wo.
func deltaAlbedo(b *BSDF, wo mgl64.Vec3) mgl64.Vec3 {
	if b.Alpha > 0 || b.Kind == Diffuse {
		return mgl64.Vec3{}
	}
	c := math.Abs(wo[2])
	if !b.TwoSided && wo[2] <= 0 {
		return mgl64.Vec3{}
	}
	if b.Kind == Plastic {
		return b.Specular.Mul(FresnelDielectric(c, b.PlasticEta()))
	}
	var r mgl64.Vec3
	for i := 0; i < 3; i++ {
		r[i] = b.Specular[i] * FresnelConductor(c, b.CondEta[i], b.CondK[i])
	}
	return r
}

// simpsonVec integrates the vector function f over [a, b] by adaptive
// Simpson quadrature (Lyness 1969) to the absolute tolerance eps on every
// component, splitting at least minDepth and at most 18 times.
func simpsonVec(f func(float64) mgl64.Vec4, a, b, eps float64, minDepth int) mgl64.Vec4 {
	var step func(a, m, b float64, fa, fm, fb, whole mgl64.Vec4, eps float64, depth int) mgl64.Vec4
	step = func(a, m, b float64, fa, fm, fb, whole mgl64.Vec4, eps float64, depth int) mgl64.Vec4 {
		lm, rm := 0.5*(a+m), 0.5*(m+b)
		flm, frm := f(lm), f(rm)
		left := fa.Add(flm.Mul(4)).Add(fm).Mul((m - a) / 6)
		right := fm.Add(frm.Mul(4)).Add(fb).Mul((b - m) / 6)
		delta := left.Add(right).Sub(whole)
		errMax := math.Max(math.Max(math.Abs(delta[0]), math.Abs(delta[1])), math.Max(math.Abs(delta[2]), math.Abs(delta[3])))
		if depth >= 18 || (depth >= minDepth && errMax <= 15*eps) {
			return left.Add(right).Add(delta.Mul(1.0 / 15))
		}
		return step(a, lm, m, fa, flm, fm, left, eps/2, depth+1).Add(step(m, rm, b, fm, frm, fb, right, eps/2, depth+1))
	}
	m := 0.5 * (a + b)
	fa, fm, fb := f(a), f(m), f(b)
	return step(a, m, b, fa, fm, fb, fa.Add(fm.Mul(4)).Add(fb).Mul((b-a)/6), eps, 0)
}

// zBreaks split cos theta where the integrands of the tests change
// character: the horizon, and ever narrower panels towards the poles, where
// a lobe about the normal is narrowest in cos theta (width ~alpha^2).
var zBreaks = []float64{-1, -0.9999, -0.999, -0.99, -0.9, -0.5, 0, 0.5, 0.9, 0.99, 0.999, 0.9999, 1}

// integrateSphere returns the integral of f over the sphere of directions in
// (cos theta, phi) coordinates, nested adaptive Simpson quadrature with the
// absolute tolerance eps per component. f must be symmetric under
// phi -> -phi (a BSDF seen from a direction in the xz plane): only half the
// sphere is integrated. It is this file's oracle for albedos and pdf
// normalisation, independent of the samplers.
func integrateSphere(f func(mgl64.Vec3) mgl64.Vec4, eps float64) mgl64.Vec4 {
	const phiPanels = 8
	var total mgl64.Vec4
	innerEps := eps / (2 * math.Pi * float64(len(zBreaks)))
	for k := 0; k < phiPanels; k++ {
		p0 := math.Pi * float64(k) / phiPanels
		p1 := math.Pi * float64(k+1) / phiPanels
		total = total.Add(simpsonVec(func(phi float64) mgl64.Vec4 {
			sp, cp := math.Sincos(phi)
			var inner mgl64.Vec4
			for j := 0; j+1 < len(zBreaks); j++ {
				inner = inner.Add(simpsonVec(func(z float64) mgl64.Vec4 {
					r := math.Sqrt(math.Max(0, 1-z*z))
					return f(mgl64.Vec3{r * cp, r * sp, z})
				}, zBreaks[j], zBreaks[j+1], innerEps, 3))
			}
			return inner
		}, p0, p1, eps/(4*phiPanels), 3))
	}
	return total.Mul(2)
}

// integrateEvalPdf returns the integrals of Eval(wo, .) (per channel: the
// albedo of the non-delta lobes) and of Pdf(wo, .), to the absolute
// tolerance eps. wo is first turned about the normal into the xz plane
// (isotropic BSDFs do not change; TestBSDFEvalInvariantForm checks it).
func integrateEvalPdf(b *BSDF, wo mgl64.Vec3, eps float64) (albedo mgl64.Vec3, pdf float64) {
	wo = mgl64.Vec3{math.Hypot(wo[0], wo[1]), 0, wo[2]}
	r := integrateSphere(func(wi mgl64.Vec3) mgl64.Vec4 {
		e := b.Eval(wo, wi)
		return mgl64.Vec4{e[0], e[1], e[2], b.Pdf(wo, wi)}
	}, eps)
	return mgl64.Vec3{r[0], r[1], r[2]}, r[3]
}

// Sample draws directions with the density Pdf claims: a chi-square test over
// the whole sphere. Delta samples and samples the BSDF rejects form the
// "elsewhere" category, whose expected share is 1 minus the pdf's integral.
func TestBSDFSampleChiSquare(t *testing.T) {
	t.Parallel()
	bs := testBSDFs()
	n := 0
	for _, nb := range bs {
		if !nb.b.IsDelta() {
			wos, _ := viewDirs(&nb.b)
			n += len(wos)
		}
	}
	samples := 100_000
	if testing.Short() {
		samples = 30_000
	}
	for bi, nb := range bs {
		b := nb.b
		if b.IsDelta() {
			continue // no density to test
		}
		wos, labels := viewDirs(&b)
		for i, wo := range wos {
			st := stattest.SphereTest{
				CosThetaRes: 31, PhiRes: 62,
				// The tolerance bounds the error of the expected counts over
				// the whole grid to samples*2e-5 (2 of 100,000): far below
				// the statistical noise, and it keeps the quadrature of
				// narrow lobes fast.
				Options: stattest.Options{Name: nb.name + " " + labels[i], SampleCount: samples, Seed: uint64(100*bi + i), TestCount: n, Tolerance: 2e-5},
				Sample3: func(u mgl64.Vec3) (mgl64.Vec3, bool) {
					s, ok := b.Sample(wo, u[0], mgl64.Vec2{u[1], u[2]})
					if !ok || s.Delta {
						return mgl64.Vec3{}, false
					}
					return s.Wi, true
				},
				Pdf: func(wi mgl64.Vec3) float64 { return b.Pdf(wo, wi) },
			}
			st.Check(t)
		}
	}
}

// sampleStats draws n samples and returns the mean and standard error of
// the weights (zero for failed samples), the fraction of successful
// non-delta samples with its standard error, and the first inconsistency
// between a non-delta sample and Eval/Pdf.
func sampleStats(b *BSDF, wo mgl64.Vec3, n int, seed uint64) (mean, se mgl64.Vec3, frac, fracSE float64, bad string) {
	rng := geom.NewRNG(seed, 0, 0, 0)
	var sum, sum2 mgl64.Vec3
	nonDelta := 0
	for i := 0; i < n; i++ {
		s, ok := b.Sample(wo, rng.Float64(), mgl64.Vec2{rng.Float64(), rng.Float64()})
		if !ok {
			continue
		}
		if !s.Delta {
			nonDelta++
			pdf := b.Pdf(wo, s.Wi)
			f := b.Eval(wo, s.Wi)
			want := mgl64.Vec3{f[0] / pdf, f[1] / pdf, f[2] / pdf}
			if bad == "" && (s.Pdf != pdf || s.Weight != want) {
				bad = fmt.Sprintf("sample %d: wi %v weight %v pdf %g, Eval/Pdf %v pdf %g", i, s.Wi, s.Weight, s.Pdf, want, pdf)
			}
			if bad == "" && math.Abs(s.Wi.Len()-1) > 1e-12 {
				bad = fmt.Sprintf("sample %d: wi %v is not a unit vector", i, s.Wi)
			}
		}
		for c := 0; c < 3; c++ {
			sum[c] += s.Weight[c]
			sum2[c] += s.Weight[c] * s.Weight[c]
		}
	}
	fn := float64(n)
	for c := 0; c < 3; c++ {
		mean[c] = sum[c] / fn
		se[c] = math.Sqrt(math.Max(0, sum2[c]/fn-mean[c]*mean[c]) / fn)
	}
	frac = float64(nonDelta) / fn
	fracSE = math.Sqrt(frac * (1 - frac) / fn)
	return mean, se, frac, fracSE, bad
}

// Pdf integrates to the probability that Sample returns a non-delta
// direction (1 for a BSDF without delta lobes that loses no sample below
// the horizon, less otherwise); the mean of Sample's weights is the
// albedo, the integral of Eval (plus the delta lobe's reflectance); and
// every non-delta sample's Weight and Pdf are exactly Eval/Pdf and Pdf.
func TestBSDFSampleConsistentWithEvalAndPdf(t *testing.T) {
	t.Parallel()
	n := 100_000
	if testing.Short() {
		n = 30_000
	}
	for bi, nb := range testBSDFs() {
		b := nb.b
		wos, labels := viewDirs(&b)
		for i, wo := range wos {
			name := nb.name + " " + labels[i]
			mean, se, frac, fracSE, bad := sampleStats(&b, wo, n, uint64(100*bi+i))
			if bad != "" {
				t.Errorf("%s: %s", name, bad)
			}
			albedo, pdfInt := integrateEvalPdf(&b, wo, 1e-5)
			albedo = albedo.Add(deltaAlbedo(&b, wo))
			if pdfInt > 1+1e-6 {
				t.Errorf("%s: pdf integrates to %.8f > 1", name, pdfInt)
			}
			// A diffuse BSDF loses nothing: its pdf is normalised.
			if b.Kind == Diffuse && math.Abs(pdfInt-1) > 1e-6 {
				t.Errorf("%s: pdf integrates to %.8f, want 1", name, pdfInt)
			}
			// 4.5 standard errors: with about 150 comparisons a correct
			// sampler fails one with probability ~1e-3; the absolute 1e-5
			// covers the quadrature's error.
			if math.Abs(pdfInt-frac) > 4.5*fracSE+1e-5 {
				t.Errorf("%s: pdf integrates to %.6f but %.6f +- %.6f of the samples are non-delta", name, pdfInt, frac, fracSE)
			}
			for c := 0; c < 3; c++ {
				if math.Abs(albedo[c]-mean[c]) > 4.5*se[c]+1e-5 {
					t.Errorf("%s channel %d: integral of Eval %.6f, mean sample weight %.6f +- %.6f", name, c, albedo[c], mean[c], se[c])
				}
			}
		}
	}
}

// White BSDFs never reflect more than they receive (white furnace). The
// tolerance 8e-4 covers the rough coating's excess over 1 documented on
// BSDF (at most 7.3e-4, at Eta 1.25-1.33, Alpha ~0.1, theta_o ~50 degrees;
// the 1e-5 quadrature error is negligible); the diffuse, smooth plastic and
// smooth white mirror BSDFs must give exactly 1.
func TestBSDFEnergyConservation(t *testing.T) {
	t.Parallel()
	bs := []namedBSDF{
		{"diffuse", BSDF{Kind: Diffuse, Diffuse: white}},
		{"plastic-smooth", BSDF{Kind: Plastic, Diffuse: white, Specular: white, Eta: polypropylene}},
		{"plastic-smooth-eta2", BSDF{Kind: Plastic, Diffuse: white, Specular: white, Eta: 2}},
		{"conductor-mirror", BSDF{Kind: Conductor, Specular: white}},
	}
	for _, a := range []float64{0.05, 0.1, 0.3, 0.8} {
		bs = append(bs,
			namedBSDF{fmt.Sprintf("plastic-%g", a), BSDF{Kind: Plastic, Diffuse: white, Specular: white, Alpha: a, Eta: polypropylene}},
			namedBSDF{fmt.Sprintf("plastic-nonlinear-%g", a), BSDF{Kind: Plastic, Diffuse: white, Specular: white, Alpha: a, Eta: 1.25, Nonlinear: true}},
			// eta = k = 0 makes F = 1: a perfectly white rough mirror.
			namedBSDF{fmt.Sprintf("conductor-white-%g", a), BSDF{Kind: Conductor, Specular: white, Alpha: a}})
	}
	thetas := []float64{0, 20, 35, 50, 60, 75, 85, 89, 89.9}
	if testing.Short() {
		thetas = []float64{0, 25, 60, 89}
	}
	for _, nb := range bs {
		b := nb.b
		for _, th := range thetas {
			wo := viewDir(th, false)
			a, _ := integrateEvalPdf(&b, wo, 1e-5)
			albedo := a[0] + deltaAlbedo(&b, wo)[0]
			exact := b.Kind == Diffuse || (b.Kind == Plastic && b.Alpha == 0) || b.Kind == Conductor && b.Alpha == 0
			switch {
			case exact && math.Abs(albedo-1) > 2e-5:
				t.Errorf("%s theta_o %g: albedo %.8f, want 1", nb.name, th, albedo)
			case albedo > 1+8e-4:
				t.Errorf("%s theta_o %g: albedo %.8f > 1", nb.name, th, albedo)
			}
		}
	}
}

// A two-sided BSDF seen from below is the one-sided BSDF with both
// directions mirrored: Eval, Pdf and Sample (for the same random numbers)
// agree exactly; a one-sided BSDF is black from below.
func TestBSDFTwoSidedMirror(t *testing.T) {
	rng := geom.NewRNG(4, 0, 0, 0)
	mirror := func(v mgl64.Vec3) mgl64.Vec3 { return mgl64.Vec3{v[0], v[1], -v[2]} }
	for _, nb := range testBSDFs() {
		if !nb.b.TwoSided {
			continue
		}
		two := nb.b
		one := two
		one.TwoSided = false
		for i := 0; i < 1000; i++ {
			wo, wi := randomDir(&rng), randomDir(&rng)
			if wo[2] > 0 {
				wo = mirror(wo)
			}
			if e1, e2 := two.Eval(wo, wi), one.Eval(mirror(wo), mirror(wi)); e1 != e2 {
				t.Fatalf("%s: Eval(%v, %v) = %v, one-sided mirrored %v", nb.name, wo, wi, e1, e2)
			}
			if p1, p2 := two.Pdf(wo, wi), one.Pdf(mirror(wo), mirror(wi)); p1 != p2 {
				t.Fatalf("%s: Pdf(%v, %v) = %v, one-sided mirrored %v", nb.name, wo, wi, p1, p2)
			}
			if e, p := one.Eval(wo, wi), one.Pdf(wo, wi); e != (mgl64.Vec3{}) || p != 0 {
				t.Fatalf("%s one-sided from below: Eval %v Pdf %g", nb.name, e, p)
			}
			if _, ok := one.Sample(wo, 0.5, mgl64.Vec2{0.3, 0.6}); ok {
				t.Fatalf("%s one-sided from below: Sample succeeded", nb.name)
			}
			ul, u := rng.Float64(), mgl64.Vec2{rng.Float64(), rng.Float64()}
			s1, ok1 := two.Sample(wo, ul, u)
			s2, ok2 := one.Sample(mirror(wo), ul, u)
			s2.Wi = mirror(s2.Wi)
			if ok1 != ok2 || (ok1 && (s1.Wi != s2.Wi || s1.Delta != s2.Delta ||
				math.Abs(s1.Pdf-s2.Pdf) > 1e-12*s2.Pdf || s1.Weight.Sub(s2.Weight).Len() > 1e-12*s2.Weight.Len())) {
				t.Fatalf("%s: Sample from below %+v %v, one-sided mirrored %+v %v", nb.name, s1, ok1, s2, ok2)
			}
		}
	}
}

// randomDir returns a uniformly distributed unit vector.
func randomDir(rng *geom.RNG) mgl64.Vec3 {
	return geom.SquareToUniformSphere(mgl64.Vec2{rng.Float64(), rng.Float64()})
}

// Reflection lobes are reciprocal: f(wo, wi) = f(wi, wo), so
// Eval(wo, wi)/cos_i = Eval(wi, wo)/cos_o.
func TestBSDFReciprocity(t *testing.T) {
	rng := geom.NewRNG(5, 0, 0, 0)
	for _, nb := range testBSDFs() {
		b := nb.b
		for i := 0; i < 2000; i++ {
			wo, wi := randomDir(&rng), randomDir(&rng)
			fa := b.Eval(wo, wi).Mul(1 / math.Abs(wi[2]))
			fb := b.Eval(wi, wo).Mul(1 / math.Abs(wo[2]))
			for c := 0; c < 3; c++ {
				if math.Abs(fa[c]-fb[c]) > 1e-9*math.Max(math.Abs(fa[c]), 1e-3) {
					t.Fatalf("%s: f(%v, %v) = %v but f(wi, wo) = %v", nb.name, wo, wi, fa, fb)
				}
			}
		}
	}
}

// refEval evaluates the BSDF from the vectors directly, with the half
// vector's components and Mitsuba's vector forms of D and G1 (the model as
// the documentation on BSDF writes it), as an independent check of the
// invariant form.
func refEval(b *BSDF, wo, wi mgl64.Vec3) mgl64.Vec3 {
	if b.TwoSided && wo[2] < 0 {
		wo[2], wi[2] = -wo[2], -wi[2]
	}
	if wo[2] <= 0 || wi[2] <= 0 {
		return mgl64.Vec3{}
	}
	a := math.Max(b.Alpha, MinAlpha)
	h := wo.Add(wi).Normalize()
	micro := ggxDVector(a, h) * ggxG1Tan(a, wo[2]) * ggxG1Tan(a, wi[2]) / (4 * wo[2] * wi[2]) * wi[2]
	switch b.Kind {
	case Diffuse:
		return b.Diffuse.Mul(wi[2] / math.Pi)
	case Conductor:
		if b.Alpha == 0 {
			return mgl64.Vec3{}
		}
		var r mgl64.Vec3
		for c := 0; c < 3; c++ {
			r[c] = b.Specular[c] * FresnelConductor(wo.Dot(h), b.CondEta[c], b.CondK[c]) * micro
		}
		return r
	}
	eta := b.Eta
	fdr := FresnelDiffuseReflectance(1 / eta)
	var r mgl64.Vec3
	for c := 0; c < 3; c++ {
		den := 1 - fdr
		if b.Nonlinear {
			den = 1 - b.Diffuse[c]*fdr
		}
		r[c] = b.Diffuse[c] / den * (1 - FresnelDielectric(wo[2], eta)) * (1 - FresnelDielectric(wi[2], eta)) /
			(math.Pi * eta * eta) * wi[2]
		if b.Alpha > 0 {
			r[c] += b.Specular[c] * FresnelDielectric(wo.Dot(h), eta) * micro
		}
	}
	return r
}

// EvalInv agrees with a vector-form evaluation, and the value does not
// depend on the tangent frame: rotating the shading frame about the normal
// (here: random world directions expressed in a random frame and in the
// same frame turned about its normal) changes nothing.
func TestBSDFEvalInvariantForm(t *testing.T) {
	rng := geom.NewRNG(6, 0, 0, 0)
	for _, nb := range testBSDFs() {
		b := nb.b
		for i := 0; i < 2000; i++ {
			n := randomDir(&rng)
			f1 := geom.NewFrame(n)
			phi := 2 * math.Pi * rng.Float64()
			s, c := math.Sincos(phi)
			f2 := geom.Frame{S: f1.S.Mul(c).Add(f1.T.Mul(s)), T: f1.T.Mul(c).Sub(f1.S.Mul(s)), N: n}
			woW, wiW := randomDir(&rng), randomDir(&rng)
			wo1, wi1 := f1.ToLocal(woW), f1.ToLocal(wiW)
			wo2, wi2 := f2.ToLocal(woW), f2.ToLocal(wiW)
			e1 := b.Eval(wo1, wi1)
			e2 := b.Eval(wo2, wi2)
			inv := b.EvalInv(wo1[2], wi1[2], wo1.Dot(wi1))
			ref := refEval(&b, wo1, wi1)
			p1, p2 := b.Pdf(wo1, wi1), b.Pdf(wo2, wi2)
			for k := 0; k < 3; k++ {
				scale := math.Max(math.Abs(ref[k]), 1e-6)
				if e1[k] != inv[k] || math.Abs(e1[k]-e2[k]) > 1e-9*scale || math.Abs(e1[k]-ref[k]) > 1e-9*scale {
					t.Fatalf("%s: wo %v wi %v: Eval %v, rotated frame %v, EvalInv %v, vector form %v", nb.name, wo1, wi1, e1, e2, inv, ref)
				}
			}
			if math.Abs(p1-p2) > 1e-9*math.Max(p1, 1e-6) {
				t.Fatalf("%s: Pdf %g in one frame, %g in the rotated one", nb.name, p1, p2)
			}
		}
	}
}

// Flags and the albedo AOV.
func TestBSDFFlagsAndAlbedo(t *testing.T) {
	for _, c := range []struct {
		b                 BSDF
		isDelta, hasDelta bool
	}{
		{BSDF{Kind: Diffuse}, false, false},
		{BSDF{Kind: Plastic, Alpha: 0.1}, false, false},
		{BSDF{Kind: Plastic}, false, true},
		{BSDF{Kind: Conductor, Alpha: 0.1}, false, false},
		{BSDF{Kind: Conductor}, true, true},
	} {
		if c.b.IsDelta() != c.isDelta || c.b.HasDelta() != c.hasDelta {
			t.Errorf("%v alpha %g: IsDelta %v HasDelta %v", c.b.Kind, c.b.Alpha, c.b.IsDelta(), c.b.HasDelta())
		}
	}
	d := mgl64.Vec3{0.1, 0.2, 0.3}
	if a := (&BSDF{Kind: Plastic, Diffuse: d}).Albedo(); a != d {
		t.Errorf("plastic albedo %v, want %v", a, d)
	}
	b := BSDF{Kind: Conductor, Specular: mgl64.Vec3{1, 0.5, 1}, CondEta: goldEta, CondK: goldK}
	a := b.Albedo()
	for c := 0; c < 3; c++ {
		n, k := goldEta[c], goldK[c]
		want := b.Specular[c] * ((n-1)*(n-1) + k*k) / ((n+1)*(n+1) + k*k)
		if math.Abs(a[c]-want) > 1e-14 {
			t.Errorf("conductor albedo %v, channel %d want %g", a, c, want)
		}
	}
}

func TestMaterialBSDFAt(t *testing.T) {
	m := Material{Kind: Plastic, Reflectance: ConstTexture(mgl64.Vec3{0.2, 0.3, 0.4}),
		SpecularReflectance: ConstScalar(1), Alpha: ConstScalar(0.25), IntIOR: 1.5, ExtIOR: 1.25, Nonlinear: true, TwoSided: true}
	b := m.BSDFAt(mgl64.Vec2{0.3, 0.7})
	want := BSDF{Kind: Plastic, TwoSided: true, Diffuse: mgl64.Vec3{0.2, 0.3, 0.4}, Specular: white, Alpha: 0.25, Eta: 1.2, Nonlinear: true}
	if b != want {
		t.Errorf("plastic BSDFAt = %+v, want %+v", b, want)
	}
	m = Material{Kind: Plastic}
	in, ex := DefaultIntIOR, DefaultExtIOR
	if b := m.BSDFAt(mgl64.Vec2{}); b.Eta != in/ex {
		t.Errorf("default plastic eta %g", b.Eta)
	}
	m = Material{Kind: Conductor, SpecularReflectance: ConstScalar(0.5), Alpha: ConstScalar(0.1), Eta: mgl64.Vec3{2, 4, 6}, K: mgl64.Vec3{1, 2, 3}, ExtIOR: 2}
	b = m.BSDFAt(mgl64.Vec2{})
	want = BSDF{Kind: Conductor, Specular: mgl64.Vec3{0.5, 0.5, 0.5}, Alpha: 0.1, CondEta: mgl64.Vec3{1, 2, 3}, CondK: mgl64.Vec3{0.5, 1, 1.5}}
	if b != want {
		t.Errorf("conductor BSDFAt = %+v, want %+v", b, want)
	}
	m = Material{Kind: Diffuse, Reflectance: ConstScalar(0.5)}
	if b := m.BSDFAt(mgl64.Vec2{}); b != (BSDF{Kind: Diffuse, Diffuse: mgl64.Vec3{0.5, 0.5, 0.5}}) {
		t.Errorf("diffuse BSDFAt = %+v", b)
	}
}

// finiteVec reports whether every component is finite.
func finiteVec(v mgl64.Vec3) bool {
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

// checkFinite evaluates, samples and takes the pdf of b for (wo, wi) and
// fails on any NaN or infinity.
func checkFinite(tb testing.TB, b *BSDF, wo, wi mgl64.Vec3, uLobe float64, u mgl64.Vec2) {
	tb.Helper()
	e := b.Eval(wo, wi)
	p := b.Pdf(wo, wi)
	s, ok := b.Sample(wo, uLobe, u)
	if !finiteVec(e) || math.IsNaN(p) || math.IsInf(p, 0) || p < 0 {
		tb.Fatalf("%+v: Eval(%v, %v) = %v, Pdf = %g", *b, wo, wi, e, p)
	}
	if ok && (!finiteVec(s.Wi) || !finiteVec(s.Weight) || math.IsNaN(s.Pdf) || math.IsInf(s.Pdf, 0) || !(s.Pdf > 0)) {
		tb.Fatalf("%+v: Sample(%v, %g, %v) = %+v", *b, wo, uLobe, u, s)
	}
	if inv := b.EvalInv(wo[2], wi[2], wo.Dot(wi)); !finiteVec(inv) {
		tb.Fatalf("%+v: EvalInv = %v", *b, inv)
	}
}

// fuzzBSDFs are the parameter sets the fuzzing tests use: extreme roughness
// (0, below MinAlpha, 1, large), index matched and invalid indices, zero
// and out-of-range reflectances.
func fuzzBSDFs() []BSDF {
	var bs []BSDF
	for _, two := range []bool{false, true} {
		for _, a := range []float64{0, 1e-8, 1e-4, 0.3, 1, 10, -1} {
			for _, eta := range []float64{1, polypropylene, 0.5, 0} {
				for _, nl := range []bool{false, true} {
					bs = append(bs,
						BSDF{Kind: Plastic, TwoSided: two, Alpha: a, Eta: eta, Nonlinear: nl, Diffuse: white, Specular: white},
						BSDF{Kind: Plastic, TwoSided: two, Alpha: a, Eta: eta, Nonlinear: nl},
						BSDF{Kind: Plastic, TwoSided: two, Alpha: a, Eta: eta, Nonlinear: nl, Diffuse: mgl64.Vec3{3, -1, 0}, Specular: mgl64.Vec3{0, -2, 1}})
				}
			}
			bs = append(bs,
				BSDF{Kind: Conductor, TwoSided: two, Alpha: a, Specular: white, CondEta: goldEta, CondK: goldK},
				BSDF{Kind: Conductor, TwoSided: two, Alpha: a, Specular: white},
				BSDF{Kind: Conductor, TwoSided: two, Alpha: a, Specular: white, CondEta: mgl64.Vec3{1, 0.5, 0}})
		}
		bs = append(bs, BSDF{Kind: Diffuse, TwoSided: two, Diffuse: white}, BSDF{Kind: Diffuse, TwoSided: two})
	}
	return bs
}

// No NaN or infinity for random and degenerate directions: grazing, normal,
// opposite (wo.wi = -1, no half vector), identical, zero, not normalised.
func TestBSDFNoNaN(t *testing.T) {
	dirs := []mgl64.Vec3{
		{0, 0, 1}, {0, 0, -1}, {1, 0, 0}, {-1, 0, 0}, {0, 1, 0}, {0, 0, 0},
		{1, 0, 1e-300}, {-1, 0, 1e-300}, {1, 0, -1e-300}, {0.6, 0, 0.8}, {-0.6, 0, 0.8}, {-0.6, 0, -0.8},
		{math.Sqrt(1 - 1e-16), 0, 1e-8}, {-math.Sqrt(1 - 1e-16), 0, 1e-8}, {2, 0, 0.5}, {0, 0, 1.5},
	}
	us := []mgl64.Vec2{{0, 0}, {0.5, 0.5}, {0.999999, 0.999999}, {1, 1}, {0, 1}, {0.25, 0.75}, {1e-300, 0}}
	ls := []float64{0, 0.3, 0.99999999, 1}
	rng := geom.NewRNG(9, 0, 0, 0)
	for _, b := range fuzzBSDFs() {
		b := b
		for _, wo := range dirs {
			for _, wi := range dirs {
				checkFinite(t, &b, wo, wi, ls[rng.Intn(len(ls))], us[rng.Intn(len(us))])
			}
			for _, u := range us {
				for _, l := range ls {
					checkFinite(t, &b, wo, wo.Mul(-1), l, u)
				}
			}
		}
		for i := 0; i < 300; i++ {
			wo, wi := randomDir(&rng), randomDir(&rng)
			checkFinite(t, &b, wo, wi, rng.Float64(), mgl64.Vec2{rng.Float64(), rng.Float64()})
		}
	}
}

// FuzzBSDF checks that no input direction or random number makes Eval, Pdf
// or Sample produce a NaN or an infinity.
func FuzzBSDF(f *testing.F) {
	f.Add(0.1, 0.2, 0.9, -0.3, 0.1, 0.7, 0.5, 0.5, 0.5)
	f.Add(1.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, 0.0, 0.0)
	f.Add(0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.999, 1.0, 1.0)
	bs := fuzzBSDFs()
	f.Fuzz(func(t *testing.T, ox, oy, oz, ix, iy, iz, l, u0, u1 float64) {
		wo, wi := mgl64.Vec3{ox, oy, oz}, mgl64.Vec3{ix, iy, iz}
		if !finiteVec(wo) || !finiteVec(wi) || wo.Len() == 0 || wi.Len() == 0 || math.IsInf(wo.Len(), 0) || math.IsInf(wi.Len(), 0) {
			t.Skip()
		}
		wo, wi = wo.Normalize(), wi.Normalize()
		clamp := func(x float64) float64 {
			if !(x >= 0) {
				return 0
			}
			return math.Min(x, 1)
		}
		for i := range bs {
			checkFinite(t, &bs[i], wo, wi, clamp(l), mgl64.Vec2{clamp(u0), clamp(u1)})
		}
	})
}

// The hot paths allocate nothing.
func TestBSDFNoAllocations(t *testing.T) {
	wo := viewDir(40, false)
	wi := viewDir(50, false)
	wi[0] = -wi[0]
	for _, nb := range testBSDFs() {
		b := nb.b
		var sink float64
		allocs := testing.AllocsPerRun(100, func() {
			s, _ := b.Sample(wo, 0.3, mgl64.Vec2{0.4, 0.6})
			sink += b.Eval(wo, wi)[0] + b.Pdf(wo, wi) + s.Weight[0]
		})
		if allocs != 0 {
			t.Errorf("%s: %g allocations per Eval+Pdf+Sample", nb.name, allocs)
		}
		_ = sink
	}
}

func benchBSDFs() []namedBSDF {
	return []namedBSDF{
		{"diffuse", BSDF{Kind: Diffuse, Diffuse: white}},
		{"plastic", BSDF{Kind: Plastic, Diffuse: white, Specular: white, Alpha: 0.2, Eta: polypropylene}},
		{"plastic-smooth", BSDF{Kind: Plastic, Diffuse: white, Specular: white, Eta: polypropylene}},
		{"conductor", BSDF{Kind: Conductor, Specular: white, Alpha: 0.2, CondEta: goldEta, CondK: goldK}},
	}
}

var benchSink float64

func BenchmarkBSDFEval(b *testing.B) {
	wo := viewDir(40, false)
	wi := viewDir(50, false)
	wi[0] = -wi[0]
	for _, nb := range benchBSDFs() {
		bs := nb.b
		b.Run(nb.name, func(b *testing.B) {
			b.ReportAllocs()
			s := 0.0
			for i := 0; i < b.N; i++ {
				s += bs.Eval(wo, wi)[0]
			}
			benchSink = s
		})
	}
}

func BenchmarkBSDFSample(b *testing.B) {
	wo := viewDir(40, false)
	for _, nb := range benchBSDFs() {
		bs := nb.b
		b.Run(nb.name, func(b *testing.B) {
			b.ReportAllocs()
			rng := geom.NewRNG(1, 0, 0, 0)
			s := 0.0
			for i := 0; i < b.N; i++ {
				smp, _ := bs.Sample(wo, rng.Float64(), mgl64.Vec2{rng.Float64(), rng.Float64()})
				s += smp.Weight[0]
			}
			benchSink = s
		})
	}
}
