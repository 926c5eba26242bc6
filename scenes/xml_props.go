package scenes

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/geom"
)

// propKind is the type of a plugin parameter as the XML wrote it.
type propKind uint8

const (
	pkFloat propKind = iota
	pkInt
	pkBool
	pkString
	pkColor // rgb, srgb or spectrum
	pkVector
	pkTransform
	pkObject // a nested named plugin or a named <ref>
)

func (k propKind) String() string {
	return [...]string{"a float", "an integer", "a boolean", "a string", "a color", "a point or vector", "a transform", "an object"}[k]
}

// xprop is one named parameter of a plugin element.
type xprop struct {
	name string // canonical snake_case name
	orig string // the name as written
	kind propKind
	num  float64 // pkFloat, pkInt
	b    bool
	str  string
	vec  mgl64.Vec3 // pkColor, pkVector
	mat  mgl64.Mat4 // pkTransform
	// spectrum is set when a pkColor came from <spectrum>.
	spectrum bool
	// lookat holds the last <lookat> of a transform (pkTransform), for
	// sensors that want to keep the user's target and up.
	lookat *lookatOp
	node   *xnode // the element that holds the value (for lines)
	obj    *xnode // pkObject: the plugin element (a <ref> resolved)
	used   bool
}

// lookatOp is a <lookat> as written.
type lookatOp struct {
	origin, target, up mgl64.Vec3
	last               bool // no operation follows it
}

// xobj is an unnamed nested plugin (or unnamed <ref>) of an element: obj is
// the plugin element, at the element that put it there (the <ref> or obj).
type xobj struct {
	obj, at *xnode
}

// xprops holds the parameters and nested objects of one plugin element and
// hands them out by name, remembering which ones were used so that unknown
// or misspelt names can be reported.
type xprops struct {
	owner *xnode
	list  []*xprop
	objs  []xobj
	l     *loader
}

