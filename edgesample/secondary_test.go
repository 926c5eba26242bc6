package edgesample

import (
	"fmt"
	"math"
	"sort"
	"sync"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/geom"
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
			data := nd.data()
			d := data.box.Diagonal()
			if effLength(&data, p, d.Dot(d)) != 0 {
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
// the plane have a positive pmf, (c) Pdf = Pmf * density of S.
func checkSecondary(t *testing.T, s *render.Scene, e *Edges, h *Secondary, queries, N int, seed uint64) {
	t.Helper()
	r := geom.NewRNG(seed, 0, 0, 0)
	alpha := stattest.SidakAlpha(1e-3, queries)
	for q := 0; q < queries; q++ {
		p, n := randomQuery(&r)
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
			if want := h.Pdf(p, n, int(es.Edge), es.S); !near(es.Pdf, want, 1e-12) {
				t.Fatalf("Pdf %g, Pdf() %g", es.Pdf, want)
			}
			ratio := es.Pdf / pmf[es.Edge]
			if h.opts.Uniform || h.opts.UniformPoint {
				if !near(ratio, 1, 1e-12) {
					t.Fatalf("uniform S: Pdf/Pmf = %g", ratio)
				}
			} else {
				_, fr := edgeImportance(v0, v1, p, n)
				if !near(ratio, fr.pointPdf(es.S), 1e-9) {
					t.Fatalf("Pdf/Pmf = %g, point density %g", ratio, fr.pointPdf(es.S))
				}
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
	}
}

func TestSecondaryHierarchy(t *testing.T) {
	s := testScene()
	e := Extract(s)
	checkSecondary(t, s, e, NewSecondary(s, e, SecondaryOptions{}), 16, 10000, 21)
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

// TestSecondaryEstimator checks the estimator of the boundary-like integral
//
//	sum over contributing edges of int_0^1 h(S) dS,
//	h(S) = |V1-V0| max(0, n.(M-p)) / |M-p|^3,
//
// (a cosine-weighted angular measure of the edges) against quadrature with
// the hierarchy and the uniform baseline, and that the hierarchy's
// variance is lower.
func TestSecondaryEstimator(t *testing.T) {
	s := testScene()
	e := Extract(s)
	hier := NewSecondary(s, e, SecondaryOptions{})
	unif := NewSecondary(s, e, SecondaryOptions{Uniform: true})
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
		var variance [2]float64
		for m, h := range []*Secondary{hier, unif} {
			r := geom.NewRNG(31, uint64(qi), uint64(m), 0)
			sum, sum2 := 0.0, 0.0
			for k := 0; k < N; k++ {
				es, ok := h.Sample(p, n, r.Float64(), r.Float64())
				f := 0.0
				if ok {
					f = hfun(int(es.Edge), es.S) / es.Pdf
				}
				sum += f
				sum2 += f * f
			}
			mean := sum / N
			v := math.Max(0, sum2/N-mean*mean)
			variance[m] = v
			se := math.Sqrt(v / N)
			if math.Abs(mean-ref) > 4*se+1e-9*ref {
				t.Errorf("query %d, %s: estimate %g +- %g, reference %g", qi, []string{"hierarchy", "uniform"}[m], mean, se, ref)
			}
		}
		t.Logf("query %d: reference %.6g, variance hierarchy %.4g, uniform %.4g (ratio %.1f)",
			qi, ref, variance[0], variance[1], variance[1]/variance[0])
		if !(variance[0] < variance[1]) {
			t.Errorf("query %d: hierarchy variance %g not below uniform %g", qi, variance[0], variance[1])
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
	// u at the ends of [0,1).
	p, n := mgl64.Vec3{0.9, 1.3, 0.8}, mgl64.Vec3{-1, -1, -0.5}.Normalize()
	for _, u := range []float64{0, 0x1.fffffffffffffp-1} {
		if es, ok := h.Sample(p, n, u, u); !ok || !(es.Pdf > 0) {
			t.Fatalf("u = %g: sample %+v ok %v", u, es, ok)
		}
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
