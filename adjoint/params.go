package adjoint

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/render"
)

// Flags describe a parameter.
type Flags uint8

const (
	// Differentiable parameters get gradients.
	Differentiable Flags = 1 << iota
	// Discontinuous parameters move visibility boundaries (geometry, camera
	// pose): their gradients need the boundary (edge sampling) term.
	Discontinuous
)

// String lists the flags.
func (f Flags) String() string {
	var s []string
	if f&Differentiable != 0 {
		s = append(s, "differentiable")
	}
	if f&Discontinuous != 0 {
		s = append(s, "discontinuous")
	}
	return strings.Join(s, ",")
}

type paramKind uint8

const (
	pVertexPositions paramKind = iota
	pVertexNormals
	pUVs
	pTranslation
	pRotation
	pEmitterRadiance
	pTextureValue // constant texture value (3)
	pTextureData  // bitmap texels (3 per texel)
	pAlphaValue   // scalar roughness (1)
	pEnvData
	pEnvScale
	pEnvRadiance
	pSensorOrigin
	pSensorTarget
	pSensorUp
	pSensorFov
	pLightPosition
	pLightIntensity
	pLightDirection
)

// Param is one named scene parameter: a flat vector of values with a
// gradient buffer of the same size. Values are in the scene file's units
// (DESIGN.md): fov in degrees, rotations as axis-angle vectors in radians
// about the shape's centroid, translations starting at zero.
type Param struct {
	Key   string
	Value []float64
	Grad  []float64
	Flags Flags

	kind  paramKind
	index int             // shape, material, sensor or light index
	tex   *render.Texture // texture parameters
}

// Size returns the number of components.
func (p *Param) Size() int { return len(p.Value) }

// Params is the registry of a scene's parameters, named after Mitsuba's
// traverse() keys (SHAPE.vertex_positions, BSDF.reflectance.value,
// SHAPE.emitter.radiance.value, ...) plus rigid motions and camera keys
// (SHAPE.translation, SHAPE.rotation, sensor.origin, sensor.target,
// sensor.up, sensor.fov).
//
// Geometry is stored as the shapes' base positions (the vertex_positions
// values) moved by the rigid motion: world = R(rotation) (base - c) + c +
// translation, c the centroid of the base positions when the registry was
// made. Update writes every value into the scene.
type Params struct {
	Scene *render.Scene
	List  []*Param
	byKey map[string]*Param

	shapes []shapeParams
}

type shapeParams struct {
	centroid                     mgl64.Vec3
	pos, nrm, uv, trans, rot, em *Param
}

