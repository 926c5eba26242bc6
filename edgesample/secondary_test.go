package edgesample

import (
	"fmt"
	"math"
	"sort"
	"sync"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/geom"
	"github.com/invrender/invrender/internal/meshgen"
	"github.com/invrender/invrender/internal/stattest"
	"github.com/invrender/invrender/render"
)

// gaussLegendre integrates f over [a, b] with 64 panels of the 8-point
// Gauss-Legendre rule.
func gaussLegendre(f func(float64) float64, a, b float64) float64 {
	x := [8]float64{-0.9602898564975363, -0.7966664774136267, -0.5255324099163290, -0.1834346424956498,
		0.1834346424956498, 0.5255324099163290, 0.7966664774136267, 0.9602898564975363}
	w := [8]float64{0.1012285362903763, 0.2223810344533745, 0.3137066458778873, 0.3626837833783620,
		0.3626837833783620, 0.3137066458778873, 0.2223810344533745, 0.1012285362903763}
	const panels = 64
	h := (b - a) / panels
	sum := 0.0
	for k := 0; k < panels; k++ {
		c := a + (float64(k)+0.5)*h
		for j := range x {
			sum += w[j] * f(c+0.5*h*x[j])
		}
	}
	return 0.5 * h * sum
}

// integrateAbove integrates f(S) over the part of [0,1] where the edge
// point lies above the plane (n.(M-p) > 0), split at the crossing so that
// each piece is smooth, and refined geometrically about the foot of the
// perpendicular from p, where integrands like 1/r^2 peak.
func integrateAbove(v0, v1, p, n mgl64.Vec3, f func(float64) float64) float64 {
	za, zb := n.Dot(v0.Sub(p)), n.Dot(v1.Sub(p))
	sa, sb := 0.0, 1.0
	switch {
	case za <= 0 && zb <= 0:
		return 0
	case za < 0:
		sa = za / (za - zb)
	case zb < 0:
		sb = za / (za - zb)
	}
	e := v1.Sub(v0)
	L2 := e.Dot(e)
	foot := p.Sub(v0).Dot(e) / L2
	d := p.Sub(v0.Add(e.Mul(foot))).Len() / math.Sqrt(L2)
	return refined(f, sa, sb, foot, d)
}

// refined integrates f over [a, b] in pieces that shrink geometrically
// towards foot, down to width w.
func refined(f func(float64) float64, a, b, foot, w float64) float64 {
	cuts := []float64{a, b}
	for w = math.Max(w, 1e-9); w < 2; w *= 2 {
		for _, c := range []float64{foot - w, foot + w} {
			if c > a && c < b {
				cuts = append(cuts, c)
			}
		}
	}
	if foot > a && foot < b {
		cuts = append(cuts, foot)
	}
	sort.Float64s(cuts)
	sum := 0.0
	for k := 0; k+1 < len(cuts); k++ {
		sum += gaussLegendre(f, cuts[k], cuts[k+1])
	}
	return sum
}

