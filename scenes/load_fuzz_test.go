package scenes

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoadXML feeds arbitrary scene text to the loader, with relative file
// names resolving inside testdata/xml only. It must never panic or hang;
// what it accepts must be a scene the renderer can trust.
func FuzzLoadXML(f *testing.F) {
	dir, err := filepath.Abs(filepath.Join("testdata", "xml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range []string{"spelling06.xml", "spelling3.xml", filepath.Join("cbox", "scene.xml")} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		`<scene version="3.0.0"><default name="a" value="1"/><shape type="sphere"><float name="radius" value="$a"/></shape></scene>`,
		`<scene version="0.6.0"><include filename="spelling06.xml"/></scene>`,
		`<scene version="3.0.0"><bsdf type="twosided" id="t"><ref id="t"/></bsdf><shape type="cube"><ref id="t"/></shape></scene>`,
		`<scene version="3.0.0"><alias id="x" as="y"/><texture type="checkerboard" id="x"/><bsdf type="diffuse"><ref name="reflectance" id="y"/></bsdf></scene>`,
		`<scene version="3.0.0"><integrator type="aov"><integrator type="aov"><integrator type="path"/></integrator></integrator></scene>`,
		`<scene version="3.0.0"><sensor type="perspective"><transform name="to_world"><matrix value="1 0 0 0 0 1 0 0 0 0 1 0 0 0 0 1"/><scale x="-1"/></transform></sensor></scene>`,
		`<scene version="3.0.0"><emitter type="envmap"><string name="filename" value="env.pfm"/><transform name="to_world"><scale value="0"/></transform></emitter></scene>`,
		`<scene version="3.0.0"><shape type="ply"><string name="filename" value="quad.ply"/><transform name="to_world"><scale value="1e300"/></transform></shape></scene>`,
		`<scene version="3.0.0"><sensor type="perspective"><transform name="to_world"><translate value="1e300, 0, 0"/></transform></sensor></scene>`,
		`<scene version="3.0.0"><shape type="disk"><emitter type="area"><spectrum name="radiance" value="400:1, 500:2"/></emitter></shape></scene>`,
		`<scene version="3.0.0"><texture type="bitmap" id="t"><string name="filename" value="tex.png"/><transform name="to_uv"><scale x="2"/></transform></texture></scene>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l := newLoader(LoadOptions{Defines: map[string]string{"d": "1"}})
		l.sandbox = dir
		root, err := parseXMLTree(data, "fuzz.xml", dir, l.warnRaw)
		if err != nil {
			xmlCheckFuzzError(t, err)
			return
		}
		s, err := l.load(root, filepath.Join(dir, "fuzz.xml"))
		if err != nil {
			xmlCheckFuzzError(t, err)
			return
		}
		for _, sh := range s.Shapes {
			if sh.Material < 0 || sh.Material >= len(s.Materials) {
				t.Fatalf("shape %q: material %d of %d", sh.Name, sh.Material, len(s.Materials))
			}
			if len(sh.Indices)%3 != 0 || len(sh.Degenerate) != sh.NumTriangles() {
				t.Fatalf("shape %q: %d indices, %d degenerate flags", sh.Name, len(sh.Indices), len(sh.Degenerate))
			}
			for _, i := range sh.Indices {
				if i < 0 || int(i) >= len(sh.Positions) {
					t.Fatalf("shape %q: index %d of %d", sh.Name, i, len(sh.Positions))
				}
			}
			for _, p := range sh.Positions {
				for _, v := range p {
					if math.IsNaN(v) || math.IsInf(v, 0) {
						t.Fatalf("shape %q: position %v", sh.Name, p)
					}
				}
			}
			if sh.Name == "" {
				t.Fatal("unnamed shape")
			}
		}
		for _, c := range s.Sensors {
			if !(c.Fov > 0 && c.Fov < 180) || c.Width < 1 || c.Height < 1 || c.SPP < 1 || c.Origin == c.Target {
				t.Fatalf("sensor %+v", *c)
			}
		}
		if s.Integrator.MaxDepth < -1 {
			t.Fatalf("integrator %+v", s.Integrator)
		}
		if !strings.Contains(Info(s), "warnings:") {
			t.Fatal("Info is incomplete")
		}
	})
}

// xmlCheckFuzzError checks that a rejection is a *ParseError with a file.
func xmlCheckFuzzError(t *testing.T, err error) {
	var pe *ParseError
	if !errors.As(err, &pe) || pe.File == "" {
		t.Fatalf("error %q (%T) is not a *ParseError naming a file", err, err)
	}
}
