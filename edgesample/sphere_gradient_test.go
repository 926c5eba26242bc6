package edgesample_test

import (
	"flag"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/edgesample"
	"github.com/invrender/invrender/geom"
	"github.com/invrender/invrender/render"
	"github.com/invrender/invrender/scenes"
)

// sphereFull selects the full-size comparison of TestSphereBoundaryVariance
// (64 x 64 pixels, 16 samples per pixel, the size the boundary term's
// variance was first measured at); without it the test runs a quarter of
// the pixels at 8 samples.
var sphereFull = flag.Bool("sphere.full", false, "run the sphere boundary-term comparison at 64x64, 16 spp")

// The boundary term of edge sampling on the "sphere" benchmark scene,
// estimated as the adjoint package does (Li et al. 2018): the gradient of
// the image sum (all channels) with respect to a translation of the
// icosphere ("object") and of the light ("light").
//
// Secondary term: at each shaded vertex p of a camera path (shading normal
// n turned to the outgoing side) one edge point M is sampled; with w = (M -
// p)/|M - p|, f the BSDF value (cosine included) and DeltaL the radiance
// traced just either side of the edge with common random numbers, the
// sample adds
//
//	X = (g Beta f) . DeltaL * J / Pdf * d alpha/d theta,
//	J = |w x (v1 - v0)| / (|(v0 - p) x (v1 - p)| |M - p|),
//
// alpha(w) = w . ((v0 - p) x (v1 - p)), g = 1/spp per channel. A
// translation moves the edge's end points when the edge belongs to the
// translated shape, and moves p along its camera ray when p lies on it: dp/dT
// = D ng^T / (ng . D) for the ray direction D and the geometric normal ng.
//
// Primary term: one film edge sample X per pixel; the sample adds
// (sum of DeltaL) / (Pdf N) * d alpha/d theta for alpha(x) = cross(x - A, B
// - A), A and B the projections of the clipped 3D end points (which move
// with the shape).

// sphereRig is the scene, camera and per-goroutine scratch of the
// comparison.
type sphereRig struct {
	s      *render.Scene
	cam    render.Camera
	set    render.PathSettings
	e      *edgesample.Edges
	object int32
	light  int32
	rec    render.PathRecord
	st     render.PathStats
}

func newSphereRig(t testing.TB, w, h int) *sphereRig {
	t.Helper()
	s := scenes.SphereOnPlane()
	s.Sensors[0].Width, s.Sensors[0].Height = w, h
	if err := s.Build(); err != nil {
		t.Fatal(err)
	}
	cam, err := render.NewCamera(s.Sensors[0])
	if err != nil {
		t.Fatal(err)
	}
	r := &sphereRig{s: s, cam: cam, set: s.Settings(), e: edgesample.Extract(s), object: -1, light: -1}
	for i, sh := range s.Shapes {
		switch sh.Name {
		case "object":
			r.object = int32(i)
		case "light":
			r.light = int32(i)
		}
	}
	if r.object < 0 || r.light < 0 {
		t.Fatal("the sphere scene has no object or light shape")
	}
	return r
}

// slot returns the gradient slot (0: object, 3: light) of a shape, -1 for
// others.
func (r *sphereRig) slot(shape int32) int {
	switch shape {
	case r.object:
		return 0
	case r.light:
		return 3
	}
	return -1
}

// tally accumulates sums of independent per-sample gradient vectors (one
// sum per run, runs with different seeds) and their variance: samples
// within a group are identically distributed (the samples of one pixel),
// groups may differ. Var(sum) is estimated by the sum over groups of n
// times the group's sample variance.
type tally struct {
	sum, varSum [6]float64
	grp         [][6]float64
	n           int64
	runs        int
}

func (t *tally) add(x [6]float64) { t.grp = append(t.grp, x) }

// endGroup folds the current group into the totals.
func (t *tally) endGroup() {
	k := float64(len(t.grp))
	if k == 0 {
		return
	}
	for c := 0; c < 6; c++ {
		m := 0.0
		for _, x := range t.grp {
			m += x[c]
		}
		m /= k
		ss := 0.0
		for _, x := range t.grp {
			ss += (x[c] - m) * (x[c] - m)
		}
		t.sum[c] += m * k
		if k > 1 {
			t.varSum[c] += k * ss / (k - 1)
		}
	}
	t.n += int64(k)
	t.grp = t.grp[:0]
}

// endRun closes a run.
func (t *tally) endRun() { t.runs++ }

// mean returns the mean over runs of the runs' sums.
func (t *tally) mean(c int) float64 { return t.sum[c] / float64(max(t.runs, 1)) }