func TestEdgeImportanceClosedForm(t *testing.T) {
	r := geom.NewRNG(11, 0, 0, 0)
	rv := func(s float64) mgl64.Vec3 {
		return mgl64.Vec3{s * (2*r.Float64() - 1), s * (2*r.Float64() - 1), s * (2*r.Float64() - 1)}
	}
	checked := 0
	for k := 0; k < 800; k++ {
		p := rv(1)
		n := geom.SquareToUniformSphere(mgl64.Vec2{r.Float64(), r.Float64()})
		v0 := rv(2)
		v1 := v0.Add(rv(1.5))
		if k%5 == 0 {
			// An edge passing close to p (the clamp of the distance).
			v1 = p.Add(p.Sub(v0).Mul(0.2 + r.Float64())).Add(rv(1e-4))
		}
		imp, fr := edgeImportance(v0, v1, p, n)
		e := v1.Sub(v0)
		L := e.Len()
		w := e.Mul(1 / L)
		// The physical integrand sin(phi) cos(theta) / r^2 with the
		// distance to the line clamped as documented.
		d := v0.Sub(p).Sub(w.Mul(v0.Sub(p).Dot(w))).Len()
		dc := math.Max(d, minDistFrac*L)
		want := integrateAbove(v0, v1, p, n, func(s float64) float64 {
			x := v0.Add(e.Mul(s)).Sub(p)
			l := x.Dot(w)
			z := n.Dot(x)
			return L * dc * z / math.Pow(dc*dc+l*l, 2)
		})
		if want == 0 {
			if imp != 0 {
				t.Fatalf("edge below the plane has importance %g", imp)
			}
			continue
		}
		checked++
		if !near(imp, want, 1e-7) && !(want < 1e-12 && imp == tinyImportance) {
			t.Fatalf("case %d: importance %.12g, quadrature %.12g (d %g, dc %g)", k, imp, want, d, dc)
		}
		if d > dc {
			// Unclamped: the same as sin(phi) cos(theta) / r^2 written
			// with angles.
			phys := integrateAbove(v0, v1, p, n, func(s float64) float64 {
				x := v0.Add(e.Mul(s)).Sub(p)
				rr := x.Len()
				return L * (x.Cross(w).Len() / rr) * (n.Dot(x) / rr) / (rr * rr)
			})
			if !near(imp, phys, 1e-7) {
				t.Fatalf("case %d: importance %.12g, physical integral %.12g", k, imp, phys)
			}
		}
		// The point density integrates to 1 over [0,1].
		if mass := gaussLegendre(fr.pointPdf, 0, fr.sa) + refined(fr.pointPdf, fr.sa, fr.sb, -fr.lbase/L, fr.dc/L) +
			gaussLegendre(fr.pointPdf, fr.sb, 1); !near(mass, 1, 1e-7) {
			t.Fatalf("case %d: point density integrates to %g", k, mass)
		}
	}
	if checked < 200 {
		t.Fatalf("only %d cases above the plane", checked)
	}
}

func TestPointSamplerMatchesPdf(t *testing.T) {
	r := geom.NewRNG(12, 0, 0, 0)
	cases := []struct{ v0, v1, p, n mgl64.Vec3 }{
		{mgl64.Vec3{-1, 0.2, 0}, mgl64.Vec3{1, 0.2, 0}, mgl64.Vec3{0.1, 0, 0}, mgl64.Vec3{0, 1, 0}},    // close, above
		{mgl64.Vec3{-1, -0.5, 0}, mgl64.Vec3{1, 0.5, 0.1}, mgl64.Vec3{0, 0, 0.3}, mgl64.Vec3{0, 1, 0}}, // crosses the plane
		{mgl64.Vec3{2, 1, 3}, mgl64.Vec3{2.5, 1.5, 3}, mgl64.Vec3{0, 0, 0}, mgl64.Vec3{0, 0, 1}},       // far
	}
	const N, bins = 200000, 50
	alpha := stattest.SidakAlpha(1e-3, len(cases))
	for ci, c := range cases {
		_, fr := edgeImportance(c.v0, c.v1, c.p, c.n)
		obs := make([]float64, bins)
		for k := 0; k < N; k++ {
			s, pdf := fr.samplePoint(r.Float64())
			if !(s >= 0 && s <= 1) {
				t.Fatalf("S = %g", s)
			}
			if got := fr.pointPdf(s); got != pdf {
				t.Fatalf("pdf %g, pointPdf %g", pdf, got)
			}
			obs[min(int(s*bins), bins-1)]++
		}
		exp := make([]float64, bins)
		for b := range exp {
			lo, hi := float64(b)/bins, float64(b+1)/bins
			// Split at the clip points so each piece is smooth.
			cuts := []float64{lo}
			for _, x := range []float64{fr.sa, fr.sb} {
				if x > lo && x < hi {
					cuts = append(cuts, x)
				}
			}
			cuts = append(cuts, hi)
			for j := 0; j+1 < len(cuts); j++ {
				exp[b] += N * gaussLegendre(fr.pointPdf, cuts[j], cuts[j+1])
			}
		}
		if chi2, dof, pv := stattest.ChiSquare(obs, exp, 5); pv < alpha {
			t.Fatalf("case %d: chi-square %g with %d dof, p = %g", ci, chi2, dof, pv)
		}
	}
}

