package scenes

import (
	"fmt"
	"io"
	"strings"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/render"
)

// Info describes a scene in plain text, as `invrender info SCENE` prints
// it: each camera (origin, target, up, field of view and its axis, clip
// range, film size, filter, samples per pixel, seed), the integrator and
// its maximum depth, each shape with its triangle count, material (kind and
// values) and emitter, the lights, the environment and the loader's
// warnings.
func Info(s *render.Scene) string {
	var b strings.Builder
	_ = WriteInfo(&b, s)
	return b.String()
}

// WriteInfo writes Info(s) to w.
func WriteInfo(w io.Writer, s *render.Scene) error {
	var b strings.Builder
	pf := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }

	if len(s.Sensors) == 0 {
		pf("camera: none\n")
	}
	for _, c := range s.Sensors {
		pf("camera %q: origin %s, target %s, up %s, fov %g deg along %s, clip [%g, %g]\n",
			c.Name, infoVec(c.Origin), infoVec(c.Target), infoVec(c.Up), c.Fov, c.FovAxis, c.NearClip, c.FarClip)
		pf("  film %dx%d, filter %s, %d spp, seed %d\n", c.Width, c.Height, infoFilter(c.Filter), c.SPP, c.Seed)
	}

	it := s.Integrator
	switch it.Kind {
	case render.DirectIntegrator:
		pf("integrator: direct (direct illumination only)")
	default:
		depth := "unbounded"
		if it.MaxDepth >= 0 {
			depth = fmt.Sprint(it.MaxDepth)
		}
		pf("integrator: path, max depth %s, Russian roulette from depth %d", depth, it.RRDepth)
	}
	if it.HideEmitters {
		pf(", emitters hidden")
	}
	pf("\n")

	total := 0
	for _, sh := range s.Shapes {
		total += sh.NumTriangles()
	}
	pf("shapes: %d (%s)\n", len(s.Shapes), infoCount(total, "triangle"))
	for _, sh := range s.Shapes {
		pf("  %q: %s", sh.Name, infoCount(sh.NumTriangles(), "triangle"))
		deg := 0
		for _, d := range sh.Degenerate {
			if d {
				deg++
			}
		}
		if deg > 0 {
			pf(" (%d degenerate)", deg)
		}
		if sh.Normals == nil {
			pf(", face normals")
		} else {
			pf(", vertex normals")
		}
		if sh.UVs != nil {
			pf(", uv")
		}
		if sh.Material >= 0 && sh.Material < len(s.Materials) {
			m := s.Materials[sh.Material]
			pf("; material %q: %s", m.Name, infoMaterial(m))
		} else {
			pf("; material index %d out of range", sh.Material)
		}
		if sh.Emitter != nil {
			pf("; area emitter, radiance %s", infoVec(sh.Emitter.Radiance))
		}
		pf("\n")
	}

	if len(s.Lights) == 0 {
		pf("lights: none\n")
	} else {
		pf("lights: %d\n", len(s.Lights))
	}
	for _, lt := range s.Lights {
		switch lt.Kind {
		case render.PointLight:
			pf("  point %q: position %s, intensity %s\n", lt.Name, infoVec(lt.Position), infoVec(lt.Intensity))
		case render.DirectionalLight:
			pf("  directional %q: direction %s, irradiance %s\n", lt.Name, infoVec(lt.Direction), infoVec(lt.Intensity))
		}
	}

	switch e := s.Env; {
	case e == nil:
		pf("environment: none\n")
	case e.Image == nil:
		pf("environment %q: constant, radiance %s\n", e.Name, infoVec(e.Radiance))
	default:
		pf("environment %q: envmap %dx%d, scale %g", e.Name, e.Image.Width, e.Image.Height, e.Scale)
		if e.ToWorld != mgl64.Ident3() {
			pf(", rotated")
		}
		pf("\n")
	}

	if len(s.Warnings) == 0 {
		pf("warnings: none\n")
	} else {
		pf("warnings: %d\n", len(s.Warnings))
		for _, w := range s.Warnings {
			pf("  %s\n", w)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// infoCount returns "1 triangle", "2 triangles".
func infoCount(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// infoVec formats a vector as (x, y, z) with the shortest exact numbers.
func infoVec(v mgl64.Vec3) string {
	return fmt.Sprintf("(%g, %g, %g)", v[0], v[1], v[2])
}

func infoFilter(f render.Filter) string {
	switch f.Kind {
	case render.FilterTent:
		r := f.Radius
		if r == 0 {
			r = 1
		}
		return fmt.Sprintf("tent (radius %g)", r)
	case render.FilterGaussian:
		sd := f.Stddev
		if sd == 0 {
			sd = 0.5
		}
		if f.Radius != 0 {
			return fmt.Sprintf("gaussian (stddev %g, radius %g)", sd, f.Radius)
		}
		return fmt.Sprintf("gaussian (stddev %g)", sd)
	}
	r := f.Radius
	if r == 0 {
		r = 0.5
	}
	return fmt.Sprintf("box (radius %g)", r)
}

// infoTexture formats a constant as a number or (r, g, b), and a bitmap
// with its size and lookup settings.
func infoTexture(t render.Texture) string {
	if t.Image == nil {
		v := t.Value
		if v[0] == v[1] && v[1] == v[2] {
			return fmt.Sprintf("%g", v[0])
		}
		return infoVec(v)
	}
	s := fmt.Sprintf("bitmap %dx%d", t.Image.Width, t.Image.Height)
	us, vs := t.UScale, t.VScale
	if us == 0 {
		us = 1
	}
	if vs == 0 {
		vs = 1
	}
	if us != 1 || vs != 1 {
		s += fmt.Sprintf(" uv scale (%g, %g)", us, vs)
	}
	if t.Wrap != render.WrapRepeat {
		s += " wrap " + t.Wrap.String()
	}
	if t.Nearest {
		s += " nearest"
	}
	return s
}

func infoMaterial(m *render.Material) string {
	var b strings.Builder
	if m.TwoSided {
		b.WriteString("twosided ")
	}
	smooth := m.Alpha.Image == nil && m.Alpha.Value[0] == 0
	switch m.Kind {
	case render.Diffuse:
		fmt.Fprintf(&b, "diffuse, reflectance %s", infoTexture(m.Reflectance))
	case render.Plastic:
		if smooth {
			b.WriteString("plastic")
		} else {
			fmt.Fprintf(&b, "roughplastic (GGX), alpha %s", infoTexture(m.Alpha))
		}
		fmt.Fprintf(&b, ", diffuse_reflectance %s, specular_reflectance %s, int_ior %g, ext_ior %g",
			infoTexture(m.Reflectance), infoTexture(m.SpecularReflectance), m.IntIOR, m.ExtIOR)
		if m.Nonlinear {
			b.WriteString(", nonlinear")
		}
	case render.Conductor:
		if smooth {
			b.WriteString("conductor")
		} else {
			fmt.Fprintf(&b, "roughconductor (GGX), alpha %s", infoTexture(m.Alpha))
		}
		fmt.Fprintf(&b, ", eta %s, k %s, specular_reflectance %s", infoVec(m.Eta), infoVec(m.K), infoTexture(m.SpecularReflectance))
	default:
		fmt.Fprintf(&b, "kind %d", m.Kind)
	}
	return b.String()
}
