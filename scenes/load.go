package scenes

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/geom"
	"github.com/invrender/invrender/render"
)

// LoadOptions configures the Mitsuba XML loader.
type LoadOptions struct {
	// Defines sets $name variables, overriding the scene's <default>s as
	// Mitsuba's -D name=value does. Names are letters, digits and _.
	Defines map[string]string
	// Warn, if set, receives each warning as it is found. Warnings are
	// also collected in Scene.Warnings.
	Warn func(msg string)
}

// LoadOption sets a field of LoadOptions (see LoadFile).
type LoadOption func(*LoadOptions)

// WithDefine sets the variable $name to value, as Mitsuba's -D name=value.
func WithDefine(name, value string) LoadOption {
	return func(o *LoadOptions) {
		if o.Defines == nil {
			o.Defines = map[string]string{}
		}
		o.Defines[name] = value
	}
}

// WithDefines sets several variables (see WithDefine).
func WithDefines(defs map[string]string) LoadOption {
	return func(o *LoadOptions) {
		if o.Defines == nil {
			o.Defines = map[string]string{}
		}
		for k, v := range defs {
			o.Defines[k] = v
		}
	}
}

// WithWarn makes the loader call f with each warning as it is found.
func WithWarn(f func(msg string)) LoadOption {
	return func(o *LoadOptions) { o.Warn = f }
}

// LoadFile reads the Mitsuba XML scene at path with the given options, for
// example
//
//	s, err := scenes.LoadFile("cbox.xml", scenes.WithDefine("spp", "64"))
//
// It returns a scene ready for render.Scene.Build, or an error (wrapping a
// *ParseError) that names the file, the line, the element and what was
// expected. What the scene asks for but the renderer cannot honour exactly
// is listed in Scene.Warnings, each naming the file, line and element.
//
// # Spellings and structure
//
// Mitsuba 0.6 and Mitsuba 3 files are both read, whatever their version
// attribute says: parameter names are compared after Mitsuba 3's own
// upgrade of 0.x files (an upper-case letter after a lower-case one starts
// a snake_case word), so toWorld and to_world, sampleCount and
// sample_count, intIOR and int_ior are the same parameter (giving both is
// an error). Values are <float>, <integer>, <boolean>, <string>, <rgb>,
// <srgb> (decoded to linear), <spectrum> (a constant; a wavelength:value
// list is reduced to its mean with a warning), <point>, <vector> and
// <transform>. $name and ${name} in any attribute are replaced by
// <default name value> (from where it appears on) or by Defines, which win;
// an undefined name is an error. <include filename> splices in another
// scene file (relative to the including file; cycles are errors), <ref id>
// (with or without a name) uses an object declared anywhere with that id,
// <alias id as> gives it a second id, <path value> adds a directory for
// relative file names, which otherwise resolve from the naming file's
// directory and then the scene's.
//
// Transforms compose <translate> (x, y, z or value), <rotate> (axis as x,
// y, z or value; angle in degrees), <scale> (value, one or three numbers,
// or x, y, z), <matrix> (16 values, row-major, or 9 for the linear part)
// and <lookat> (origin, target, optional up) in document order, each
// pre-multiplying the result as in Mitsuba.
//
// # Objects
//
// Sensors: perspective (fov with fov_axis x, y, diagonal, smaller or
// larger, or a 35 mm-equivalent focal_length; near_clip, far_clip;
// to_world, decomposed into origin, target and up with a warning when it
// scales, shears or mirrors), thinlens as a pinhole with a warning. Several
// sensors are kept in document order; the first anonymous one is named
// "sensor". Films hdrfilm and ldrfilm (width, height, default 768x576;
// rfilter box, tent or gaussian, default gaussian of stddev 0.5 as
// Mitsuba), samplers of any Mitsuba type (sample_count, default 4; seed;
// the renderer always draws its own independent samples).
// Without a sensor, Mitsuba's default camera is added.
//
// Integrators: path and direct (max_depth default -1, rr_depth default 5,
// hide_emitters). Other integrators (volpath, prb, ...) become path with a
// warning, keeping their max_depth, rr_depth and hide_emitters; one that
// wraps another (aov) gives way to the nested one. Without one, path.
//
// BSDFs: diffuse (reflectance, default 0.5), plastic and roughplastic
// (diffuse_reflectance 0.5, specular_reflectance 1, alpha 0 or 0.1,
// int_ior 1.49, ext_ior 1.000277, nonlinear; indices as numbers or
// Mitsuba's names such as "bk7", "water", "polypropylene"), conductor and
// roughconductor (eta and k, or a material preset: Ag, Al, Au, Cr, Cu,
// Ni_palik, none; without either a perfect mirror, as Mitsuba 3; ext_eta;
// specular_reflectance; alpha 0 or 0.1), and twosided around one bsdf (the
// result takes the twosided's id). Rough BSDFs are GGX: another
// distribution (including Beckmann, Mitsuba's default when none is given)
// warns. Colours and roughness may be <texture type="bitmap"> (filename,
// raw, wrap_mode repeat, mirror or clamp, filter_type bilinear or nearest,
// 0.6's uscale and vscale or Mitsuba 3's to_uv scale) or checkerboard.
// Materials are named by their id, anonymous ones "bsdf_<index>"; a shape
// without a bsdf gets its own diffuse 0.5, as in Mitsuba.
//
// Shapes: obj and ply (filename; flip_tex_coords), and Mitsuba's built-in
// rectangle, cube, disk, sphere (center, radius) and cylinder (p0, p1,
// radius), tessellated as SphereSegments x SphereRings, DiskSegments and
// CylinderSegments say. Each takes to_world (normals by the inverse
// transpose; a mirroring transform reverses the winding so that the front
// stays in front), face_normals (drop vertex normals; a mesh without
// normals otherwise gets Mitsuba's angle-weighted smooth ones),
// flip_normals (reverse the winding and negate the normals, so a one-sided
// area emitter turns around too), a bsdf and an area emitter (radiance).
// Shapes are named by their id, anonymous ones "shape_<index>".
//
// Emitters: point (position or to_world; intensity), directional
// (direction or to_world; irradiance), constant (radiance) and envmap
// (filename, scale, to_world of which only the rotation is used); one
// environment at most.
//
// # Errors and warnings
//
// Errors: malformed XML, an unknown element, an unknown or unsupported
// plugin type (shape, bsdf, emitter, texture, sensor, film, rfilter,
// sampler), an unknown id, an undefined variable, a value that does not
// parse or has the wrong type for its parameter, a value out of range, a
// missing or unreadable file (the message gives the resolved path),
// participating media. Warnings: an unknown or misspelt parameter name
// (ignored), a parameter or setting the renderer cannot honour (ignored or
// approximated, the warning says how), unsupported integrators.
func LoadFile(path string, opts ...LoadOption) (*render.Scene, error) {
	var o LoadOptions
	for _, f := range opts {
		f(&o)
	}
	return LoadFileOpts(path, o)
}