func TestMergeCones(t *testing.T) {
	r := geom.NewRNG(13, 0, 0, 0)
	for trial := 0; trial < 200; trial++ {
		// A random spread of directions about a random axis.
		axis := geom.SquareToUniformSphere(mgl64.Vec2{r.Float64(), r.Float64()})
		spread := []float64{0, 0.01, 0.3, 1, 3}[trial%5]
		var dirs []mgl64.Vec3
		ax, cosT, sinT := mgl64.Vec3{}, float64(emptyCone), 0.0
		for k := 0; k < 12; k++ {
			d := axis.Add(geom.SquareToUniformSphere(mgl64.Vec2{r.Float64(), r.Float64()}).Mul(spread)).Normalize()
			dirs = append(dirs, d)
			ax, cosT, sinT = mergeCones(ax, cosT, sinT, d, 1, 0)
		}
		if cosT <= -1 {
			continue
		}
		theta := math.Atan2(sinT, cosT)
		if !near(ax.Len(), 1, 1e-12) {
			t.Fatalf("axis length %g", ax.Len())
		}
		for _, d := range dirs {
			if a := math.Atan2(ax.Cross(d).Len(), ax.Dot(d)); a > theta+1e-12 {
				t.Fatalf("trial %d: direction at %g outside the cone of half-angle %g", trial, a, theta)
			}
		}
	}
}

// TestCullingIsConservative walks every node whose effective length the
// normal cones reduce to zero and checks that none of its edges is a
// candidate, and that this does happen on the smooth sphere.
func TestCullingIsConservative(t *testing.T) {
	s := testScene()
	e := Extract(s)
	h := NewSecondary(s, e, SecondaryOptions{})
	r := geom.NewRNG(14, 0, 0, 0)
	culledNodes := 0
	for q := 0; q < 200; q++ {
		p, _ := randomQuery(&r)
		for ni := range h.nodes {
			nd := &h.nodes[ni]
			var g nodeGeo
			nd.geometry(vec(p), &g)
			if effLength(nd, &g, vec(p)) != 0 {
				continue
			}
			culledNodes++
			for k := nd.start; k < nd.start+nd.count; k++ {
				if i := int(h.recs[k].edge); e.Candidate(s, i, p) {
					t.Fatalf("from %v: node %d culled but edge %d is a candidate", p, ni, i)
				}
			}
		}
	}
	if culledNodes == 0 {
		t.Fatal("no node was ever culled")
	}
}

// checkSecondary verifies (a) the pmf sums to at most 1 and matches the
// frequencies of Sample, (b) exactly the edges that are candidates above
// the plane have a positive pmf, (c) Sample's Pdf is Pdf at the returned
// (edge, S), and (d) for a few edges per query, Pdf integrates over S to
// Pmf: the density in S that Pdf claims is the one of the edge's samples.
// It reports how many queries used the emitter strategy.
func checkSecondary(t *testing.T, s *render.Scene, e *Edges, h *Secondary, queries, N int, seed uint64) int {
	t.Helper()
	r := geom.NewRNG(seed, 0, 0, 0)
	alpha := stattest.SidakAlpha(1e-3, queries)
	mixed := 0
	for q := 0; q < queries; q++ {
		p, n := randomQuery(&r)
		var ev emitView
		if h.emitterView(p, n, &ev) > 0 {
			mixed++
		}
		pmf := make([]float64, e.Len())
		sum := 0.0
		for i := range pmf {
			pmf[i] = h.Pmf(p, n, i)
			sum += pmf[i]
			c := contributes(s, e, i, p, n)
			if c && !(pmf[i] > 0) {
				t.Fatalf("query %d (p %v n %v): candidate edge %d above the plane has pmf %g", q, p, n, i, pmf[i])
			}
			if !c && pmf[i] != 0 {
				t.Fatalf("query %d: edge %d that cannot contribute has pmf %g", q, i, pmf[i])
			}
		}
		if sum > 1+1e-12 {
			t.Fatalf("query %d: pmf sums to %g", q, sum)
		}
		obs := make([]float64, e.Len()+1)
		for k := 0; k < N; k++ {
			u0, u1 := r.Float64(), r.Float64()
			es, ok := h.Sample(p, n, u0, u1)
			if !ok {
				obs[e.Len()]++
				continue
			}
			obs[es.Edge]++
			if !(es.S >= 0 && es.S <= 1) {
				t.Fatalf("S = %g", es.S)
			}
			v0, v1 := e.Vertices(s, int(es.Edge))
			if es.M.Sub(v0.Add(v1.Sub(v0).Mul(es.S))).Len() > 1e-12 {
				t.Fatalf("M %v is not V0 + S(V1-V0)", es.M)
			}
			if want := h.Pdf(p, n, int(es.Edge), es.S); !near(es.Pdf, want, 1e-12) || !(want > 0) {
				t.Fatalf("Pdf %g, Pdf() %g", es.Pdf, want)
			}
		}
		exp := make([]float64, e.Len()+1)
		for i, pm := range pmf {
			exp[i] = float64(N) * pm
			if pm == 0 && obs[i] > 0 {
				t.Fatalf("query %d: edge %d sampled with pmf 0", q, i)
			}
		}
		exp[e.Len()] = float64(N) * math.Max(0, 1-sum)
		if chi2, dof, pv := stattest.ChiSquare(obs, exp, 5); pv < alpha {
			t.Fatalf("query %d (p %v n %v): chi-square %g with %d dof, p = %g", q, p, n, chi2, dof, pv)
		}
		// (d) on the most frequent edge and two others with a positive pmf.
		best := 0
		for i := range pmf {
			if obs[i] > obs[best] {
				best = i
			}
		}
		checked := []int{best}
		for tries := 0; tries < 50 && len(checked) < 3; tries++ {
			if i := r.Intn(e.Len()); pmf[i] > 0 {
				checked = append(checked, i)
			}
		}
		for _, i := range checked {
			if !(pmf[i] > 0) {
				continue
			}
			got := integratePdf(h, &ev, p, n, i)
			if !near(got, pmf[i], 1e-6) {
				t.Fatalf("query %d (p %v n %v), edge %d: Pdf integrates to %.10g over S, Pmf %.10g", q, p, n, i, got, pmf[i])
			}
		}
	}
	return mixed
}

