package adjoint

import (
	"fmt"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/render"
)

// gradSpace lays out the scene-level quantities the backward pass
// differentiates (world-space vertex data, texture values and texels,
// radiances, sensor and light parameters) in one flat vector, keeping only
// the segments that the requested parameters need. Offsets are -1 for
// inactive segments.
type gradSpace struct {
	pos, nrm, uv, emit []int32    // per shape
	tex                [][3]int32 // per material: reflectance, specular, alpha
	texSize            [][3]int32 // their sizes (3 for a constant, 3*W*H for a bitmap)
	envData            int32
	envScale           int32
	envRad             int32
	cam                []int32 // per sensor: origin 3, target 3, up 3, fov 1
	lightPos, lightInt []int32 // per light (3 each); lightInt also holds irradiance
	lightDir           []int32
	size               int
}

const (
	slotReflectance = iota
	slotSpecular
	slotAlpha
)

func newGradSpace(s *render.Scene) *gradSpace {
	g := &gradSpace{envData: -1, envScale: -1, envRad: -1}
	ns := len(s.Shapes)
	g.pos, g.nrm, g.uv, g.emit = neg(ns), neg(ns), neg(ns), neg(ns)
	g.tex = make([][3]int32, len(s.Materials))
	g.texSize = make([][3]int32, len(s.Materials))
	for i, m := range s.Materials {
		g.tex[i] = [3]int32{-1, -1, -1}
		for k, t := range []*render.Texture{&m.Reflectance, &m.SpecularReflectance, &m.Alpha} {
			g.texSize[i][k] = 3
			if t.Image != nil {
				g.texSize[i][k] = int32(len(t.Image.Pix))
			}
		}
	}
	g.cam = neg(len(s.Sensors))
	g.lightPos, g.lightInt, g.lightDir = neg(len(s.Lights)), neg(len(s.Lights)), neg(len(s.Lights))
	return g
}

func neg(n int) []int32 {
	v := make([]int32, n)
	for i := range v {
		v[i] = -1
	}
	return v
}

func (g *gradSpace) alloc(off *int32, n int) {
	if *off >= 0 {
		return
	}
	*off = int32(g.size)
	g.size += n
}

// activate reserves the segments parameter p needs.
func (g *gradSpace) activate(s *render.Scene, p *Param) error {
	switch p.kind {
	case pVertexPositions, pTranslation:
		g.alloc(&g.pos[p.index], 3*len(s.Shapes[p.index].Positions))
	case pRotation:
		g.alloc(&g.pos[p.index], 3*len(s.Shapes[p.index].Positions))
		if s.Shapes[p.index].Normals != nil {
			g.alloc(&g.nrm[p.index], 3*len(s.Shapes[p.index].Normals))
		}
	case pVertexNormals:
		g.alloc(&g.nrm[p.index], 3*len(s.Shapes[p.index].Normals))
	case pUVs:
		g.alloc(&g.uv[p.index], 2*len(s.Shapes[p.index].UVs))
	case pEmitterRadiance:
		g.alloc(&g.emit[p.index], 3)
	case pTextureValue, pTextureData, pAlphaValue:
		m := s.Materials[p.index]
		slot := -1
		switch p.tex {
		case &m.Reflectance:
			slot = slotReflectance
		case &m.SpecularReflectance:
			slot = slotSpecular
		case &m.Alpha:
			slot = slotAlpha
		}
		if slot < 0 {
			return fmt.Errorf("adjoint: %s: texture not found in its material", p.Key)
		}
		g.alloc(&g.tex[p.index][slot], int(g.texSize[p.index][slot]))
	case pEnvData:
		g.alloc(&g.envData, len(s.Env.Image.Pix))
	case pEnvScale:
		g.alloc(&g.envScale, 1)
	case pEnvRadiance:
		g.alloc(&g.envRad, 3)
	case pSensorOrigin, pSensorTarget, pSensorUp, pSensorFov:
		g.alloc(&g.cam[p.index], 10)
	case pLightPosition:
		g.alloc(&g.lightPos[p.index], 3)
	case pLightIntensity:
		g.alloc(&g.lightInt[p.index], 3)
	case pLightDirection:
		g.alloc(&g.lightDir[p.index], 3)
	default:
		return fmt.Errorf("adjoint: %s is not differentiable", p.Key)
	}
	return nil
}

// needsGeometry reports whether any vertex data is differentiated.
func (g *gradSpace) needsGeometry() bool {
	for i := range g.pos {
		if g.pos[i] >= 0 || g.nrm[i] >= 0 || g.uv[i] >= 0 {
			return true
		}
	}
	return false
}

