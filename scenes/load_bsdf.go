package scenes

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/render"
)

// mtsIOR lists Mitsuba's named indices of refraction (Mitsuba 3,
// include/mitsuba/render/ior.h; values from Hecht, Optics, 4th ed., at
// about 589 nm). Names are matched case-insensitively.
var mtsIOR = map[string]float64{
	"vacuum":               1.0,
	"helium":               1.000036,
	"hydrogen":             1.000132,
	"air":                  1.000277,
	"carbon dioxide":       1.00045,
	"water":                1.3330,
	"acetone":              1.36,
	"ethanol":              1.361,
	"carbon tetrachloride": 1.461,
	"glycerol":             1.4729,
	"benzene":              1.501,
	"silicone oil":         1.52045,
	"bromine":              1.661,
	"water ice":            1.31,
	"fused quartz":         1.458,
	"pyrex":                1.470,
	"acrylic glass":        1.49,
	"polypropylene":        1.49,
	"bk7":                  1.5046,
	"sodium chloride":      1.544,
	"amber":                1.55,
	"pet":                  1.5750,
	"diamond":              2.419,
}

// mtsConductor is a conductor preset's complex index of refraction in
// linear sRGB.
type mtsConductor struct{ eta, k mgl64.Vec3 }

// mtsConductors are Mitsuba's conductor presets (the material parameter)
// as its RGB variants see them: the measured spectra of Mitsuba's
// data/ior/<name>.eta.spd and .k.spd (luxpop.com and Palik, Handbook of
// Optical Constants of Solids) integrated against the CIE 1931 curves and
// converted to linear sRGB exactly as Mitsuba 3's spectrum_list_to_srgb
// does (1000 samples over 360-830 nm, Y normalised). They agree with
// Mitsuba 3 (Ag: eta 0.155276, 0.116728, 0.138388) and with Mitsuba 0.6's
// RGB build (Au: eta 0.143119, 0.374957, 1.44248) to 1e-3. Mitsuba has no
// iron preset. Names are matched case-insensitively; "none" (eta 0, k 1)
// is a perfect mirror.
var mtsConductors = map[string]mtsConductor{
	"Ag":       {mgl64.Vec3{0.155276, 0.116728, 0.138388}, mgl64.Vec3{4.828355, 3.122222, 2.146901}},
	"Al":       {mgl64.Vec3{1.657501, 0.880405, 0.521244}, mgl64.Vec3{9.223811, 6.269502, 4.837004}},
	"Au":       {mgl64.Vec3{0.143036, 0.375307, 1.442045}, mgl64.Vec3{3.982997, 2.385556, 1.603359}},
	"Cr":       {mgl64.Vec3{4.369668, 2.916505, 1.654905}, mgl64.Vec3{5.206547, 4.231306, 3.754699}},
	"Cu":       {mgl64.Vec3{0.201006, 0.923749, 1.102215}, mgl64.Vec3{3.913262, 2.453045, 2.142090}},
	"Ni_palik": {mgl64.Vec3{2.367305, 1.663373, 1.467078}, mgl64.Vec3{4.498812, 3.050153, 2.345439}},
	"none":     {mgl64.Vec3{0, 0, 0}, mgl64.Vec3{1, 1, 1}},
}