// integratePdf integrates Pdf(p, n, i, S) over S in [0,1] by quadrature,
// split where the density may jump (the plane through p, the ends of the
// parts of the edge inside the emitter clusters' cones of ev) and refined
// about the foot of the perpendicular from p, where the equi-angular
// densities peak.
func integratePdf(h *Secondary, ev *emitView, p, n mgl64.Vec3, i int) float64 {
	k := i
	if h.edgePos != nil {
		k = int(h.edgePos[i])
	}
	rec := &h.recs[k]
	v0, v1 := rec.v0.mgl(), rec.v1.mgl()
	cuts := []float64{0, 1}
	za, zb := n.Dot(v0.Sub(p)), n.Dot(v1.Sub(p))
	if (za < 0) != (zb < 0) {
		cuts = append(cuts, za/(za-zb))
	}
	for c := 0; c < ev.n; c++ {
		if ev.prob[c] > 0 {
			if lo, hi, ok := coneInterval(v0, v1, p, n, &ev.cones[c]); ok {
				cuts = append(cuts, lo, hi)
			}
		}
	}
	sort.Float64s(cuts)
	ed := v1.Sub(v0)
	L2 := ed.Dot(ed)
	foot := p.Sub(v0).Dot(ed) / L2
	w := p.Sub(v0.Add(ed.Mul(foot))).Len() / math.Sqrt(L2)
	f := func(s float64) float64 { return h.Pdf(p, n, i, s) }
	sum := 0.0
	for k := 0; k+1 < len(cuts); k++ {
		if cuts[k+1] > cuts[k] {
			sum += refined(f, cuts[k], cuts[k+1], foot, w)
		}
	}
	return sum
}

func TestSecondaryMixture(t *testing.T) {
	s := testScene()
	e := Extract(s)
	h := NewSecondary(s, e, SecondaryOptions{})
	if h.EmitterFraction() != DefaultEmitterFraction {
		t.Fatalf("emitter fraction %g with an area light", h.EmitterFraction())
	}
	if mixed := checkSecondary(t, s, e, h, 16, 10000, 21); mixed < 8 {
		t.Fatalf("only %d of 16 queries used the emitter strategy", mixed)
	}
}

