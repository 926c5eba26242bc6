package render

import (
	"fmt"
	"math"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/geom"
)

// LightSample is a sampled connection from a shading point to a light.
type LightSample struct {
	// Wi is the unit direction from the shading point towards the light.
	Wi mgl64.Vec3
	// Dist is the distance to P; +Inf for distant lights.
	Dist float64
	// P and N are the point on an area light and its unit normal.
	P, N mgl64.Vec3
	// Le is what arrives along -Wi: the radiance of area lights and the
	// environment, intensity/Dist^2 for point lights, irradiance for
	// directional lights.
	Le mgl64.Vec3
	// Pdf is the solid-angle density including the light selection, or for
	// delta lights (Delta) the selection probability alone.
	Pdf   float64
	Delta bool
	// Emitter is the chosen emitter entry; Tri, B1, B2 locate P on an area
	// light (global triangle and barycentrics of its 2nd and 3rd vertex).
	Emitter int32
	Tri     int32
	B1, B2  float64
}

// buildLights builds the emitter selection table: one entry per emissive
// triangle, point light, directional light and the environment, chosen with
// probability proportional to emitted power.
func (s *Scene) buildLights() error {
	a := s.acc
	b := a.bvh.Bounds()
	if b.IsEmpty() {
		a.center, a.radius = mgl64.Vec3{}, 1
	} else {
		a.center = b.Centroid()
		a.radius = math.Max(0.5*b.Diagonal().Len(), 1e-3)
	}
	a.emitters = a.emitters[:0]
	a.emitBounds = geom.EmptyAABB()
	var power []float64
	if len(a.triEmitter) != len(a.triShape) {
		a.triEmitter = make([]int32, len(a.triShape))
	}
	for i := range a.triEmitter {
		a.triEmitter[i] = -1
	}
	for si, sh := range s.Shapes {
		if sh.Emitter == nil {
			continue
		}
		lum := Luminance(sh.Emitter.Radiance)
		for t := 0; t < sh.NumTriangles(); t++ {
			if sh.Degenerate[t] {
				continue
			}
			g := a.triOff[si] + int32(t)
			p0, p1, p2 := a.triangle(g)
			nrm := p1.Sub(p0).Cross(p2.Sub(p0))
			area2 := nrm.Len()
			area := 0.5 * area2
			if area2 == 0 {
				continue
			}
			a.emitBounds = a.emitBounds.Extend(p0).Extend(p1).Extend(p2)
			a.triEmitter[g] = int32(len(a.emitters))
			a.emitters = append(a.emitters, emitterRef{kind: emitTriangle, index: g,
				p0: p0, e1: p1.Sub(p0), e2: p2.Sub(p0), n: nrm.Mul(1 / area2), area: area, radiance: sh.Emitter.Radiance})
			power = append(power, math.Pi*area*math.Max(lum, 1e-12))
		}
	}
	for i, l := range s.Lights {
		lum := math.Max(Luminance(l.Intensity), 0)
		switch l.Kind {
		case PointLight:
			a.emitters = append(a.emitters, emitterRef{kind: emitPoint, index: int32(i)})
			power = append(power, 4*math.Pi*lum)
		case DirectionalLight:
			a.emitters = append(a.emitters, emitterRef{kind: emitDirectional, index: int32(i)})
			power = append(power, math.Pi*a.radius*a.radius*lum)
		default:
			return fmt.Errorf("render: light %d %q has unknown kind %d", i, l.Name, l.Kind)
		}
	}
	a.env = nil
	a.envEmitter = -1
	if s.Env != nil {
		if s.Env.Image != nil {
			if err := validateTexels(s.Env.Image); err != nil {
				return fmt.Errorf("render: environment %q: %w", s.Env.Name, err)
			}
		}
		if !finite3(s.Env.Radiance) || math.IsNaN(s.Env.Scale) || math.IsInf(s.Env.Scale, 0) {
			return fmt.Errorf("render: environment %q has a non-finite value", s.Env.Name)
		}
		a.env = newEnvTable(s.Env)
		a.envEmitter = int32(len(a.emitters))
		a.emitters = append(a.emitters, emitterRef{kind: emitEnv})
		power = append(power, math.Pi*math.Pi*a.radius*a.radius*math.Max(Luminance(a.env.meanRadiance()), 1e-12))
	}
	a.emitterDist = NewDistribution1D(power)
	return nil
}

// triangle returns the vertices of global triangle t.
func (a *accel) triangle(t int32) (p0, p1, p2 mgl64.Vec3) {
	i := 3 * t
	return a.pos[a.idx[i]], a.pos[a.idx[i+1]], a.pos[a.idx[i+2]]
}

// NumEmitters returns the number of emitter entries (emissive triangles,
// point and directional lights, environment).
func (s *Scene) NumEmitters() int { return len(s.acc.emitters) }