// mtsCanonical maps a parameter name to Mitsuba 3's snake_case spelling as
// Mitsuba's own upgrade of 0.x scenes does: an upper-case letter that
// follows a lower-case letter or a digit starts a new word ("toWorld" ->
// "to_world", "intIOR" -> "int_ior", "sampleCount" -> "sample_count").
func mtsCanonical(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'A' <= c && c <= 'Z' {
			if i > 0 {
				p := name[i-1]
				if ('a' <= p && p <= 'z') || ('0' <= p && p <= '9') {
					b.WriteByte('_')
				}
			}
			b.WriteByte(c + ('a' - 'A'))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// pluginTags are the elements that create objects.
var pluginTags = map[string]bool{
	"bsdf": true, "texture": true, "shape": true, "emitter": true, "sensor": true,
	"film": true, "sampler": true, "rfilter": true, "integrator": true,
	"medium": true, "phase": true, "volume": true,
}

// valueTags are the elements that hold a parameter value.
var valueTags = map[string]bool{
	"float": true, "integer": true, "boolean": true, "string": true,
	"rgb": true, "srgb": true, "spectrum": true, "blackbody": true,
	"point": true, "vector": true, "transform": true,
}

// props collects the parameters and nested objects of the plugin element n.
func (l *loader) props(n *xnode) (*xprops, error) {
	p := &xprops{owner: n, l: l}
	for _, k := range n.kids {
		switch {
		case valueTags[k.tag]:
			name, ok := k.attr("name")
			if !ok {
				return nil, k.errf("missing attribute name")
			}
			pr, err := l.parseValue(k)
			if err != nil {
				return nil, err
			}
			pr.name, pr.orig, pr.node = mtsCanonical(name), name, k
			if err := p.add(pr); err != nil {
				return nil, err
			}
		case k.tag == "ref":
			l.checkAttrs(k, "id", "name")
			id, ok := k.attr("id")
			if !ok {
				return nil, k.errf("missing attribute id")
			}
			target, ok := l.ids[id]
			if !ok {
				return nil, k.errf("unknown id %q: no object has it", id)
			}
			if name, ok := k.attr("name"); ok {
				if err := p.add(&xprop{name: mtsCanonical(name), orig: name, kind: pkObject, node: k, obj: target}); err != nil {
					return nil, err
				}
			} else {
				p.objs = append(p.objs, xobj{obj: target, at: k})
			}
		case pluginTags[k.tag]:
			if name, ok := k.attr("name"); ok {
				if err := p.add(&xprop{name: mtsCanonical(name), orig: name, kind: pkObject, node: k, obj: k}); err != nil {
					return nil, err
				}
			} else {
				p.objs = append(p.objs, xobj{obj: k, at: k})
			}
		case k.tag == "lookat" || k.tag == "translate" || k.tag == "rotate" || k.tag == "scale" || k.tag == "matrix":
			return nil, k.errf("a transform operation must be inside <transform>")
		case k.tag == "alias" || k.tag == "path":
			return nil, k.errf("<%s> is only allowed directly inside <scene>", k.tag)
		default:
			return nil, k.errf("unknown element <%s>", k.tag)
		}
	}
	return p, nil
}

func (p *xprops) add(pr *xprop) error {
	for _, q := range p.list {
		if q.name == pr.name {
			if q.orig == pr.orig {
				return pr.node.errf("parameter %q is given twice (first on line %d)", pr.orig, q.node.line)
			}
			return pr.node.errf("parameter %q is given twice, as %q (line %d) and %q", pr.name, q.orig, q.node.line, pr.orig)
		}
	}
	p.list = append(p.list, pr)
	return nil
}

// has reports whether the parameter is present (without using it).
func (p *xprops) has(name string) bool {
	for _, q := range p.list {
		if q.name == name {
			return true
		}
	}
	return false
}

// get returns the parameter and marks it used, or nil.
func (p *xprops) get(name string) *xprop {
	for _, q := range p.list {
		if q.name == name {
			q.used = true
			return q
		}
	}
	return nil
}

// typeErr reports a parameter of the wrong type.
func (p *xprops) typeErr(q *xprop, want string) error {
	got := q.kind.String()
	if q.kind == pkObject {
		got = "<" + q.obj.tag + ">"
	}
	return q.node.errf("parameter %q of %s must be %s, not %s", q.orig, p.owner.describe(), want, got)
}

// valueErr reports a parameter whose value is out of range.
func (p *xprops) valueErr(q *xprop, format string, args ...any) error {
	return q.node.errf("parameter %q of %s: %s", q.orig, p.owner.describe(), fmt.Sprintf(format, args...))
}

// float returns a float parameter (an integer is accepted) or def.
func (p *xprops) float(name string, def float64) (float64, error) {
	q := p.get(name)
	if q == nil {
		return def, nil
	}
	if q.kind != pkFloat && q.kind != pkInt {
		return 0, p.typeErr(q, "a float")
	}
	return q.num, nil
}

// int returns an integer parameter (a float with an integral value is
// accepted) or def.
func (p *xprops) int(name string, def int) (int, error) {
	q := p.get(name)
	if q == nil {
		return def, nil
	}
	if q.kind != pkFloat && q.kind != pkInt {
		return 0, p.typeErr(q, "an integer")
	}
	if q.num != math.Trunc(q.num) || math.Abs(q.num) > 1<<53 {
		return 0, p.valueErr(q, "%g is not an integer", q.num)
	}
	return int(q.num), nil
}

// bool returns a boolean parameter or def.
func (p *xprops) bool(name string, def bool) (bool, error) {
	q := p.get(name)
	if q == nil {
		return def, nil
	}
	if q.kind != pkBool {
		return false, p.typeErr(q, "a boolean")
	}
	return q.b, nil
}

// str returns a string parameter or def.
func (p *xprops) str(name, def string) (string, error) {
	q := p.get(name)
	if q == nil {
		return def, nil
	}
	if q.kind != pkString {
		return "", p.typeErr(q, "a string")
	}
	return q.str, nil
}

// vector returns a point or vector parameter.
func (p *xprops) vector(name string, def mgl64.Vec3) (mgl64.Vec3, error) {
	q := p.get(name)
	if q == nil {
		return def, nil
	}
	if q.kind != pkVector {
		return def, p.typeErr(q, "a point or vector")
	}
	return q.vec, nil
}

// transform returns a transform parameter and whether it was given.
func (p *xprops) transform(name string) (mgl64.Mat4, *xprop, error) {
	q := p.get(name)
	if q == nil {
		return mgl64.Ident4(), nil, nil
	}
	if q.kind != pkTransform {
		return mgl64.Ident4(), nil, p.typeErr(q, "a transform")
	}
	return q.mat, q, nil
}

// color returns a constant color parameter (rgb, srgb, spectrum, or a float
// for grey) or def; textures are refused.
func (p *xprops) color(name string, def mgl64.Vec3) (mgl64.Vec3, *xprop, error) {
	q := p.get(name)
	if q == nil {
		return def, nil, nil
	}
	switch q.kind {
	case pkColor:
		return q.vec, q, nil
	case pkFloat, pkInt:
		return mgl64.Vec3{q.num, q.num, q.num}, q, nil
	}
	if q.kind == pkObject && q.obj.tag == "texture" {
		return def, nil, p.valueErr(q, "a texture is not supported here; give a constant rgb, spectrum or float")
	}
	return def, nil, p.typeErr(q, "a color (rgb, srgb, spectrum or float)")
}

// fileErr reports err about the file named by parameter q, at q's line,
// naming the owner element and the parameter.
func (p *xprops) fileErr(q *xprop, err error) error {
	return &ParseError{File: q.node.file, Line: q.node.line, Err: fmt.Errorf("%s: parameter %q: %w", p.owner.describe(), q.orig, err)}
}

// finish warns about every parameter that no one used.
func (p *xprops) finish() {
	for _, q := range p.list {
		if !q.used {
			p.l.warnAt(q.node, "unknown parameter %q of %s is ignored", q.orig, p.owner.describe())
		}
	}
}

// ignore marks parameters as used, with a warning for each present one
// saying why it has no effect.
func (p *xprops) ignore(why string, names ...string) {
	for _, name := range names {
		if q := p.get(name); q != nil {
			p.l.warnAt(q.node, "parameter %q of %s is ignored: %s", q.orig, p.owner.describe(), why)
		}
	}
}

// accept marks parameters as used without comment: they only affect how
// Mitsuba computes a result, not the scene.
func (p *xprops) accept(names ...string) {
	for _, name := range names {
		p.get(name)
	}
}

// mtsSplitNumbers splits a Mitsuba number list ("1, 2 3").
func mtsSplitNumbers(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
	})
}