// TestSecondaryManyClusters checks the mixture with many emitter clusters
// (an emissive icosphere beside the test scene's quad light): the
// probabilities that one descent gathers for every cluster whose cone
// holds the sample agree with Pmf and Pdf.
func TestSecondaryManyClusters(t *testing.T) {
	s := testScene()
	ip, ii := meshgen.Icosphere(1, 0.2, mgl64.Vec3{-0.9, 1.3, 0.6}, 0)
	s.Shapes = append(s.Shapes, &render.Shape{Positions: ip, Indices: ii, Material: 0,
		Emitter: &render.AreaEmitter{Radiance: mgl64.Vec3{2, 2, 2}}})
	e := Extract(s)
	h := NewSecondary(s, e, SecondaryOptions{})
	if len(h.clusters) < 8 {
		t.Fatalf("%d emitter clusters", len(h.clusters))
	}
	if mixed := checkSecondary(t, s, e, h, 4, 5000, 28); mixed < 2 {
		t.Fatalf("only %d of 4 queries used the emitter strategy", mixed)
	}
}

func TestSecondaryHierarchy(t *testing.T) {
	s := testScene()
	e := Extract(s)
	h := NewSecondary(s, e, SecondaryOptions{NoEmitter: true})
	if h.EmitterFraction() != 0 {
		t.Fatalf("emitter fraction %g with NoEmitter", h.EmitterFraction())
	}
	checkSecondary(t, s, e, h, 12, 10000, 26)
}

func TestSecondaryNoJumpWeight(t *testing.T) {
	s := testScene()
	e := Extract(s)
	checkSecondary(t, s, e, NewSecondary(s, e, SecondaryOptions{NoJumpWeight: true, EmitterFraction: 0.8}), 6, 10000, 27)
}

func TestSecondaryUniformPoint(t *testing.T) {
	s := testScene()
	e := Extract(s)
	checkSecondary(t, s, e, NewSecondary(s, e, SecondaryOptions{UniformPoint: true}), 4, 10000, 22)
}

func TestSecondaryUniformBaseline(t *testing.T) {
	s := testScene()
	e := Extract(s)
	checkSecondary(t, s, e, NewSecondary(s, e, SecondaryOptions{Uniform: true}), 6, 20000, 23)
}

func TestSecondaryAfterMove(t *testing.T) {
	// Jitter the vertices (the topology stays), rebuild, recheck: the
	// classification follows the positions.
	s := testScene()
	e := Extract(s)
	r := geom.NewRNG(24, 0, 0, 0)
	for _, sh := range s.Shapes[:2] {
		for i := range sh.Positions {
			sh.Positions[i] = sh.Positions[i].Add(mgl64.Vec3{r.Float64() - 0.5, r.Float64() - 0.5, r.Float64() - 0.5}.Mul(0.05))
		}
	}
	checkSecondary(t, s, e, NewSecondary(s, e, SecondaryOptions{}), 4, 10000, 25)
}

// estimateEdges returns the mean and variance of h(edge, S)/Pdf over N
// samples of the sampler (failed samples count 0).
func estimateEdges(hs *Secondary, p, n mgl64.Vec3, h func(int, float64) float64, N int, r *geom.RNG) (mean, variance float64) {
	sum, sum2 := 0.0, 0.0
	for k := 0; k < N; k++ {
		es, ok := hs.Sample(p, n, r.Float64(), r.Float64())
		f := 0.0
		if ok {
			f = h(int(es.Edge), es.S) / es.Pdf
		}
		sum += f
		sum2 += f * f
	}
	mean = sum / float64(N)
	return mean, math.Max(0, sum2/float64(N)-mean*mean)
}