// SampleLight picks an emitter in proportion to its power and a point or
// direction on it, as seen from the shading point p. u0 selects the emitter,
// (u1, u2) the point. It returns false when the sample carries no light
// (back side of a one-sided emitter, zero pdf).
func (s *Scene) SampleLight(p mgl64.Vec3, u0, u1, u2 float64) (LightSample, bool) {
	a := s.acc
	var ls LightSample
	if len(a.emitters) == 0 {
		return ls, false
	}
	e, pmf, _ := a.emitterDist.SampleDiscrete(u0)
	if pmf <= 0 {
		return ls, false
	}
	ls.Emitter = int32(e)
	ref := &a.emitters[e]
	switch ref.kind {
	case emitTriangle:
		b1, b2 := geom.SquareToUniformTriangle(mgl64.Vec2{u1, u2})
		y := mgl64.Vec3{
			ref.p0[0] + b1*ref.e1[0] + b2*ref.e2[0],
			ref.p0[1] + b1*ref.e1[1] + b2*ref.e2[1],
			ref.p0[2] + b1*ref.e1[2] + b2*ref.e2[2],
		}
		n := ref.n
		d := y.Sub(p)
		dist2 := d.Dot(d)
		if dist2 == 0 {
			return ls, false
		}
		dist := math.Sqrt(dist2)
		wi := d.Mul(1 / dist)
		cosL := -n.Dot(wi)
		if cosL <= 0 {
			return ls, false
		}
		ls.Wi, ls.Dist, ls.P, ls.N = wi, dist, y, n
		ls.Le = ref.radiance
		ls.Pdf = pmf * dist2 / (ref.area * cosL)
		ls.Tri, ls.B1, ls.B2 = ref.index, b1, b2
	case emitPoint:
		l := s.Lights[ref.index]
		d := l.Position.Sub(p)
		dist2 := d.Dot(d)
		if dist2 == 0 {
			return ls, false
		}
		dist := math.Sqrt(dist2)
		ls.Wi, ls.Dist, ls.P = d.Mul(1/dist), dist, l.Position
		ls.Le = l.Intensity.Mul(1 / dist2)
		ls.Pdf, ls.Delta = pmf, true
		ls.Tri = -1
	case emitDirectional:
		l := s.Lights[ref.index]
		ls.Wi = l.Direction.Normalize().Mul(-1)
		ls.Dist = math.Inf(1)
		ls.Le = l.Intensity
		ls.Pdf, ls.Delta = pmf, true
		ls.Tri = -1
	case emitEnv:
		wi, pdf := a.env.sample(u1, u2)
		if pdf <= 0 {
			return ls, false
		}
		ls.Wi, ls.Dist = wi, math.Inf(1)
		ls.Le = a.env.eval(wi)
		ls.Pdf = pmf * pdf
		ls.Tri = -1
	}
	if !(ls.Pdf > 0) || math.IsInf(ls.Pdf, 0) {
		return ls, false
	}
	return ls, true
}

// TrianglePdf returns the solid-angle density with which SampleLight,
// called at p, picks the point y on emissive global triangle tri (0 if the
// triangle does not emit or faces away).
func (s *Scene) TrianglePdf(p mgl64.Vec3, tri int32, y mgl64.Vec3) float64 {
	a := s.acc
	e := a.triEmitter[tri]
	if e < 0 {
		return 0
	}
	p0, p1, p2 := a.triangle(tri)
	nrm := p1.Sub(p0).Cross(p2.Sub(p0))
	area2 := nrm.Len()
	d := y.Sub(p)
	dist2 := d.Dot(d)
	if area2 == 0 || dist2 == 0 {
		return 0
	}
	cosL := -nrm.Dot(d) / (area2 * math.Sqrt(dist2))
	if cosL <= 0 {
		return 0
	}
	return a.emitterDist.PMF(int(e)) * dist2 / (0.5 * area2 * cosL)
}

// EnvPdf returns the solid-angle density with which SampleLight picks world
// direction d on the environment (0 without one).
func (s *Scene) EnvPdf(d mgl64.Vec3) float64 {
	a := s.acc
	if a.env == nil {
		return 0
	}
	return a.emitterDist.PMF(int(a.envEmitter)) * a.env.pdf(d)
}

// EnvRadiance returns the environment's radiance arriving from world
// direction d (black without an environment).
func (s *Scene) EnvRadiance(d mgl64.Vec3) mgl64.Vec3 {
	if s.acc.env == nil {
		return mgl64.Vec3{}
	}
	return s.acc.env.eval(d)
}

// HasEnv reports whether the scene has an environment emitter.
func (s *Scene) HasEnv() bool { return s.acc.env != nil }

// EmitterLight returns the Scene.Lights index of emitter entry e when it is
// a point or directional light, and -1 otherwise.
func (s *Scene) EmitterLight(e int32) int {
	a := s.acc
	if e < 0 || int(e) >= len(a.emitters) {
		return -1
	}
	switch r := &a.emitters[e]; r.kind {
	case emitPoint, emitDirectional:
		return int(r.index)
	}
	return -1
}
