package render

import (
	"math"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/bvh"
	"github.com/invrender/invrender/geom"
)

// PathSettings are the light transport settings of one render, resolved
// from Scene.Integrator and the caller's overrides.
type PathSettings struct {
	MaxDepth     int // segments; -1 unbounded
	RRDepth      int
	HideEmitters bool
	// Strategy selects how direct light is found (tests compare them).
	Strategy Strategy
}

// Strategy is the way a path tracer finds light at a vertex.
type Strategy uint8

const (
	// StrategyMIS combines emitter sampling (next-event estimation) and
	// BSDF sampling with the power heuristic (the default).
	StrategyMIS Strategy = iota
	// StrategyNEE counts light reached by emitter sampling only (emitters
	// hit by BSDF-sampled rays count only for the camera ray).
	StrategyNEE
	// StrategyBSDF counts light reached by BSDF-sampled rays only (and
	// point and directional lights, which only emitter sampling reaches).
	StrategyBSDF
)

// Settings returns the scene integrator's settings; the direct integrator
// is path tracing limited to two segments (the same estimator: emitter and
// BSDF samples combined with MIS at the first hit).
func (s *Scene) Settings() PathSettings {
	ps := PathSettings{MaxDepth: s.Integrator.MaxDepth, RRDepth: s.Integrator.RRDepth, HideEmitters: s.Integrator.HideEmitters}
	if ps.RRDepth <= 0 {
		ps.RRDepth = 5
	}
	if s.Integrator.Kind == DirectIntegrator {
		ps.MaxDepth = 2
	}
	return ps
}

// MIS returns the power-heuristic weight of a strategy with density a
// against one with density b (Veach 1997, section 9.2).
func MIS(a, b float64) float64 {
	a2 := a * a
	d := a2 + b*b
	if d == 0 || math.IsInf(a2, 0) {
		return 1
	}
	return a2 / d
}

// bsdfWeight is the weight of emission found by a BSDF-sampled ray whose
// direction had density bsdfPdf, emitter sampling having density lightPdf.
func (ps *PathSettings) bsdfWeight(bsdfPdf, lightPdf float64) float64 {
	switch ps.Strategy {
	case StrategyNEE:
		if lightPdf > 0 {
			return 0
		}
		return 1 // not reachable by emitter sampling
	case StrategyBSDF:
		return 1
	}
	return MIS(bsdfPdf, lightPdf)
}

// Random number streams. Each path vertex (bounce) draws from its own
// stream, keyed by (seed, pixel, sample, StreamBounce+bounce), so that the
// numbers of one bounce do not depend on how many earlier bounces consumed:
// the backward pass and finite differences replay exactly the same paths.
const (
	StreamCamera = 0
	StreamBounce = 1
)

// BounceRandom holds the random numbers one path vertex consumes, drawn in
// a fixed order.
type BounceRandom struct {
	Light [3]float64 // emitter choice, point on the emitter
	Lobe  float64
	BSDF  [2]float64
	RR    float64
}

// RandomKey addresses the random streams of one path: its bounce d draws
// from stream (Seed, Pixel, Sample, Stream+d).
type RandomKey struct {
	Seed, Pixel, Sample uint64
	Stream              uint64
}

// DrawBounce fills the random numbers of bounce depth of the path.
func DrawBounce(k RandomKey, depth int) BounceRandom {
	return drawBounce(geom.HashPrefix(k.Seed, k.Pixel, k.Sample), k.Stream+uint64(depth))
}

// drawBounce draws from stream dim of the path whose key hashed to prefix.
func drawBounce(prefix, dim uint64) BounceRandom {
	r := geom.NewRNGPrefix(prefix, dim)
	var b BounceRandom
	b.Light[0], b.Light[1], b.Light[2] = r.Float64(), r.Float64(), r.Float64()
	b.Lobe = r.Float64()
	b.BSDF[0], b.BSDF[1] = r.Float64(), r.Float64()
	b.RR = r.Float64()
	return b
}

// CameraSample returns the film position of a pixel sample: the pixel
// centre plus an offset drawn from the reconstruction filter.
func CameraSample(f Filter, seed, pixel, sample uint64, px, py int) (x, y float64) {
	r := geom.NewRNG(seed, pixel, sample, StreamCamera)
	u0, u1 := r.Float64(), r.Float64()
	return float64(px) + 0.5 + f.Sample1D(u0), float64(py) + 0.5 + f.Sample1D(u1)
}

// FirstHit is what the AOVs record at a path's first vertex.
type FirstHit struct {
	Hit    bool
	Albedo mgl64.Vec3
	Normal mgl64.Vec3
	Depth  float64
}

