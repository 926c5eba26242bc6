package render

import (
	"math"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/bvh"
	"github.com/invrender/invrender/geom"
)

// Interaction is a ray's hit on a surface.
type Interaction struct {
	// P is the hit point, interpolated from the triangle's vertices.
	P mgl64.Vec3
	// Ng is the unit geometric normal (counter-clockwise winding side).
	Ng mgl64.Vec3
	// Ns is the unit shading normal: interpolated vertex normals, or Ng.
	Ns mgl64.Vec3
	// UV are the texture coordinates (the barycentrics (B1, B2) when the
	// mesh has none, as Mitsuba).
	UV mgl64.Vec2
	// T is the ray distance; B1, B2 the barycentrics of the 2nd and 3rd
	// vertex; Tri the global triangle; Shape the shape index.
	T      float64
	B1, B2 float64
	Tri    int32
	Shape  int32
}

// Intersect returns the closest hit of r.
func (s *Scene) Intersect(r geom.Ray) (bvh.Hit, bool) {
	return s.acc.bvh.Intersect(r)
}

// Occluded reports whether anything lies on r within (TMin, TMax).
func (s *Scene) Occluded(r geom.Ray) bool {
	return s.acc.bvh.Occluded(r)
}

// TriangleVertices returns the positions of global triangle tri.
func (s *Scene) TriangleVertices(tri int32) (p0, p1, p2 mgl64.Vec3) {
	return s.acc.triangle(tri)
}

// TriangleShape returns the shape index of global triangle tri and the
// triangle's index within that shape.
func (s *Scene) TriangleShape(tri int32) (shape, local int32) {
	sh := s.acc.triShape[tri]
	return sh, tri - s.acc.triOff[sh]
}

// ShapeTriangleOffset returns the global index of shape i's first triangle.
func (s *Scene) ShapeTriangleOffset(i int) int32 { return s.acc.triOff[i] }

// NumTriangles returns the number of triangles of all shapes.
func (s *Scene) NumTriangles() int { return len(s.acc.triShape) }

// Interact computes the surface interaction of a hit. Forward half of
// adjoint.DInteract.
func (s *Scene) Interact(h bvh.Hit) Interaction {
	var it Interaction
	s.interact(&h, &it)
	return it
}

// interact fills it (the path tracer's form of Interact: no copies).
func (s *Scene) interact(h *bvh.Hit, it *Interaction) {
	a := s.acc
	tri := h.Tri
	shIdx := a.triShape[tri]
	sh := s.Shapes[shIdx]
	lt := int(tri - a.triOff[shIdx])
	i0, i1, i2 := sh.Indices[3*lt], sh.Indices[3*lt+1], sh.Indices[3*lt+2]
	p0, p1, p2 := &sh.Positions[i0], &sh.Positions[i1], &sh.Positions[i2]
	b1, b2 := h.B1, h.B2
	b0 := 1 - b1 - b2
	it.P = mgl64.Vec3{
		b0*p0[0] + b1*p1[0] + b2*p2[0],
		b0*p0[1] + b1*p1[1] + b2*p2[1],
		b0*p0[2] + b1*p1[2] + b2*p2[2],
	}
	ng := a.faceN[tri]
	it.Ng = ng
	it.Ns = ng
	if sh.Normals != nil {
		n0, n1, n2 := sh.Normals[i0], sh.Normals[i1], sh.Normals[i2]
		ns := mgl64.Vec3{
			b0*n0[0] + b1*n1[0] + b2*n2[0],
			b0*n0[1] + b1*n1[1] + b2*n2[1],
			b0*n0[2] + b1*n1[2] + b2*n2[2],
		}
		if l := ns.Len(); l > 0 {
			it.Ns = ns.Mul(1 / l)
		}
	}
	if sh.UVs != nil {
		t0, t1, t2 := sh.UVs[i0], sh.UVs[i1], sh.UVs[i2]
		it.UV = mgl64.Vec2{b0*t0[0] + b1*t1[0] + b2*t2[0], b0*t0[1] + b1*t1[1] + b2*t2[1]}
	} else {
		it.UV = mgl64.Vec2{b1, b2}
	}
	it.T, it.B1, it.B2, it.Tri, it.Shape = h.T, b1, b2, tri, shIdx
}

// RayEpsilon is the relative offset that lifts spawned rays off a surface
// along its geometric normal: the absolute offset is RayEpsilon times
// (1 + the largest coordinate magnitude of the point). Offsets are
// constants, never differentiated.
const RayEpsilon = 1e-9

// OffsetPoint lifts p off the surface with geometric normal ng towards the
// side that direction d points to.
func OffsetPoint(p, ng, d mgl64.Vec3) mgl64.Vec3 {
	m := math.Max(math.Abs(p[0]), math.Max(math.Abs(p[1]), math.Abs(p[2])))
	eps := RayEpsilon * (1 + m)
	if ng.Dot(d) < 0 {
		eps = -eps
	}
	return mgl64.Vec3{p[0] + eps*ng[0], p[1] + eps*ng[1], p[2] + eps*ng[2]}
}

// SpawnRay returns a ray leaving the surface point p (geometric normal ng)
// in direction d.
func SpawnRay(p, ng, d mgl64.Vec3) geom.Ray {
	return geom.Ray{O: OffsetPoint(p, ng, d), D: d, TMin: 0, TMax: math.Inf(1)}
}

// ShadowRay returns the ray from surface point p (normal ng) towards the
// light sample ls, stopping just short of the light.
func ShadowRay(p, ng mgl64.Vec3, ls *LightSample) geom.Ray {
	o := OffsetPoint(p, ng, ls.Wi)
	if math.IsInf(ls.Dist, 1) {
		return geom.Ray{O: o, D: ls.Wi, TMin: 0, TMax: math.Inf(1)}
	}
	y := ls.P
	if ls.Tri >= 0 {
		y = OffsetPoint(ls.P, ls.N, ls.Wi.Mul(-1))
	}
	return geom.Ray{O: o, D: y.Sub(o), TMin: 0, TMax: 1}
}
