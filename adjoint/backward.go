package adjoint

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"time"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/geom"
	"github.com/invrender/invrender/render"
)

// Boundary selects whether the boundary (visibility) term is estimated.
type Boundary uint8

const (
	// BoundaryAuto estimates it when a requested parameter is
	// Discontinuous (geometry, camera pose).
	BoundaryAuto Boundary = iota
	// BoundaryOn always estimates it.
	BoundaryOn
	// BoundaryOff never does: gradients of geometry are then wrong wherever
	// anything occludes anything (useful only to show that).
	BoundaryOff
)

// Options control a backward pass. Zero values mean the scene's settings.
type Options struct {
	// Sensor indexes Scene.Sensors.
	Sensor int
	// SPP is the number of interior samples per pixel (0: the sensor's).
	SPP int
	// Seed is the backward pass's seed when SeedSet (otherwise the sensor's
	// seed). Use a seed different from the forward render's to decorrelate
	// the two (unbiased gradients of nonlinear losses).
	Seed    uint64
	SeedSet bool
	// Threads is the number of goroutines (0: GOMAXPROCS). The gradients do
	// not depend on it.
	Threads int
	// Boundary selects the edge-sampling term.
	Boundary Boundary
	// PrimaryEdgeSamples is the number of primary (camera) edge samples per
	// pixel, may be fractional (0: one per pixel).
	PrimaryEdgeSamples float64
	// NoSecondary disables secondary edge sampling (at path vertices).
	NoSecondary bool
	// SecondaryRate is the probability with which a path vertex draws a
	// secondary edge sample (its term is divided by it: Russian roulette,
	// unbiased); 0 means 1. Lower rates trade variance for speed.
	SecondaryRate float64
	// NoPrimary disables primary edge sampling.
	NoPrimary bool
	// UniformEdges chooses secondary edges uniformly by length instead of
	// with the hierarchy (the baseline the hierarchy is measured against).
	UniformEdges bool
	// Image, if set, requests a per-pixel gradient image: each pixel holds
	// its contribution to <dL/dtheta, Direction> for the parameter Key
	// (Direction nil: the unit vector of component Index).
	Image *ImageRequest
	// Progress is called with finished and total work units.
	Progress func(done, total int)
}

// ImageRequest names the parameter direction of a gradient image.
type ImageRequest struct {
	Key       string
	Index     int
	Direction []float64
}

// Stats describe a backward pass.
type Stats struct {
	Samples     int64 // interior path samples
	EdgeSamples int64 // primary edge samples and secondary edge samples
	Rays        int64
	// Discarded counts path samples with a non-finite value and gradient
	// terms that were NaN or infinite: they are dropped, never propagated.
	Discarded int64
	Elapsed   time.Duration
	Threads   int
}

// Result is the outcome of Backward; the gradients themselves are in the
// parameters' Grad buffers.
type Result struct {
	Stats Stats
	// Image is the per-pixel gradient image when Options.Image was set (all
	// three channels equal).
	Image *render.Image
}

// backward is the shared, read-only state of one pass.
type backward struct {
	s      *render.Scene
	ps     *Params
	sensor *render.Sensor
	cam    render.Camera
	set    render.PathSettings
	space  *gradSpace
	dLdI   *render.Image
	spp    int
	seed   uint64
	opts   Options
	obs    []float64
	// geometry: some vertex data is differentiated, so texture lookups
	// pass their UV gradient on (decided once, read per path vertex).
	geometry bool
	boundary bool
	bd       *boundaryState
}

// worker is one goroutine's scratch.
type worker struct {
	b         *backward
	acc       *accum
	rec       render.PathRecord
	adjP      []mgl64.Vec3
	st        render.PathStats
	discarded int64
	edges     int64
	img       []fixedSum // gradient image terms of edge samples (any pixel)
}

