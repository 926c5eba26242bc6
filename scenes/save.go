package scenes

import (
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/internal/atomicfile"
	"github.com/invrender/invrender/render"
)

// SaveXML writes s as a Mitsuba 3 scene file at path (version 3.0.0 and
// Mitsuba 3's spellings), with its meshes and bitmaps as files next to it,
// so that LoadFile(path) gives the same scene back:
//
//   - every sensor as a perspective camera with a lookat transform (origin,
//     target, up as stored), fov and fov_axis, near_clip and far_clip, an
//     independent sampler (sample_count, seed) and an hdrfilm (width,
//     height, rfilter box, tent or gaussian);
//   - the integrator (path with max_depth, rr_depth and hide_emitters, or
//     direct);
//   - every material as a bsdf with the material's name as id: diffuse,
//     plastic or roughplastic, conductor or roughconductor (alpha > 0 or a
//     roughness texture gives the rough variant, with the GGX
//     distribution the renderer uses), inside a twosided bsdf when
//     TwoSided; colours as <rgb>, bitmaps as <texture type="bitmap">
//     reading an OpenEXR file NAME-MATERIAL-PARAMETER.exr (wrap mode,
//     nearest filtering and UV scale kept);
//   - every shape as a PLY mesh NAME-SHAPE.ply (WritePLY: binary doubles,
//     with its normals and UVs; face_normals when it has no normals, so
//     that the loader does not smooth it) referring to its bsdf, with its
//     area emitter;
//   - point and directional lights, and the environment as a constant
//     emitter or an envmap reading NAME-ENV.exr (scale and rotation kept).
//
// NAME is the XML file's base name without extension, and the other parts
// are the object names with characters other than letters, digits, '-',
// '_' and '.' replaced by '_'. Objects are written with ids named as
// package adjoint names their parameters (an anonymous shape i is
// shape_i, material i bsdf_i, ...), so parameter keys survive the round
// trip; a name that two objects share gets a suffix _2, _3, ... on the
// later ones. Every file is written atomically, the XML last, so that a
// reader never finds the XML before its meshes.
//
// What a load gives back: geometry, colours, indices of refraction,
// lights and camera settings exactly (numbers are written in the shortest
// form that reads back to the same float64, meshes as doubles); bitmap
// texels rounded to float32 (OpenEXR FLOAT); vertex normals normalised
// (the PLY reader normalises them); a constant environment's Scale
// folded into its radiance; a Gaussian filter's explicit Radius dropped
// (Mitsuba's gaussian has none); materials in the order shapes first use
// them, without those no shape uses (the loader's order).
func SaveXML(path string, s *render.Scene) error {
	if s == nil {
		return fmt.Errorf("scenes: save %s: nil scene", path)
	}
	w := &xmlSaver{
		dir:   filepath.Dir(path),
		base:  strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)),
		ids:   map[string]bool{},
		files: map[string]bool{},
		texes: map[*render.Image]string{},
	}
	if err := w.scene(s); err != nil {
		return fmt.Errorf("scenes: save %s: %w", path, err)
	}
	err := atomicfile.WriteFile(path, func(out io.Writer) error {
		_, err := io.WriteString(out, w.b.String())
		return err
	}, 0o644)
	if err != nil {
		return fmt.Errorf("scenes: save %s: %w", path, err)
	}
	return nil
}

// xmlSaver accumulates the XML text and writes the side files.
type xmlSaver struct {
	b      strings.Builder
	depth  int
	dir    string
	base   string
	ids    map[string]bool
	files  map[string]bool
	texes  map[*render.Image]string // bitmaps already written, by file name
	matIDs []string
}

// uniqueID returns name, or name_2, name_3, ... when taken.
func (w *xmlSaver) uniqueID(name string) string {
	id := name
	for k := 2; w.ids[id]; k++ {
		id = name + "_" + strconv.Itoa(k)
	}
	w.ids[id] = true
	return id
}

// fileName returns a new file name NAME-part.ext in the scene's directory
// (relative, as the XML refers to it).
func (w *xmlSaver) fileName(part, ext string) string {
	var sb strings.Builder
	for _, r := range part {
		if r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			sb.WriteRune(r)
		} else {
			sb.WriteByte('_')
		}
	}
	name := w.base + "-" + sb.String()
	f := name + ext
	for k := 2; w.files[f]; k++ {
		f = name + "_" + strconv.Itoa(k) + ext
	}
	w.files[f] = true
	return f
}

func (w *xmlSaver) line(format string, args ...any) {
	w.b.WriteString(strings.Repeat("\t", w.depth))
	fmt.Fprintf(&w.b, format, args...)
	w.b.WriteByte('\n')
}

func (w *xmlSaver) open(format string, args ...any) {
	w.line(format, args...)
	w.depth++
}