// LoadFileOpts is LoadFile with the options as a struct.
func LoadFileOpts(path string, o LoadOptions) (*render.Scene, error) {
	l := newLoader(o)
	root, err := readXMLFile(path, l.warnRaw)
	if err != nil {
		return nil, err
	}
	return l.load(root, path)
}

// LoadReader reads a Mitsuba XML scene from r. name is the file name used in
// messages and dir the directory that relative file names (meshes,
// textures, includes) resolve from.
func LoadReader(r io.Reader, name, dir string, o LoadOptions) (*render.Scene, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, &ParseError{File: name, Err: err}
	}
	l := newLoader(o)
	root, err := parseXMLTree(data, name, dir, l.warnRaw)
	if err != nil {
		return nil, err
	}
	return l.load(root, filepath.Join(dir, filepath.Base(name)))
}

// loader builds a render.Scene from an expanded XML tree.
type loader struct {
	o        LoadOptions
	warnings []string
	scene    *render.Scene
	major    int // the scene's major version; 3 when not given

	ids       map[string]*xnode
	taken     map[string]bool // ids and generated names
	dirs      []string        // <path> search directories
	building  map[*xnode]bool // objects being built (cycle detection)
	mats      map[*xnode]*render.Material
	matIndex  map[*render.Material]int
	texs      map[*xnode]render.Texture
	images    map[imageKey]*render.Image
	envNode   *xnode
	integNode *xnode
	mainDir   string // the directory of the top-level scene file
	// sandbox, when set, is the only directory files may be read from
	// (the fuzz test sets it so that input cannot name /dev/zero).
	sandbox string
}

type imageKey struct {
	path string
	raw  bool
}

func newLoader(o LoadOptions) *loader {
	return &loader{
		o:        o,
		major:    3,
		ids:      map[string]*xnode{},
		taken:    map[string]bool{},
		building: map[*xnode]bool{},
		mats:     map[*xnode]*render.Material{},
		matIndex: map[*render.Material]int{},
		texs:     map[*xnode]render.Texture{},
		images:   map[imageKey]*render.Image{},
	}
}

// warnRaw records a warning that already names its place.
func (l *loader) warnRaw(msg string) {
	l.warnings = append(l.warnings, msg)
	if l.o.Warn != nil {
		l.o.Warn(msg)
	}
}

// warnAt records a warning at the element n.
func (l *loader) warnAt(n *xnode, format string, args ...any) {
	l.warnRaw(fmt.Sprintf("%s:%d: %s", n.file, n.line, fmt.Sprintf(format, args...)))
}

// uniqueName returns base_idx, made unique against every id and every name
// handed out before.
func (l *loader) uniqueName(base string, idx int) string {
	name := base + "_" + strconv.Itoa(idx)
	for k := 2; l.taken[name]; k++ {
		name = base + "_" + strconv.Itoa(idx) + "_" + strconv.Itoa(k)
	}
	l.taken[name] = true
	return name
}

// load expands root (the parsed file at path) and builds the scene.
func (l *loader) load(root *xnode, path string) (*render.Scene, error) {
	vars := map[string]string{}
	for k, v := range l.o.Defines {
		if !validVarName(k) {
			return nil, fmt.Errorf("scenes: invalid variable name %q in a define (use letters, digits and _)", k)
		}
		vars[k] = v
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	l.mainDir = filepath.Dir(path)
	exp := &xmlExpander{vars: vars, warn: l.warnRaw, includes: []string{abs}}
	if l.sandbox != "" {
		exp.resolve = l.sandboxed
	}
	if err := exp.substAttrs(root); err != nil {
		return nil, err
	}
	if err := exp.expand(root, 0); err != nil {
		return nil, err
	}
	l.checkAttrs(root, "version")
	if v, ok := root.attr("version"); ok {
		major, err := mtsParseVersion(v)
		if err != nil {
			return nil, root.errf("%v", err)
		}
		l.major = major
	} else {
		l.warnAt(root, "no version attribute: reading the scene as Mitsuba 3 would (version=\"3.0.0\")")
	}
	if err := l.collectIDs(root, 0); err != nil {
		return nil, err
	}
	for _, k := range root.kids {
		if k.tag != "alias" && k.tag != "path" {
			continue
		}
		if err := l.scenePragma(k); err != nil {
			return nil, err
		}
	}

	l.scene = &render.Scene{}
	if err := l.buildScene(root); err != nil {
		return nil, err
	}
	if err := l.defaults(root); err != nil {
		return nil, err
	}
	l.scene.Warnings = l.warnings
	return l.scene, nil
}

// mtsParseVersion parses "major.minor.patch" (fewer parts allowed) and
// returns the major version.
func mtsParseVersion(v string) (int, error) {
	parts := strings.Split(strings.TrimSpace(v), ".")
	if len(parts) > 3 {
		return 0, fmt.Errorf("cannot parse version %q (major.minor.patch expected)", v)
	}
	nums := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("cannot parse version %q (major.minor.patch expected)", v)
		}
		nums[i] = n
	}
	return nums[0], nil
}