// dRotation returns dR/dr_k for the axis-angle vector r (Gallego and Yezzi,
// "A compact formula for the derivative of a 3-D rotation in exponential
// coordinates", 2015): ((r_k [r]x + [r x (I-R) e_k]x) R) / |r|^2, and [e_k]x
// at r = 0.
func dRotation(r mgl64.Vec3, k int) mgl64.Mat3 {
	var e mgl64.Vec3
	e[k] = 1
	th2 := r.Dot(r)
	if th2 < 1e-24 {
		return skew(e)
	}
	R := rotationMatrix(r)
	ie := e.Sub(R.Mul3x1(e))
	m := skew(r).Mul(r[k]).Add(skew(r.Cross(ie)))
	return m.Mul3(R).Mul(1 / th2)
}

// skew returns the cross-product matrix [v]x (column-major).
func skew(v mgl64.Vec3) mgl64.Mat3 {
	return mgl64.Mat3{0, v[2], -v[1], -v[2], 0, v[0], v[1], -v[0], 0}
}

// scatter maps the reduced scene-level gradient to the parameters' Grad
// buffers (chain rule through the rigid motions).
func (g *gradSpace) scatter(ps *Params, active []*Param, d []float64) {
	s := ps.Scene
	for _, p := range active {
		for i := range p.Grad {
			p.Grad[i] = 0
		}
		switch p.kind {
		case pVertexPositions:
			sp := &ps.shapes[p.index]
			R := rotationMatrix(vec3(sp.rot.Value))
			Rt := R.Transpose()
			off := g.pos[p.index]
			for v := 0; v < len(p.Value)/3; v++ {
				dw := vec3(d[int(off)+3*v:])
				db := Rt.Mul3x1(dw)
				p.Grad[3*v], p.Grad[3*v+1], p.Grad[3*v+2] = db[0], db[1], db[2]
			}
		case pVertexNormals:
			sp := &ps.shapes[p.index]
			Rt := rotationMatrix(vec3(sp.rot.Value)).Transpose()
			off := g.nrm[p.index]
			for v := 0; v < len(p.Value)/3; v++ {
				db := Rt.Mul3x1(vec3(d[int(off)+3*v:]))
				p.Grad[3*v], p.Grad[3*v+1], p.Grad[3*v+2] = db[0], db[1], db[2]
			}
		case pTranslation:
			off := int(g.pos[p.index])
			n := len(s.Shapes[p.index].Positions)
			for v := 0; v < n; v++ {
				for k := 0; k < 3; k++ {
					p.Grad[k] += d[off+3*v+k]
				}
			}
		case pRotation:
			sp := &ps.shapes[p.index]
			sh := s.Shapes[p.index]
			// M = sum_v dWorld_v (b_v - c)^T + sum_v dN_v n_v^T; dL/dr_k = <M, dR/dr_k>.
			var M mgl64.Mat3
			off := int(g.pos[p.index])
			for v := range sh.Positions {
				dw := vec3(d[off+3*v:])
				b := vec3(sp.pos.Value[3*v:]).Sub(sp.centroid)
				M = M.Add(outer(dw, b))
			}
			if sp.nrm != nil && g.nrm[p.index] >= 0 {
				off := int(g.nrm[p.index])
				for v := range sh.Normals {
					M = M.Add(outer(vec3(d[off+3*v:]), vec3(sp.nrm.Value[3*v:])))
				}
			}
			r := vec3(sp.rot.Value)
			for k := 0; k < 3; k++ {
				dR := dRotation(r, k)
				sum := 0.0
				for i := 0; i < 9; i++ {
					sum += M[i] * dR[i]
				}
				p.Grad[k] = sum
			}
		case pUVs:
			copy(p.Grad, d[g.uv[p.index]:int(g.uv[p.index])+len(p.Grad)])
		case pEmitterRadiance:
			copy(p.Grad, d[g.emit[p.index]:g.emit[p.index]+3])
		case pTextureValue, pTextureData:
			m := s.Materials[p.index]
			slot := slotReflectance
			if p.tex == &m.SpecularReflectance {
				slot = slotSpecular
			} else if p.tex == &m.Alpha {
				slot = slotAlpha
			}
			off := g.tex[p.index][slot]
			copy(p.Grad, d[off:int(off)+len(p.Grad)])
		case pAlphaValue:
			p.Grad[0] = d[g.tex[p.index][slotAlpha]]
		case pEnvData:
			copy(p.Grad, d[g.envData:int(g.envData)+len(p.Grad)])
		case pEnvScale:
			p.Grad[0] = d[g.envScale]
		case pEnvRadiance:
			copy(p.Grad, d[g.envRad:g.envRad+3])
		case pSensorOrigin:
			copy(p.Grad, d[g.cam[p.index]:g.cam[p.index]+3])
		case pSensorTarget:
			copy(p.Grad, d[g.cam[p.index]+3:g.cam[p.index]+6])
		case pSensorUp:
			copy(p.Grad, d[g.cam[p.index]+6:g.cam[p.index]+9])
		case pSensorFov:
			p.Grad[0] = d[g.cam[p.index]+9]
		case pLightPosition:
			copy(p.Grad, d[g.lightPos[p.index]:g.lightPos[p.index]+3])
		case pLightIntensity:
			copy(p.Grad, d[g.lightInt[p.index]:g.lightInt[p.index]+3])
		case pLightDirection:
			copy(p.Grad, d[g.lightDir[p.index]:g.lightDir[p.index]+3])
		}
	}
}