// Backward computes dL/dtheta for the parameters named by keys, given the
// gradient dLdI of a scalar loss with respect to the rendered image of the
// sensor, and stores it in their Grad buffers (overwriting them). It traces
// new paths (replaying each from its seed: no tape of the forward render is
// kept, so memory does not grow with the sample count) and runs the
// reverse-mode derivative of every step, plus the boundary term of edge
// sampling when a parameter moves visibility. Gradients are identical bit
// for bit whatever the number of goroutines.
func Backward(ctx context.Context, ps *Params, keys []string, dLdI *render.Image, o Options) (*Result, error) {
	start := time.Now()
	s := ps.Scene
	if !s.Built() {
		if err := s.Build(); err != nil {
			return nil, err
		}
	}
	if o.Sensor < 0 || o.Sensor >= len(s.Sensors) {
		return nil, fmt.Errorf("adjoint: sensor %d does not exist (the scene has %d)", o.Sensor, len(s.Sensors))
	}
	sensor := s.Sensors[o.Sensor]
	cam, err := render.NewCamera(sensor)
	if err != nil {
		return nil, err
	}
	if dLdI == nil || dLdI.Width != cam.Width || dLdI.Height != cam.Height || len(dLdI.Pix) != 3*cam.Width*cam.Height {
		return nil, fmt.Errorf("adjoint: the image gradient must be %dx%d like the film", cam.Width, cam.Height)
	}
	for i, v := range dLdI.Pix {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("adjoint: the image gradient has a non-finite value at pixel %d", i/3)
		}
	}
	b := &backward{s: s, ps: ps, sensor: sensor, cam: cam, set: s.Settings(), dLdI: dLdI, opts: o}
	b.space = newGradSpace(s)
	var active []*Param
	discontinuous := false
	for _, k := range keys {
		p, err := ps.Lookup(k)
		if err != nil {
			return nil, err
		}
		if err := b.space.activate(s, p); err != nil {
			return nil, err
		}
		active = append(active, p)
		if p.Flags&Discontinuous != 0 {
			discontinuous = true
		}
	}
	b.spp = sensor.SPP
	if o.SPP > 0 {
		b.spp = o.SPP
	}
	if b.spp <= 0 {
		return nil, fmt.Errorf("adjoint: sample count %d is not positive", b.spp)
	}
	b.seed = sensor.Seed
	if o.SeedSet {
		b.seed = o.Seed
	}
	switch o.Boundary {
	case BoundaryOn:
		b.boundary = true
	case BoundaryAuto:
		b.boundary = discontinuous
	}
	var res Result
	if o.Image != nil {
		p, err := ps.Lookup(o.Image.Key)
		if err != nil {
			return nil, err
		}
		if err := b.space.activate(s, p); err != nil {
			return nil, err
		}
		dir := o.Image.Direction
		if dir == nil {
			if o.Image.Index < 0 || o.Image.Index >= p.Size() {
				return nil, fmt.Errorf("adjoint: %s has %d components; index %d is out of range", p.Key, p.Size(), o.Image.Index)
			}
			dir = make([]float64, p.Size())
			dir[o.Image.Index] = 1
		} else if len(dir) != p.Size() {
			return nil, fmt.Errorf("adjoint: gradient image direction has %d components, %s has %d", len(dir), p.Key, p.Size())
		}
		b.obs = b.space.tangent(ps, p, dir)
		res.Image = render.NewImage(cam.Width, cam.Height)
	}
	b.geometry = b.space.needsGeometry()
	if b.boundary {
		b.bd = newBoundaryState(b)
	}

	threads := o.Threads
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	workers := make([]*worker, threads)
	accs := make([]*accum, threads)
	for i := range workers {
		workers[i] = &worker{b: b, acc: newAccum(b.space.size, b.obs)}
		if res.Image != nil {
			workers[i].img = make([]fixedSum, cam.Width*cam.Height)
		}
		accs[i] = workers[i].acc
	}

	// Interior term (and secondary edges at every path vertex), by tiles.
	tiles := render.Tiles(cam.Width, cam.Height, 16)
	err = render.ParallelTiles(ctx, tiles, threads, o.Progress, func(wi int, t render.Tile) {
		w := workers[wi]
		for py := t.Y0; py < t.Y1; py++ {
			for px := t.X0; px < t.X1; px++ {
				w.acc.pix = 0
				w.pixel(px, py)
				if res.Image != nil {
					res.Image.Set(px, py, mgl64.Vec3{w.acc.pix, w.acc.pix, w.acc.pix})
				}
			}
		}
		w.acc.flush()
	})
	if err != nil {
		return nil, err
	}
	// Primary boundary term, in fixed chunks of edge samples.
	if b.boundary && !o.NoPrimary {
		if err := b.bd.primaryPass(ctx, workers, threads); err != nil {
			return nil, err
		}
	}
	grad, dropped := reduce(accs, b.space.size)
	b.space.scatter(ps, active, grad)
	if res.Image != nil {
		for i := 0; i < cam.Width*cam.Height; i++ {
			var f fixedSum
			for _, w := range workers {
				f.merge(&w.img[i])
			}
			if v := f.value(); v != 0 {
				for c := 0; c < 3; c++ {
					res.Image.Pix[3*i+c] += v
				}
			}
		}
	}
	res.Stats.Threads = threads
	res.Stats.Discarded = dropped
	for _, w := range workers {
		res.Stats.Rays += w.st.Rays
		res.Stats.Discarded += w.discarded
		res.Stats.EdgeSamples += w.edges
	}
	res.Stats.Samples = int64(cam.Width) * int64(cam.Height) * int64(b.spp)
	res.Stats.Elapsed = time.Since(start)
	return &res, nil
}

