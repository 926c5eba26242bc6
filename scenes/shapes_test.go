package scenes

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/render"
)

// xmlShape loads a scene holding the one shape element xml.
func xmlShape(t *testing.T, xml string) *render.Shape {
	t.Helper()
	s := xmlMustLoad(t, xmlTestdata(t), xml)
	if len(s.Shapes) != 1 {
		t.Fatalf("%d shapes", len(s.Shapes))
	}
	return s.Shapes[0]
}

// xmlTriNormal returns the geometric normal (b-a)x(c-a) of triangle i.
func xmlTriNormal(s *render.Shape, i int) mgl64.Vec3 {
	a, b, c := s.Positions[s.Indices[3*i]], s.Positions[s.Indices[3*i+1]], s.Positions[s.Indices[3*i+2]]
	return b.Sub(a).Cross(c.Sub(a))
}

func xmlTriCentroid(s *render.Shape, i int) mgl64.Vec3 {
	a, b, c := s.Positions[s.Indices[3*i]], s.Positions[s.Indices[3*i+1]], s.Positions[s.Indices[3*i+2]]
	return a.Add(b).Add(c).Mul(1.0 / 3)
}

func xmlArea(s *render.Shape) float64 {
	a := 0.0
	for i := 0; i < s.NumTriangles(); i++ {
		a += 0.5 * xmlTriNormal(s, i).Len()
	}
	return a
}

// xmlCheckOutward checks that every triangle faces away from (sign > 0) or
// towards (sign < 0) the point c, and that vertex normals agree.
func xmlCheckOutward(t *testing.T, s *render.Shape, c mgl64.Vec3, sign float64) {
	t.Helper()
	for i := 0; i < s.NumTriangles(); i++ {
		if s.Degenerate[i] {
			t.Errorf("triangle %d is degenerate", i)
			continue
		}
		n := xmlTriNormal(s, i)
		if sign*n.Dot(xmlTriCentroid(s, i).Sub(c)) <= 0 {
			t.Fatalf("triangle %d faces the wrong way: normal %v at %v", i, n, xmlTriCentroid(s, i))
		}
		if s.Normals != nil {
			for k := 0; k < 3; k++ {
				if vn := s.Normals[s.Indices[3*i+k]]; vn.Dot(n) <= 0 {
					t.Fatalf("triangle %d: vertex normal %v disagrees with the face normal %v", i, vn, n)
				}
			}
		}
	}
}

func TestRectangle(t *testing.T) {
	s := xmlShape(t, `<shape type="rectangle"/>`)
	if s.NumTriangles() != 2 || !xmlNear(xmlArea(s), 4, 1e-12) || s.Normals != nil {
		t.Fatalf("rectangle: %d triangles, area %g", s.NumTriangles(), xmlArea(s))
	}
	for i := 0; i < 2; i++ {
		if n := xmlTriNormal(s, i).Normalize(); n != (mgl64.Vec3{0, 0, 1}) {
			t.Errorf("normal %v", n)
		}
	}
	// Mitsuba's uv = ((x+1)/2, (y+1)/2).
	for i, p := range s.Positions {
		if uv := s.UVs[i]; uv != (mgl64.Vec2{(p[0] + 1) / 2, (p[1] + 1) / 2}) {
			t.Errorf("uv %v at %v", uv, p)
		}
	}
	// flip_normals turns it to -z; a mirroring to_world keeps it at +z.
	s = xmlShape(t, `<shape type="rectangle"><boolean name="flip_normals" value="true"/></shape>`)
	if n := xmlTriNormal(s, 0).Normalize(); n != (mgl64.Vec3{0, 0, -1}) {
		t.Errorf("flipped normal %v", n)
	}
	s = xmlShape(t, `<shape type="rectangle"><transform name="to_world"><scale x="-1"/></transform></shape>`)
	if n := xmlTriNormal(s, 0).Normalize(); n != (mgl64.Vec3{0, 0, 1}) {
		t.Errorf("mirrored normal %v", n)
	}
	s = xmlShape(t, `<shape type="rectangle"><transform name="to_world"><scale x="-1"/></transform><boolean name="flip_normals" value="true"/></shape>`)
	if n := xmlTriNormal(s, 0).Normalize(); n != (mgl64.Vec3{0, 0, -1}) {
		t.Errorf("mirrored flipped normal %v", n)
	}
}