func (w *xmlSaver) close(tag string) {
	w.depth--
	w.line("</%s>", tag)
}

// saveAttr escapes an attribute value.
func saveAttr(s string) string {
	var sb strings.Builder
	xml.EscapeText(&sb, []byte(s))
	return sb.String()
}

// saveNum writes a float in the shortest form that reads back exactly.
func saveNum(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func saveVec(v mgl64.Vec3) string { return saveNum(v[0]) + ", " + saveNum(v[1]) + ", " + saveNum(v[2]) }

func (w *xmlSaver) float(name string, v float64) {
	w.line(`<float name="%s" value="%s"/>`, name, saveNum(v))
}

func (w *xmlSaver) integer(name string, v int) {
	w.line(`<integer name="%s" value="%d"/>`, name, v)
}

func (w *xmlSaver) boolean(name string, v bool) {
	w.line(`<boolean name="%s" value="%t"/>`, name, v)
}

func (w *xmlSaver) str(name, v string) {
	w.line(`<string name="%s" value="%s"/>`, name, saveAttr(v))
}

func (w *xmlSaver) rgb(name string, v mgl64.Vec3) {
	w.line(`<rgb name="%s" value="%s"/>`, name, saveVec(v))
}

// saveFinite3 reports whether v has no NaN or infinite component.
func saveFinite3(v mgl64.Vec3) bool {
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

func (w *xmlSaver) scene(s *render.Scene) error {
	w.line(`<?xml version="1.0" encoding="utf-8"?>`)
	w.open(`<scene version="3.0.0">`)
	if err := w.integrator(s.Integrator); err != nil {
		return err
	}
	for i, sn := range s.Sensors {
		if err := w.sensor(i, sn); err != nil {
			return err
		}
	}
	for i, m := range s.Materials {
		name := m.Name
		if name == "" {
			name = "bsdf_" + strconv.Itoa(i)
		}
		id := w.uniqueID(name)
		w.matIDs = append(w.matIDs, id)
		if err := w.bsdf(id, m); err != nil {
			return fmt.Errorf("material %d %q: %w", i, m.Name, err)
		}
	}
	for i, sh := range s.Shapes {
		if err := w.shape(i, sh); err != nil {
			return fmt.Errorf("shape %d %q: %w", i, sh.Name, err)
		}
	}
	for i, l := range s.Lights {
		if err := w.light(i, l); err != nil {
			return fmt.Errorf("light %d %q: %w", i, l.Name, err)
		}
	}
	if s.Env != nil {
		if err := w.env(s.Env); err != nil {
			return fmt.Errorf("environment %q: %w", s.Env.Name, err)
		}
	}
	w.close("scene")
	return nil
}

func (w *xmlSaver) integrator(it render.Integrator) error {
	if it.Kind == render.DirectIntegrator {
		w.open(`<integrator type="direct">`)
		w.boolean("hide_emitters", it.HideEmitters)
		w.close("integrator")
		return nil
	}
	if it.MaxDepth < -1 {
		return fmt.Errorf("integrator max depth %d is below -1", it.MaxDepth)
	}
	w.open(`<integrator type="path">`)
	w.integer("max_depth", it.MaxDepth)
	if it.RRDepth >= 1 {
		w.integer("rr_depth", it.RRDepth)
	}
	w.boolean("hide_emitters", it.HideEmitters)
	w.close("integrator")
	return nil
}

func (w *xmlSaver) sensor(i int, sn *render.Sensor) error {
	name := sn.Name
	if name == "" {
		name = "sensor"
		if i > 0 {
			name = "sensor" + strconv.Itoa(i)
		}
	}
	if !saveFinite3(sn.Origin) || !saveFinite3(sn.Target) || !saveFinite3(sn.Up) {
		return fmt.Errorf("sensor %q has a non-finite origin, target or up", name)
	}
	if !(sn.Fov > 0 && sn.Fov < 180) {
		return fmt.Errorf("sensor %q field of view %g is not in (0, 180) degrees", name, sn.Fov)
	}
	if sn.Width < 1 || sn.Height < 1 {
		return fmt.Errorf("sensor %q film %dx%d is empty", name, sn.Width, sn.Height)
	}
	if sn.Seed > math.MaxInt64 {
		return fmt.Errorf("sensor %q seed %d does not fit an <integer>", name, sn.Seed)
	}
	w.open(`<sensor type="perspective" id="%s">`, saveAttr(w.uniqueID(name)))
	w.str("fov_axis", sn.FovAxis.String())
	w.float("fov", sn.Fov)
	if sn.NearClip > 0 {
		w.float("near_clip", sn.NearClip)
	}
	if sn.FarClip > 0 {
		w.float("far_clip", sn.FarClip)
	}
	w.open(`<transform name="to_world">`)
	w.line(`<lookat origin="%s" target="%s" up="%s"/>`, saveVec(sn.Origin), saveVec(sn.Target), saveVec(sn.Up))
	w.close("transform")
	w.open(`<sampler type="independent">`)
	if sn.SPP > 0 {
		w.integer("sample_count", sn.SPP)
	}
	w.line(`<integer name="seed" value="%d"/>`, sn.Seed)
	w.close("sampler")
	w.open(`<film type="hdrfilm">`)
	w.integer("width", sn.Width)
	w.integer("height", sn.Height)
	f := sn.Filter
	switch f.Kind {
	case render.FilterBox, render.FilterTent:
		if f.Radius > 0 {
			w.open(`<rfilter type="%s">`, f.Kind)
			w.float("radius", f.Radius)
			w.close("rfilter")
		} else {
			w.line(`<rfilter type="%s"/>`, f.Kind)
		}
	case render.FilterGaussian:
		if f.Stddev > 0 {
			w.open(`<rfilter type="gaussian">`)
			w.float("stddev", f.Stddev)
			w.close("rfilter")
		} else {
			w.line(`<rfilter type="gaussian"/>`)
		}
	}
	w.close("film")
	w.close("sensor")
	return nil
}

// texture writes a colour parameter: an <rgb> for a constant, a bitmap
// texture reading an OpenEXR file otherwise. scalar writes a constant as
// a <float> of its first channel (roughness).
func (w *xmlSaver) texture(name, owner string, t *render.Texture, scalar bool) error {
	if t.Image == nil {
		if !saveFinite3(t.Value) {
			return fmt.Errorf("%s is not finite", name)
		}
		if scalar {
			w.float(name, t.Value[0])
		} else {
			w.rgb(name, t.Value)
		}
		return nil
	}
	file, ok := w.texes[t.Image]
	if !ok {
		file = w.fileName(owner+"-"+name, ".exr")
		if err := WriteImage(filepath.Join(w.dir, file), t.Image); err != nil {
			return err
		}
		w.texes[t.Image] = file
	}
	w.open(`<texture type="bitmap" name="%s">`, name)
	w.str("filename", file)
	w.str("wrap_mode", t.Wrap.String())
	if t.Nearest {
		w.str("filter_type", "nearest")
	}
	us, vs := t.UScale, t.VScale
	if us == 0 {
		us = 1
	}
	if vs == 0 {
		vs = 1
	}
	if us != 1 || vs != 1 {
		w.open(`<transform name="to_uv">`)
		w.line(`<scale x="%s" y="%s"/>`, saveNum(us), saveNum(vs))
		w.close("transform")
	}
	w.close("texture")
	return nil
}

func (w *xmlSaver) bsdf(id string, m *render.Material) error {
	if m.TwoSided {
		w.open(`<bsdf type="twosided" id="%s">`, saveAttr(id))
		if err := w.bsdfBody("", id, m); err != nil {
			return err
		}
		w.close("bsdf")
		return nil
	}
	return w.bsdfBody(id, id, m)
}

// bsdfBody writes the one-sided bsdf (with id when not empty); owner names
// its texture files.
func (w *xmlSaver) bsdfBody(id, owner string, m *render.Material) error {
	idAttr := ""
	if id != "" {
		idAttr = fmt.Sprintf(` id="%s"`, saveAttr(id))
	}
	rough := m.Alpha.Image != nil || m.Alpha.Value[0] > 0
	switch m.Kind {
	case render.Diffuse:
		w.open(`<bsdf type="diffuse"%s>`, idAttr)
		if err := w.texture("reflectance", owner, &m.Reflectance, false); err != nil {
			return err
		}
	case render.Plastic:
		typ := "plastic"
		if rough {
			typ = "roughplastic"
		}
		w.open(`<bsdf type="%s"%s>`, typ, idAttr)
		if err := w.texture("diffuse_reflectance", owner, &m.Reflectance, false); err != nil {
			return err
		}
		if err := w.texture("specular_reflectance", owner, &m.SpecularReflectance, false); err != nil {
			return err
		}
		if !(m.IntIOR > 0 && m.ExtIOR > 0) || m.IntIOR == m.ExtIOR {
			return fmt.Errorf("indices of refraction %g and %g must be positive and differ", m.IntIOR, m.ExtIOR)
		}
		w.float("int_ior", m.IntIOR)
		w.float("ext_ior", m.ExtIOR)
		w.boolean("nonlinear", m.Nonlinear)
		if rough {
			if err := w.texture("alpha", owner, &m.Alpha, true); err != nil {
				return err
			}
			w.str("distribution", "ggx")
		}
	case render.Conductor:
		typ := "conductor"
		if rough {
			typ = "roughconductor"
		}
		w.open(`<bsdf type="%s"%s>`, typ, idAttr)
		if !saveFinite3(m.Eta) || !saveFinite3(m.K) {
			return fmt.Errorf("eta %v or k %v is not finite", m.Eta, m.K)
		}
		w.rgb("eta", m.Eta)
		w.rgb("k", m.K)
		if err := w.texture("specular_reflectance", owner, &m.SpecularReflectance, false); err != nil {
			return err
		}
		if rough {
			if err := w.texture("alpha", owner, &m.Alpha, true); err != nil {
				return err
			}
			w.str("distribution", "ggx")
		}
	default:
		return fmt.Errorf("unknown material kind %d", m.Kind)
	}
	w.close("bsdf")
	return nil
}

func (w *xmlSaver) shape(i int, sh *render.Shape) error {
	name := sh.Name
	if name == "" {
		name = "shape_" + strconv.Itoa(i)
	}
	if sh.Material < 0 || sh.Material >= len(w.matIDs) {
		return fmt.Errorf("material index %d out of range [0, %d)", sh.Material, len(w.matIDs))
	}
	id := w.uniqueID(name)
	file := w.fileName(id, ".ply")
	err := atomicfile.WriteFile(filepath.Join(w.dir, file), func(out io.Writer) error {
		return WritePLY(out, sh)
	}, 0o644)
	if err != nil {
		return err
	}
	w.open(`<shape type="ply" id="%s">`, saveAttr(id))
	w.str("filename", file)
	if sh.Normals == nil {
		w.boolean("face_normals", true)
	}
	w.line(`<ref id="%s"/>`, saveAttr(w.matIDs[sh.Material]))
	if e := sh.Emitter; e != nil {
		if !saveFinite3(e.Radiance) {
			return fmt.Errorf("emitted radiance %v is not finite", e.Radiance)
		}
		w.open(`<emitter type="area">`)
		w.rgb("radiance", e.Radiance)
		w.close("emitter")
	}
	w.close("shape")
	return nil
}

func (w *xmlSaver) light(i int, l *render.Light) error {
	name := l.Name
	if name == "" {
		name = "light_" + strconv.Itoa(i)
	}
	if !saveFinite3(l.Position) || !saveFinite3(l.Direction) || !saveFinite3(l.Intensity) {
		return fmt.Errorf("a value is not finite")
	}
	id := saveAttr(w.uniqueID(name))
	switch l.Kind {
	case render.PointLight:
		w.open(`<emitter type="point" id="%s">`, id)
		w.line(`<point name="position" value="%s"/>`, saveVec(l.Position))
		w.rgb("intensity", l.Intensity)
	case render.DirectionalLight:
		if l.Direction.Len() == 0 {
			return fmt.Errorf("the direction is zero")
		}
		w.open(`<emitter type="directional" id="%s">`, id)
		w.line(`<vector name="direction" value="%s"/>`, saveVec(l.Direction))
		w.rgb("irradiance", l.Intensity)
	default:
		return fmt.Errorf("unknown light kind %d", l.Kind)
	}
	w.close("emitter")
	return nil
}

func (w *xmlSaver) env(e *render.Environment) error {
	name := e.Name
	if name == "" {
		name = "envmap"
	}
	id := w.uniqueID(name)
	scale := e.Scale
	if scale == 0 {
		scale = 1
	}
	if !(scale >= 0) || math.IsInf(scale, 0) {
		return fmt.Errorf("scale %g is not finite and non-negative", e.Scale)
	}
	if e.Image == nil {
		w.open(`<emitter type="constant" id="%s">`, saveAttr(id))
		w.rgb("radiance", e.Radiance.Mul(scale))
		w.close("emitter")
		return nil
	}
	file := w.fileName(id, ".exr")
	if err := WriteImage(filepath.Join(w.dir, file), e.Image); err != nil {
		return err
	}
	w.open(`<emitter type="envmap" id="%s">`, saveAttr(id))
	w.str("filename", file)
	w.float("scale", scale)
	r := e.ToWorld
	if r != (mgl64.Mat3{}) && r != mgl64.Ident3() {
		// Row-major 4x4, as <matrix> reads it; mgl64 is column-major.
		var vals []string
		for row := 0; row < 4; row++ {
			for col := 0; col < 4; col++ {
				v := 0.0
				switch {
				case row < 3 && col < 3:
					v = r[col*3+row]
				case row == 3 && col == 3:
					v = 1
				}
				vals = append(vals, saveNum(v))
			}
		}
		w.open(`<transform name="to_world">`)
		w.line(`<matrix value="%s"/>`, strings.Join(vals, " "))
		w.close("transform")
	}
	w.close("emitter")
	return nil
}
