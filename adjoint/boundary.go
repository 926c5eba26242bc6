package adjoint

import (
	"context"
	"math"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/edgesample"
	"github.com/invrender/invrender/geom"
	"github.com/invrender/invrender/render"
)

// The boundary term of edge sampling (Li, Aittala, Durand and Lehtinen,
// "Differentiable Monte Carlo Ray Tracing through Edge Sampling", SIGGRAPH
// Asia 2018). Where the integrand of an integral jumps along a curve that
// moves with the parameters, its derivative gains
//
//	int over the curve of (f+ - f-) (d alpha/d theta) / |grad alpha| dl,
//
// alpha being an implicit function of the curve (alpha > 0 on the + side).
// Primary: the pixel integral over the film, alpha(x) = cross(x - A, B - A)
// for a mesh edge projected to A, B; the |B - A| of dl and |grad alpha|
// cancel, leaving int (f+ - f-) d alpha/d theta ds with x = A + s (B - A).
// Secondary: the integral over directions at a path vertex p, alpha(w) =
// w . ((v0 - p) x (v1 - p)) for the edge (v0, v1); with the edge point
// m = v0 + s (v1 - v0) and w = (m - p)/|m - p| the measure conversion is
// dl = |w x (v1 - v0)| / |m - p| ds and |grad alpha| = |(v0-p) x (v1-p)|.
// The two sides are estimated by tracing full paths just either side of
// the edge, with the same random numbers.

const (
	// primarySideOffset is how far (in pixels) either side of the edge the
	// two primary rays pass.
	primarySideOffset = 1e-7
	// secondarySideOffset is the angular offset (radians) of the two
	// secondary rays from the edge's direction.
	secondarySideOffset = 1e-8
	// Random stream bases of the boundary term (disjoint from the paths').
	streamEdgeChoice = 1 << 20
	streamEdgeSide   = 1 << 21
	pixelEdgeBase    = 1 << 40
	primaryChunk     = 4096
)

// boundaryState holds the edge samplers of one backward pass.
type boundaryState struct {
	b     *backward
	edges *edgesample.Edges
	prim  *edgesample.Primary
	sec   *edgesample.Secondary
	shift [2]float64 // rotation of the primary samples' sequence
}

func newBoundaryState(b *backward) *boundaryState {
	bd := &boundaryState{b: b}
	r := geom.NewRNG(b.seed, pixelEdgeBase, 0, streamEdgeChoice)
	bd.shift = [2]float64{r.Float64(), r.Float64()}
	bd.edges = edgesample.Extract(b.s)
	if !b.opts.NoPrimary {
		bd.prim = edgesample.NewPrimary(b.s, bd.edges, &b.cam)
	}
	if !b.opts.NoSecondary {
		bd.sec = edgesample.NewSecondary(b.s, bd.edges, edgesample.SecondaryOptions{Uniform: b.opts.UniformEdges})
	}
	return bd
}

// edgeVertexOffsets returns the gradient segment of an edge's shape.
func (bd *boundaryState) addEdgeVertices(w *worker, e *edgesample.Edge, g0, g1 mgl64.Vec3) {
	off := bd.b.space.pos[e.Shape]
	w.acc.add3(off, int(e.V0), g0)
	w.acc.add3(off, int(e.V1), g1)
}