// TestSecondaryEstimator checks the estimator of the boundary-like integral
//
//	sum over contributing edges of int_0^1 h(S) dS,
//	h(S) = |V1-V0| max(0, n.(M-p)) / |M-p|^3,
//
// (a cosine-weighted angular measure of the edges) against quadrature with
// the hierarchy, the mixture with the emitter strategy and the uniform
// baseline, and that the hierarchy's variance is lower than the
// baseline's.
func TestSecondaryEstimator(t *testing.T) {
	s := testScene()
	e := Extract(s)
	samplers := []struct {
		name string
		h    *Secondary
	}{
		{"hierarchy", NewSecondary(s, e, SecondaryOptions{NoEmitter: true})},
		{"mixture", NewSecondary(s, e, SecondaryOptions{})},
		{"uniform", NewSecondary(s, e, SecondaryOptions{Uniform: true})},
	}
	queries := []struct{ p, n mgl64.Vec3 }{
		{mgl64.Vec3{0.9, 1.3, 0.8}, mgl64.Vec3{-1, -1, -0.5}.Normalize()},
		{mgl64.Vec3{-1.2, 0.4, 0.3}, mgl64.Vec3{1, 0.2, 0}.Normalize()},
		{mgl64.Vec3{0.7, 0, 0.9}, mgl64.Vec3{0, 1, 0}},
		{mgl64.Vec3{0.2, 1.5, -0.3}, mgl64.Vec3{0.1, 1, 0.2}.Normalize()},
	}
	const N = 40000
	for qi, q := range queries {
		p, n := q.p, q.n
		hfun := func(i int, sp float64) float64 {
			v0, v1 := e.Vertices(s, i)
			x := v0.Add(v1.Sub(v0).Mul(sp)).Sub(p)
			rr := x.Len()
			return v1.Sub(v0).Len() * math.Max(0, n.Dot(x)) / (rr * rr * rr)
		}
		ref := 0.0
		for i := range e.List {
			if !contributes(s, e, i, p, n) {
				continue
			}
			v0, v1 := e.Vertices(s, i)
			ref += integrateAbove(v0, v1, p, n, func(sp float64) float64 { return hfun(i, sp) })
		}
		if !(ref > 0) {
			t.Fatalf("query %d: reference %g", qi, ref)
		}
		variance := make([]float64, len(samplers))
		for m, sm := range samplers {
			r := geom.NewRNG(31, uint64(qi), uint64(m), 0)
			mean, v := estimateEdges(sm.h, p, n, hfun, N, &r)
			variance[m] = v
			se := math.Sqrt(v / N)
			if math.Abs(mean-ref) > 4*se+1e-9*ref {
				t.Errorf("query %d, %s: estimate %g +- %g, reference %g", qi, sm.name, mean, se, ref)
			}
		}
		t.Logf("query %d: reference %.6g, variance hierarchy %.4g, mixture %.4g, uniform %.4g",
			qi, ref, variance[0], variance[1], variance[2])
		if !(variance[0] < variance[2]) {
			t.Errorf("query %d: hierarchy variance %g not below uniform %g", qi, variance[0], variance[2])
		}
	}
}

// lightHit reports whether the ray from p through x meets the emissive
// quad of testScene (y = 2, |x|, |z| <= 0.4), enlarged by 1 % so that its
// own sides count as inside.
func lightHit(p, x mgl64.Vec3) bool {
	d := x.Sub(p)
	if !(d[1] > 0) || p[1] >= 2 {
		return false
	}
	t := (2 - p[1]) / d[1]
	hx, hz := p[0]+t*d[0], p[2]+t*d[2]
	return math.Abs(hx) <= 0.404 && math.Abs(hz) <= 0.404
}

// hitInterval returns the range of S in [0,1] whose points are seen from
// p towards the light (lightHit), found on a fine grid and refined by
// bisection (the set is an interval: a line meets the convex cone of
// directions to the quad in a segment).
func hitInterval(v0, v1, p mgl64.Vec3) (lo, hi float64, ok bool) {
	in := func(s float64) bool { return lightHit(p, v0.Add(v1.Sub(v0).Mul(s))) }
	const grid = 2048
	first, last := -1, -1
	for k := 0; k <= grid; k++ {
		if in(float64(k) / grid) {
			if first < 0 {
				first = k
			}
			last = k
		}
	}
	if first < 0 {
		return 0, 0, false
	}
	edge := func(a, b float64) float64 { // in(a) != in(b)
		ia := in(a)
		for it := 0; it < 60; it++ {
			m := 0.5 * (a + b)
			if in(m) == ia {
				a = m
			} else {
				b = m
			}
		}
		return 0.5 * (a + b)
	}
	lo, hi = 0, 1
	if first > 0 {
		lo = edge(float64(first-1)/grid, float64(first)/grid)
	}
	if last < grid {
		hi = edge(float64(last)/grid, float64(last+1)/grid)
	}
	return lo, hi, hi > lo
}