// pixel runs the backward pass of all samples of one pixel.
func (w *worker) pixel(px, py int) {
	b := w.b
	W := b.cam.Width
	j := 3 * (py*W + px)
	g0 := mgl64.Vec3{b.dLdI.Pix[j], b.dLdI.Pix[j+1], b.dLdI.Pix[j+2]}
	if isZero3(g0) && b.obs == nil {
		return
	}
	g := g0.Mul(1 / float64(b.spp))
	pixel := uint64(py*W + px)
	for k := 0; k < b.spp; k++ {
		x, y := render.CameraSample(b.sensor.Filter, b.seed, pixel, uint64(k), px, py)
		ray := b.cam.Ray(x, y)
		key := render.RandomKey{Seed: b.seed, Pixel: pixel, Sample: uint64(k), Stream: render.StreamBounce}
		L := b.s.TracePath(ray, &b.set, key, 0, nil, &w.rec, &w.st)
		if !finite3(L) {
			w.discarded++
			continue
		}
		if b.boundary && !b.opts.NoSecondary {
			w.secondaryEdges(key, g)
		} else {
			w.resetAdjP()
		}
		w.backpropPath(g, x, y)
	}
}

func (w *worker) resetAdjP() {
	n := len(w.rec.Vertices)
	if cap(w.adjP) < n {
		w.adjP = make([]mgl64.Vec3, n)
	}
	w.adjP = w.adjP[:n]
	for i := range w.adjP {
		w.adjP[i] = mgl64.Vec3{}
	}
}

func finite3(v mgl64.Vec3) bool {
	return !math.IsNaN(v[0]) && !math.IsNaN(v[1]) && !math.IsNaN(v[2]) &&
		!math.IsInf(v[0], 0) && !math.IsInf(v[1], 0) && !math.IsInf(v[2], 0)
}