// secondaryEdges samples one edge point at every shaded, non-delta vertex
// of the recorded path and adds the boundary term: the edge vertices'
// gradients go to the accumulator, the shading point's to w.adjP (the
// reverse sweep carries it on along the path).
func (w *worker) secondaryEdges(key render.RandomKey, g mgl64.Vec3) {
	w.resetAdjP()
	b := w.b
	bd := b.bd
	if bd == nil || bd.sec == nil {
		return
	}
	s := b.s
	for i := range w.rec.Vertices {
		v := &w.rec.Vertices[i]
		if v.Miss || !v.Shaded || v.BSDF.IsDelta() {
			continue
		}
		p := v.It.P
		n := v.It.Ns
		if n.Dot(v.Wo) < 0 {
			n = n.Mul(-1) // the hemisphere of the outgoing side (two-sided BSDFs)
		}
		r := geom.NewRNG(key.Seed, key.Pixel, key.Sample, streamEdgeChoice+uint64(v.Depth))
		if rate := b.opts.SecondaryRate; rate > 0 && rate < 1 && !(r.Float64() < rate) {
			continue
		}
		es, ok := bd.sec.Sample(p, n, r.Float64(), r.Float64())
		if !ok || !(es.Pdf > 0) {
			continue
		}
		w.edges++
		e := &bd.edges.List[es.Edge]
		v0, v1 := bd.edges.Vertices(s, int(es.Edge))
		d := es.M.Sub(p)
		dist := d.Len()
		if !(dist > 0) {
			continue
		}
		wE := d.Mul(1 / dist)
		N := v0.Sub(p).Cross(v1.Sub(p))
		nLen := N.Len()
		if !(nLen > 0) {
			continue
		}
		f := v.BSDF.Eval(v.Frame.ToLocal(v.Wo), v.Frame.ToLocal(wE))
		weightRGB := mul3(mul3(g, v.Beta), f)
		if isZero3(weightRGB) && b.obs == nil {
			continue
		}
		nHat := N.Mul(1 / nLen)
		wPlus := wE.Add(nHat.Mul(secondarySideOffset)).Normalize()
		wMinus := wE.Sub(nHat.Mul(secondarySideOffset)).Normalize()
		sideKey := render.RandomKey{Seed: key.Seed, Pixel: key.Pixel, Sample: key.Sample, Stream: streamEdgeSide + 256*uint64(v.Depth)}
		lp := s.TracePath(render.SpawnRay(p, v.It.Ng, wPlus), &b.set, sideKey, v.Depth+1, nil, nil, &w.st)
		lm := s.TracePath(render.SpawnRay(p, v.It.Ng, wMinus), &b.set, sideKey, v.Depth+1, nil, nil, &w.st)
		delta := lp.Sub(lm)
		if !finite3(delta) {
			w.discarded++
			continue
		}
		weight := weightRGB.Dot(delta)
		if weight == 0 {
			continue
		}
		e3 := v1.Sub(v0)
		jac := wE.Cross(e3).Len() / (nLen * dist)
		gAlpha := weight * jac / es.Pdf
		if rate := b.opts.SecondaryRate; rate > 0 && rate < 1 {
			gAlpha /= rate
		}
		if math.IsNaN(gAlpha) || math.IsInf(gAlpha, 0) {
			w.discarded++
			continue
		}
		// alpha = w . ((v0 - p) x (v1 - p)), w held fixed.
		dv0 := v1.Sub(p).Cross(wE).Mul(gAlpha)
		dv1 := wE.Cross(v0.Sub(p)).Mul(gAlpha)
		bd.addEdgeVertices(w, e, dv0, dv1)
		w.adjP[i] = w.adjP[i].Sub(dv0).Sub(dv1)
	}
}

// primaryPass estimates the primary boundary term: edge samples on the
// film, in fixed chunks (so the sum does not depend on the goroutines).
func (bd *boundaryState) primaryPass(ctx context.Context, workers []*worker, threads int) error {
	b := bd.b
	if bd.prim == nil || bd.prim.NumCandidates() == 0 {
		return nil
	}
	per := b.opts.PrimaryEdgeSamples
	if per <= 0 {
		per = 1
	}
	n := int(math.Ceil(per * float64(b.cam.Width*b.cam.Height)))
	chunks := (n + primaryChunk - 1) / primaryChunk
	// Reuse the tile scheduler: one "tile" per chunk.
	units := make([]render.Tile, chunks)
	for c := range units {
		units[c] = render.Tile{X0: c * primaryChunk, Y0: 0, X1: min((c+1)*primaryChunk, n), Y1: 1}
	}
	return render.ParallelTiles(ctx, units, threads, nil, func(wi int, t render.Tile) {
		w := workers[wi]
		for j := t.X0; j < t.X1; j++ {
			w.primarySample(uint64(j), n)
		}
		w.acc.flush()
	})
}

// The primary samples' (edge, point) pairs come from the R2 sequence
// (Roberts 2018: the additive recurrence with the plastic number's powers),
// a 2D low-discrepancy sequence, rotated by a random shift drawn from the
// seed (Cranley-Patterson rotation: every point is still uniform, so the
// estimate stays unbiased). Along an edge the integrand (the jump times a
// linear function of the position) is smooth, so stratifying the choice of
// edge and of point lowers the variance far below independent samples'.
const (
	r2a1 = 0.7548776662466927 // 1/g, g the plastic number
	r2a2 = 0.5698402909980532 // 1/g^2
)

// primaryPoint returns the unit-square point of primary sample j.
func (bd *boundaryState) primaryPoint(j uint64) (u0, u1 float64) {
	u0 = bd.shift[0] + float64(j)*r2a1
	u1 = bd.shift[1] + float64(j)*r2a2
	return u0 - math.Floor(u0), u1 - math.Floor(u1)
}