// TestSecondaryEstimatorShadow checks the estimator on a shadow-like
// integrand: the cosine-weighted measure of TestSecondaryEstimator
// restricted to the directions that reach the light (lightHit), where the
// incident radiance jumps in direct lighting, times the edge's expected
// jump (JumpWeight: 1 on silhouettes, the Jump factor on Sharp edges seen
// from the front). The mixture with the emitter strategy and the hierarchy
// alone agree with quadrature, and the mixture's variance is lower.
func TestSecondaryEstimatorShadow(t *testing.T) {
	s := testScene()
	e := Extract(s)
	hier := NewSecondary(s, e, SecondaryOptions{NoEmitter: true})
	mix := NewSecondary(s, e, SecondaryOptions{})
	// gain is the variance ratio (hierarchy over mixture) each query must
	// reach: 1.5 in the penumbrae, where silhouettes cross the light (the
	// measured ratios are 1.8 to 3.5; the variance estimates of these
	// heavy-tailed estimators are themselves noisy); near the light only
	// its own edges matter and the hierarchy alone finds them well, so the
	// mixture must merely not lose much.
	queries := []struct {
		p, n mgl64.Vec3
		gain float64
	}{
		{mgl64.Vec3{0.6, 0, 0.35}, mgl64.Vec3{0, 1, 0}, 1.5},   // on the plane, in the penumbra
		{mgl64.Vec3{-0.45, 0, -0.5}, mgl64.Vec3{0, 1, 0}, 1.5}, // on the plane, near the shadow
		{mgl64.Vec3{1.0, 0, -0.7}, mgl64.Vec3{0, 1, 0}, 1.5},   // under the small sphere
		{mgl64.Vec3{0.3, 1.4, 0.5}, mgl64.Vec3{0.2, 1, -0.1}.Normalize(), 0.9},
	}
	const N = 40000
	for qi, q := range queries {
		p, n := q.p, q.n
		jump := make([]float64, e.Len())
		for i := range jump {
			jump[i] = e.JumpWeight(s, i, p)
		}
		hfun := func(i int, sp float64) float64 {
			v0, v1 := e.Vertices(s, i)
			m := v0.Add(v1.Sub(v0).Mul(sp))
			if !lightHit(p, m) {
				return 0
			}
			x := m.Sub(p)
			rr := x.Len()
			return jump[i] * v1.Sub(v0).Len() * math.Max(0, n.Dot(x)) / (rr * rr * rr)
		}
		ref := 0.0
		for i := range e.List {
			if !contributes(s, e, i, p, n) {
				continue
			}
			v0, v1 := e.Vertices(s, i)
			lo, hi, ok := hitInterval(v0, v1, p)
			if !ok {
				continue
			}
			e3 := v1.Sub(v0)
			L2 := e3.Dot(e3)
			foot := p.Sub(v0).Dot(e3) / L2
			w := p.Sub(v0.Add(e3.Mul(foot))).Len() / math.Sqrt(L2)
			// Inside the interval the indicator is 1 (nudge the ends in).
			g := func(sp float64) float64 {
				sp = math.Min(math.Max(sp, lo+1e-12), hi-1e-12)
				x := v0.Add(e3.Mul(sp)).Sub(p)
				rr := x.Len()
				return math.Sqrt(L2) * math.Max(0, n.Dot(x)) / (rr * rr * rr)
			}
			ref += jump[i] * refined(g, lo, hi, foot, w)
		}
		if !(ref > 0) {
			t.Fatalf("query %d: reference %g", qi, ref)
		}
		var variance [2]float64
		for m, h := range []*Secondary{hier, mix} {
			r := geom.NewRNG(32, uint64(qi), uint64(m), 0)
			mean, v := estimateEdges(h, p, n, hfun, N, &r)
			variance[m] = v
			se := math.Sqrt(v / N)
			if math.Abs(mean-ref) > 4*se+1e-6*ref {
				t.Errorf("query %d, %s: estimate %g +- %g, reference %g", qi, []string{"hierarchy", "mixture"}[m], mean, se, ref)
			}
		}
		t.Logf("query %d: reference %.6g, variance hierarchy %.4g, mixture %.4g (ratio %.1f)",
			qi, ref, variance[0], variance[1], variance[0]/variance[1])
		if !(q.gain*variance[1] < variance[0]) {
			t.Errorf("query %d: variance hierarchy %g, mixture %g: the ratio is below %g", qi, variance[0], variance[1], q.gain)
		}
	}
}

