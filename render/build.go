package render

import (
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/bvh"
	"github.com/invrender/invrender/geom"
)

// accel holds what Build derives from the scene: the geometry of all shapes
// flattened into one vertex and one index array, the BVH over it, and the
// light sampling tables.
type accel struct {
	bvh *bvh.BVH

	pos      []mgl64.Vec3 // all shapes' positions, shape after shape
	idx      []int32      // global vertex indices, 3 per triangle
	triShape []int32      // shape of each global triangle
	vtxOff   []int32      // first global vertex of each shape
	triOff   []int32      // first global triangle of each shape

	// Emitters: one entry per emissive triangle, point, directional light
	// and the environment, chosen with probability proportional to power.
	emitters    []emitterRef
	emitterDist *Distribution1D
	triEmitter  []int32 // emitter entry of each global triangle, -1 if none
	envEmitter  int32   // entry of the environment, -1 if none

	faceN []mgl64.Vec3 // unit geometric normal of each global triangle

	// emitBounds bounds every emissive triangle: a path's last segment can
	// only find light by hitting one (without an environment), so a ray
	// that misses this box carries nothing and is not traced.
	emitBounds geom.AABB

	env *envTable

	center mgl64.Vec3
	radius float64
}

type emitterKind uint8

const (
	emitTriangle emitterKind = iota
	emitPoint
	emitDirectional
	emitEnv
)

type emitterRef struct {
	kind  emitterKind
	index int32 // global triangle or index into Scene.Lights
	// An emissive triangle's geometry, so that sampling it reads one
	// record: p0 + b1*e1 + b2*e2, unit normal n, area and radiance.
	p0, e1, e2, n mgl64.Vec3
	area          float64
	radiance      mgl64.Vec3
}

// Build validates the scene and prepares it for rendering: it flattens the
// meshes, builds the BVH and the light sampling tables. Call it again (or
// UpdateGeometry) after changing the scene.
func (s *Scene) Build() error {
	if len(s.Materials) == 0 && len(s.Shapes) > 0 {
		return fmt.Errorf("render: scene has shapes but no materials")
	}
	a := &accel{envEmitter: -1}
	nv, nt := 0, 0
	for i, sh := range s.Shapes {
		if err := sh.validate(len(s.Materials)); err != nil {
			return fmt.Errorf("render: shape %d %q: %w", i, sh.Name, err)
		}
		if nv+len(sh.Positions) > math.MaxInt32 || nt+sh.NumTriangles() > math.MaxInt32/3 {
			return fmt.Errorf("render: scene has too many vertices or triangles")
		}
		nv += len(sh.Positions)
		nt += sh.NumTriangles()
	}
	for i, m := range s.Materials {
		if err := m.validate(); err != nil {
			return fmt.Errorf("render: material %d %q: %w", i, m.Name, err)
		}
	}
	for i, l := range s.Lights {
		if !finite3(l.Position) || !finite3(l.Direction) || !finite3(l.Intensity) {
			return fmt.Errorf("render: light %d %q has a non-finite value", i, l.Name)
		}
		if l.Kind == DirectionalLight && l.Direction.Len() == 0 {
			return fmt.Errorf("render: directional light %d %q has a zero direction", i, l.Name)
		}
	}
	a.pos = make([]mgl64.Vec3, 0, nv)
	a.idx = make([]int32, 0, 3*nt)
	a.triShape = make([]int32, 0, nt)
	for i, sh := range s.Shapes {
		off := int32(len(a.pos))
		a.vtxOff = append(a.vtxOff, off)
		a.triOff = append(a.triOff, int32(len(a.triShape)))
		a.pos = append(a.pos, sh.Positions...)
		for _, v := range sh.Indices {
			a.idx = append(a.idx, v+off)
		}
		for t := 0; t < sh.NumTriangles(); t++ {
			a.triShape = append(a.triShape, int32(i))
		}
	}
	tree, err := bvh.Build(a.pos, a.idx, bvh.Options{})
	if err != nil {
		return fmt.Errorf("render: %w", err)
	}
	a.bvh = tree
	a.updateFaceNormals()
	s.acc = a
	if err := s.buildLights(); err != nil {
		return err
	}
	return nil
}