// NewParams lists the parameters of a scene. The scene's current state
// becomes the parameters' values.
func NewParams(s *render.Scene) (*Params, error) {
	ps := &Params{Scene: s, byKey: map[string]*Param{}}
	for i, sh := range s.Shapes {
		name := sh.Name
		if name == "" {
			name = fmt.Sprintf("shape_%d", i)
		}
		var sp shapeParams
		var c mgl64.Vec3
		for _, p := range sh.Positions {
			c = c.Add(p)
		}
		if len(sh.Positions) > 0 {
			c = c.Mul(1 / float64(len(sh.Positions)))
		}
		sp.centroid = c
		geo := Differentiable | Discontinuous
		sp.pos = ps.add(name+".vertex_positions", pVertexPositions, i, flatVec3(sh.Positions), geo)
		if sh.Normals != nil {
			sp.nrm = ps.add(name+".vertex_normals", pVertexNormals, i, flatVec3(sh.Normals), Differentiable)
		}
		if sh.UVs != nil {
			uv := make([]float64, 0, 2*len(sh.UVs))
			for _, t := range sh.UVs {
				uv = append(uv, t[0], t[1])
			}
			sp.uv = ps.add(name+".uvs", pUVs, i, uv, Differentiable)
		}
		sp.trans = ps.add(name+".translation", pTranslation, i, make([]float64, 3), geo)
		sp.rot = ps.add(name+".rotation", pRotation, i, make([]float64, 3), geo)
		if sh.Emitter != nil {
			r := sh.Emitter.Radiance
			sp.em = ps.add(name+".emitter.radiance.value", pEmitterRadiance, i, []float64{r[0], r[1], r[2]}, Differentiable)
		}
		ps.shapes = append(ps.shapes, sp)
	}
	for i, m := range s.Materials {
		name := m.Name
		if name == "" {
			name = fmt.Sprintf("bsdf_%d", i)
		}
		switch m.Kind {
		case render.Diffuse:
			ps.addTexture(name+".reflectance", i, &m.Reflectance)
		case render.Plastic:
			ps.addTexture(name+".diffuse_reflectance", i, &m.Reflectance)
			ps.addTexture(name+".specular_reflectance", i, &m.SpecularReflectance)
			ps.addAlpha(name, i, m)
		case render.Conductor:
			ps.addTexture(name+".specular_reflectance", i, &m.SpecularReflectance)
			ps.addAlpha(name, i, m)
		}
	}
	if e := s.Env; e != nil {
		name := e.Name
		if name == "" {
			name = "envmap"
		}
		if e.Image != nil {
			p := ps.add(name+".data", pEnvData, 0, e.Image.Pix, Differentiable)
			p.Value = e.Image.Pix // aliases the texels: updates are free
			scale := e.Scale
			if scale == 0 {
				scale = 1
			}
			ps.add(name+".scale", pEnvScale, 0, []float64{scale}, Differentiable)
		} else {
			r := e.Radiance
			ps.add(name+".radiance.value", pEnvRadiance, 0, []float64{r[0], r[1], r[2]}, Differentiable)
		}
	}
	for i, sn := range s.Sensors {
		name := sn.Name
		if name == "" {
			name = "sensor"
			if i > 0 {
				name = fmt.Sprintf("sensor%d", i)
			}
		}
		geo := Differentiable | Discontinuous
		ps.add(name+".origin", pSensorOrigin, i, sn.Origin[:], geo)
		ps.add(name+".target", pSensorTarget, i, sn.Target[:], geo)
		ps.add(name+".up", pSensorUp, i, sn.Up[:], geo)
		ps.add(name+".fov", pSensorFov, i, []float64{sn.Fov}, geo)
	}
	for i, l := range s.Lights {
		name := l.Name
		if name == "" {
			name = fmt.Sprintf("light_%d", i)
		}
		switch l.Kind {
		case render.PointLight:
			ps.add(name+".position", pLightPosition, i, l.Position[:], Differentiable|Discontinuous)
			ps.add(name+".intensity.value", pLightIntensity, i, l.Intensity[:], Differentiable)
		case render.DirectionalLight:
			ps.add(name+".direction", pLightDirection, i, l.Direction[:], Differentiable|Discontinuous)
			ps.add(name+".irradiance.value", pLightIntensity, i, l.Intensity[:], Differentiable)
		}
	}
	if len(ps.byKey) != len(ps.List) {
		return nil, fmt.Errorf("adjoint: the scene has duplicate object ids, so parameter names collide (e.g. two shapes named alike)")
	}
	return ps, nil
}

func flatVec3(v []mgl64.Vec3) []float64 {
	out := make([]float64, 0, 3*len(v))
	for _, x := range v {
		out = append(out, x[0], x[1], x[2])
	}
	return out
}

func (ps *Params) add(key string, kind paramKind, index int, value []float64, flags Flags) *Param {
	p := &Param{Key: key, Value: append([]float64(nil), value...), Grad: make([]float64, len(value)), Flags: flags, kind: kind, index: index}
	ps.List = append(ps.List, p)
	ps.byKey[key] = p
	return p
}

func (ps *Params) addTexture(prefix string, mat int, t *render.Texture) {
	if t.Image != nil {
		p := ps.add(prefix+".data", pTextureData, mat, nil, Differentiable)
		p.Value = t.Image.Pix
		p.Grad = make([]float64, len(p.Value))
		p.tex = t
		return
	}
	p := ps.add(prefix+".value", pTextureValue, mat, t.Value[:], Differentiable)
	p.tex = t
}

func (ps *Params) addAlpha(name string, mat int, m *render.Material) {
	if m.Alpha.Image != nil {
		ps.addTexture(name+".alpha", mat, &m.Alpha)
		return
	}
	p := ps.add(name+".alpha.value", pAlphaValue, mat, []float64{m.Alpha.Value[0]}, Differentiable)
	p.tex = &m.Alpha
}

// Get returns the parameter named key, or nil.
func (ps *Params) Get(key string) *Param { return ps.byKey[key] }

// Lookup returns the parameter named key or an error listing close names.
func (ps *Params) Lookup(key string) (*Param, error) {
	if p := ps.byKey[key]; p != nil {
		return p, nil
	}
	var close []string
	for _, p := range ps.List {
		if strings.Contains(p.Key, key) || strings.Contains(key, strings.SplitN(p.Key, ".", 2)[0]) {
			close = append(close, p.Key)
		}
	}
	sort.Strings(close)
	if len(close) > 8 {
		close = close[:8]
	}
	if len(close) > 0 {
		return nil, fmt.Errorf("adjoint: no parameter %q (did you mean %s?)", key, strings.Join(close, ", "))
	}
	return nil, fmt.Errorf("adjoint: no parameter %q (list them with `invrender params SCENE`)", key)
}