// PathVertex records one vertex of a traced path: everything the backward
// pass needs to differentiate the path's contribution without tracing it
// again. The path's radiance is the sum over vertices of Beta ⊙ (Emit +
// NEE), and Beta of the next vertex is Beta ⊙ BSDFWeight.
type PathVertex struct {
	// Miss marks the ray's escape to the environment: only Ray, Beta and
	// Emit (the environment's MIS-weighted radiance) are set.
	Miss bool
	// Depth is the number of segments before this vertex (0 for the
	// camera ray's hit).
	Depth int
	// Ray is the ray that reached the vertex (unit direction).
	Ray geom.Ray
	Hit bvh.Hit
	It  Interaction
	// Beta is the path throughput up to this vertex.
	Beta mgl64.Vec3
	// Emit is the emitted radiance collected here times EmitWeight (the
	// MIS weight); EmitRadiance the unweighted radiance.
	Emit         mgl64.Vec3
	EmitRadiance mgl64.Vec3
	EmitWeight   float64

	// Shaded reports that the BSDF was evaluated (the path went on
	// after this vertex or sampled a light from it).
	Shaded bool
	BSDF   BSDF
	// Frame is the shading frame (around It.Ns); Wo the outgoing direction
	// in world space.
	Frame geom.Frame
	Wo    mgl64.Vec3

	// Next-event estimation: HasLight when a light sample was drawn and
	// its BSDF value LightF was non-zero; Visible when the shadow ray was
	// unoccluded. NEE = LightF ⊙ Light.Le * LightScale, LightScale being
	// the MIS weight over the light pdf.
	HasLight   bool
	Visible    bool
	Light      LightSample
	LightF     mgl64.Vec3
	LightScale float64
	NEE        mgl64.Vec3

	// Continuation: Continued when a BSDF sample extended the path in
	// world direction Wi; BSDFWeight is f*cos/pdf divided by the Russian
	// roulette probability RRProb (1 without roulette).
	Continued  bool
	Wi         mgl64.Vec3
	BSDFWeight mgl64.Vec3
	BSDFPdf    float64
	Delta      bool
	RRProb     float64
}

// PathRecord is a traced path's vertices; reuse one per goroutine.
type PathRecord struct {
	Vertices []PathVertex
}

func (r *PathRecord) push() *PathVertex {
	r.Vertices = append(r.Vertices, PathVertex{})
	return &r.Vertices[len(r.Vertices)-1]
}

// PathStats counts the work of a path tracer.
type PathStats struct {
	Rays int64
	_    [7]int64 // keep workers' counters on separate cache lines
}