// mtsParseFloat parses one finite number.
func mtsParseFloat(s string) (float64, error) {
	t := strings.TrimSpace(s)
	v, err := strconv.ParseFloat(t, 64)
	if err != nil {
		return 0, fmt.Errorf("cannot parse %q as a number", s)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not a finite number", s)
	}
	return v, nil
}

// mtsParseFloats parses a list of numbers; want (if > 0) is the required
// count, and alt (if > 0) another accepted count.
func mtsParseFloats(s string, want ...int) ([]float64, error) {
	f := mtsSplitNumbers(s)
	if len(want) > 0 {
		ok := false
		for _, w := range want {
			if len(f) == w {
				ok = true
			}
		}
		if !ok {
			ws := make([]string, len(want))
			for i, w := range want {
				ws[i] = strconv.Itoa(w)
			}
			return nil, fmt.Errorf("%q has %d values, expected %s", s, len(f), strings.Join(ws, " or "))
		}
	}
	out := make([]float64, len(f))
	for i, t := range f {
		v, err := mtsParseFloat(t)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// mtsSRGBToLinear decodes one sRGB-encoded channel (IEC 61966-2-1).
func mtsSRGBToLinear(c float64) float64 {
	if c <= 0.04045 {
		return c / 12.92
	}
	return math.Pow((c+0.055)/1.055, 2.4)
}

// checkAttrs warns about attributes of n other than the allowed ones.
func (l *loader) checkAttrs(n *xnode, allowed ...string) {
outer:
	for _, a := range n.attrs {
		for _, ok := range allowed {
			if a.Name.Local == ok {
				continue outer
			}
		}
		l.warnAt(n, "unknown attribute %q is ignored", a.Name.Local)
	}
}

// requireAttr returns a mandatory attribute.
func requireAttr(n *xnode, name string) (string, error) {
	v, ok := n.attr(name)
	if !ok {
		return "", n.errf("missing attribute %s", name)
	}
	return v, nil
}

// parseValue parses a value element (<float>, <rgb>, <transform>, ...).
func (l *loader) parseValue(k *xnode) (*xprop, error) {
	pr := &xprop{}
	switch k.tag {
	case "float", "integer", "boolean", "string":
		l.checkAttrs(k, "name", "value")
		v, err := requireAttr(k, "value")
		if err != nil {
			return nil, err
		}
		switch k.tag {
		case "float":
			f, err := mtsParseFloat(v)
			if err != nil {
				return nil, k.errf("%v", err)
			}
			pr.kind, pr.num = pkFloat, f
		case "integer":
			i, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return nil, k.errf("cannot parse %q as an integer", v)
			}
			if i > 1<<53 || i < -(1<<53) {
				return nil, k.errf("integer %d is out of range", i)
			}
			pr.kind, pr.num = pkInt, float64(i)
		case "boolean":
			switch strings.ToLower(strings.TrimSpace(v)) {
			case "true", "1":
				pr.b = true
			case "false", "0":
			default:
				return nil, k.errf("cannot parse %q as a boolean (true or false)", v)
			}
			pr.kind = pkBool
		case "string":
			pr.kind, pr.str = pkString, v
		}
	case "rgb", "srgb":
		l.checkAttrs(k, "name", "value", "intent")
		v, err := requireAttr(k, "value")
		if err != nil {
			return nil, err
		}
		c, err := mtsParseRGB(v)
		if err != nil {
			return nil, k.errf("%v", err)
		}
		if k.tag == "srgb" {
			for i := range c {
				c[i] = mtsSRGBToLinear(c[i])
			}
		}
		pr.kind, pr.vec = pkColor, c
	case "spectrum":
		l.checkAttrs(k, "name", "value", "intent", "filename")
		if _, ok := k.attr("filename"); ok {
			return nil, k.errf("spectra read from files are not supported; give rgb values")
		}
		v, err := requireAttr(k, "value")
		if err != nil {
			return nil, err
		}
		c, reduced, err := mtsParseSpectrum(v)
		if err != nil {
			return nil, k.errf("%v", err)
		}
		if reduced {
			l.warnAt(k, "spectrum %q is reduced to its mean value %g (grey): the renderer works in RGB", v, c)
		}
		pr.kind, pr.vec, pr.spectrum = pkColor, mgl64.Vec3{c, c, c}, true
	case "blackbody":
		return nil, k.errf("blackbody spectra are not supported; give rgb values")
	case "point", "vector":
		l.checkAttrs(k, "name", "value", "x", "y", "z")
		v, err := mtsParseVector(k, 0)
		if err != nil {
			return nil, err
		}
		pr.kind, pr.vec = pkVector, v
	case "transform":
		l.checkAttrs(k, "name")
		m, la, err := l.parseTransform(k)
		if err != nil {
			return nil, err
		}
		pr.kind, pr.mat, pr.lookat = pkTransform, m, la
	}
	return pr, nil
}

// mtsParseRGB parses "r, g, b", a single grey value, or "#rrggbb" (each
// channel / 255).
func mtsParseRGB(v string) (mgl64.Vec3, error) {
	t := strings.TrimSpace(v)
	if strings.HasPrefix(t, "#") {
		h := t[1:]
		if len(h) != 6 {
			return mgl64.Vec3{}, fmt.Errorf("cannot parse color %q (#rrggbb expected)", v)
		}
		var c mgl64.Vec3
		for i := 0; i < 3; i++ {
			x, err := strconv.ParseUint(h[2*i:2*i+2], 16, 8)
			if err != nil {
				return mgl64.Vec3{}, fmt.Errorf("cannot parse color %q (#rrggbb expected)", v)
			}
			c[i] = float64(x) / 255
		}
		return c, nil
	}
	f, err := mtsParseFloats(v, 1, 3)
	if err != nil {
		return mgl64.Vec3{}, err
	}
	if len(f) == 1 {
		return mgl64.Vec3{f[0], f[0], f[0]}, nil
	}
	return mgl64.Vec3{f[0], f[1], f[2]}, nil
}

// mtsParseSpectrum parses a <spectrum> value: one constant, or a list of
// "wavelength:value" pairs (or of bare values), which it reduces to the
// mean value over the listed wavelength range (trapezoidal rule) and
// reports as reduced.
func mtsParseSpectrum(v string) (float64, bool, error) {
	items := mtsSplitNumbers(v)
	if len(items) == 0 {
		return 0, false, fmt.Errorf("empty spectrum value")
	}
	if len(items) == 1 && !strings.Contains(items[0], ":") {
		f, err := mtsParseFloat(items[0])
		return f, false, err
	}
	var wl, val []float64
	pairs := strings.Contains(v, ":")
	for _, it := range items {
		if pairs {
			a, b, ok := strings.Cut(it, ":")
			if !ok {
				return 0, false, fmt.Errorf("spectrum entry %q is not wavelength:value", it)
			}
			w, err := mtsParseFloat(a)
			if err != nil {
				return 0, false, err
			}
			x, err := mtsParseFloat(b)
			if err != nil {
				return 0, false, err
			}
			if len(wl) > 0 && w <= wl[len(wl)-1] {
				return 0, false, fmt.Errorf("spectrum wavelengths must increase (%g after %g)", w, wl[len(wl)-1])
			}
			wl, val = append(wl, w), append(val, x)
		} else {
			x, err := mtsParseFloat(it)
			if err != nil {
				return 0, false, err
			}
			val = append(val, x)
		}
	}
	if !pairs || len(val) == 1 {
		s := 0.0
		for _, x := range val {
			s += x
		}
		return s / float64(len(val)), true, nil
	}
	integral := 0.0
	for i := 1; i < len(wl); i++ {
		integral += 0.5 * (val[i] + val[i-1]) * (wl[i] - wl[i-1])
	}
	return integral / (wl[len(wl)-1] - wl[0]), true, nil
}

// mtsParseVector reads a vector from value="x, y, z" or from the x, y, z
// attributes (missing ones are def).
func mtsParseVector(k *xnode, def float64) (mgl64.Vec3, error) {
	if v, ok := k.attr("value"); ok {
		f, err := mtsParseFloats(v, 3)
		if err != nil {
			return mgl64.Vec3{}, k.errf("%v", err)
		}
		for _, a := range [...]string{"x", "y", "z"} {
			if _, ok := k.attr(a); ok {
				return mgl64.Vec3{}, k.errf("give either value or x, y, z, not both")
			}
		}
		return mgl64.Vec3{f[0], f[1], f[2]}, nil
	}
	v := mgl64.Vec3{def, def, def}
	for i, a := range [...]string{"x", "y", "z"} {
		if s, ok := k.attr(a); ok {
			f, err := mtsParseFloat(s)
			if err != nil {
				return mgl64.Vec3{}, k.errf("attribute %s: %v", a, err)
			}
			v[i] = f
		}
	}
	return v, nil
}

// parseTransform composes the operations of a <transform> in document
// order, each new one pre-multiplying the result as Mitsuba does, and
// returns the matrix and the last <lookat> if any.
func (l *loader) parseTransform(t *xnode) (mgl64.Mat4, *lookatOp, error) {
	m := mgl64.Ident4()
	var la *lookatOp
	for _, k := range t.kids {
		var op mgl64.Mat4
		switch k.tag {
		case "translate":
			l.checkAttrs(k, "value", "x", "y", "z")
			v, err := mtsParseVector(k, 0)
			if err != nil {
				return m, nil, err
			}
			op = mgl64.Translate3D(v[0], v[1], v[2])
		case "scale":
			l.checkAttrs(k, "value", "x", "y", "z")
			var v mgl64.Vec3
			if s, ok := k.attr("value"); ok {
				f, err := mtsParseFloats(s, 1, 3)
				if err != nil {
					return m, nil, k.errf("%v", err)
				}
				if len(f) == 1 {
					v = mgl64.Vec3{f[0], f[0], f[0]}
				} else {
					v = mgl64.Vec3{f[0], f[1], f[2]}
				}
				for _, a := range [...]string{"x", "y", "z"} {
					if _, ok := k.attr(a); ok {
						return m, nil, k.errf("give either value or x, y, z, not both")
					}
				}
			} else {
				var err error
				if v, err = mtsParseVector(k, 1); err != nil {
					return m, nil, err
				}
			}
			op = mgl64.Scale3D(v[0], v[1], v[2])
		case "rotate":
			l.checkAttrs(k, "value", "x", "y", "z", "angle")
			axis, err := mtsParseVector(k, 0)
			if err != nil {
				return m, nil, err
			}
			angle := 0.0
			if s, ok := k.attr("angle"); ok {
				if angle, err = mtsParseFloat(s); err != nil {
					return m, nil, k.errf("attribute angle: %v", err)
				}
			} else {
				l.warnAt(k, "no angle given: rotating by 0 degrees")
			}
			r, err := geom.Rotate(axis, angle)
			if err != nil {
				return m, nil, k.errf("the rotation axis is zero")
			}
			op = r.M
		case "matrix":
			l.checkAttrs(k, "value")
			s, err := requireAttr(k, "value")
			if err != nil {
				return m, nil, err
			}
			f, err := mtsParseFloats(s, 16, 9)
			if err != nil {
				return m, nil, k.errf("%v", err)
			}
			op = mgl64.Ident4()
			if len(f) == 16 {
				for r := 0; r < 4; r++ {
					for c := 0; c < 4; c++ {
						op[c*4+r] = f[r*4+c]
					}
				}
			} else {
				for r := 0; r < 3; r++ {
					for c := 0; c < 3; c++ {
						op[c*4+r] = f[r*3+c]
					}
				}
			}
		case "lookat", "lookAt":
			l.checkAttrs(k, "origin", "target", "up")
			var vs [3]mgl64.Vec3
			for i, a := range [...]string{"origin", "target", "up"} {
				s, ok := k.attr(a)
				if !ok {
					if a == "up" {
						continue
					}
					return m, nil, k.errf("missing attribute %s", a)
				}
				f, err := mtsParseFloats(s, 3)
				if err != nil {
					return m, nil, k.errf("attribute %s: %v", a, err)
				}
				vs[i] = mgl64.Vec3{f[0], f[1], f[2]}
			}
			origin, target, up := vs[0], vs[1], vs[2]
			if _, ok := k.attr("up"); !ok {
				// Mitsuba picks an up vector perpendicular to the view.
				dir := target.Sub(origin)
				if dir.Len() > 0 {
					up, _ = mtsCoordinateSystem(dir.Normalize())
				}
			}
			lt, err := geom.LookAt(origin, target, up)
			if err != nil {
				return m, nil, k.errf("%v", err)
			}
			op = lt.M
			la = &lookatOp{origin: origin, target: target, up: up}
		default:
			return m, nil, k.errf("unknown transform operation <%s> (translate, rotate, scale, matrix or lookat)", k.tag)
		}
		if la != nil && k.tag != "lookat" && k.tag != "lookAt" {
			la.last = false
		} else if la != nil {
			la.last = true
		}
		m = op.Mul4(m)
	}
	for _, v := range m {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return m, nil, t.errf("the transform overflows")
		}
	}
	return m, la, nil
}

// mtsCoordinateSystem returns two unit vectors that complete the unit vector
// n to an orthonormal basis (Duff et al., "Building an Orthonormal Basis,
// Revisited", JCGT 2017), as Mitsuba's coordinate_system.
func mtsCoordinateSystem(n mgl64.Vec3) (mgl64.Vec3, mgl64.Vec3) {
	sign := math.Copysign(1, n[2])
	a := -1 / (sign + n[2])
	b := n[0] * n[1] * a
	s := mgl64.Vec3{1 + sign*n[0]*n[0]*a, sign * b, -sign * n[0]}
	t := mgl64.Vec3{b, sign + n[1]*n[1]*a, -n[1]}
	return s, t
}
