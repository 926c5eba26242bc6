package scenes

import (
	"errors"
	"fmt"
	"math"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/geom"
	"github.com/invrender/invrender/render"
)

// Tessellation of Mitsuba's analytic shapes. The renderer traces triangles
// only, so spheres, disks and cylinders become meshes; these resolutions
// keep the silhouette within 0.12 % (sphere, 64 segments around) of the
// true radius.
const (
	// SphereSegments is the number of segments around a sphere's z axis
	// (longitude) and SphereRings the number of bands from pole to pole
	// (latitude): 64 x 32 gives 3968 triangles.
	SphereSegments = 64
	SphereRings    = 32
	// DiskSegments is the number of triangles of a disk's fan.
	DiskSegments = 64
	// CylinderSegments is the number of quads (two triangles each) around
	// a cylinder.
	CylinderSegments = 64
)

// shapeRectangle returns Mitsuba's rectangle: [-1,1]^2 in the z = 0 plane,
// facing +z, with uv = ((x+1)/2, (y+1)/2).
func shapeRectangle() *render.Shape {
	return &render.Shape{
		Positions: []mgl64.Vec3{{-1, -1, 0}, {1, -1, 0}, {1, 1, 0}, {-1, 1, 0}},
		UVs:       []mgl64.Vec2{{0, 0}, {1, 0}, {1, 1}, {0, 1}},
		Indices:   []int32{0, 1, 2, 2, 3, 0},
	}
}

// shapeCubeFaces lists the cube's faces as Mitsuba 3's cube plugin lays
// them out: four corners each (counter-clockwise seen from outside), with
// uv (0,1), (1,1), (1,0), (0,0) at the corners.
var shapeCubeFaces = [6][4]mgl64.Vec3{
	{{1, -1, -1}, {1, -1, 1}, {-1, -1, 1}, {-1, -1, -1}}, // -y
	{{1, 1, -1}, {-1, 1, -1}, {-1, 1, 1}, {1, 1, 1}},     // +y
	{{1, -1, -1}, {1, 1, -1}, {1, 1, 1}, {1, -1, 1}},     // +x
	{{1, -1, 1}, {1, 1, 1}, {-1, 1, 1}, {-1, -1, 1}},     // +z
	{{-1, -1, 1}, {-1, 1, 1}, {-1, 1, -1}, {-1, -1, -1}}, // -x
	{{1, 1, -1}, {1, -1, -1}, {-1, -1, -1}, {-1, 1, -1}}, // -z
}

// shapeCube returns Mitsuba's cube: [-1,1]^3 with outward faces, each face
// mapped onto [0,1]^2 in uv.
func shapeCube() *render.Shape {
	s := &render.Shape{}
	uv := [4]mgl64.Vec2{{0, 1}, {1, 1}, {1, 0}, {0, 0}}
	for f, face := range shapeCubeFaces {
		base := int32(4 * f)
		for c := 0; c < 4; c++ {
			s.Positions = append(s.Positions, face[c])
			s.UVs = append(s.UVs, uv[c])
		}
		s.Indices = append(s.Indices, base, base+1, base+2, base+3, base, base+2)
	}
	return s
}

// shapeDisk returns Mitsuba's disk: the unit disk in the z = 0 plane
// facing +z, as a fan of DiskSegments triangles, with Mitsuba's uv =
// (r, phi / 2pi). The centre is repeated per triangle so that each gets
// its own v.
func shapeDisk() *render.Shape {
	n := DiskSegments
	s := &render.Shape{}
	for i := 0; i <= n; i++ {
		phi := 2 * math.Pi * float64(i) / float64(n)
		s.Positions = append(s.Positions, mgl64.Vec3{math.Cos(phi), math.Sin(phi), 0})
		s.UVs = append(s.UVs, mgl64.Vec2{1, float64(i) / float64(n)})
	}
	if n > 0 {
		s.Positions[n] = s.Positions[0] // exactly closed
	}
	for i := 0; i < n; i++ {
		c := int32(len(s.Positions))
		s.Positions = append(s.Positions, mgl64.Vec3{})
		s.UVs = append(s.UVs, mgl64.Vec2{0, (float64(i) + 0.5) / float64(n)})
		s.Indices = append(s.Indices, c, int32(i), int32(i+1))
	}
	return s
}