func TestSecondaryDeterministicConcurrent(t *testing.T) {
	s := testScene()
	e := Extract(s)
	h := NewSecondary(s, e, SecondaryOptions{})
	const n = 4000
	want := make([]SecondarySample, n)
	oks := make([]bool, n)
	query := func(k int) (mgl64.Vec3, mgl64.Vec3, float64, float64) {
		r := geom.NewRNG(41, uint64(k), 0, 0)
		p, nn := randomQuery(&r)
		return p, nn, r.Float64(), r.Float64()
	}
	for k := 0; k < n; k++ {
		p, nn, u0, u1 := query(k)
		want[k], oks[k] = h.Sample(p, nn, u0, u1)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := g; k < n; k += 4 {
				p, nn, u0, u1 := query(k)
				got, ok := h.Sample(p, nn, u0, u1)
				if ok != oks[k] || got != want[k] {
					errs <- fmt.Sprintf("sample %d differs: %+v vs %+v", k, got, want[k])
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Fatal(msg)
	}
	// A rebuild gives the same hierarchy (the parallel build is
	// deterministic).
	h2 := NewSecondary(s, e, SecondaryOptions{})
	for k := 0; k < n; k += 7 {
		p, nn, u0, u1 := query(k)
		if got, ok := h2.Sample(p, nn, u0, u1); ok != oks[k] || got != want[k] {
			t.Fatalf("rebuilt sampler differs at %d", k)
		}
	}
}

func TestSecondaryDegenerateInputs(t *testing.T) {
	s := testScene()
	e := Extract(s)
	h := NewSecondary(s, e, SecondaryOptions{})
	nan := math.NaN()
	if _, ok := h.Sample(mgl64.Vec3{nan, 0, 0}, mgl64.Vec3{0, 1, 0}, 0.3, 0.3); ok {
		t.Fatal("Sample succeeded at a NaN point")
	}
	if h.Pmf(mgl64.Vec3{0, 1, 0}, mgl64.Vec3{0, 1, 0}, -1) != 0 || h.Pmf(mgl64.Vec3{0, 1, 0}, mgl64.Vec3{0, 1, 0}, e.Len()) != 0 {
		t.Fatal("Pmf of an out-of-range edge is not 0")
	}
	// Far above everything looking up: nothing contributes.
	if _, ok := h.Sample(mgl64.Vec3{0, 10, 0}, mgl64.Vec3{0, 1, 0}, 0.5, 0.5); ok {
		t.Fatal("Sample found an edge above a point looking away from the scene")
	}
	// u at the ends of [0,1) and beyond: a sample, when there is one, is
	// valid; from a point facing the light every strategy finds one at
	// some end.
	p, n := mgl64.Vec3{0.9, 1.3, 0.8}, mgl64.Vec3{-1, -1, -0.5}.Normalize()
	found := 0
	for _, u0 := range []float64{0, 0x1.fffffffffffffp-1, 1, -0.5, 2} {
		for _, u1 := range []float64{0, 0x1.fffffffffffffp-1} {
			es, ok := h.Sample(p, n, u0, u1)
			if !ok {
				continue
			}
			found++
			if !(es.Pdf > 0) || !(es.S >= 0 && es.S <= 1) || !near(es.Pdf, h.Pdf(p, n, int(es.Edge), es.S), 1e-12) {
				t.Fatalf("u = %g, %g: sample %+v", u0, u1, es)
			}
		}
	}
	if found == 0 {
		t.Fatal("no sample at the ends of [0,1)")
	}
	// An empty scene.
	empty := &render.Scene{}
	he := NewSecondary(empty, Extract(empty), SecondaryOptions{})
	if _, ok := he.Sample(p, n, 0.5, 0.5); ok || he.Pmf(p, n, 0) != 0 {
		t.Fatal("empty scene sampled")
	}
}

func TestSecondarySampleAllocs(t *testing.T) {
	s := testScene()
	e := Extract(s)
	for _, o := range []SecondaryOptions{{}, {Uniform: true}} {
		h := NewSecondary(s, e, o)
		r := geom.NewRNG(51, 0, 0, 0)
		p, n := mgl64.Vec3{0.9, 1.3, 0.8}, mgl64.Vec3{-1, -1, -0.5}.Normalize()
		if a := testing.AllocsPerRun(1000, func() {
			h.Sample(p, n, r.Float64(), r.Float64())
		}); a != 0 {
			t.Fatalf("%+v: %g allocations per Sample", o, a)
		}
	}
}