func TestCube(t *testing.T) {
	s := xmlShape(t, `<shape type="cube"/>`)
	if s.NumTriangles() != 12 || len(s.Positions) != 24 || !xmlNear(xmlArea(s), 24, 1e-12) {
		t.Fatalf("cube: %d triangles, %d vertices, area %g", s.NumTriangles(), len(s.Positions), xmlArea(s))
	}
	xmlCheckOutward(t, s, mgl64.Vec3{}, 1)
	for i, p := range s.Positions {
		for k := 0; k < 3; k++ {
			if math.Abs(p[k]) != 1 {
				t.Fatalf("vertex %v off the cube", p)
			}
		}
		if uv := s.UVs[i]; (uv[0] != 0 && uv[0] != 1) || (uv[1] != 0 && uv[1] != 1) {
			t.Errorf("uv %v", uv)
		}
	}
	// Each face covers [0,1]^2: its four uvs are distinct.
	for f := 0; f < 6; f++ {
		seen := map[mgl64.Vec2]bool{}
		for c := 0; c < 4; c++ {
			seen[s.UVs[4*f+c]] = true
		}
		if len(seen) != 4 {
			t.Errorf("face %d uvs %v", f, s.UVs[4*f:4*f+4])
		}
	}
	s = xmlShape(t, `<shape type="cube"><boolean name="flip_normals" value="true"/></shape>`)
	xmlCheckOutward(t, s, mgl64.Vec3{}, -1)
}

func TestDisk(t *testing.T) {
	s := xmlShape(t, `<shape type="disk"/>`)
	n := float64(DiskSegments)
	if s.NumTriangles() != DiskSegments || !xmlNear(xmlArea(s), n/2*math.Sin(2*math.Pi/n), 1e-12) {
		t.Fatalf("disk: %d triangles, area %g", s.NumTriangles(), xmlArea(s))
	}
	for i := 0; i < s.NumTriangles(); i++ {
		if nn := xmlTriNormal(s, i).Normalize(); !xmlNearVec(nn, mgl64.Vec3{0, 0, 1}, 1e-12) {
			t.Fatalf("normal %v", nn)
		}
	}
	// Mitsuba's uv = (r, phi / 2pi).
	for i, p := range s.Positions {
		r := math.Hypot(p[0], p[1])
		uv := s.UVs[i]
		if !xmlNear(uv[0], r, 1e-12) {
			t.Errorf("u %g at r %g", uv[0], r)
		}
		if r > 0 {
			phi := math.Atan2(p[1], p[0]) / (2 * math.Pi)
			if phi < 0 {
				phi++
			}
			if !xmlNear(uv[1], phi, 1e-12) && !(uv[1] == 1 && phi < 1e-12) {
				t.Errorf("v %g at phi/2pi %g", uv[1], phi)
			}
		}
	}
}

func TestSphere(t *testing.T) {
	s := xmlShape(t, `<shape type="sphere"/>`)
	if s.NumTriangles() != 2*SphereSegments*(SphereRings-1) {
		t.Fatalf("%d triangles", s.NumTriangles())
	}
	xmlCheckOutward(t, s, mgl64.Vec3{}, 1)
	// The inscribed mesh's area is a little below 4 pi.
	if a := xmlArea(s); a > 4*math.Pi || a < 0.99*4*math.Pi {
		t.Errorf("area %g, 4 pi = %g", a, 4*math.Pi)
	}
	for i, p := range s.Positions {
		if !xmlNear(p.Len(), 1, 1e-12) || !xmlNearVec(s.Normals[i], p, 1e-12) {
			t.Fatalf("vertex %v normal %v", p, s.Normals[i])
		}
		// Mitsuba's uv = (phi / 2pi, theta / pi), theta from +z.
		uv := s.UVs[i]
		if v := math.Acos(math.Max(-1, math.Min(1, p[2]))) / math.Pi; !xmlNear(uv[1], v, 1e-9) {
			t.Fatalf("v %g at %v, want %g", uv[1], p, v)
		}
		if math.Abs(p[2]) < 1 {
			u := math.Atan2(p[1], p[0]) / (2 * math.Pi)
			if u < -1e-15 {
				u++
			}
			if !xmlNear(uv[0], u, 1e-9) && !(uv[0] == 1 && math.Abs(u) < 1e-12) {
				t.Fatalf("u %g at %v, want %g", uv[0], p, u)
			}
		}
	}

	// center and radius, then to_world.
	s = xmlShape(t, `<shape type="sphere"><point name="center" value="1, 0, 0"/><float name="radius" value="2"/>
		<transform name="to_world"><translate y="1"/></transform></shape>`)
	c := mgl64.Vec3{1, 1, 0}
	for _, p := range s.Positions {
		if !xmlNear(p.Sub(c).Len(), 2, 1e-12) {
			t.Fatalf("vertex %v not at distance 2 from %v", p, c)
		}
	}
	xmlCheckOutward(t, s, c, 1)

	// Non-uniform scale: normals by the inverse transpose, i.e. the
	// ellipsoid x^2/4 + y^2 + z^2 = 1 has normal (x/4, y, z).
	s = xmlShape(t, `<shape type="sphere"><transform name="to_world"><scale x="2"/></transform></shape>`)
	for i, p := range s.Positions {
		want := mgl64.Vec3{p[0] / 4, p[1], p[2]}.Normalize()
		if !xmlNearVec(s.Normals[i], want, 1e-12) {
			t.Fatalf("normal %v at %v, want %v", s.Normals[i], p, want)
		}
	}
	xmlCheckOutward(t, s, mgl64.Vec3{}, 1)

	// flip_normals: inward normals and winding (an emitter inside a dome);
	// face_normals drops the vertex normals.
	s = xmlShape(t, `<shape type="sphere"><boolean name="flip_normals" value="true"/></shape>`)
	xmlCheckOutward(t, s, mgl64.Vec3{}, -1)
	s = xmlShape(t, `<shape type="sphere"><boolean name="face_normals" value="true"/></shape>`)
	if s.Normals != nil {
		t.Error("face_normals kept vertex normals")
	}
	// A mirror keeps the outside outside.
	s = xmlShape(t, `<shape type="sphere"><transform name="to_world"><scale value="1, -1, 1"/></transform></shape>`)
	xmlCheckOutward(t, s, mgl64.Vec3{}, 1)
}