// shapeSphere returns the unit sphere about the origin as a latitude-
// longitude mesh of SphereSegments x SphereRings with smooth (exact)
// normals and Mitsuba's uv = (phi / 2pi, theta / pi), theta measured from
// +z and phi from +x towards +y. Each pole is one vertex per segment (its
// u at the segment's middle), so no triangle is degenerate.
func shapeSphere() *render.Shape {
	nu, nv := SphereSegments, SphereRings
	s := &render.Shape{}
	add := func(p mgl64.Vec3, uv mgl64.Vec2) int32 {
		s.Positions = append(s.Positions, p)
		s.Normals = append(s.Normals, p)
		s.UVs = append(s.UVs, uv)
		return int32(len(s.Positions) - 1)
	}
	north := make([]int32, nu)
	for i := range north {
		north[i] = add(mgl64.Vec3{0, 0, 1}, mgl64.Vec2{(float64(i) + 0.5) / float64(nu), 0})
	}
	ring := make([][]int32, nv+1) // rings 1 .. nv-1, nu+1 vertices (seam repeated)
	for j := 1; j < nv; j++ {
		theta := math.Pi * float64(j) / float64(nv)
		st, ct := math.Sin(theta), math.Cos(theta)
		ring[j] = make([]int32, nu+1)
		for i := 0; i <= nu; i++ {
			phi := 2 * math.Pi * float64(i) / float64(nu)
			if i == nu {
				phi = 0 // the seam: same position as i = 0, u = 1
			}
			ring[j][i] = add(mgl64.Vec3{st * math.Cos(phi), st * math.Sin(phi), ct}, mgl64.Vec2{float64(i) / float64(nu), float64(j) / float64(nv)})
		}
	}
	south := make([]int32, nu)
	for i := range south {
		south[i] = add(mgl64.Vec3{0, 0, -1}, mgl64.Vec2{(float64(i) + 0.5) / float64(nu), 1})
	}
	for i := 0; i < nu; i++ {
		// Counter-clockwise seen from outside: increasing theta (south)
		// then increasing phi (east) is a right-handed turn about the
		// outward normal.
		s.Indices = append(s.Indices, north[i], ring[1][i], ring[1][i+1])
		for j := 1; j < nv-1; j++ {
			a, b := ring[j][i], ring[j][i+1]
			c, d := ring[j+1][i], ring[j+1][i+1]
			s.Indices = append(s.Indices, a, c, b, b, c, d)
		}
		s.Indices = append(s.Indices, ring[nv-1][i], south[i], ring[nv-1][i+1])
	}
	return s
}

// shapeCylinder returns the open unit cylinder of radius 1 around the z
// axis from z = 0 to 1, normals pointing outwards, with Mitsuba's
// uv = (phi / 2pi, z).
func shapeCylinder() *render.Shape {
	n := CylinderSegments
	s := &render.Shape{}
	for z := 0; z <= 1; z++ {
		for i := 0; i <= n; i++ {
			phi := 2 * math.Pi * float64(i) / float64(n)
			if i == n {
				phi = 0
			}
			c, sn := math.Cos(phi), math.Sin(phi)
			s.Positions = append(s.Positions, mgl64.Vec3{c, sn, float64(z)})
			s.Normals = append(s.Normals, mgl64.Vec3{c, sn, 0})
			s.UVs = append(s.UVs, mgl64.Vec2{float64(i) / float64(n), float64(z)})
		}
	}
	top := int32(n + 1)
	for i := int32(0); i < int32(n); i++ {
		s.Indices = append(s.Indices, i, i+1, top+i+1, i, top+i+1, top+i)
	}
	return s
}

// shapeFlipWinding reverses the winding of every triangle, which turns its
// geometric normal (and the side an area emitter emits from) around.
func shapeFlipWinding(s *render.Shape) {
	for t := 0; t+2 < len(s.Indices); t += 3 {
		s.Indices[t+1], s.Indices[t+2] = s.Indices[t+2], s.Indices[t+1]
	}
}

// shapeSmoothNormals sets vertex normals to the angle-weighted mean of the
// normals of the triangles around each vertex (Thürmer and Wüthrich,
// "Computing Vertex Normals from Polygonal Facets", JGT 3(1), 1998), as
// Mitsuba does for meshes stored without normals. Degenerate triangles
// contribute nothing; a vertex left with a zero normal is repaired by
// validateMesh.
func shapeSmoothNormals(s *render.Shape) {
	acc := make([]mgl64.Vec3, len(s.Positions))
	for t := 0; t+2 < len(s.Indices); t += 3 {
		idx := [3]int32{s.Indices[t], s.Indices[t+1], s.Indices[t+2]}
		p := [3]mgl64.Vec3{s.Positions[idx[0]], s.Positions[idx[1]], s.Positions[idx[2]]}
		n := p[1].Sub(p[0]).Cross(p[2].Sub(p[0]))
		ln := n.Len()
		if ln == 0 || math.IsNaN(ln) || math.IsInf(ln, 0) {
			continue
		}
		n = n.Mul(1 / ln)
		for j := 0; j < 3; j++ {
			d0 := p[(j+1)%3].Sub(p[j])
			d1 := p[(j+2)%3].Sub(p[j])
			l0, l1 := d0.Len(), d1.Len()
			if l0 == 0 || l1 == 0 {
				continue
			}
			c := d0.Dot(d1) / (l0 * l1)
			angle := math.Acos(math.Max(-1, math.Min(1, c)))
			if math.IsNaN(angle) {
				continue
			}
			acc[idx[j]] = acc[idx[j]].Add(n.Mul(angle))
		}
	}
	s.Normals = acc
}