// mtsLookupConductor finds a conductor preset by name, ignoring case.
func mtsLookupConductor(name string) (mtsConductor, bool) {
	for k, v := range mtsConductors {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return mtsConductor{}, false
}

func mtsConductorNames() string {
	var names []string
	for k := range mtsConductors {
		names = append(names, k)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func mtsIORNames() string {
	var names []string
	for k := range mtsIOR {
		names = append(names, fmt.Sprintf("%q", k))
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// ior returns an index of refraction given as a number or as one of
// Mitsuba's material names.
func (l *loader) ior(p *xprops, name string, def float64) (float64, error) {
	q := p.get(name)
	if q == nil {
		return def, nil
	}
	switch q.kind {
	case pkFloat, pkInt:
		if !(q.num > 0) {
			return 0, p.valueErr(q, "index of refraction %g is not positive", q.num)
		}
		return q.num, nil
	case pkString:
		v, ok := mtsIOR[strings.ToLower(strings.TrimSpace(q.str))]
		if !ok {
			return 0, p.valueErr(q, "unknown material %q; known: %s", q.str, mtsIORNames())
		}
		return v, nil
	}
	return 0, p.typeErr(q, "a float or a material name")
}

// texture returns a parameter that may be a constant (float, rgb, srgb,
// spectrum) or a <texture>.
func (l *loader) texture(p *xprops, name string, def mgl64.Vec3) (render.Texture, error) {
	q := p.get(name)
	if q == nil {
		return render.ConstTexture(def), nil
	}
	switch q.kind {
	case pkFloat, pkInt:
		return render.ConstScalar(q.num), nil
	case pkColor:
		return render.ConstTexture(q.vec), nil
	case pkObject:
		if q.obj.tag == "texture" {
			t, err := l.buildTexture(q.obj)
			if err != nil {
				return render.Texture{}, err
			}
			return t, nil
		}
	}
	return render.Texture{}, p.typeErr(q, "a color, float or texture")
}

// buildBSDF builds a <bsdf> once; the result is shared by every shape that
// refers to it.
func (l *loader) buildBSDF(n *xnode) (*render.Material, error) {
	if m, ok := l.mats[n]; ok {
		return m, nil
	}
	if l.building[n] {
		return nil, n.errf("refers to itself")
	}
	l.building[n] = true
	defer delete(l.building, n)

	l.checkAttrs(n, "type", "id", "name")
	typ, err := requireAttr(n, "type")
	if err != nil {
		return nil, err
	}
	p, err := l.props(n)
	if err != nil {
		return nil, err
	}
	id, _ := n.attr("id")
	m := &render.Material{Name: id}
	switch typ {
	case "diffuse":
		m.Kind = render.Diffuse
		name := "reflectance"
		if p.has("diffuse_reflectance") && !p.has("reflectance") {
			name = "diffuse_reflectance" // Mitsuba 0.6 accepts both
		}
		if m.Reflectance, err = l.texture(p, name, mgl64.Vec3{0.5, 0.5, 0.5}); err != nil {
			return nil, err
		}
	case "plastic", "roughplastic":
		m.Kind = render.Plastic
		if m.Reflectance, err = l.texture(p, "diffuse_reflectance", mgl64.Vec3{0.5, 0.5, 0.5}); err != nil {
			return nil, err
		}
		if m.SpecularReflectance, err = l.texture(p, "specular_reflectance", mgl64.Vec3{1, 1, 1}); err != nil {
			return nil, err
		}
		if m.IntIOR, err = l.ior(p, "int_ior", 1.49); err != nil {
			return nil, err
		}
		if m.ExtIOR, err = l.ior(p, "ext_ior", 1.000277); err != nil {
			return nil, err
		}
		if m.IntIOR == m.ExtIOR {
			return nil, n.errf("int_ior and ext_ior are both %g; they must differ", m.IntIOR)
		}
		if m.Nonlinear, err = p.bool("nonlinear", false); err != nil {
			return nil, err
		}
		if err := l.roughness(n, p, typ == "roughplastic", m); err != nil {
			return nil, err
		}
	case "conductor", "roughconductor":
		m.Kind = render.Conductor
		if err := l.conductor(n, p, m); err != nil {
			return nil, err
		}
		if m.SpecularReflectance, err = l.texture(p, "specular_reflectance", mgl64.Vec3{1, 1, 1}); err != nil {
			return nil, err
		}
		if err := l.roughness(n, p, typ == "roughconductor", m); err != nil {
			return nil, err
		}
	case "twosided":
		var inner []xobj
		for _, o := range p.objs {
			if o.obj.tag != "bsdf" {
				return nil, o.at.errf("%s cannot be nested in a twosided bsdf", o.obj.describe())
			}
			inner = append(inner, o)
		}
		for _, q := range p.list {
			if q.kind == pkObject && q.obj.tag == "bsdf" {
				q.used = true
				inner = append(inner, xobj{obj: q.obj, at: q.node})
			}
		}
		switch {
		case len(inner) == 0:
			return nil, n.errf("twosided needs a nested <bsdf> or <ref>")
		case len(inner) == 2 && inner[0].obj != inner[1].obj:
			return nil, inner[1].at.errf("a twosided bsdf with different front and back bsdfs is not supported")
		case len(inner) > 2:
			return nil, inner[2].at.errf("twosided takes one bsdf")
		}
		in, err := l.buildBSDF(inner[0].obj)
		if err != nil {
			return nil, err
		}
		if in.TwoSided {
			l.warnAt(inner[0].at, "twosided wraps a bsdf that is already two-sided")
		}
		*m = *in
		m.TwoSided = true
		m.Name = id
		p.objs = nil
	case "dielectric", "thindielectric", "roughdielectric", "mask", "bumpmap", "normalmap",
		"blendbsdf", "coating", "roughcoating", "pplastic", "principled", "principledthin",
		"hair", "measured", "polarizer", "retarder", "circular", "null", "phong", "ward",
		"difftrans", "irawan", "hk", "mixturebsdf", "dipole", "sssbrdf":
		return nil, n.errf("bsdf type %q is not supported (diffuse, plastic, roughplastic, conductor, roughconductor, twosided)", typ)
	default:
		return nil, n.errf("unknown bsdf type %q (diffuse, plastic, roughplastic, conductor, roughconductor, twosided)", typ)
	}
	for _, o := range p.objs {
		if o.obj.tag == "texture" {
			return nil, o.at.errf("a nested <texture> needs a name attribute saying which parameter it sets")
		}
		return nil, o.at.errf("%s cannot be nested in a %q bsdf", o.obj.describe(), typ)
	}
	p.finish()
	l.mats[n] = m
	return m, nil
}

// roughness reads alpha (or alpha_u/alpha_v) and distribution of a rough
// bsdf; smooth ones get Alpha 0.
func (l *loader) roughness(n *xnode, p *xprops, rough bool, m *render.Material) error {
	if !rough {
		m.Alpha = render.ConstScalar(0)
		return nil
	}
	var err error
	switch {
	case p.has("alpha_u") || p.has("alpha_v"):
		if p.has("alpha") {
			q := p.get("alpha")
			return q.node.errf("give either alpha or alpha_u and alpha_v, not both")
		}
		au, err := p.float("alpha_u", 0.1)
		if err != nil {
			return err
		}
		av, err := p.float("alpha_v", 0.1)
		if err != nil {
			return err
		}
		a := au
		if au != av {
			a = math.Sqrt(au * av)
			l.warnAt(n, "anisotropic roughness (alpha_u %g, alpha_v %g) is rendered isotropic with alpha %g", au, av, a)
		}
		m.Alpha = render.ConstScalar(a)
	default:
		if m.Alpha, err = l.texture(p, "alpha", mgl64.Vec3{0.1, 0.1, 0.1}); err != nil {
			return err
		}
	}
	if m.Alpha.IsConstant() {
		if a := m.Alpha.Value[0]; a < 0 {
			return n.errf("roughness alpha %g is negative", a)
		}
	}
	q := p.get("distribution")
	dist := "beckmann" // Mitsuba's default
	if q != nil {
		if q.kind != pkString {
			return p.typeErr(q, "a string")
		}
		dist = strings.ToLower(q.str)
	}
	switch dist {
	case "ggx":
	case "beckmann", "phong", "as":
		if q == nil {
			l.warnAt(n, "%s: Mitsuba's default microfacet distribution \"beckmann\" is rendered with GGX of the same alpha (say <string name=\"distribution\" value=\"ggx\"/> to avoid this warning)", n.describe())
		} else {
			l.warnAt(q.node, "%s: microfacet distribution %q is rendered with GGX of the same alpha", n.describe(), dist)
		}
	default:
		return p.valueErr(q, "unknown microfacet distribution %q (ggx or beckmann)", dist)
	}
	p.accept("sample_visible")
	return nil
}

// conductor reads eta and k (or a material preset) and ext_eta.
func (l *loader) conductor(n *xnode, p *xprops, m *render.Material) error {
	mat := "none"
	mq := p.get("material")
	if mq != nil {
		if mq.kind != pkString {
			return p.typeErr(mq, "a string")
		}
		mat = strings.TrimSpace(mq.str)
	}
	if p.has("eta") || p.has("k") || strings.EqualFold(mat, "none") {
		if mq != nil && !strings.EqualFold(mat, "none") {
			return mq.node.errf("give either material or eta and k, not both")
		}
		eta, _, err := p.color("eta", mgl64.Vec3{0, 0, 0})
		if err != nil {
			return err
		}
		k, _, err := p.color("k", mgl64.Vec3{1, 1, 1})
		if err != nil {
			return err
		}
		m.Eta, m.K = eta, k
		if mq == nil && !p.has("eta") && !p.has("k") && l.major < 2 {
			l.warnAt(n, "no material, eta or k: using Mitsuba 3's default, a perfect mirror (Mitsuba 0.6 used \"Cu\")")
		}
	} else {
		c, ok := mtsLookupConductor(mat)
		if !ok {
			return p.valueErr(mq, "unknown conductor material %q; known: %s", mat, mtsConductorNames())
		}
		m.Eta, m.K = c.eta, c.k
	}
	for i := 0; i < 3; i++ {
		if m.Eta[i] < 0 || m.K[i] < 0 {
			return n.errf("eta %v and k %v must not be negative", m.Eta, m.K)
		}
	}
	ext, err := l.ior(p, "ext_eta", 1)
	if err != nil {
		return err
	}
	// Store eta and k relative to the exterior, so that ExtIOR is 1.
	m.Eta, m.K = m.Eta.Mul(1/ext), m.K.Mul(1/ext)
	m.ExtIOR, m.IntIOR = 1, 1
	return nil
}

// buildTexture builds a <texture> once.
func (l *loader) buildTexture(n *xnode) (render.Texture, error) {
	if t, ok := l.texs[n]; ok {
		return t, nil
	}
	l.checkAttrs(n, "type", "id", "name")
	typ, err := requireAttr(n, "type")
	if err != nil {
		return render.Texture{}, err
	}
	p, err := l.props(n)
	if err != nil {
		return render.Texture{}, err
	}
	var t render.Texture
	switch typ {
	case "bitmap":
		t, err = l.bitmap(n, p)
	case "checkerboard":
		t, err = l.checkerboard(n, p)
	case "mesh_attribute", "volume", "gridtexture", "scale", "vertexcolors", "wireframe", "curvature", "blackbody", "d65", "srgb", "regular", "irregular", "uniform":
		return t, n.errf("texture type %q is not supported (bitmap or checkerboard)", typ)
	default:
		return t, n.errf("unknown texture type %q (bitmap or checkerboard)", typ)
	}
	if err != nil {
		return t, err
	}
	if len(p.objs) > 0 {
		return t, p.objs[0].at.errf("%s cannot be nested in a texture", p.objs[0].obj.describe())
	}
	p.finish()
	l.texs[n] = t
	return t, nil
}

// uvScale reads a texture's UV scaling: 0.6's uscale/vscale (and the
// unsupported uoffset/voffset) and Mitsuba 3's to_uv, of which only the
// scale can be honoured.
func (l *loader) uvScale(p *xprops, t *render.Texture) error {
	us, err := p.float("uscale", 1)
	if err != nil {
		return err
	}
	vs, err := p.float("vscale", 1)
	if err != nil {
		return err
	}
	for _, name := range []string{"uoffset", "voffset"} {
		if q := p.get(name); q != nil {
			v, err := p.float(name, 0)
			if err != nil {
				return err
			}
			if v != 0 {
				l.warnAt(q.node, "parameter %q is not supported: the texture is not shifted", q.orig)
			}
		}
	}
	m, tq, err := p.transform("to_uv")
	if err != nil {
		return err
	}
	if tq != nil {
		// The 2D part of the matrix: u' = m00 u + m01 v + m03, and so on.
		if m[4] != 0 || m[1] != 0 {
			l.warnAt(tq.node, "to_uv rotates or shears the texture, which is not supported: only its scale (%g, %g) is used", m[0], m[5])
		}
		if m[12] != 0 || m[13] != 0 || m[8] != 0 || m[9] != 0 {
			l.warnAt(tq.node, "to_uv shifts the texture, which is not supported: the offset is dropped")
		}
		us *= m[0]
		vs *= m[5]
	}
	if us == 0 || vs == 0 {
		return p.owner.errf("the texture's uv scale (%g, %g) is zero", us, vs)
	}
	t.UScale, t.VScale = us, vs
	return nil
}

// bitmap reads a bitmap texture.
func (l *loader) bitmap(n *xnode, p *xprops) (render.Texture, error) {
	var t render.Texture
	q := p.get("filename")
	if q == nil {
		return t, n.errf("missing parameter filename")
	}
	if q.kind != pkString {
		return t, p.typeErr(q, "a string")
	}
	raw, err := p.bool("raw", false)
	if err != nil {
		return t, err
	}
	if gq := p.get("gamma"); gq != nil {
		g, err := p.float("gamma", 0)
		if err != nil {
			return t, err
		}
		switch {
		case g == 1:
			raw = true
		case g == -1:
			raw = false
		default:
			l.warnAt(gq.node, "gamma %g is not supported: the file is decoded as sRGB (8-bit) or linear (float)", g)
		}
	}
	wrap := "repeat"
	var wq *xprop
	for _, name := range []string{"wrap_mode", "wrap_mode_u", "wrap_mode_v"} {
		q2 := p.get(name)
		if q2 == nil {
			continue
		}
		if q2.kind != pkString {
			return t, p.typeErr(q2, "a string")
		}
		if wq != nil && !strings.EqualFold(q2.str, wq.str) {
			return t, q2.node.errf("different wrap modes per axis (%q, %q) are not supported", wq.str, q2.str)
		}
		wq = q2
		wrap = strings.ToLower(q2.str)
	}
	switch wrap {
	case "repeat":
		t.Wrap = render.WrapRepeat
	case "mirror":
		t.Wrap = render.WrapMirror
	case "clamp":
		t.Wrap = render.WrapClamp
	case "zero", "one":
		l.warnAt(wq.node, "wrap mode %q is not supported: using clamp", wrap)
		t.Wrap = render.WrapClamp
	default:
		return t, p.valueErr(wq, "unknown wrap mode %q (repeat, mirror or clamp)", wrap)
	}
	filter, err := p.str("filter_type", "bilinear")
	if err != nil {
		return t, err
	}
	switch strings.ToLower(filter) {
	case "bilinear":
	case "nearest":
		t.Nearest = true
	case "ewa", "trilinear":
		l.warnAt(p.get("filter_type").node, "filter_type %q is not supported: using bilinear", filter)
	default:
		return t, p.valueErr(p.get("filter_type"), "unknown filter_type %q (bilinear or nearest)", filter)
	}
	p.ignore("textures are not filtered over the pixel footprint", "max_anisotropy")
	p.accept("cache", "accel")
	p.ignore("all three channels are used", "channel")
	if err := l.uvScale(p, &t); err != nil {
		return t, err
	}
	path := l.resolve(q.node, q.str)
	img, err := l.image(path, raw)
	if err != nil {
		return t, p.fileErr(q, err)
	}
	t.Image = img
	return t, nil
}

// checkerboard bakes Mitsuba's checkerboard (color0 where the integer
// parts of 2u and 2v have the same parity, else color1) into a 2x2 bitmap
// with nearest lookup and repeat wrapping, which is exact.
func (l *loader) checkerboard(n *xnode, p *xprops) (render.Texture, error) {
	var t render.Texture
	c0, _, err := p.color("color0", mgl64.Vec3{0.4, 0.4, 0.4})
	if err != nil {
		return t, err
	}
	c1, _, err := p.color("color1", mgl64.Vec3{0.2, 0.2, 0.2})
	if err != nil {
		return t, err
	}
	img := render.NewImage(2, 2)
	img.Set(0, 0, c0)
	img.Set(1, 1, c0)
	img.Set(1, 0, c1)
	img.Set(0, 1, c1)
	t.Image, t.Nearest, t.Wrap = img, true, render.WrapRepeat
	if err := l.uvScale(p, &t); err != nil {
		return t, err
	}
	return t, nil
}