// primarySample adds one primary edge sample's boundary term.
func (w *worker) primarySample(j uint64, n int) {
	b := w.b
	bd := b.bd
	s := b.s
	u0, u1 := bd.primaryPoint(j)
	es, ok := bd.prim.Sample(u0, u1)
	if !ok || !(es.Pdf > 0) {
		return
	}
	w.edges++
	x := es.X
	W, H := b.cam.Width, b.cam.Height
	// The pixels whose filter covers x and the loss gradient weighting them.
	rad := b.sensor.Filter.SupportRadius()
	x0 := int(math.Floor(x[0] - rad + 0.5))
	x1 := int(math.Floor(x[0] + rad - 0.5))
	y0 := int(math.Floor(x[1] - rad + 0.5))
	y1 := int(math.Floor(x[1] + rad - 0.5))
	if rad <= 0.5 {
		x0, x1 = int(math.Floor(x[0])), int(math.Floor(x[0]))
		y0, y1 = int(math.Floor(x[1])), int(math.Floor(x[1]))
	}
	xp := mgl64.Vec2{x[0] + primarySideOffset*es.Normal[0], x[1] + primarySideOffset*es.Normal[1]}
	xm := mgl64.Vec2{x[0] - primarySideOffset*es.Normal[0], x[1] - primarySideOffset*es.Normal[1]}
	key := render.RandomKey{Seed: b.seed, Pixel: pixelEdgeBase + j, Sample: 0, Stream: render.StreamBounce}
	lp := s.TracePath(b.cam.Ray(xp[0], xp[1]), &b.set, key, 0, nil, nil, &w.st)
	lm := s.TracePath(b.cam.Ray(xm[0], xm[1]), &b.set, key, 0, nil, nil, &w.st)
	delta := lp.Sub(lm)
	if !finite3(delta) {
		w.discarded++
		return
	}
	if isZero3(delta) {
		return
	}
	e := &bd.edges.List[es.Edge]
	v0, v1 := bd.edges.Vertices(s, int(es.Edge))
	ed := v1.Sub(v0)
	p0 := v0.Add(ed.Mul(es.T0))
	p1 := v0.Add(ed.Mul(es.T1))
	A, B := es.A, es.B
	scale := 1 / (es.Pdf * float64(n))
	f := b.sensor.Filter
	camOff := b.space.cam[b.opts.Sensor]
	for py := y0; py <= y1; py++ {
		if py < 0 || py >= H {
			continue
		}
		for px := x0; px <= x1; px++ {
			if px < 0 || px >= W {
				continue
			}
			k := 1.0
			if rad > 0.5 {
				k = f.Eval1D(x[0]-(float64(px)+0.5)) * f.Eval1D(x[1]-(float64(py)+0.5))
				if k == 0 {
					continue
				}
			}
			i := 3 * (py*W + px)
			g := mgl64.Vec3{b.dLdI.Pix[i], b.dLdI.Pix[i+1], b.dLdI.Pix[i+2]}
			gAlpha := k * g.Dot(delta) * scale
			if gAlpha == 0 {
				continue
			}
			w.acc.pix = 0
			w.primaryTerms(e, p0, p1, es.T0, es.T1, A, B, x, gAlpha, camOff)
			if w.img != nil {
				w.img[py*W+px].add(w.acc.pix)
			}
		}
	}
}

// primaryTerms backpropagates gAlpha, the gradient of alpha(x) =
// cross(x - A, B - A), to the edge's end points (through the projection)
// and the camera.
func (w *worker) primaryTerms(e *edgesample.Edge, p0, p1 mgl64.Vec3, t0, t1 float64, A, B, x mgl64.Vec2, gAlpha float64, camOff int32) {
	b := w.b
	// d alpha/dA = (x_y - B_y, B_x - x_x), d alpha/dB = (A_y - x_y, x_x - A_x)
	gA := mgl64.Vec2{(x[1] - B[1]) * gAlpha, (B[0] - x[0]) * gAlpha}
	gB := mgl64.Vec2{(A[1] - x[1]) * gAlpha, (x[0] - A[0]) * gAlpha}
	var cg CameraGrad
	gp0 := DProject(b.sensor, &b.cam, p0, gA[0], gA[1], &cg)
	gp1 := DProject(b.sensor, &b.cam, p1, gB[0], gB[1], &cg)
	// p0 = v0 + t0 (v1 - v0), p1 = v0 + t1 (v1 - v0), t0 and t1 held fixed.
	gv0 := gp0.Mul(1 - t0).Add(gp1.Mul(1 - t1))
	gv1 := gp0.Mul(t0).Add(gp1.Mul(t1))
	b.bd.addEdgeVertices(w, e, gv0, gv1)
	if camOff >= 0 {
		w.addCamera(camOff, &cg)
	}
}