// backpropPath runs the reverse sweep over the recorded path. The path's
// value is C = sum_j beta_j (E_j), E_j the emission and next-event terms
// at vertex j, beta_{j+1} = beta_j F_j, F_j the BSDF sample weight. With
// S_j = E_{j+1} + F_{j+1} S_{j+1} the radiance arriving along the
// continuation of vertex j, dC/dE_j = beta_j and dC/dF_j = beta_j S_j.
// Sampled directions, pdfs, MIS weights and roulette probabilities are held
// fixed (detached): every integral is differentiated in its own solid-angle
// parameterisation, and the discontinuities are the boundary term's job.
func (w *worker) backpropPath(g mgl64.Vec3, camX, camY float64) {
	b := w.b
	s := b.s
	sp := b.space
	verts := w.rec.Vertices
	var S mgl64.Vec3      // radiance beyond the current vertex
	var carryP mgl64.Vec3 // gradient of the current hit point from the next ray's origin
	for i := len(verts) - 1; i >= 0; i-- {
		v := &verts[i]
		gE := mul3(g, v.Beta)
		if v.Miss {
			w.dEnv(v.Ray.D, gE.Mul(v.EmitWeight))
			S = v.Emit
			continue
		}
		sh := s.Shapes[v.It.Shape]
		// Emission at the vertex (MIS weight detached).
		if v.EmitWeight != 0 {
			w.acc.add3(sp.emit[v.It.Shape], 0, gE.Mul(v.EmitWeight))
		}
		var ig InteractionGrad
		var gWo mgl64.Vec3
		var bg BSDFGrad
		ns := v.It.Ns
		Snext := S
		if v.Shaded {
			// Next-event estimation: NEE = f(wo, wl) * Le * scale.
			if v.HasLight && v.Visible {
				dF := mul3(gE, v.Light.Le).Mul(v.LightScale)
				gWl := w.dBSDF(&v.BSDF, ns, v.Wo, v.Light.Wi, dF, &bg, &ig.Ns, &gWo)
				dLe := mul3(gE, v.LightF).Mul(v.LightScale)
				w.dLight(v, dLe, gWl, &ig.P)
			}
			// Continuation: F = f(wo, wi) / (pdf * q), wi detached.
			if v.Continued {
				gF := mul3(gE, S)
				if !v.Delta && v.BSDFPdf > 0 {
					dF := gF.Mul(1 / (v.BSDFPdf * v.RRProb))
					w.dBSDF(&v.BSDF, ns, v.Wo, v.Wi, dF, &bg, &ig.Ns, &gWo)
				}
				Snext = v.Emit.Add(v.NEE).Add(mul3(v.BSDFWeight, S))
			} else {
				Snext = v.Emit.Add(v.NEE)
			}
			w.dMaterial(sh.Material, v.It.UV, &bg, &ig.UV)
		} else {
			Snext = v.Emit
		}
		S = Snext
		// Hit point, shading normal and UV back to the triangle and the ray.
		ig.P = ig.P.Add(carryP).Add(w.adjP[i])
		var tg TriangleGrad
		do, dd, ok := DInteract(s, &v.It, v.Ray.O, v.Ray.D, ig, &tg)
		if !ok {
			w.discarded++
			do, dd = mgl64.Vec3{}, mgl64.Vec3{}
		} else {
			w.scatterTriangle(&v.It, &tg)
		}
		carryP = do
		if i == 0 {
			// The camera ray: wo = -d.
			if off := sp.cam[b.opts.Sensor]; off >= 0 {
				var cg CameraGrad
				DCameraRay(b.sensor, &b.cam, camX, camY, do, dd.Sub(gWo), &cg)
				w.addCamera(off, &cg)
			}
		}
	}
}

// dBSDF backpropagates dF, the gradient of f(wo, wi) (Eval, cosine
// included) at the shading normal ns, into the BSDF parameters, the shading
// normal and wo; it returns the gradient of wi.
func (w *worker) dBSDF(bs *render.BSDF, ns, wo, wi, dF mgl64.Vec3, bg *BSDFGrad, gNs, gWo *mgl64.Vec3) mgl64.Vec3 {
	cosO, cosI, dot := ns.Dot(wo), ns.Dot(wi), wo.Dot(wi)
	dCosO, dCosI, dDot := DEvalBSDF(bs, cosO, cosI, dot, dF, bg)
	*gNs = gNs.Add(wo.Mul(dCosO)).Add(wi.Mul(dCosI))
	*gWo = gWo.Add(ns.Mul(dCosO)).Add(wi.Mul(dDot))
	return ns.Mul(dCosI).Add(wo.Mul(dDot))
}

// dLight backpropagates a next-event sample: dLe is the gradient of what
// arrives from the light, gWl that of the light direction (used only by
// point lights, whose direction follows the shading point).
func (w *worker) dLight(v *render.PathVertex, dLe, gWl mgl64.Vec3, gP *mgl64.Vec3) {
	b := w.b
	s := b.s
	ls := &v.Light
	switch {
	case ls.Tri >= 0: // area light: constant radiance
		shape, _ := s.TriangleShape(ls.Tri)
		w.acc.add3(b.space.emit[shape], 0, dLe)
	case math.IsInf(ls.Dist, 1) && ls.Delta: // directional
		idx := w.lightIndex(v)
		if idx >= 0 {
			w.acc.add3(b.space.lightInt[idx], 0, dLe)
		}
	case math.IsInf(ls.Dist, 1): // environment
		w.dEnv(ls.Wi, dLe)
	default: // point light: Le = I / d^2, wl = (x - p) / d
		idx := w.lightIndex(v)
		if idx < 0 {
			return
		}
		l := s.Lights[idx]
		d := l.Position.Sub(v.It.P)
		d2 := d.Dot(d)
		w.acc.add3(b.space.lightInt[idx], 0, dLe.Mul(1/d2))
		// d(I/d^2)/dx = -2 I d / d^4 ; plus the direction's dependence.
		gd := d.Mul(-2 * dLe.Dot(l.Intensity) / (d2 * d2)).Add(dNormalize(d, gWl))
		w.acc.add3(b.space.lightPos[idx], 0, gd)
		*gP = gP.Sub(gd)
	}
}