// se returns the standard error of one run's sum (pooled over the runs).
func (t *tally) se(c int) float64 { return math.Sqrt(t.varSum[c] / float64(max(t.runs, 1))) }

// secondaryTerm returns one secondary edge sample's contribution at vertex
// i of the recorded path, and whether the sampler found an edge.
func (r *sphereRig) secondaryTerm(h *edgesample.Secondary, i int, key render.RandomKey, g float64, u0, u1 float64) ([6]float64, bool) {
	var x [6]float64
	v := &r.rec.Vertices[i]
	p := v.It.P
	n := v.It.Ns
	if n.Dot(v.Wo) < 0 {
		n = n.Mul(-1)
	}
	es, ok := h.Sample(p, n, u0, u1)
	if !ok || !(es.Pdf > 0) {
		return x, false
	}
	v0, v1 := r.e.Vertices(r.s, int(es.Edge))
	d := es.M.Sub(p)
	dist := d.Len()
	N := v0.Sub(p).Cross(v1.Sub(p))
	nLen := N.Len()
	if !(dist > 0) || !(nLen > 0) {
		return x, true
	}
	wE := d.Mul(1 / dist)
	f := v.BSDF.Eval(v.Frame.ToLocal(v.Wo), v.Frame.ToLocal(wE))
	wRGB := mgl64.Vec3{g * v.Beta[0] * f[0], g * v.Beta[1] * f[1], g * v.Beta[2] * f[2]}
	if wRGB == (mgl64.Vec3{}) {
		return x, true
	}
	nHat := N.Mul(1 / nLen)
	const off = 1e-8
	wPlus := wE.Add(nHat.Mul(off)).Normalize()
	wMinus := wE.Sub(nHat.Mul(off)).Normalize()
	sideKey := render.RandomKey{Seed: key.Seed, Pixel: key.Pixel, Sample: key.Sample, Stream: 1<<21 + 256*uint64(v.Depth)}
	lp := r.s.TracePath(render.SpawnRay(p, v.It.Ng, wPlus), &r.set, sideKey, v.Depth+1, nil, nil, &r.st)
	lm := r.s.TracePath(render.SpawnRay(p, v.It.Ng, wMinus), &r.set, sideKey, v.Depth+1, nil, nil, &r.st)
	weight := wRGB.Dot(lp.Sub(lm))
	if weight == 0 || math.IsNaN(weight) || math.IsInf(weight, 0) {
		return x, true
	}
	jac := wE.Cross(v1.Sub(v0)).Len() / (nLen * dist)
	gAlpha := weight * jac / es.Pdf
	dv0 := v1.Sub(p).Cross(wE).Mul(gAlpha)
	dv1 := wE.Cross(v0.Sub(p)).Mul(gAlpha)
	if k := r.slot(r.e.List[es.Edge].Shape); k >= 0 {
		for c := 0; c < 3; c++ {
			x[k+c] += dv0[c] + dv1[c]
		}
	}
	// p moves along its ray when its shape is translated.
	if k := r.slot(v.It.Shape); k >= 0 {
		gP := dv0.Add(dv1).Mul(-1)
		D, ng := v.Ray.D, v.It.Ng
		if den := ng.Dot(D); den != 0 {
			s := gP.Dot(D) / den
			for c := 0; c < 3; c++ {
				x[k+c] += s * ng[c]
			}
		}
	}
	return x, true
}