// UpdateGeometry refreshes the flattened geometry after the shapes'
// Positions changed in place (same topology), refits the BVH (rebuilding it
// when the refit tree has become slow) and the light tables. When the
// topology changed instead (shapes added or removed, other vertex counts or
// triangle indices) it builds the scene afresh, as Build.
func (s *Scene) UpdateGeometry() error {
	a := s.acc
	if a == nil || !a.sameTopology(s.Shapes) {
		return s.Build()
	}
	for i, sh := range s.Shapes {
		off := int(a.vtxOff[i])
		for _, p := range sh.Positions {
			if !finite3(p) {
				return fmt.Errorf("render: shape %q: vertex position is not finite", sh.Name)
			}
		}
		copy(a.pos[off:], sh.Positions)
		sh.flagDegenerate()
	}
	if err := a.bvh.Refit(a.pos); err != nil {
		return fmt.Errorf("render: %w", err)
	}
	a.updateFaceNormals()
	if a.bvh.NeedsRebuild() {
		tree, err := bvh.Build(a.pos, a.idx, bvh.Options{})
		if err != nil {
			return fmt.Errorf("render: %w", err)
		}
		a.bvh = tree
	}
	return s.buildLights()
}

// updateFaceNormals recomputes the unit geometric normal of every triangle
// (zero for degenerate ones), which Interact reads instead of recomputing
// a cross product per hit.
func (a *accel) updateFaceNormals() {
	nt := len(a.triShape)
	if len(a.faceN) != nt {
		a.faceN = make([]mgl64.Vec3, nt)
	}
	parallelChunks(nt, func(lo, hi int) {
		for t := lo; t < hi; t++ {
			a.faceN[t] = FaceNormal(a.triangle(int32(t)))
		}
	})
}

// FaceNormal returns the unit normal of the triangle (p0, p1, p2) on the
// side its counter-clockwise winding faces, or zero for a degenerate one.
func FaceNormal(p0, p1, p2 mgl64.Vec3) mgl64.Vec3 {
	n := p1.Sub(p0).Cross(p2.Sub(p0))
	if l := n.Len(); l > 0 {
		return n.Mul(1 / l)
	}
	return n
}

// parallelChunks runs f over [0, n) split into contiguous chunks on up to
// GOMAXPROCS goroutines (serially for small n). Each index is written by
// one chunk, so the result does not depend on the split.
func parallelChunks(n int, f func(lo, hi int)) {
	const minChunk = 1 << 14
	w := runtime.GOMAXPROCS(0)
	if n < 2*minChunk || w < 2 {
		f(0, n)
		return
	}
	chunk := (n + w - 1) / w
	var wg sync.WaitGroup
	for lo := 0; lo < n; lo += chunk {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			f(lo, hi)
		}(lo, min(lo+chunk, n))
	}
	wg.Wait()
}

// sameTopology reports whether shapes still have the shapes, vertex counts
// and triangle indices the accelerator was built from.
func (a *accel) sameTopology(shapes []*Shape) bool {
	if len(shapes) != len(a.vtxOff) {
		return false
	}
	for i, sh := range shapes {
		v0, t0 := a.vtxOff[i], a.triOff[i]
		v1, t1 := int32(len(a.pos)), int32(len(a.triShape))
		if i+1 < len(shapes) {
			v1, t1 = a.vtxOff[i+1], a.triOff[i+1]
		}
		if len(sh.Positions) != int(v1-v0) || len(sh.Indices) != 3*int(t1-t0) {
			return false
		}
		g := a.idx[3*t0 : 3*t1]
		for j, v := range sh.Indices {
			if v+v0 != g[j] {
				return false
			}
		}
	}
	return true
}

// Built reports whether Build has run.
func (s *Scene) Built() bool { return s.acc != nil }

// Bounds returns the bounding box of all geometry.
func (s *Scene) Bounds() geom.AABB {
	if s.acc == nil || s.acc.bvh == nil {
		return geom.EmptyAABB()
	}
	return s.acc.bvh.Bounds()
}