// Keys returns all parameter names in registry order.
func (ps *Params) Keys() []string {
	k := make([]string, len(ps.List))
	for i, p := range ps.List {
		k[i] = p.Key
	}
	return k
}

// ZeroGrad clears every gradient.
func (ps *Params) ZeroGrad() {
	for _, p := range ps.List {
		for i := range p.Grad {
			p.Grad[i] = 0
		}
	}
}

// rotationMatrix returns the rotation by the axis-angle vector r (Rodrigues).
func rotationMatrix(r mgl64.Vec3) mgl64.Mat3 {
	theta := r.Len()
	if theta < 1e-300 {
		return mgl64.Ident3()
	}
	k := r.Mul(1 / theta)
	s, c := math.Sincos(theta)
	// R = c I + s [k]x + (1-c) k k^T
	K := mgl64.Mat3{0, k[2], -k[1], -k[2], 0, k[0], k[1], -k[0], 0} // column-major [k]x
	R := mgl64.Ident3().Mul(c).Add(K.Mul(s))
	kk := mgl64.Mat3{k[0] * k[0], k[1] * k[0], k[2] * k[0], k[0] * k[1], k[1] * k[1], k[2] * k[1], k[0] * k[2], k[1] * k[2], k[2] * k[2]}
	return R.Add(kk.Mul(1 - c))
}

// Update writes all parameter values into the scene and refreshes what
// depends on them (world positions from base positions and rigid motions,
// the BVH and light tables). It rejects NaN and infinite values, naming the
// parameter.
func (ps *Params) Update() error {
	for _, p := range ps.List {
		for i, v := range p.Value {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("adjoint: parameter %s[%d] is %v", p.Key, i, v)
			}
		}
	}
	s := ps.Scene
	geometry := false
	for i, sh := range s.Shapes {
		sp := &ps.shapes[i]
		R := rotationMatrix(vec3(sp.rot.Value))
		t := vec3(sp.trans.Value)
		base := sp.pos.Value
		if len(base) != 3*len(sh.Positions) {
			return fmt.Errorf("adjoint: %s has %d values, want %d (3 per vertex)", sp.pos.Key, len(base), 3*len(sh.Positions))
		}
		for v := range sh.Positions {
			b := mgl64.Vec3{base[3*v], base[3*v+1], base[3*v+2]}
			w := R.Mul3x1(b.Sub(sp.centroid)).Add(sp.centroid).Add(t)
			if w != sh.Positions[v] {
				sh.Positions[v] = w
				geometry = true
			}
		}
		if sp.nrm != nil {
			for v := range sh.Normals {
				n := mgl64.Vec3{sp.nrm.Value[3*v], sp.nrm.Value[3*v+1], sp.nrm.Value[3*v+2]}
				sh.Normals[v] = R.Mul3x1(n)
			}
		}
		if sp.uv != nil {
			for v := range sh.UVs {
				sh.UVs[v] = mgl64.Vec2{sp.uv.Value[2*v], sp.uv.Value[2*v+1]}
			}
		}
		if sp.em != nil {
			sh.Emitter.Radiance = vec3(sp.em.Value)
		}
	}
	for _, p := range ps.List {
		switch p.kind {
		case pTextureValue:
			p.tex.Value = vec3(p.Value)
		case pAlphaValue:
			a := p.Value[0]
			p.tex.Value = mgl64.Vec3{a, a, a}
		case pEnvScale:
			s.Env.Scale = p.Value[0]
		case pEnvRadiance:
			s.Env.Radiance = vec3(p.Value)
		case pSensorOrigin:
			s.Sensors[p.index].Origin = vec3(p.Value)
		case pSensorTarget:
			s.Sensors[p.index].Target = vec3(p.Value)
		case pSensorUp:
			s.Sensors[p.index].Up = vec3(p.Value)
		case pSensorFov:
			s.Sensors[p.index].Fov = p.Value[0]
		case pLightPosition:
			s.Lights[p.index].Position = vec3(p.Value)
		case pLightIntensity:
			s.Lights[p.index].Intensity = vec3(p.Value)
		case pLightDirection:
			s.Lights[p.index].Direction = vec3(p.Value)
		}
	}
	if !s.Built() {
		return s.Build()
	}
	if geometry {
		return s.UpdateGeometry()
	}
	// Radiances and the environment feed the light selection tables.
	return s.UpdateLights()
}

func vec3(v []float64) mgl64.Vec3 { return mgl64.Vec3{v[0], v[1], v[2]} }