// lightIndex returns the Scene.Lights index of a delta light sample.
func (w *worker) lightIndex(v *render.PathVertex) int {
	return w.b.s.EmitterLight(v.Light.Emitter)
}

// dEnv backpropagates the gradient of the environment's radiance arriving
// from world direction d.
func (w *worker) dEnv(d, g mgl64.Vec3) {
	b := w.b
	e := b.s.Env
	if e == nil {
		return
	}
	scale := e.Scale
	if scale == 0 {
		scale = 1
	}
	if e.Image == nil {
		w.acc.add3(b.space.envRad, 0, g.Mul(scale))
		return
	}
	if b.space.envData < 0 && b.space.envScale < 0 {
		return
	}
	toWorld := e.ToWorld
	if toWorld == (mgl64.Mat3{}) {
		toWorld = mgl64.Ident3()
	}
	uv := render.EnvDirToUV(toWorld.Transpose().Mul3x1(d))
	taps := render.EnvTaps(e.Image, uv)
	var val mgl64.Vec3
	for k := 0; k < 4; k++ {
		wk := taps.Weight[k]
		if wk == 0 {
			continue
		}
		j := int(taps.Index[k])
		w.acc.add3(b.space.envData, j, g.Mul(wk*scale))
		val = val.Add(mgl64.Vec3{e.Image.Pix[3*j], e.Image.Pix[3*j+1], e.Image.Pix[3*j+2]}.Mul(wk))
	}
	w.acc.add(b.space.envScale, 0, g.Dot(val))
}

// dMaterial scatters the BSDF parameter gradient into the material's
// textures at uv and adds the UV gradient of bitmap lookups.
func (w *worker) dMaterial(mi int, uv mgl64.Vec2, bg *BSDFGrad, gUV *mgl64.Vec2) {
	m := w.b.s.Materials[mi]
	offs := w.b.space.tex[mi]
	w.dTexture(&m.Reflectance, offs[slotReflectance], uv, bg.Diffuse, gUV)
	w.dTexture(&m.SpecularReflectance, offs[slotSpecular], uv, bg.Specular, gUV)
	w.dTexture(&m.Alpha, offs[slotAlpha], uv, mgl64.Vec3{bg.Alpha, 0, 0}, gUV)
	*bg = BSDFGrad{}
}

func (w *worker) dTexture(t *render.Texture, off int32, uv mgl64.Vec2, g mgl64.Vec3, gUV *mgl64.Vec2) {
	if isZero3(g) {
		return
	}
	if t.Image == nil {
		w.acc.add3(off, 0, g)
		return
	}
	if off >= 0 {
		taps := t.Taps(uv)
		for k := 0; k < 4; k++ {
			if wk := taps.Weight[k]; wk != 0 {
				w.acc.add3(off, int(taps.Index[k]), g.Mul(wk))
			}
		}
	}
	if w.b.geometry {
		*gUV = gUV.Add(DTextureUV(t, uv, g))
	}
}

// scatterTriangle adds a triangle's vertex gradients to its shape.
func (w *worker) scatterTriangle(it *render.Interaction, tg *TriangleGrad) {
	sp := w.b.space
	sh := w.b.s.Shapes[it.Shape]
	_, lt := w.b.s.TriangleShape(it.Tri)
	for k := 0; k < 3; k++ {
		vi := int(sh.Indices[3*int(lt)+k])
		w.acc.add3(sp.pos[it.Shape], vi, tg.P[k])
		if sh.Normals != nil {
			w.acc.add3(sp.nrm[it.Shape], vi, tg.N[k])
		}
		if sh.UVs != nil && sp.uv[it.Shape] >= 0 {
			w.acc.add(sp.uv[it.Shape], 2*vi, tg.UV[k][0])
			w.acc.add(sp.uv[it.Shape], 2*vi+1, tg.UV[k][1])
		}
	}
}

func (w *worker) addCamera(off int32, cg *CameraGrad) {
	w.acc.add3(off, 0, cg.Origin)
	w.acc.add3(off, 1, cg.Target)
	w.acc.add3(off, 2, cg.Up)
	w.acc.add(off, 9, cg.Fov)
}

var _ = geom.NewFrame