// shapeTransform applies the affine object-to-world matrix m: positions by
// m, normals by its inverse transpose, and, when m mirrors space, reversed
// winding so that the front side stays on the side the normals point to.
func shapeTransform(s *render.Shape, m mgl64.Mat4) error {
	if m == mgl64.Ident4() {
		return nil
	}
	if m[3] != 0 || m[7] != 0 || m[11] != 0 || m[15] != 1 {
		return errors.New("to_world is projective; a shape's transform must be affine")
	}
	t, err := geom.NewTransform(m)
	if err != nil {
		return fmt.Errorf("to_world is singular (a zero scale?): %w", err)
	}
	for i, p := range s.Positions {
		s.Positions[i] = t.Point(p)
	}
	for i, n := range s.Normals {
		s.Normals[i] = t.Normal(n)
	}
	if t.FlipsHandedness() {
		shapeFlipWinding(s)
	}
	return nil
}

// buildShape builds a <shape> and appends it (with its material) to the
// scene.
func (l *loader) buildShape(n *xnode) error {
	l.checkAttrs(n, "type", "id", "name")
	typ, err := requireAttr(n, "type")
	if err != nil {
		return err
	}
	p, err := l.props(n)
	if err != nil {
		return err
	}
	toWorld, _, err := p.transform("to_world")
	if err != nil {
		return err
	}
	var s *render.Shape
	builtin := true
	switch typ {
	case "obj", "ply":
		builtin = false
		q := p.get("filename")
		if q == nil {
			return n.errf("missing parameter filename")
		}
		if q.kind != pkString {
			return p.typeErr(q, "a string")
		}
		path := l.resolve(q.node, q.str)
		if typ == "obj" {
			s, err = LoadOBJ(path)
		} else {
			s, err = LoadPLY(path)
		}
		if err != nil {
			return n.wrapErr("", err)
		}
		// OBJ texture coordinates come flipped (v = 1 - v) from LoadOBJ,
		// Mitsuba's default for OBJ; PLY ones come as stored, Mitsuba's
		// default for PLY.
		flip, err := p.bool("flip_tex_coords", typ == "obj")
		if err != nil {
			return err
		}
		if flip != (typ == "obj") {
			for i := range s.UVs {
				s.UVs[i][1] = 1 - s.UVs[i][1]
			}
		}
		p.ignore("meshes are used as stored", "max_smooth_angle", "collapse", "srgb", "shape_index", "mesh_attributes")
	case "rectangle":
		s = shapeRectangle()
	case "cube":
		s = shapeCube()
	case "disk":
		s = shapeDisk()
	case "sphere":
		s = shapeSphere()
		center, err := p.vector("center", mgl64.Vec3{})
		if err != nil {
			return err
		}
		radius, err := p.float("radius", 1)
		if err != nil {
			return err
		}
		if !(radius > 0) {
			return p.valueErr(p.get("radius"), "radius %g is not positive", radius)
		}
		toWorld = toWorld.Mul4(mgl64.Translate3D(center[0], center[1], center[2])).Mul4(mgl64.Scale3D(radius, radius, radius))
	case "cylinder":
		s = shapeCylinder()
		p0, err := p.vector("p0", mgl64.Vec3{0, 0, 0})
		if err != nil {
			return err
		}
		p1, err := p.vector("p1", mgl64.Vec3{0, 0, 1})
		if err != nil {
			return err
		}
		radius, err := p.float("radius", 1)
		if err != nil {
			return err
		}
		d := p1.Sub(p0)
		length := d.Len()
		if !(radius > 0) || length == 0 {
			return n.errf("a cylinder needs a positive radius (%g) and distinct p0 and p1", radius)
		}
		dn := d.Mul(1 / length)
		u, v := mtsCoordinateSystem(dn)
		frame := mgl64.Mat4{
			u[0] * radius, u[1] * radius, u[2] * radius, 0,
			v[0] * radius, v[1] * radius, v[2] * radius, 0,
			d[0], d[1], d[2], 0,
			p0[0], p0[1], p0[2], 1,
		}
		toWorld = toWorld.Mul4(frame)
	case "serialized", "shapegroup", "instance", "hair", "heightfield", "bsplinecurve", "linearcurve", "sdfgrid", "ellipsoids", "ellipsoidsmesh", "merge":
		return n.errf("shape type %q is not supported (obj, ply, rectangle, cube, disk, sphere, cylinder)", typ)
	default:
		return n.errf("unknown shape type %q (obj, ply, rectangle, cube, disk, sphere, cylinder)", typ)
	}
	faceNormals, err := p.bool("face_normals", false)
	if err != nil {
		return err
	}
	flipNormals, err := p.bool("flip_normals", false)
	if err != nil {
		return err
	}
	if err := shapeTransform(s, toWorld); err != nil {
		q := p.get("to_world")
		if q != nil {
			return q.node.errf("%v", err)
		}
		return n.errf("%v", err)
	}
	smoothed := false
	if faceNormals {
		s.Normals = nil
	} else if !builtin && s.Normals == nil {
		// As Mitsuba, a mesh without normals is shaded smoothly unless
		// face_normals asks otherwise.
		shapeSmoothNormals(s)
		smoothed = true
	}
	if flipNormals {
		shapeFlipWinding(s)
		for i, v := range s.Normals {
			s.Normals[i] = v.Mul(-1)
		}
	}
	if builtin || smoothed || toWorld != mgl64.Ident4() {
		if _, err := validateMesh(n.file, s); err != nil {
			return n.wrapErr("", err)
		}
	}

	// Material and emitter.
	var bsdf, emitter *xobj
	for i := range p.objs {
		o := &p.objs[i]
		switch o.obj.tag {
		case "bsdf":
			if bsdf != nil {
				return o.at.errf("a shape has one bsdf (the first is on line %d)", bsdf.at.line)
			}
			bsdf = o
		case "emitter":
			if emitter != nil {
				return o.at.errf("a shape has one emitter (the first is on line %d)", emitter.at.line)
			}
			emitter = o
		case "medium":
			return o.at.errf("participating media are not supported")
		case "texture":
			return o.at.errf("a nested <texture> needs a name attribute saying which parameter it sets")
		default:
			return o.at.errf("%s cannot be nested in a shape", o.obj.describe())
		}
	}
	for _, q := range p.list {
		if q.kind != pkObject || q.used {
			continue
		}
		switch {
		case (q.name == "bsdf" && q.obj.tag != "bsdf") || (q.name == "emitter" && q.obj.tag != "emitter"):
			return p.typeErr(q, "a <"+q.name+">")
		case q.obj.tag == "bsdf" && bsdf == nil:
			q.used = true
			bsdf = &xobj{obj: q.obj, at: q.node}
		case q.obj.tag == "emitter" && emitter == nil:
			q.used = true
			emitter = &xobj{obj: q.obj, at: q.node}
		case q.obj.tag == "medium":
			return q.node.errf("participating media are not supported")
		}
	}
	if bsdf != nil {
		m, err := l.buildBSDF(bsdf.obj)
		if err != nil {
			return err
		}
		s.Material = l.addMaterial(m)
	} else {
		m := &render.Material{Kind: render.Diffuse, Reflectance: render.ConstScalar(0.5)}
		s.Material = l.addMaterial(m)
	}
	if emitter != nil {
		e, err := l.buildAreaEmitter(emitter.obj)
		if err != nil {
			return err
		}
		s.Emitter = e
	}
	p.finish()

	if id, ok := n.attr("id"); ok {
		s.Name = id
	} else {
		s.Name = l.uniqueName("shape", len(l.scene.Shapes))
	}
	l.scene.Shapes = append(l.scene.Shapes, s)
	return nil
}