func TestCylinder(t *testing.T) {
	s := xmlShape(t, `<shape type="cylinder"><point name="p0" value="1, 1, 1"/><point name="p1" value="1, 3, 1"/><float name="radius" value="0.5"/></shape>`)
	if s.NumTriangles() != 2*CylinderSegments {
		t.Fatalf("%d triangles", s.NumTriangles())
	}
	for i := 0; i < s.NumTriangles(); i++ {
		// Outward from the axis x = z = 1.
		c := xmlTriCentroid(s, i)
		radial := mgl64.Vec3{c[0] - 1, 0, c[2] - 1}
		if xmlTriNormal(s, i).Dot(radial) <= 0 {
			t.Fatalf("triangle %d faces inwards", i)
		}
	}
	for i, p := range s.Positions {
		if r := math.Hypot(p[0]-1, p[2]-1); !xmlNear(r, 0.5, 1e-12) || p[1] < 1-1e-12 || p[1] > 3+1e-12 {
			t.Fatalf("vertex %v off the cylinder", p)
		}
		if v := (p[1] - 1) / 2; !xmlNear(s.UVs[i][1], v, 1e-12) {
			t.Fatalf("v %g at %v", s.UVs[i][1], p)
		}
	}
}

// TestTransformOrder checks every transform operation and that each one
// pre-multiplies the ones before it (Mitsuba's document order).
func TestTransformOrder(t *testing.T) {
	center := func(ops string) mgl64.Vec3 {
		t.Helper()
		s := xmlShape(t, `<shape type="rectangle"><transform name="to_world">`+ops+`</transform></shape>`)
		var c mgl64.Vec3
		for _, p := range s.Positions {
			c = c.Add(p)
		}
		return c.Mul(1 / float64(len(s.Positions)))
	}
	cases := []struct {
		ops  string
		want mgl64.Vec3
	}{
		{`<translate x="1"/><rotate z="1" angle="90"/>`, mgl64.Vec3{0, 1, 0}},
		{`<rotate z="1" angle="90"/><translate x="1"/>`, mgl64.Vec3{1, 0, 0}},
		{`<translate value="1, 2, 3"/><scale value="2"/>`, mgl64.Vec3{2, 4, 6}},
		{`<translate value="1, 2, 3"/><scale value="2, 3, 4"/>`, mgl64.Vec3{2, 6, 12}},
		{`<translate value="1, 2, 3"/><scale x="-1" z="0.5"/>`, mgl64.Vec3{-1, 2, 1.5}},
		{`<scale value="2"/><translate value="1, 2, 3"/>`, mgl64.Vec3{1, 2, 3}},
		{`<translate x="1"/><rotate value="0, 1, 0" angle="90"/>`, mgl64.Vec3{0, 0, -1}},
		{`<translate x="1"/><rotate x="1" y="1" angle="180"/>`, mgl64.Vec3{0, 1, 0}},
		{`<matrix value="1 0 0 5  0 1 0 6  0 0 1 7  0 0 0 1"/>`, mgl64.Vec3{5, 6, 7}},
		{`<translate x="1"/><matrix value="0,-1,0, 1,0,0, 0,0,1"/>`, mgl64.Vec3{0, 1, 0}},
		{`<lookat origin="1, 2, 3" target="1, 2, 4" up="0, 1, 0"/>`, mgl64.Vec3{1, 2, 3}},
		{`<translate z="1"/><lookat origin="0, 0, 0" target="1, 0, 0" up="0, 1, 0"/>`, mgl64.Vec3{1, 0, 0}},
		{`<translate z="1"/><lookat origin="0, 0, 0" target="1, 0, 0" up="0, 1, 0"/><translate y="2"/>`, mgl64.Vec3{1, 2, 0}},
	}
	for _, tc := range cases {
		if got := center(tc.ops); !xmlNearVec(got, tc.want, 1e-9) {
			t.Errorf("%s: centre %v, want %v", tc.ops, got, tc.want)
		}
	}
}