// TracePath estimates the radiance arriving along ray with unidirectional
// path tracing, next-event estimation and multiple importance sampling
// (Veach 1997, chapter 9; Mitsuba 3's "path" integrator). The ray is
// treated as segment number startDepth+1 of a path (0 for camera rays):
// MaxDepth limits the total. The first vertex's emission is never MIS
// weighted (its direction was not drawn by a BSDF). Bounce d draws its
// random numbers from stream key.Stream+startDepth+d. When rec is non-nil
// every vertex is recorded (rec is reset first); when fh is non-nil the
// first hit's AOV data is filled.
func (s *Scene) TracePath(ray geom.Ray, ps *PathSettings, key RandomKey, startDepth int, fh *FirstHit, rec *PathRecord, st *PathStats) mgl64.Vec3 {
	a := s.acc
	var L mgl64.Vec3
	beta := mgl64.Vec3{1, 1, 1}
	prevPdf := 0.0
	prevDelta := true
	var prevP mgl64.Vec3
	if rec != nil {
		rec.Vertices = rec.Vertices[:0]
	}
	prefix := geom.HashPrefix(key.Seed, key.Pixel, key.Sample)
	for depth := startDepth; ; depth++ {
		// The ray is segment depth+1; it counts only within MaxDepth (the
		// loop below stops before exceeding it, so this can only fail for
		// the first ray: maxDepth 0 renders nothing, as in Mitsuba).
		if ps.MaxDepth >= 0 && depth >= ps.MaxDepth {
			break
		}
		// The last segment finds only emitted light: without an
		// environment, a ray that misses every emitter's bounding box
		// finds none, and tracing it would change nothing.
		if rec == nil && fh == nil && a.env == nil && ps.MaxDepth >= 0 && depth+1 >= ps.MaxDepth {
			if _, ok := a.emitBounds.Slab(ray.O, geom.InvDir(ray.D), ray.TMin, ray.TMax); !ok {
				break
			}
		}
		st.Rays++
		h, hit := a.bvh.Intersect(ray)
		if !hit {
			if a.env != nil && !(depth == 0 && ps.HideEmitters) {
				le := a.env.eval(ray.D)
				w := 1.0
				if !prevDelta {
					w = ps.bsdfWeight(prevPdf, s.EnvPdf(ray.D))
				}
				e := le.Mul(w)
				L = L.Add(mulVec(beta, e))
				if rec != nil {
					v := rec.push()
					v.Miss, v.Depth, v.Ray, v.Beta = true, depth, ray, beta
					v.Emit, v.EmitRadiance, v.EmitWeight = e, le, w
				}
			}
			break
		}
		// The last segment of a path only looks for emission: a hit on a
		// surface that emits nothing ends the path without shading it.
		if rec == nil && fh == nil && ps.MaxDepth >= 0 && depth+1 >= ps.MaxDepth && s.Shapes[a.triShape[h.Tri]].Emitter == nil {
			break
		}
		var it Interaction
		s.interact(&h, &it)
		sh := s.Shapes[it.Shape]
		var v *PathVertex
		if rec != nil {
			v = rec.push()
			v.Depth, v.Ray, v.Hit, v.It, v.Beta = depth, ray, h, it, beta
		}
		if fh != nil && depth == startDepth {
			fh.Hit = true
			fh.Normal = it.Ns
			fh.Depth = it.T
		}
		// Emission from the front side of an area light.
		if sh.Emitter != nil && it.Ng.Dot(ray.D) < 0 && !(depth == 0 && ps.HideEmitters) {
			w := 1.0
			if !prevDelta {
				w = ps.bsdfWeight(prevPdf, s.TrianglePdf(prevP, it.Tri, it.P))
			}
			e := sh.Emitter.Radiance.Mul(w)
			L = L.Add(mulVec(beta, e))
			if v != nil {
				v.Emit, v.EmitRadiance, v.EmitWeight = e, sh.Emitter.Radiance, w
			}
		}
		// A further segment (light or BSDF sample) must fit in MaxDepth.
		if ps.MaxDepth >= 0 && depth+1 >= ps.MaxDepth {
			if fh != nil && depth == startDepth {
				b := s.Materials[sh.Material].BSDFAt(it.UV)
				fh.Albedo = b.Albedo()
			}
			break
		}
		bsdf := s.Materials[sh.Material].BSDFAt(it.UV)
		if fh != nil && depth == startDepth {
			fh.Albedo = bsdf.Albedo()
		}
		rnd := drawBounce(prefix, key.Stream+uint64(depth))
		frame := geom.NewFrame(it.Ns)
		woW := ray.D.Mul(-1)
		wo := frame.ToLocal(woW)
		if v != nil {
			v.Shaded, v.BSDF, v.Frame, v.Wo = true, bsdf, frame, woW
		}

		// Next-event estimation. With StrategyBSDF only delta lights
		// count (BSDF-sampled rays never reach them), as StrategyNEE counts
		// emission that emitter sampling cannot produce.
		if !bsdf.IsDelta() {
			if ls, ok := s.SampleLight(it.P, rnd.Light[0], rnd.Light[1], rnd.Light[2]); ok && (ps.Strategy != StrategyBSDF || ls.Delta) {
				wiL := frame.ToLocal(ls.Wi)
				f := bsdf.Eval(wo, wiL)
				if f[0] != 0 || f[1] != 0 || f[2] != 0 {
					st.Rays++
					w := 1.0
					if !ls.Delta && ps.Strategy == StrategyMIS {
						w = MIS(ls.Pdf, bsdf.Pdf(wo, wiL))
					}
					scale := w / ls.Pdf
					visible := !a.bvh.Occluded(ShadowRay(it.P, it.Ng, &ls))
					var nee mgl64.Vec3
					if visible {
						nee = mulVec(f, ls.Le).Mul(scale)
						L = L.Add(mulVec(beta, nee))
					}
					if v != nil {
						v.HasLight, v.Visible, v.Light, v.LightF, v.LightScale, v.NEE = true, visible, ls, f, scale, nee
					}
				}
			}
		}

		// BSDF sampling.
		bs, ok := bsdf.Sample(wo, rnd.Lobe, mgl64.Vec2{rnd.BSDF[0], rnd.BSDF[1]})
		if !ok {
			break
		}
		weight := bs.Weight
		q := 1.0
		// Russian roulette once depth+1 segments exist (Mitsuba's rr_depth).
		if depth+1 >= ps.RRDepth {
			q = math.Min(maxComp(mulVec(beta, weight)), 0.95)
			if !(rnd.RR < q) {
				break
			}
			weight = weight.Mul(1 / q)
		}
		beta = mulVec(beta, weight)
		if beta[0] == 0 && beta[1] == 0 && beta[2] == 0 {
			break
		}
		wi := frame.ToWorld(bs.Wi)
		if v != nil {
			v.Continued, v.Wi, v.BSDFWeight, v.BSDFPdf, v.Delta, v.RRProb = true, wi, weight, bs.Pdf, bs.Delta, q
		}
		prevPdf, prevDelta, prevP = bs.Pdf, bs.Delta, it.P
		ray = SpawnRay(it.P, it.Ng, wi)
	}
	return L
}

func mulVec(a, b mgl64.Vec3) mgl64.Vec3 {
	return mgl64.Vec3{a[0] * b[0], a[1] * b[1], a[2] * b[2]}
}