// collectIDs records every plugin element with an id.
func (l *loader) collectIDs(n *xnode, depth int) error {
	for _, k := range n.kids {
		if pluginTags[k.tag] {
			if id, ok := k.attr("id"); ok {
				if id == "" {
					return k.errf("empty id")
				}
				if prev, dup := l.ids[id]; dup {
					return k.errf("id %q is already used by %s on line %d", id, prev.describe(), prev.line)
				}
				l.ids[id] = k
				l.taken[id] = true
			}
		}
		if err := l.collectIDs(k, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// scenePragma handles <alias> and <path>.
func (l *loader) scenePragma(k *xnode) error {
	switch k.tag {
	case "alias":
		l.checkAttrs(k, "id", "as")
		id, err := requireAttr(k, "id")
		if err != nil {
			return err
		}
		as, err := requireAttr(k, "as")
		if err != nil {
			return err
		}
		target, ok := l.ids[id]
		if !ok {
			return k.errf("unknown id %q: no object has it", id)
		}
		if prev, dup := l.ids[as]; dup {
			return k.errf("id %q is already used by %s on line %d", as, prev.describe(), prev.line)
		}
		l.ids[as] = target
		l.taken[as] = true
	case "path":
		l.checkAttrs(k, "value")
		v, err := requireAttr(k, "value")
		if err != nil {
			return err
		}
		if !filepath.IsAbs(v) {
			v = filepath.Join(k.dir, v)
		}
		l.dirs = append(l.dirs, v)
	}
	return nil
}

// resolve returns the path of a file named in element n: relative names
// resolve from n's file's directory, then from the top-level scene's
// directory, then from the <path> directories. When
// the file exists nowhere, it returns the first candidate, for the message.
func (l *loader) resolve(n *xnode, name string) string {
	if l.sandbox != "" {
		return l.sandboxed(n, name)
	}
	if filepath.IsAbs(name) {
		return name
	}
	first := filepath.Join(n.dir, name)
	if _, err := os.Stat(first); err == nil {
		return first
	}
	dirs := l.dirs
	if l.mainDir != n.dir {
		dirs = append([]string{l.mainDir}, dirs...)
	}
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return first
}

// sandboxed resolves name like resolve but only inside l.sandbox; other
// names resolve to a path that does not exist there.
func (l *loader) sandboxed(n *xnode, name string) string {
	p := filepath.Clean(filepath.Join(n.dir, name))
	if filepath.IsAbs(name) {
		p = filepath.Clean(name)
	}
	if rel, err := filepath.Rel(l.sandbox, p); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return filepath.Join(l.sandbox, "outside-the-sandbox")
	}
	return p
}

// buildScene builds the objects of the top level in document order.
func (l *loader) buildScene(root *xnode) error {
	for _, k := range root.kids {
		switch k.tag {
		case "alias", "path":
			// done
		case "sensor":
			s, err := l.buildSensor(k)
			if err != nil {
				return err
			}
			if id, ok := k.attr("id"); ok {
				s.Name = id
			} else {
				i := len(l.scene.Sensors)
				if i == 0 && !l.taken["sensor"] {
					s.Name = "sensor"
					l.taken["sensor"] = true
				} else {
					s.Name = l.uniqueName("sensor", i)
				}
			}
			l.scene.Sensors = append(l.scene.Sensors, s)
		case "integrator":
			if l.integNode != nil {
				return k.errf("only one integrator is allowed (the first is on line %d)", l.integNode.line)
			}
			l.integNode = k
			it, err := l.buildIntegrator(k, 0)
			if err != nil {
				return err
			}
			l.scene.Integrator = it
		case "shape":
			if err := l.buildShape(k); err != nil {
				return err
			}
		case "emitter":
			if err := l.buildEmitter(k); err != nil {
				return err
			}
		case "bsdf":
			// Built now so that its errors and warnings appear even when
			// no shape uses it; shapes refer to it by id.
			if _, ok := k.attr("id"); !ok {
				l.warnAt(k, "%s at the top level has no id, so nothing can use it", k.describe())
			}
			if _, err := l.buildBSDF(k); err != nil {
				return err
			}
		case "texture":
			if _, ok := k.attr("id"); !ok {
				l.warnAt(k, "%s at the top level has no id, so nothing can use it", k.describe())
			}
			if _, err := l.buildTexture(k); err != nil {
				return err
			}
		case "medium", "phase", "volume":
			return k.errf("participating media are not supported")
		case "film", "sampler", "rfilter":
			return k.errf("<%s> must be inside a <sensor>", k.tag)
		case "ref":
			return k.errf("<ref> at the top level has no effect; refer to objects from inside a shape or bsdf")
		default:
			if valueTags[k.tag] {
				l.warnAt(k, "%s directly inside <scene> is ignored", k.describe())
				continue
			}
			return k.errf("unknown element <%s>", k.tag)
		}
	}
	return nil
}

// defaults adds what Mitsuba adds to a scene that lacks it: a path tracer
// and a perspective camera that sees the whole scene.
func (l *loader) defaults(root *xnode) error {
	if l.integNode == nil {
		l.warnAt(root, "no integrator: using a path tracer (Mitsuba's default)")
		l.scene.Integrator = render.Integrator{Kind: render.PathIntegrator, MaxDepth: -1, RRDepth: 5}
	}
	if len(l.scene.Sensors) == 0 {
		l.warnAt(root, "no sensor: adding a perspective camera with a 45 degree field of view that sees the whole scene, as Mitsuba does")
		s := mtsDefaultSensor()
		s.Fov = 45
		box := geom.EmptyAABB()
		for _, sh := range l.scene.Shapes {
			for _, p := range sh.Positions {
				box = box.Extend(p)
			}
		}
		if !box.IsEmpty() {
			// Mitsuba's default camera (Scene::Scene in Mitsuba 3): looking
			// down +z from in front of the bounding box, far enough for its
			// largest extent to fill the view.
			c := box.Centroid()
			ext := box.Diagonal()
			m := math.Max(ext[0], math.Max(ext[1], ext[2]))
			dist := m / (2 * math.Tan(45*0.5*math.Pi/180))
			s.Origin = mgl64.Vec3{c[0], c[1], box.Min[2] - dist}
			if m > 0 {
				s.FarClip = m*5 + dist
				s.NearClip = dist / 100
			}
		}
		s.Target = s.Origin.Add(mgl64.Vec3{0, 0, 1})
		s.Name = "sensor"
		if l.taken["sensor"] {
			s.Name = l.uniqueName("sensor", 0)
		}
		l.scene.Sensors = append(l.scene.Sensors, s)
	}
	return nil
}

// mtsDefaultSensor returns a sensor with Mitsuba's defaults: at the origin
// looking down +z, 768x576 film with a Gaussian filter, 4 samples.
func mtsDefaultSensor() *render.Sensor {
	return &render.Sensor{
		Target:   mgl64.Vec3{0, 0, 1},
		Up:       mgl64.Vec3{0, 1, 0},
		Fov:      mtsFocalLengthFov(50),
		FovAxis:  render.FovDiagonal,
		NearClip: 0.01,
		FarClip:  10000,
		Width:    768,
		Height:   576,
		Filter:   render.Filter{Kind: render.FilterGaussian, Stddev: 0.5},
		SPP:      4,
	}
}

// mtsFocalLengthFov converts a 35 mm-equivalent focal length in mm to the
// diagonal field of view in degrees, as Mitsuba's parse_fov.
func mtsFocalLengthFov(f float64) float64 {
	return 2 * math.Atan(math.Sqrt(36*36+24*24)/(2*f)) * 180 / math.Pi
}

// buildSensor builds a <sensor>.
func (l *loader) buildSensor(n *xnode) (*render.Sensor, error) {
	l.checkAttrs(n, "type", "id", "name")
	typ, err := requireAttr(n, "type")
	if err != nil {
		return nil, err
	}
	switch typ {
	case "perspective":
	case "thinlens":
		l.warnAt(n, "sensor type \"thinlens\" is rendered as a pinhole \"perspective\" camera: no depth of field")
	case "orthographic", "telecentric", "spherical", "radiancemeter", "irradiancemeter", "fluencemeter", "batch", "distant", "perspective_rdist", "environment":
		return nil, n.errf("sensor type %q is not supported (only perspective)", typ)
	default:
		return nil, n.errf("unknown sensor type %q (only perspective is supported)", typ)
	}
	p, err := l.props(n)
	if err != nil {
		return nil, err
	}
	s := mtsDefaultSensor()

	// Field of view.
	if p.has("fov") && p.has("focal_length") {
		q := p.get("focal_length")
		return nil, q.node.errf("give either fov or focal_length, not both")
	}
	if q := p.get("fov"); q != nil {
		fov, err := p.float("fov", 0)
		if err != nil {
			return nil, err
		}
		if !(fov > 0 && fov < 180) {
			return nil, p.valueErr(q, "field of view %g is not in (0, 180) degrees", fov)
		}
		s.Fov = fov
		s.FovAxis = render.FovX
		axis, err := p.str("fov_axis", "x")
		if err != nil {
			return nil, err
		}
		switch strings.ToLower(axis) {
		case "x":
			s.FovAxis = render.FovX
		case "y":
			s.FovAxis = render.FovY
		case "diagonal":
			s.FovAxis = render.FovDiagonal
		case "smaller":
			s.FovAxis = render.FovSmaller
		case "larger":
			s.FovAxis = render.FovLarger
		default:
			q := p.get("fov_axis")
			return nil, p.valueErr(q, "unknown axis %q (x, y, diagonal, smaller or larger)", axis)
		}
	} else if q := p.get("focal_length"); q != nil {
		var f float64
		switch q.kind {
		case pkFloat, pkInt:
			f = q.num
		case pkString:
			v, err := mtsParseFloat(strings.TrimSuffix(strings.TrimSpace(q.str), "mm"))
			if err != nil {
				return nil, p.valueErr(q, "cannot parse %q (a length in mm such as \"50mm\")", q.str)
			}
			f = v
		default:
			return nil, p.typeErr(q, "a string such as \"50mm\"")
		}
		if !(f > 0) {
			return nil, p.valueErr(q, "focal length %g is not positive", f)
		}
		s.Fov, s.FovAxis = mtsFocalLengthFov(f), render.FovDiagonal
		if fa := p.get("fov_axis"); fa != nil {
			l.warnAt(fa.node, "fov_axis is ignored with focal_length (which gives the diagonal field of view)")
		}
	}
	if s.NearClip, err = p.float("near_clip", 0.01); err != nil {
		return nil, err
	}
	if s.FarClip, err = p.float("far_clip", 10000); err != nil {
		return nil, err
	}
	if !(s.NearClip > 0 && s.FarClip > s.NearClip) {
		return nil, n.errf("near_clip %g and far_clip %g must satisfy 0 < near_clip < far_clip", s.NearClip, s.FarClip)
	}
	m, tq, err := p.transform("to_world")
	if err != nil {
		return nil, err
	}
	var la *lookatOp
	if tq != nil {
		la = tq.lookat
	}
	origin, target, up, problem, err := mtsCameraFrame(m, la)
	if err != nil {
		return nil, tq.node.errf("%v", err)
	}
	if problem != "" {
		l.warnAt(tq.node, "the camera's to_world %s, which a camera given by origin, target and up cannot represent; it is dropped", problem)
	}
	s.Origin, s.Target, s.Up = origin, target, up

	if typ == "thinlens" {
		p.ignore("depth of field is not supported", "aperture_radius", "focus_distance")
	}
	p.accept("shutter_open", "shutter_close", "focus_distance")
	for _, name := range []string{"principal_point_offset_x", "principal_point_offset_y"} {
		if q := p.get(name); q != nil {
			if v, err := p.float(name, 0); err != nil {
				return nil, err
			} else if v != 0 {
				l.warnAt(q.node, "parameter %q is not supported: the image is not shifted", q.orig)
			}
		}
	}
	p.ignore("the renderer works in RGB", "srf")

	var film, sampler *xobj
	for i := range p.objs {
		o := &p.objs[i]
		switch o.obj.tag {
		case "film":
			if film != nil {
				return nil, o.at.errf("a sensor has one film (the first is on line %d)", film.obj.line)
			}
			film = o
		case "sampler":
			if sampler != nil {
				return nil, o.at.errf("a sensor has one sampler (the first is on line %d)", sampler.obj.line)
			}
			sampler = o
		case "medium":
			return nil, o.at.errf("participating media are not supported")
		default:
			return nil, o.at.errf("%s cannot be nested in a sensor", o.obj.describe())
		}
	}
	// Named objects (rare): <film name="film">.
	for _, q := range p.list {
		if q.kind == pkObject && !q.used {
			switch {
			case q.obj.tag == "film" && film == nil:
				q.used = true
				film = &xobj{obj: q.obj, at: q.node}
			case q.obj.tag == "sampler" && sampler == nil:
				q.used = true
				sampler = &xobj{obj: q.obj, at: q.node}
			}
		}
	}
	if film != nil {
		if err := l.buildFilm(film.obj, s); err != nil {
			return nil, err
		}
	}
	if sampler != nil {
		if err := l.buildSampler(sampler.obj, s); err != nil {
			return nil, err
		}
	}
	p.finish()
	return s, nil
}

// mtsCameraFrame decomposes a camera-to-world matrix into origin, target
// and up (origin = M(0,0,0), target = origin + M(0,0,1), up = M(0,1,0)).
// When the matrix ends with a <lookat> whose origin and direction it
// reproduces, the lookat's own target and up are kept. problem describes
// scale, shear or mirroring that the decomposition drops.
func mtsCameraFrame(m mgl64.Mat4, la *lookatOp) (origin, target, up mgl64.Vec3, problem string, err error) {
	if m[3] != 0 || m[7] != 0 || m[11] != 0 || m[15] != 1 {
		return origin, target, up, "", errors.New("the camera's to_world is projective")
	}
	left := mgl64.Vec3{m[0], m[1], m[2]}
	upv := mgl64.Vec3{m[4], m[5], m[6]}
	fwd := mgl64.Vec3{m[8], m[9], m[10]}
	origin = mgl64.Vec3{m[12], m[13], m[14]}
	if fwd.Len() == 0 || upv.Len() == 0 || upv.Cross(fwd).Len() < 1e-12*upv.Len()*fwd.Len() {
		return origin, target, up, "", errors.New("the camera's to_world is singular")
	}
	fn, un := fwd.Normalize(), upv.Normalize()
	// The target one unit ahead, or further where the origin is so far out
	// that one unit would be lost to rounding.
	dist := math.Max(1, 1e-6*math.Max(math.Abs(origin[0]), math.Max(math.Abs(origin[1]), math.Abs(origin[2]))))
	target = origin.Add(fn.Mul(dist))
	up = un
	if target == origin || !mtsFinite3(target) || !mtsFinite3(fn) || !mtsFinite3(un) {
		return origin, target, up, "", errors.New("the camera's to_world cannot be represented by an origin, a target and an up vector (too large?)")
	}

	const tol = 1e-6
	var issues []string
	det := mgl64.Mat3{left[0], left[1], left[2], upv[0], upv[1], upv[2], fwd[0], fwd[1], fwd[2]}.Det()
	if det < 0 {
		issues = append(issues, "mirrors the image (a negative scale)")
	}
	if math.Abs(left.Len()-1) > tol || math.Abs(upv.Len()-1) > tol || math.Abs(fwd.Len()-1) > tol {
		issues = append(issues, fmt.Sprintf("scales by (%.6g, %.6g, %.6g)", left.Len(), upv.Len(), fwd.Len()))
	}
	if ln := left.Len(); ln > 0 && (math.Abs(left.Dot(upv))/(ln*upv.Len()) > tol || math.Abs(left.Dot(fwd))/(ln*fwd.Len()) > tol || math.Abs(upv.Dot(fwd))/(upv.Len()*fwd.Len()) > tol) {
		issues = append(issues, "shears")
	}
	problem = strings.Join(issues, " and ")

	if la != nil && la.last {
		d := la.target.Sub(la.origin)
		scale := 1 + origin.Len()
		if origin.Sub(la.origin).Len() <= 1e-9*scale && d.Len() > 0 && d.Normalize().Sub(fn).Len() <= 1e-9 {
			target = la.target
			// Keep the user's up if it lies in the plane of the view
			// direction and the decomposed up, on the same side.
			if ul := la.up.Len(); ul > 0 && la.up.Dot(un) > 0 {
				ln := un.Cross(fn)
				if math.Abs(la.up.Dot(ln)) <= 1e-9*ul {
					up = la.up
				}
			}
		}
	}
	return origin, target, up, problem, nil
}

// mtsFinite3 reports whether v has no NaN or infinite component.
func mtsFinite3(v mgl64.Vec3) bool {
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

// buildFilm reads a <film> into s.
func (l *loader) buildFilm(n *xnode, s *render.Sensor) error {
	l.checkAttrs(n, "type", "id", "name")
	typ, err := requireAttr(n, "type")
	if err != nil {
		return err
	}
	switch typ {
	case "hdrfilm", "ldrfilm":
	case "specfilm", "mfilm", "tiledhdrfilm":
		return n.errf("film type %q is not supported (hdrfilm or ldrfilm)", typ)
	default:
		return n.errf("unknown film type %q (hdrfilm or ldrfilm)", typ)
	}
	p, err := l.props(n)
	if err != nil {
		return err
	}
	for _, dim := range []struct {
		name string
		dst  *int
		def  int
	}{{"width", &s.Width, 768}, {"height", &s.Height, 576}} {
		v, err := p.int(dim.name, dim.def)
		if err != nil {
			return err
		}
		if v < 1 || v > 1<<16 {
			q := p.get(dim.name)
			return p.valueErr(q, "%d is not in [1, 65536]", v)
		}
		*dim.dst = v
	}
	crop := false
	for _, name := range []string{"crop_offset_x", "crop_offset_y", "crop_width", "crop_height"} {
		if p.has(name) {
			crop = true
		}
	}
	if crop {
		p.ignore("cropping is not supported; the whole image is rendered", "crop_offset_x", "crop_offset_y", "crop_width", "crop_height")
	}
	// The output file's name chooses its format and precision; RGB(A) is
	// what is rendered.
	p.accept("file_format", "component_format", "banner", "attach_log", "high_quality_edges", "sample_border", "compensate")
	if pf, err := p.str("pixel_format", "rgb"); err != nil {
		return err
	} else if f := strings.ToLower(pf); f != "rgb" && f != "rgba" {
		l.warnAt(p.get("pixel_format").node, "pixel_format %q is not supported: the image is RGB", pf)
	}
	// ldrfilm: the renderer writes linear radiance, sRGB-encoded in 8-bit
	// formats, which is Mitsuba's default "gamma" tone mapping with gamma
	// -1 (sRGB) and exposure 0.
	if tm, err := p.str("tonemap_method", "gamma"); err != nil {
		return err
	} else if !strings.EqualFold(tm, "gamma") {
		l.warnAt(p.get("tonemap_method").node, "tonemap_method %q is not supported: the image is sRGB-encoded linear radiance", tm)
	}
	if g, err := p.float("gamma", -1); err != nil {
		return err
	} else if g != -1 && g != 2.2 {
		l.warnAt(p.get("gamma").node, "gamma %g is not supported: 8-bit images are sRGB-encoded", g)
	}
	if e, err := p.float("exposure", 0); err != nil {
		return err
	} else if e != 0 {
		l.warnAt(p.get("exposure").node, "exposure %g is not applied", e)
	}
	p.ignore("only the gamma tone mapping is supported", "key", "burn")

	var rf *xnode
	for _, o := range p.objs {
		if o.obj.tag != "rfilter" {
			return o.at.errf("%s cannot be nested in a film", o.obj.describe())
		}
		if rf != nil {
			return o.at.errf("a film has one rfilter (the first is on line %d)", rf.line)
		}
		rf = o.obj
	}
	for _, q := range p.list {
		if q.kind == pkObject && q.obj.tag == "rfilter" && rf == nil {
			q.used = true
			rf = q.obj
		}
	}
	if rf != nil {
		f, err := l.buildFilter(rf)
		if err != nil {
			return err
		}
		s.Filter = f
	}
	p.finish()
	return nil
}

// buildFilter reads an <rfilter>.
func (l *loader) buildFilter(n *xnode) (render.Filter, error) {
	l.checkAttrs(n, "type", "id", "name")
	typ, err := requireAttr(n, "type")
	if err != nil {
		return render.Filter{}, err
	}
	p, err := l.props(n)
	if err != nil {
		return render.Filter{}, err
	}
	var f render.Filter
	switch typ {
	case "box":
		f.Kind = render.FilterBox
		if f.Radius, err = p.float("radius", 0.5); err != nil {
			return f, err
		}
	case "tent":
		f.Kind = render.FilterTent
		if f.Radius, err = p.float("radius", 1); err != nil {
			return f, err
		}
	case "gaussian":
		f.Kind = render.FilterGaussian
		if f.Stddev, err = p.float("stddev", 0.5); err != nil {
			return f, err
		}
		if !(f.Stddev > 0) {
			return f, n.errf("stddev %g is not positive", f.Stddev)
		}
	case "mitchell", "catmullrom", "lanczos":
		l.warnAt(n, "rfilter %q is not supported: using a Gaussian of standard deviation 0.5", typ)
		p.accept("b", "c", "lobes", "radius")
		f = render.Filter{Kind: render.FilterGaussian, Stddev: 0.5}
	default:
		return f, n.errf("unknown rfilter type %q (box, tent or gaussian)", typ)
	}
	if f.Kind != render.FilterGaussian && !(f.Radius > 0 && f.Radius <= 64) {
		return f, n.errf("radius %g is not in (0, 64] pixels", f.Radius)
	}
	if len(p.objs) > 0 {
		return f, p.objs[0].at.errf("%s cannot be nested in an rfilter", p.objs[0].obj.describe())
	}
	p.finish()
	return f, nil
}

// buildSampler reads a <sampler> into s.
func (l *loader) buildSampler(n *xnode, s *render.Sensor) error {
	l.checkAttrs(n, "type", "id", "name")
	typ, err := requireAttr(n, "type")
	if err != nil {
		return err
	}
	switch typ {
	case "independent":
	case "stratified", "multijitter", "orthogonal", "ldsampler", "low_discrepancy", "halton", "sobol", "hammersley", "correlated", "ldsampler2":
		// The renderer draws its own hashed independent samples: the same
		// expected image, with other noise.
	default:
		return n.errf("unknown sampler type %q", typ)
	}
	p, err := l.props(n)
	if err != nil {
		return err
	}
	spp, err := p.int("sample_count", 4)
	if err != nil {
		return err
	}
	if spp < 1 || spp > 1<<30 {
		return p.valueErr(p.get("sample_count"), "%d is not in [1, 2^30]", spp)
	}
	s.SPP = spp
	seed, err := p.int("seed", 0)
	if err != nil {
		return err
	}
	if seed < 0 {
		return p.valueErr(p.get("seed"), "seed %d is negative", seed)
	}
	s.Seed = uint64(seed)
	p.accept("jitter", "dimension", "scramble", "depth", "pixel_samples", "randomize")
	if len(p.objs) > 0 {
		return p.objs[0].at.errf("%s cannot be nested in a sampler", p.objs[0].obj.describe())
	}
	p.finish()
	return nil
}

// buildIntegrator reads an <integrator>; integrators the renderer lacks
// become its path tracer with a warning, and wrappers (aov, moment, ...)
// give way to the integrator nested in them.
func (l *loader) buildIntegrator(n *xnode, depth int) (render.Integrator, error) {
	l.checkAttrs(n, "type", "id", "name")
	it := render.Integrator{Kind: render.PathIntegrator, MaxDepth: -1, RRDepth: 5}
	typ, err := requireAttr(n, "type")
	if err != nil {
		return it, err
	}
	p, err := l.props(n)
	if err != nil {
		return it, err
	}
	var nested []*xnode
	for _, o := range p.objs {
		if o.obj.tag != "integrator" {
			return it, o.at.errf("%s cannot be nested in an integrator", o.obj.describe())
		}
		nested = append(nested, o.obj)
	}
	for _, q := range p.list {
		if q.kind == pkObject && q.obj.tag == "integrator" {
			q.used = true
			nested = append(nested, q.obj)
		}
	}
	if len(nested) > 0 {
		if len(nested) > 1 {
			l.warnAt(nested[1], "integrator %q nests several integrators: only the first (line %d) is used", typ, nested[0].line)
		}
		l.warnAt(n, "integrator %q is not supported: rendering with the integrator nested in it (line %d)", typ, nested[0].line)
		p.accept("aovs")
		for _, q := range p.list {
			if !q.used {
				l.warnAt(q.node, "parameter %q of %s is ignored", q.orig, n.describe())
				q.used = true
			}
		}
		if depth >= maxXMLDepth {
			return it, n.errf("integrators nested too deep")
		}
		return l.buildIntegrator(nested[0], depth+1)
	}
	switch typ {
	case "path":
	case "direct", "direct_reparam":
		it.Kind = render.DirectIntegrator
		it.MaxDepth = 2
		if typ != "direct" {
			l.warnAt(n, "integrator %q is rendered as \"direct\"", typ)
		}
		if hide, err := p.bool("hide_emitters", false); err != nil {
			return it, err
		} else {
			it.HideEmitters = hide
		}
		p.accept("emitter_samples", "bsdf_samples", "shading_samples", "luminaire_samples", "strict_normals")
		p.finish()
		return it, nil
	default:
		l.warnAt(n, "integrator %q is not supported: using the path tracer (\"path\") with its max_depth, rr_depth and hide_emitters", typ)
	}
	if it.MaxDepth, err = p.int("max_depth", -1); err != nil {
		return it, err
	}
	if it.MaxDepth < -1 {
		return it, p.valueErr(p.get("max_depth"), "%d is below -1 (-1 means unbounded)", it.MaxDepth)
	}
	if it.RRDepth, err = p.int("rr_depth", 5); err != nil {
		return it, err
	}
	if it.RRDepth < 1 {
		return it, p.valueErr(p.get("rr_depth"), "%d is not positive", it.RRDepth)
	}
	if it.HideEmitters, err = p.bool("hide_emitters", false); err != nil {
		return it, err
	}
	p.accept("strict_normals", "samples_per_pass", "timeout")
	if typ != "path" {
		// Whatever else the unsupported integrator takes is moot.
		for _, q := range p.list {
			q.used = true
		}
	}
	p.finish()
	return it, nil
}

// buildEmitter builds a top-level <emitter>.
func (l *loader) buildEmitter(n *xnode) error {
	l.checkAttrs(n, "type", "id", "name")
	typ, err := requireAttr(n, "type")
	if err != nil {
		return err
	}
	id, hasID := n.attr("id")
	switch typ {
	case "point", "directional", "constant", "envmap":
	case "area":
		return n.errf("an area emitter must be nested in a <shape>")
	case "spot", "projector", "sunsky", "sky", "sun", "directionalarea", "collimated", "volumelight":
		return n.errf("emitter type %q is not supported (point, directional, constant, envmap, or area inside a shape)", typ)
	default:
		return n.errf("unknown emitter type %q", typ)
	}
	p, err := l.props(n)
	if err != nil {
		return err
	}
	if len(p.objs) > 0 {
		return p.objs[0].at.errf("%s cannot be nested in an emitter", p.objs[0].obj.describe())
	}
	p.ignore("lights are sampled by power", "sampling_weight")
	switch typ {
	case "point", "directional":
		lt := &render.Light{}
		m, tq, err := p.transform("to_world")
		if err != nil {
			return err
		}
		if typ == "point" {
			lt.Kind = render.PointLight
			c, q, err := p.color("intensity", mgl64.Vec3{1, 1, 1})
			if err != nil {
				return err
			}
			lt.Intensity = c
			if err := l.checkEmission(p, q, c); err != nil {
				return err
			}
			if q := p.get("position"); q != nil {
				if tq != nil {
					return q.node.errf("give either position or to_world, not both")
				}
				if lt.Position, err = p.vector("position", mgl64.Vec3{}); err != nil {
					return err
				}
			} else {
				lt.Position = mgl64.Vec3{m[12], m[13], m[14]}
			}
		} else {
			lt.Kind = render.DirectionalLight
			c, q, err := p.color("irradiance", mgl64.Vec3{1, 1, 1})
			if err != nil {
				return err
			}
			lt.Intensity = c
			if err := l.checkEmission(p, q, c); err != nil {
				return err
			}
			d := mgl64.Vec3{m[8], m[9], m[10]}
			if q := p.get("direction"); q != nil {
				if tq != nil {
					return q.node.errf("give either direction or to_world, not both")
				}
				if d, err = p.vector("direction", mgl64.Vec3{}); err != nil {
					return err
				}
			}
			if d.Len() == 0 {
				return n.errf("the light's direction is zero")
			}
			lt.Direction = d.Normalize()
		}
		if hasID {
			lt.Name = id
		} else {
			lt.Name = l.uniqueName("light", len(l.scene.Lights))
		}
		l.scene.Lights = append(l.scene.Lights, lt)
	case "constant", "envmap":
		if l.envNode != nil {
			return n.errf("only one environment emitter (constant or envmap) is allowed; the first is on line %d", l.envNode.line)
		}
		l.envNode = n
		env := &render.Environment{Scale: 1, ToWorld: mgl64.Ident3()}
		if typ == "constant" {
			c, q, err := p.color("radiance", mgl64.Vec3{1, 1, 1})
			if err != nil {
				return err
			}
			if err := l.checkEmission(p, q, c); err != nil {
				return err
			}
			env.Radiance = c
		} else {
			q := p.get("filename")
			if q == nil {
				return n.errf("missing parameter filename")
			}
			if q.kind != pkString {
				return p.typeErr(q, "a string")
			}
			path := l.resolve(q.node, q.str)
			img, err := l.image(path, false)
			if err != nil {
				return p.fileErr(q, err)
			}
			env.Image = img
			if env.Scale, err = p.float("scale", 1); err != nil {
				return err
			}
			if !(env.Scale >= 0) {
				return p.valueErr(p.get("scale"), "%g is negative", env.Scale)
			}
			m, tq, err := p.transform("to_world")
			if err != nil {
				return err
			}
			if tq != nil {
				r, problem := mtsRotationPart(m)
				if problem != "" {
					l.warnAt(tq.node, "the envmap's to_world %s; only its rotation is used", problem)
				}
				env.ToWorld = r
			}
			p.ignore("the bitmap is used as stored", "gamma", "cache")
			p.accept("mis_compensation")
		}
		if hasID {
			env.Name = id
		} else {
			env.Name = l.uniqueName("environment", 0)
		}
		l.scene.Env = env
	}
	p.finish()
	return nil
}

// checkEmission refuses negative emission and notes how constant spectra
// are read.
func (l *loader) checkEmission(p *xprops, q *xprop, c mgl64.Vec3) error {
	if q == nil {
		return nil
	}
	if c[0] < 0 || c[1] < 0 || c[2] < 0 {
		return p.valueErr(q, "emission (%g, %g, %g) is negative", c[0], c[1], c[2])
	}
	if q.spectrum && l.major >= 2 {
		l.warnAt(q.node, "a constant spectrum emits grey RGB; Mitsuba 3's RGB variants tint it to an equal-energy white (1.205, 0.948, 0.909) times the value")
	}
	return nil
}

// mtsRotationPart returns the rotation of an affine matrix's linear part
// (its polar decomposition when it is not a rotation) and a description of
// what was dropped.
func mtsRotationPart(m mgl64.Mat4) (mgl64.Mat3, string) {
	a := m.Mat3()
	var issues []string
	if m[3] != 0 || m[7] != 0 || m[11] != 0 || m[15] != 1 {
		issues = append(issues, "is projective")
	}
	// Orthonormalise by Gram-Schmidt on the columns; report scale/shear.
	c0 := mgl64.Vec3{a[0], a[1], a[2]}
	c1 := mgl64.Vec3{a[3], a[4], a[5]}
	c2 := mgl64.Vec3{a[6], a[7], a[8]}
	const tol = 1e-6
	if math.Abs(c0.Len()-1) > tol || math.Abs(c1.Len()-1) > tol || math.Abs(c2.Len()-1) > tol ||
		math.Abs(c0.Dot(c1)) > tol || math.Abs(c0.Dot(c2)) > tol || math.Abs(c1.Dot(c2)) > tol {
		issues = append(issues, "scales or shears")
	}
	if a.Det() < 0 {
		issues = append(issues, "mirrors")
	}
	if len(issues) == 0 {
		return a, ""
	}
	if c0.Len() == 0 || c1.Len() == 0 {
		return mgl64.Ident3(), strings.Join(issues, " and ") + " (and is singular: identity used)"
	}
	e0 := c0.Normalize()
	e1 := c1.Sub(e0.Mul(e0.Dot(c1)))
	if e1.Len() < 1e-12 {
		return mgl64.Ident3(), strings.Join(issues, " and ") + " (and is singular: identity used)"
	}
	e1 = e1.Normalize()
	e2 := e0.Cross(e1)
	return mgl64.Mat3FromCols(e0, e1, e2), strings.Join(issues, " and ")
}

// image reads (once) the image at path.
func (l *loader) image(path string, raw bool) (*render.Image, error) {
	k := imageKey{path, raw}
	if im, ok := l.images[k]; ok {
		return im, nil
	}
	im, err := ReadImageOpts(path, ImageOptions{Raw: raw})
	if err != nil {
		if !strings.Contains(err.Error(), path) {
			err = fmt.Errorf("%s: %w", path, err)
		}
		return nil, err
	}
	l.images[k] = im
	return im, nil
}