// primaryTerm returns one primary edge sample's contribution (n samples in
// all).
func (r *sphereRig) primaryTerm(pr *edgesample.Primary, j uint64, n int, seed uint64) [6]float64 {
	var x [6]float64
	rng := geom.NewRNG(seed, 1<<40+j, 0, 1<<20)
	es, ok := pr.Sample(rng.Float64(), rng.Float64())
	if !ok || !(es.Pdf > 0) {
		return x
	}
	const off = 1e-7
	xp := es.X.Add(es.Normal.Mul(off))
	xm := es.X.Sub(es.Normal.Mul(off))
	key := render.RandomKey{Seed: seed, Pixel: 1<<40 + j, Stream: render.StreamBounce}
	lp := r.s.TracePath(r.cam.Ray(xp[0], xp[1]), &r.set, key, 0, nil, nil, &r.st)
	lm := r.s.TracePath(r.cam.Ray(xm[0], xm[1]), &r.set, key, 0, nil, nil, &r.st)
	d := lp.Sub(lm)
	gAlpha := (d[0] + d[1] + d[2]) / (es.Pdf * float64(n))
	if gAlpha == 0 || math.IsNaN(gAlpha) || math.IsInf(gAlpha, 0) {
		return x
	}
	k := r.slot(r.e.List[es.Edge].Shape)
	if k < 0 {
		return x
	}
	v0, v1 := r.e.Vertices(r.s, int(es.Edge))
	p0 := v0.Add(v1.Sub(v0).Mul(es.T0))
	p1 := v0.Add(v1.Sub(v0).Mul(es.T1))
	alpha := func(a, b mgl64.Vec2) float64 {
		return (es.X[0]-a[0])*(b[1]-a[1]) - (es.X[1]-a[1])*(b[0]-a[0])
	}
	proj := func(q mgl64.Vec3) mgl64.Vec2 {
		px, py, _ := r.cam.Project(q)
		return mgl64.Vec2{px, py}
	}
	// d alpha / dT by central differences of the (smooth) projection.
	const h = 1e-6
	for c := 0; c < 3; c++ {
		var dT mgl64.Vec3
		dT[c] = h
		ap := alpha(proj(p0.Add(dT)), proj(p1.Add(dT)))
		am := alpha(proj(p0.Sub(dT)), proj(p1.Sub(dT)))
		x[k+c] = gAlpha * (ap - am) / (2 * h)
	}
	return x
}

// secondaryConfig is a secondary sampler under comparison.
type secondaryConfig struct {
	name string
	o    edgesample.SecondaryOptions
}

// sphereSecondary estimates the secondary boundary term with each sampler
// hs, on the same camera paths, adds a run to each tally and returns the
// samplers' failure rates.
func sphereSecondary(r *sphereRig, hs []*edgesample.Secondary, tallies []tally, spp int, seed uint64) []float64 {
	fails := make([]int64, len(hs))
	tries := int64(0)
	W, H := r.cam.Width, r.cam.Height
	g := 1 / float64(spp)
	f := r.s.Sensors[0].Filter
	for py := 0; py < H; py++ {
		for px := 0; px < W; px++ {
			pixel := uint64(py*W + px)
			for k := 0; k < spp; k++ {
				x, y := render.CameraSample(f, seed, pixel, uint64(k), px, py)
				key := render.RandomKey{Seed: seed, Pixel: pixel, Sample: uint64(k), Stream: render.StreamBounce}
				r.s.TracePath(r.cam.Ray(x, y), &r.set, key, 0, nil, &r.rec, &r.st)
				sums := make([][6]float64, len(hs))
				for i := range r.rec.Vertices {
					v := &r.rec.Vertices[i]
					if v.Miss || !v.Shaded || v.BSDF.IsDelta() {
						continue
					}
					tries++
					rng := geom.NewRNG(seed, pixel, uint64(k), 1<<20+uint64(v.Depth))
					u0, u1 := rng.Float64(), rng.Float64()
					for c := range hs {
						xs, ok := r.secondaryTerm(hs[c], i, key, g, u0, u1)
						if !ok {
							fails[c]++
						}
						for j := range xs {
							sums[c][j] += xs[j]
						}
					}
				}
				for c := range hs {
					tallies[c].add(sums[c])
				}
			}
			for c := range hs {
				tallies[c].endGroup()
			}
		}
	}
	rates := make([]float64, len(hs))
	for c := range hs {
		rates[c] = float64(fails[c]) / math.Max(1, float64(tries))
		tallies[c].endRun()
	}
	return rates
}

// spherePrimary estimates the primary boundary term with one edge sample
// per pixel and adds a run to t.
func spherePrimary(r *sphereRig, pr *edgesample.Primary, t *tally, seed uint64) {
	n := r.cam.Width * r.cam.Height
	for j := 0; j < n; j++ {
		t.add(r.primaryTerm(pr, uint64(j), n, seed))
	}
	t.endGroup()
	t.endRun()
}

// formatTally prints the mean over runs and the standard error of one run.
func formatTally(t *tally) string {
	var b strings.Builder
	for c := 0; c < 6; c++ {
		if c == 3 {
			b.WriteString(" |")
		}
		fmt.Fprintf(&b, " %8.4g ± %-7.3g", t.mean(c), t.se(c))
	}
	return b.String()
}