func (sh *Shape) validate(nMaterials int) error {
	if len(sh.Indices)%3 != 0 {
		return fmt.Errorf("index count %d is not a multiple of 3", len(sh.Indices))
	}
	n := int32(len(sh.Positions))
	for i, v := range sh.Indices {
		if v < 0 || v >= n {
			return fmt.Errorf("triangle %d: vertex index %d out of range [0, %d)", i/3, v, n)
		}
	}
	for i, p := range sh.Positions {
		if !finite3(p) {
			return fmt.Errorf("vertex %d: position %v is not finite", i, p)
		}
	}
	if sh.Normals != nil {
		if len(sh.Normals) != len(sh.Positions) {
			return fmt.Errorf("%d normals for %d vertices", len(sh.Normals), len(sh.Positions))
		}
		for i, nn := range sh.Normals {
			if !finite3(nn) || nn.Len() == 0 {
				return fmt.Errorf("vertex %d: normal %v is zero or not finite", i, nn)
			}
		}
	}
	if sh.UVs != nil {
		if len(sh.UVs) != len(sh.Positions) {
			return fmt.Errorf("%d uvs for %d vertices", len(sh.UVs), len(sh.Positions))
		}
		for i, uv := range sh.UVs {
			if math.IsNaN(uv[0]) || math.IsNaN(uv[1]) || math.IsInf(uv[0], 0) || math.IsInf(uv[1], 0) {
				return fmt.Errorf("vertex %d: uv %v is not finite", i, uv)
			}
		}
	}
	if sh.Material < 0 || sh.Material >= nMaterials {
		return fmt.Errorf("material index %d out of range [0, %d)", sh.Material, nMaterials)
	}
	if sh.Emitter != nil && (!finite3(sh.Emitter.Radiance) || minComp(sh.Emitter.Radiance) < 0) {
		return fmt.Errorf("emitter radiance %v is negative or not finite", sh.Emitter.Radiance)
	}
	sh.flagDegenerate()
	return nil
}

// flagDegenerate recomputes Degenerate: triangles with repeated vertices or
// zero area.
func (sh *Shape) flagDegenerate() {
	nt := sh.NumTriangles()
	if len(sh.Degenerate) != nt {
		sh.Degenerate = make([]bool, nt)
	}
	for t := 0; t < nt; t++ {
		i0, i1, i2 := sh.Indices[3*t], sh.Indices[3*t+1], sh.Indices[3*t+2]
		p0, p1, p2 := sh.Positions[i0], sh.Positions[i1], sh.Positions[i2]
		sh.Degenerate[t] = i0 == i1 || i1 == i2 || i2 == i0 || p1.Sub(p0).Cross(p2.Sub(p0)).Len() == 0
	}
}

func (m *Material) validate() error {
	for _, t := range []*Texture{&m.Reflectance, &m.SpecularReflectance, &m.Alpha} {
		if t.Image != nil {
			if err := validateTexels(t.Image); err != nil {
				return err
			}
			continue
		}
		if !finite3(t.Value) {
			return fmt.Errorf("texture value %v is not finite", t.Value)
		}
	}
	if m.Alpha.Image == nil && m.Alpha.Value[0] < 0 {
		return fmt.Errorf("roughness alpha %g is negative", m.Alpha.Value[0])
	}
	// Zero indices of refraction mean the defaults (see BSDFAt).
	if m.Kind == Plastic && !(m.IntIOR >= 0 && m.ExtIOR >= 0 && !math.IsInf(m.IntIOR, 0) && !math.IsInf(m.ExtIOR, 0)) {
		return fmt.Errorf("plastic indices of refraction %g/%g are negative or not finite", m.IntIOR, m.ExtIOR)
	}
	if m.Kind == Conductor && (!finite3(m.Eta) || !finite3(m.K) || math.IsNaN(m.ExtIOR) || math.IsInf(m.ExtIOR, 0)) {
		return fmt.Errorf("conductor eta %v, k %v or exterior index %g is not finite", m.Eta, m.K, m.ExtIOR)
	}
	return nil
}

// validateTexels checks an image's size and that every value is finite:
// a NaN texel would otherwise turn every path that reads it into NaN.
func validateTexels(im *Image) error {
	if err := im.Validate(); err != nil {
		return err
	}
	for i, v := range im.Pix {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			p := i / 3
			return fmt.Errorf("texel (%d, %d) channel %d: value %g is not finite", p%im.Width, p/im.Width, i%3, v)
		}
	}
	for i, v := range im.Alpha {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("texel (%d, %d): alpha %g is not finite", i%im.Width, i/im.Width, v)
		}
	}
	return nil
}

func minComp(v mgl64.Vec3) float64 { return math.Min(v[0], math.Min(v[1], v[2])) }
func maxComp(v mgl64.Vec3) float64 { return math.Max(v[0], math.Max(v[1], v[2])) }

// Luminance returns the Rec. 709 luminance of a linear RGB value.
func Luminance(c mgl64.Vec3) float64 {
	return 0.212671*c[0] + 0.715160*c[1] + 0.072169*c[2]
}

// UpdateLights rebuilds the light selection tables after emitted radiances,
// lights or the environment changed.
func (s *Scene) UpdateLights() error {
	if s.acc == nil {
		return s.Build()
	}
	return s.buildLights()
}