func TestOBJShapeOptions(t *testing.T) {
	// tri.obj has uv (0,0), (1,0), (0,1) and normal +z; LoadOBJ flips v as
	// Mitsuba does unless flip_tex_coords is false.
	s := xmlShape(t, `<shape type="obj"><string name="filename" value="tri.obj"/></shape>`)
	if s.UVs[1] != (mgl64.Vec2{1, 1}) || s.Normals == nil {
		t.Errorf("uvs %v normals %v", s.UVs, s.Normals)
	}
	s = xmlShape(t, `<shape type="obj"><string name="filename" value="tri.obj"/><boolean name="flip_tex_coords" value="false"/></shape>`)
	if s.UVs[1] != (mgl64.Vec2{1, 0}) {
		t.Errorf("unflipped uvs %v", s.UVs)
	}
	s = xmlShape(t, `<shape type="ply"><string name="filename" value="quad.ply"/><boolean name="flip_tex_coords" value="true"/></shape>`)
	if s.UVs[1] != (mgl64.Vec2{0, 0}) {
		t.Errorf("flipped ply uvs %v", s.UVs)
	}
	// A transformed OBJ: normals follow, degenerate flags are recomputed.
	s = xmlShape(t, `<shape type="obj"><string name="filename" value="tri.obj"/>
		<transform name="to_world"><rotate x="1" angle="-90"/></transform></shape>`)
	if !xmlNearVec(s.Normals[0], mgl64.Vec3{0, 1, 0}, 1e-12) || len(s.Degenerate) != 1 || s.Degenerate[0] {
		t.Errorf("rotated normals %v degenerate %v", s.Normals, s.Degenerate)
	}
	if n := xmlTriNormal(s, 0).Normalize(); !xmlNearVec(n, mgl64.Vec3{0, 1, 0}, 1e-12) {
		t.Errorf("rotated face normal %v", n)
	}
	s = xmlShape(t, `<shape type="obj"><string name="filename" value="tri.obj"/><boolean name="flip_normals" value="true"/></shape>`)
	if s.Normals[0] != (mgl64.Vec3{0, 0, -1}) || xmlTriNormal(s, 0)[2] >= 0 {
		t.Errorf("flipped: normal %v face %v", s.Normals[0], xmlTriNormal(s, 0))
	}
}

func TestSmoothNormals(t *testing.T) {
	// A cube of 8 shared corners without normals: Mitsuba's angle-weighted
	// vertex normals point along the corner's diagonal.
	dir := t.TempDir()
	var b strings.Builder
	for i := 0; i < 8; i++ {
		fmt.Fprintf(&b, "v %d %d %d\n", 2*(i&1)-1, 2*(i>>1&1)-1, 2*(i>>2&1)-1)
	}
	// Faces as quads, counter-clockwise from outside, split into two
	// triangles each by the OBJ loader.
	for _, f := range [][4]int{{0, 2, 3, 1}, {4, 5, 7, 6}, {0, 1, 5, 4}, {2, 6, 7, 3}, {0, 4, 6, 2}, {1, 3, 7, 5}} {
		fmt.Fprintf(&b, "f %d %d %d %d\n", f[0]+1, f[1]+1, f[2]+1, f[3]+1)
	}
	if err := os.WriteFile(filepath.Join(dir, "cube.obj"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	s := xmlMustLoad(t, dir, `<shape type="obj"><string name="filename" value="cube.obj"/></shape>`).Shapes[0]
	xmlCheckOutward(t, s, mgl64.Vec3{}, 1)
	for i, p := range s.Positions {
		if want := p.Normalize(); !xmlNearVec(s.Normals[i], want, 1e-12) {
			t.Errorf("normal %v at %v, want %v", s.Normals[i], p, want)
		}
	}
	s = xmlMustLoad(t, dir, `<shape type="obj"><string name="filename" value="cube.obj"/><boolean name="face_normals" value="true"/></shape>`).Shapes[0]
	if s.Normals != nil {
		t.Error("face_normals kept normals")
	}
	s = xmlMustLoad(t, dir, `<shape type="obj"><string name="filename" value="cube.obj"/><boolean name="flip_normals" value="true"/></shape>`).Shapes[0]
	xmlCheckOutward(t, s, mgl64.Vec3{}, -1)
}