// TestSphereBoundaryVariance compares the boundary term's standard errors
// on the sphere scene with the plain hierarchy (no emitter strategy, no
// expected-jump weights: the sampler as Li et al. 2018 describe it) and
// with the new options, at equal sample counts and on the same camera
// paths; it checks that every sampler's estimate agrees with the plain
// one's and that the default sampler's standard errors of the
// translation gradients are lower. With -sphere.full it runs at the size
// the variance was first measured at (64 x 64, 16 spp, 6 seeds).
func TestSphereBoundaryVariance(t *testing.T) {
	if testing.Short() {
		t.Skip("renders the sphere scene")
	}
	w, h, spp, seeds := 32, 32, 16, 3
	if *sphereFull {
		w, h, spp, seeds = 64, 64, 16, 6
	}
	r := newSphereRig(t, w, h)
	cfgs := []secondaryConfig{
		{"plain hierarchy", edgesample.SecondaryOptions{NoEmitter: true, NoJumpWeight: true}},
		{"jump weights", edgesample.SecondaryOptions{NoEmitter: true}},
		{"emitter mixture", edgesample.SecondaryOptions{NoJumpWeight: true}},
		{"default (both)", edgesample.SecondaryOptions{}},
	}
	hs := make([]*edgesample.Secondary, len(cfgs))
	for k, c := range cfgs {
		hs[k] = edgesample.NewSecondary(r.s, r.e, c.o)
	}
	sec := make([]tally, len(cfgs))
	rates := make([]float64, len(cfgs))
	for seed := 1; seed <= seeds; seed++ {
		for c, f := range sphereSecondary(r, hs, sec, spp, uint64(seed)) {
			rates[c] += f / float64(seeds)
		}
	}
	t.Logf("secondary boundary term, %dx%d, %d spp, mean of %d runs ± standard error of one run:", w, h, spp, seeds)
	t.Logf("  d sum / d object.translation (x y z) | d sum / d light.translation (x y z)")
	for c, cfg := range cfgs {
		t.Logf("  %-16s fail %.2f %s", cfg.name, rates[c], formatTally(&sec[c]))
	}
	pcfgs := []struct {
		name string
		o    edgesample.PrimaryOptions
	}{{"screen length", edgesample.PrimaryOptions{NoJumpWeight: true}}, {"length x jump", edgesample.PrimaryOptions{}}}
	prim := make([]tally, len(pcfgs))
	for c, o := range pcfgs {
		pr := edgesample.NewPrimaryWith(r.s, r.e, &r.cam, o.o)
		for seed := 1; seed <= seeds; seed++ {
			spherePrimary(r, pr, &prim[c], uint64(seed))
		}
	}
	t.Logf("primary boundary term, 1 edge sample per pixel:")
	for c, o := range pcfgs {
		t.Logf("  %-16s           %s", o.name, formatTally(&prim[c]))
	}

	// Every sampler estimates the same integral: the means over the runs
	// agree within 4 standard errors of their difference.
	agree := func(what string, a, b *tally) {
		for k := 0; k < 6; k++ {
			d := math.Abs(a.mean(k) - b.mean(k))
			se := math.Sqrt((a.se(k)*a.se(k) + b.se(k)*b.se(k)) / float64(seeds))
			if d > 4*se+1e-9 {
				t.Errorf("%s, component %d: %g and %g differ by %.1f standard errors", what, k, a.mean(k), b.mean(k), d/se)
			}
		}
	}
	for c := 1; c < len(cfgs); c++ {
		agree(cfgs[c].name, &sec[0], &sec[c])
	}
	agree("primary", &prim[0], &prim[1])
	// The components that carry the gradient (object y and z: the shadow
	// and silhouette move; light y and z) must lose at least a fifth of
	// their standard error; the measured reduction is far larger.
	for _, k := range []int{1, 2, 4, 5} {
		if !(sec[3].se(k) < 0.8*sec[0].se(k)) {
			t.Errorf("secondary component %d: standard error %g, plain hierarchy %g", k, sec[3].se(k), sec[0].se(k))
		}
	}
	for _, k := range []int{1, 2} {
		if !(prim[1].se(k) < 0.8*prim[0].se(k)) {
			t.Errorf("primary component %d: standard error %g, screen length alone %g", k, prim[1].se(k), prim[0].se(k))
		}
	}
}

// sphereQueries returns the first hits (point, shading normal turned to
// the camera) of camera rays through random film points of the sphere
// scene: the shading points at which the boundary term samples edges.
func sphereQueries(r *sphereRig, n int) ([]mgl64.Vec3, []mgl64.Vec3) {
	rng := geom.NewRNG(17, 0, 0, 0)
	var ps, ns []mgl64.Vec3
	for len(ps) < n {
		ray := r.cam.Ray(float64(r.cam.Width)*rng.Float64(), float64(r.cam.Height)*rng.Float64())
		hit, ok := r.s.Intersect(ray)
		if !ok {
			continue
		}
		it := r.s.Interact(hit)
		nn := it.Ns
		if nn.Dot(ray.D) > 0 {
			nn = nn.Mul(-1)
		}
		ps, ns = append(ps, it.P), append(ns, nn)
	}
	return ps, ns
}