// tangent returns the scene-level direction (in this space) that moving
// parameter p along dir produces: the forward-mode image of dir under the
// parameter-to-scene map. It weights the per-pixel gradient image.
func (g *gradSpace) tangent(ps *Params, p *Param, dir []float64) []float64 {
	t := make([]float64, g.size)
	s := ps.Scene
	switch p.kind {
	case pVertexPositions:
		R := rotationMatrix(vec3(ps.shapes[p.index].rot.Value))
		off := int(g.pos[p.index])
		for v := 0; v < len(p.Value)/3; v++ {
			w := R.Mul3x1(vec3(dir[3*v:]))
			copy(t[off+3*v:], w[:])
		}
	case pTranslation:
		off := int(g.pos[p.index])
		for v := range s.Shapes[p.index].Positions {
			copy(t[off+3*v:], dir[:3])
		}
	case pRotation:
		sp := &ps.shapes[p.index]
		r := vec3(sp.rot.Value)
		var dR mgl64.Mat3
		for k := 0; k < 3; k++ {
			dR = dR.Add(dRotation(r, k).Mul(dir[k]))
		}
		off := int(g.pos[p.index])
		for v := range s.Shapes[p.index].Positions {
			w := dR.Mul3x1(vec3(sp.pos.Value[3*v:]).Sub(sp.centroid))
			copy(t[off+3*v:], w[:])
		}
		if sp.nrm != nil && g.nrm[p.index] >= 0 {
			off := int(g.nrm[p.index])
			for v := range s.Shapes[p.index].Normals {
				w := dR.Mul3x1(vec3(sp.nrm.Value[3*v:]))
				copy(t[off+3*v:], w[:])
			}
		}
	case pVertexNormals:
		R := rotationMatrix(vec3(ps.shapes[p.index].rot.Value))
		off := int(g.nrm[p.index])
		for v := 0; v < len(p.Value)/3; v++ {
			w := R.Mul3x1(vec3(dir[3*v:]))
			copy(t[off+3*v:], w[:])
		}
	default:
		// Every other parameter is itself a scene-level segment.
		off := g.offsetOf(ps, p)
		if off >= 0 {
			copy(t[off:], dir)
		}
	}
	return t
}

// offsetOf returns where a non-geometric parameter lives in the space.
func (g *gradSpace) offsetOf(ps *Params, p *Param) int {
	s := ps.Scene
	switch p.kind {
	case pUVs:
		return int(g.uv[p.index])
	case pEmitterRadiance:
		return int(g.emit[p.index])
	case pTextureValue, pTextureData, pAlphaValue:
		m := s.Materials[p.index]
		switch p.tex {
		case &m.SpecularReflectance:
			return int(g.tex[p.index][slotSpecular])
		case &m.Alpha:
			return int(g.tex[p.index][slotAlpha])
		}
		return int(g.tex[p.index][slotReflectance])
	case pEnvData:
		return int(g.envData)
	case pEnvScale:
		return int(g.envScale)
	case pEnvRadiance:
		return int(g.envRad)
	case pSensorOrigin:
		return int(g.cam[p.index])
	case pSensorTarget:
		return int(g.cam[p.index]) + 3
	case pSensorUp:
		return int(g.cam[p.index]) + 6
	case pSensorFov:
		return int(g.cam[p.index]) + 9
	case pLightPosition:
		return int(g.lightPos[p.index])
	case pLightIntensity:
		return int(g.lightInt[p.index])
	case pLightDirection:
		return int(g.lightDir[p.index])
	}
	return -1
}

func outer(a, b mgl64.Vec3) mgl64.Mat3 {
	return mgl64.Mat3{a[0] * b[0], a[1] * b[0], a[2] * b[0], a[0] * b[1], a[1] * b[1], a[2] * b[1], a[0] * b[2], a[1] * b[2], a[2] * b[2]}
}