// addMaterial returns m's index in the scene, adding it (and naming it
// bsdf_<index> if anonymous) on first use.
func (l *loader) addMaterial(m *render.Material) int {
	if i, ok := l.matIndex[m]; ok {
		return i
	}
	i := len(l.scene.Materials)
	if m.Name == "" {
		m.Name = l.uniqueName("bsdf", i)
	}
	l.scene.Materials = append(l.scene.Materials, m)
	l.matIndex[m] = i
	return i
}

// buildAreaEmitter reads the <emitter type="area"> of a shape.
func (l *loader) buildAreaEmitter(n *xnode) (*render.AreaEmitter, error) {
	l.checkAttrs(n, "type", "id", "name")
	typ, err := requireAttr(n, "type")
	if err != nil {
		return nil, err
	}
	if typ != "area" {
		return nil, n.errf("an emitter inside a shape must be of type \"area\", not %q", typ)
	}
	p, err := l.props(n)
	if err != nil {
		return nil, err
	}
	if len(p.objs) > 0 {
		return nil, p.objs[0].at.errf("%s cannot be nested in an emitter", p.objs[0].obj.describe())
	}
	c, q, err := p.color("radiance", mgl64.Vec3{1, 1, 1})
	if err != nil {
		return nil, err
	}
	if err := l.checkEmission(p, q, c); err != nil {
		return nil, err
	}
	p.ignore("lights are sampled by power", "sampling_weight")
	p.finish()
	return &render.AreaEmitter{Radiance: c}, nil
}