// BenchmarkSecondarySampleSphere measures Sample at the sphere scene's
// shading points with each option set, and its failure rate.
func BenchmarkSecondarySampleSphere(b *testing.B) {
	r := newSphereRig(b, 64, 64)
	ps, ns := sphereQueries(r, 1024)
	for _, c := range []secondaryConfig{
		{"plain", edgesample.SecondaryOptions{NoEmitter: true, NoJumpWeight: true}},
		{"jump", edgesample.SecondaryOptions{NoEmitter: true}},
		{"default", edgesample.SecondaryOptions{}},
	} {
		b.Run(c.name, func(b *testing.B) {
			h := edgesample.NewSecondary(r.s, r.e, c.o)
			rng := geom.NewRNG(5, 0, 0, 0)
			fails := 0
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				k := i & 1023
				if _, ok := h.Sample(ps[k], ns[k], rng.Float64(), rng.Float64()); !ok {
					fails++
				}
			}
			b.ReportMetric(float64(fails)/float64(b.N), "fail/op")
		})
	}
}

// BenchmarkSphereSecondaryCost estimates the secondary boundary term with
// the default sampler on the sphere scene (64 x 64 pixels, 16 samples per
// pixel, one run per seed) and reports, besides the time of a run, the
// figure of merit of an estimator: its variance times its cost, the
// squared standard error of one run's gradient times the run's seconds,
// for d sum / d object.translation and d sum / d light.translation (each
// summed over x, y and z). It reports the cost twice: the whole estimate
// (camera paths, edge samples, the paths either side of each edge) and
// the edge sampling alone, timed by replaying the run's Sample calls.
// Run it with -benchtime 1x.
func BenchmarkSphereSecondaryCost(b *testing.B) {
	const w, h, spp, seeds = 64, 64, 16, 2
	r := newSphereRig(b, w, h)
	hs := []*edgesample.Secondary{edgesample.NewSecondary(r.s, r.e, edgesample.SecondaryOptions{})}
	type query struct {
		p, n   mgl64.Vec3
		u0, u1 float64
	}
	var qs []query
	for i := 0; i < b.N; i++ {
		sec := make([]tally, 1)
		start := time.Now()
		for seed := 1; seed <= seeds; seed++ {
			sphereSecondary(r, hs, sec, spp, uint64(seed))
		}
		total := time.Since(start).Seconds() / seeds
		// Replay the edge samples of one run.
		qs = qs[:0]
		for py := 0; py < h; py++ {
			for px := 0; px < w; px++ {
				pixel := uint64(py*w + px)
				for k := 0; k < spp; k++ {
					x, y := render.CameraSample(r.s.Sensors[0].Filter, 1, pixel, uint64(k), px, py)
					key := render.RandomKey{Seed: 1, Pixel: pixel, Sample: uint64(k), Stream: render.StreamBounce}
					r.s.TracePath(r.cam.Ray(x, y), &r.set, key, 0, nil, &r.rec, &r.st)
					for j := range r.rec.Vertices {
						v := &r.rec.Vertices[j]
						if v.Miss || !v.Shaded || v.BSDF.IsDelta() {
							continue
						}
						n := v.It.Ns
						if n.Dot(v.Wo) < 0 {
							n = n.Mul(-1)
						}
						rng := geom.NewRNG(1, pixel, uint64(k), 1<<20+uint64(v.Depth))
						qs = append(qs, query{v.It.P, n, rng.Float64(), rng.Float64()})
					}
				}
			}
		}
		start = time.Now()
		for _, q := range qs {
			hs[0].Sample(q.p, q.n, q.u0, q.u1)
		}
		sampling := time.Since(start).Seconds()
		var v [2]float64
		for c := 0; c < 6; c++ {
			v[c/3] += sec[0].se(c) * sec[0].se(c)
		}
		b.ReportMetric(total, "s/run")
		b.ReportMetric(sampling, "s-sample/run")
		b.ReportMetric(1e9*sampling/float64(len(qs)), "ns/sample")
		b.ReportMetric(v[0]*total, "obj-se2*s")
		b.ReportMetric(v[1]*total, "light-se2*s")
		b.ReportMetric(v[0]*sampling, "obj-se2*s-sample")
		b.ReportMetric(v[1]*sampling, "light-se2*s-sample")
		b.Logf("object %s", formatTally(&sec[0]))
	}
}
