package scenes

import (
	"fmt"
	"math"
	"strconv"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/internal/meshgen"
	"github.com/invrender/invrender/render"
)

// The built-in scenes are procedural: they need no files. CornellBox,
// SphereOnPlane and DenseScene reproduce the benchmark scenes of the
// project's scene generator (cbox, sphere, dense) in geometry, materials,
// ids, camera and settings: every vertex is rounded to six decimals as the
// generator's "%.6f" OBJ files store it, so a built-in scene and the same
// scene loaded from the generated XML hold identical numbers. Meshes are
// flat-shaded (no vertex normals, the generator's faceNormals=true), area
// lights one-sided, all materials diffuse. The other scenes are small test
// scenes for the renderer and its gradients.
//
// Every scene has one sensor named "sensor" with a box filter, Mitsuba's
// default clip distances (0.01, 10000) and seed 0; change SPP, Seed, Width
// and Height on the returned value as needed. Each call builds a new scene.

// Default clip distances of Mitsuba's perspective sensor.
const (
	builtinNearClip = 0.01
	builtinFarClip  = 10000
)

func builtinSensor(origin, target, up mgl64.Vec3, fov float64, w, h, spp int) *render.Sensor {
	return &render.Sensor{
		Name:   "sensor",
		Origin: origin, Target: target, Up: up,
		Fov: fov, FovAxis: render.FovX,
		NearClip: builtinNearClip, FarClip: builtinFarClip,
		Width: w, Height: h,
		Filter: render.Filter{Kind: render.FilterBox},
		SPP:    spp,
	}
}

func builtinDiffuse(name string, r, g, b float64) *render.Material {
	return &render.Material{Name: name, Kind: render.Diffuse, Reflectance: render.ConstTexture(mgl64.Vec3{r, g, b})}
}

// builtinRound6 rounds x to six decimals exactly as printing it with "%.6f" and
// reading it back does.
func builtinRound6(x float64) float64 {
	var buf [40]byte
	y, err := strconv.ParseFloat(string(strconv.AppendFloat(buf[:0], x, 'f', 6, 64)), 64)
	if err != nil {
		return x
	}
	return y
}

func builtinRound6v(v mgl64.Vec3) mgl64.Vec3 {
	return mgl64.Vec3{builtinRound6(v[0]), builtinRound6(v[1]), builtinRound6(v[2])}
}

// builtinShape makes a validated shape; built-in geometry cannot be invalid,
// so a failure is a bug in this file.
func builtinShape(name string, pos []mgl64.Vec3, idx []int32, material int, emit *render.AreaEmitter) *render.Shape {
	s := &render.Shape{Name: name, Positions: pos, Indices: idx, Material: material, Emitter: emit}
	if _, err := validateMesh("built-in shape "+name, s); err != nil {
		panic(fmt.Sprintf("scenes: built-in shape %q: %v", name, err))
	}
	return s
}

// builtinBenchShape is builtinShape with positions rounded as the benchmark OBJ files
// store them.
func builtinBenchShape(name string, pos []mgl64.Vec3, idx []int32, material int, emit *render.AreaEmitter) *render.Shape {
	for i, p := range pos {
		pos[i] = builtinRound6v(p)
	}
	return builtinShape(name, pos, idx, material, emit)
}

// builtinRotatedBox is the generator's Cornell-box block: a box of size (sx, sy,
// sz) standing on y = 0, rotated by angleDeg about the vertical axis through
// (cx, 0, cz), with meshgen.Box's corner order and outward faces.
func builtinRotatedBox(cx, cz, sx, sy, sz, angleDeg float64) ([]mgl64.Vec3, []int32) {
	pos, idx := meshgen.Box(mgl64.Vec3{-sx / 2, 0, -sz / 2}, mgl64.Vec3{sx / 2, sy, sz / 2})
	// As Python's math.radians: the product with the rounded pi/180.
	pi := math.Pi
	a := angleDeg * (pi / 180)
	ca, sa := math.Cos(a), math.Sin(a)
	for i, p := range pos {
		x, z := p[0], p[2]
		// Explicit conversions keep the compiler from fusing multiply-adds,
		// so the sums round as the generator's do.
		pos[i] = mgl64.Vec3{
			float64(cx+float64(ca*x)) + float64(sa*z),
			p[1],
			float64(cz-float64(sa*x)) + float64(ca*z),
		}
	}
	return pos, idx
}

// CornellBox returns the Cornell box benchmark scene ("cbox"): a 2 x 2 x 2
// room spanning x in [-1, 1], y in [0, 2], z in [-1, 1], open towards +z,
// with white floor, ceiling and back wall, a red left (x = -1) and a green
// right (x = 1) wall, two white blocks (shortbox 0.6 high turned by -17
// degrees, tallbox 1.2 high turned by 20 degrees) and a 0.5 x 0.5 one-sided
// area light just below the ceiling (y = 1.98) facing down with radiance
// (17, 12, 4).
//
// Shapes, in order: floor, ceiling, back, left, right, shortbox, tallbox,
// light; materials: white (0.725, 0.71, 0.68), red (0.63, 0.065, 0.05),
// green (0.14, 0.45, 0.091), lightmat (black). Camera at (0, 1, 3.9)
// looking at (0, 1, 0), up +y, fov 39.3 degrees along x, 256 x 256 pixels,
// 16 spp; path tracer with maxDepth 3.
func CornellBox() *render.Scene {
	sc := &render.Scene{
		Sensors:    []*render.Sensor{builtinSensor(mgl64.Vec3{0, 1, 3.9}, mgl64.Vec3{0, 1, 0}, mgl64.Vec3{0, 1, 0}, 39.3, 256, 256, 16)},
		Integrator: render.Integrator{Kind: render.PathIntegrator, MaxDepth: 3, RRDepth: 5},
		Materials: []*render.Material{
			builtinDiffuse("white", 0.725, 0.71, 0.68),
			builtinDiffuse("red", 0.63, 0.065, 0.05),
			builtinDiffuse("green", 0.14, 0.45, 0.091),
			builtinDiffuse("lightmat", 0, 0, 0),
		},
	}
	const white, red, green, lightmat = 0, 1, 2, 3
	v := func(x, y, z float64) mgl64.Vec3 { return mgl64.Vec3{x, y, z} }
	quad := func(name string, mat int, p0, p1, p2, p3 mgl64.Vec3, emit *render.AreaEmitter) *render.Shape {
		pos, idx := meshgen.Quad(p0, p1, p2, p3)
		return builtinBenchShape(name, pos, idx, mat, emit)
	}
	box := func(name string, cx, cz, sx, sy, sz, angle float64) *render.Shape {
		pos, idx := builtinRotatedBox(cx, cz, sx, sy, sz, angle)
		return builtinBenchShape(name, pos, idx, white, nil)
	}
	sc.Shapes = []*render.Shape{
		quad("floor", white, v(-1, 0, 1), v(1, 0, 1), v(1, 0, -1), v(-1, 0, -1), nil),
		quad("ceiling", white, v(-1, 2, 1), v(-1, 2, -1), v(1, 2, -1), v(1, 2, 1), nil),
		quad("back", white, v(-1, 0, -1), v(1, 0, -1), v(1, 2, -1), v(-1, 2, -1), nil),
		quad("left", red, v(-1, 0, 1), v(-1, 0, -1), v(-1, 2, -1), v(-1, 2, 1), nil),
		quad("right", green, v(1, 0, 1), v(1, 2, 1), v(1, 2, -1), v(1, 0, -1), nil),
		box("shortbox", 0.33, 0.37, 0.6, 0.6, 0.6, -17),
		box("tallbox", -0.35, -0.3, 0.6, 1.2, 0.6, 20),
		quad("light", lightmat, v(-0.25, 1.98, -0.25), v(0.25, 1.98, -0.25), v(0.25, 1.98, 0.25), v(-0.25, 1.98, 0.25),
			&render.AreaEmitter{Radiance: mgl64.Vec3{17, 12, 4}}),
	}
	return sc
}

// builtinLitObject is the generator's object-on-a-plane scene around the given
// object mesh.
func builtinLitObject(pos []mgl64.Vec3, idx []int32, spp int) *render.Scene {
	sc := &render.Scene{
		Sensors:    []*render.Sensor{builtinSensor(mgl64.Vec3{0, 1.6, 3.2}, mgl64.Vec3{0, 0.45, 0}, mgl64.Vec3{0, 1, 0}, 45, 256, 256, spp)},
		Integrator: render.Integrator{Kind: render.PathIntegrator, MaxDepth: 2, RRDepth: 5},
		Materials: []*render.Material{
			builtinDiffuse("objmat", 0.7, 0.3, 0.2),
			builtinDiffuse("planemat", 0.6, 0.6, 0.6),
			builtinDiffuse("lightmat", 0, 0, 0),
		},
	}
	plane, planeIdx := meshgen.Quad(mgl64.Vec3{-3, 0, 3}, mgl64.Vec3{3, 0, 3}, mgl64.Vec3{3, 0, -3}, mgl64.Vec3{-3, 0, -3})
	light, lightIdx := meshgen.Quad(mgl64.Vec3{-0.5, 2.5, -0.5}, mgl64.Vec3{0.5, 2.5, -0.5}, mgl64.Vec3{0.5, 2.5, 0.5}, mgl64.Vec3{-0.5, 2.5, 0.5})
	sc.Shapes = []*render.Shape{
		builtinBenchShape("object", pos, idx, 0, nil),
		builtinBenchShape("plane", plane, planeIdx, 1, nil),
		builtinBenchShape("light", light, lightIdx, 2, &render.AreaEmitter{Radiance: mgl64.Vec3{20, 20, 20}}),
	}
	return sc
}

// SphereOnPlane returns the "sphere" benchmark scene, the test case for
// silhouette and shadow gradients: an icosphere of radius 0.5 resting on
// y = 0 at the origin (subdivision 4, 5120 triangles, shape "object",
// material objmat (0.7, 0.3, 0.2)), a 6 x 6 plane at y = 0 ("plane",
// planemat 0.6) and a 1 x 1 one-sided area light at y = 2.5 facing down
// ("light", lightmat black, radiance 20). Camera at (0, 1.6, 3.2) looking
// at (0, 0.45, 0), up +y, fov 45 degrees along x, 256 x 256 pixels, 16 spp;
// path tracer with maxDepth 2 (direct light only).
func SphereOnPlane() *render.Scene {
	pos, idx := meshgen.Icosphere(4, 0.5, mgl64.Vec3{0, 0.5, 0}, 0)
	return builtinLitObject(pos, idx, 16)
}

// DenseScene returns the "dense" benchmark scene: SphereOnPlane's plane,
// light, materials and camera around a bumpy icosphere of radius 0.5
// centred at (0, 0.55, 0) with bump 0.08 (see meshgen.Icosphere) and
// 20*4^subdiv triangles, 4 spp. The benchmark uses subdiv 7 (327,680
// triangles); subdiv is clamped to [0, 9].
func DenseScene(subdiv int) *render.Scene {
	subdiv = min(max(subdiv, 0), 9)
	pos, idx := meshgen.Icosphere(subdiv, 0.5, mgl64.Vec3{0, 0.55, 0}, 0.08)
	return builtinLitObject(pos, idx, 4)
}

// EmissiveTriangle returns the analytic test scene of the gradient checks:
// one triangle ("triangle", material "black": diffuse, reflectance 0) in
// the plane z = 0 with corners (-0.6, -0.4, 0), (0.5, -0.5, 0) and
// (0.1, 0.6, 0), wound to face +z, a one-sided area emitter of radiance
// (1, 1, 1), seen from the camera at (0, 0, 2.5) looking at the origin, up
// +y, fov 40 degrees along x, against a black background (no environment).
// 64 x 64 pixels with a box filter, 16 spp, maxDepth 1 (emission seen
// directly).
//
// Each pixel's expected value is the fraction of the pixel the triangle
// covers. The triangle (area 0.585) is parallel to the image plane at
// distance 2.5, so its projection onto the plane at unit distance from the
// pinhole has area 0.585/2.5^2, and a pixel there is 2*tan(20 deg)/64 wide:
// the expected sum of each channel over the image is
// (0.585/6.25) / (2*tan(20 deg)/64)^2, about 723.5.
// Its derivative with respect to the vertices is that of the projected
// area, the analytic check of the boundary term.
func EmissiveTriangle() *render.Scene {
	return &render.Scene{
		Sensors:    []*render.Sensor{builtinSensor(mgl64.Vec3{0, 0, 2.5}, mgl64.Vec3{}, mgl64.Vec3{0, 1, 0}, 40, 64, 64, 16)},
		Integrator: render.Integrator{Kind: render.PathIntegrator, MaxDepth: 1, RRDepth: 5},
		Materials:  []*render.Material{builtinDiffuse("black", 0, 0, 0)},
		Shapes: []*render.Shape{builtinShape("triangle",
			[]mgl64.Vec3{{-0.6, -0.4, 0}, {0.5, -0.5, 0}, {0.1, 0.6, 0}}, []int32{0, 1, 2}, 0,
			&render.AreaEmitter{Radiance: mgl64.Vec3{1, 1, 1}})},
	}
}

// builtinCentredQuad returns the square of the given side centred at c in the
// plane y = c.y, facing +y (up) or -y (down).
func builtinCentredQuad(c mgl64.Vec3, side float64, up bool) ([]mgl64.Vec3, []int32) {
	h := side / 2
	p := func(dx, dz float64) mgl64.Vec3 { return mgl64.Vec3{c[0] + dx, c[1], c[2] + dz} }
	if up {
		return meshgen.Quad(p(-h, h), p(h, h), p(h, -h), p(-h, -h))
	}
	return meshgen.Quad(p(-h, -h), p(h, -h), p(h, h), p(-h, h))
}

// OccluderScene returns the shadow (secondary visibility) test scene: a
// 4 x 4 diffuse plane at y = 0 ("plane", planemat 0.8), a 0.6 x 0.6
// diffuse square occluder at height 1 centred at (0.13, 1, -0.05) facing up
// ("occluder", occludermat 0.5), and a 0.3 x 0.3 one-sided area light at
// height 2 centred above the origin facing down ("light", lightmat black,
// radiance 40). The camera looks straight down from (0, 5, 0) at the
// origin with up -z (so the image's top is -z), fov 45 degrees along x, and
// sees the occluder, the light's dark back and the penumbra on the plane
// around them. 64 x 64 pixels, 16 spp, maxDepth 2 (direct light only).
func OccluderScene() *render.Scene {
	plane, planeIdx := builtinCentredQuad(mgl64.Vec3{}, 4, true)
	// The centre is chosen so that no occluder edge lines up with a light
	// edge as seen from the camera: coinciding projected edges make the
	// image's derivative one-sided (moving one edge uncovers something
	// different on each side), which no gradient check can pass.
	occ, occIdx := builtinCentredQuad(mgl64.Vec3{0.13, 1, -0.05}, 0.6, true)
	light, lightIdx := builtinCentredQuad(mgl64.Vec3{0, 2, 0}, 0.3, false)
	return &render.Scene{
		Sensors:    []*render.Sensor{builtinSensor(mgl64.Vec3{0, 5, 0}, mgl64.Vec3{}, mgl64.Vec3{0, 0, -1}, 45, 64, 64, 16)},
		Integrator: render.Integrator{Kind: render.PathIntegrator, MaxDepth: 2, RRDepth: 5},
		Materials: []*render.Material{
			builtinDiffuse("planemat", 0.8, 0.8, 0.8),
			builtinDiffuse("occludermat", 0.5, 0.5, 0.5),
			builtinDiffuse("lightmat", 0, 0, 0),
		},
		Shapes: []*render.Shape{
			builtinShape("plane", plane, planeIdx, 0, nil),
			builtinShape("occluder", occ, occIdx, 1, nil),
			builtinShape("light", light, lightIdx, 2, &render.AreaEmitter{Radiance: mgl64.Vec3{40, 40, 40}}),
		},
	}
}

// FurnaceSphere returns the white furnace test: a sphere of radius 1 at the
// origin (icosphere subdivision 3, 1280 flat-shaded triangles, shape
// "object") with material mat inside a constant environment of radiance
// (1, 1, 1) ("env"). With a diffuse material of albedo 1 every pixel's
// expected value is exactly 1. mat is copied; an empty Name becomes
// "objmat". Camera at (0, 0, 4) looking at the origin, up +y, fov 40
// degrees along x, 32 x 32 pixels, 16 spp; path tracer with unbounded
// depth (maxDepth -1, Russian roulette from depth 5).
func FurnaceSphere(mat render.Material) *render.Scene {
	m := mat
	if m.Name == "" {
		m.Name = "objmat"
	}
	pos, idx := meshgen.Icosphere(3, 1, mgl64.Vec3{}, 0)
	return &render.Scene{
		Sensors:    []*render.Sensor{builtinSensor(mgl64.Vec3{0, 0, 4}, mgl64.Vec3{}, mgl64.Vec3{0, 1, 0}, 40, 32, 32, 16)},
		Integrator: render.Integrator{Kind: render.PathIntegrator, MaxDepth: -1, RRDepth: 5},
		Materials:  []*render.Material{&m},
		Shapes:     []*render.Shape{builtinShape("object", pos, idx, 0, nil)},
		Env:        &render.Environment{Name: "env", Radiance: mgl64.Vec3{1, 1, 1}, Scale: 1, ToWorld: mgl64.Ident3()},
	}
}

// builtinChecker returns the texture of TexturedQuad: w x h texels whose
// red channel rises from left to right ((x+0.5)/w), green from top to
// bottom ((y+0.5)/h), and blue is a checkerboard of 4 x 4 texel cells (0.9
// where the top-left cell is, 0.1 elsewhere), so that any flip or transpose
// of the lookup shows.
func builtinChecker(w, h int) *render.Image {
	im := render.NewImage(w, h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			b := 0.1
			if (x/4+y/4)%2 == 0 {
				b = 0.9
			}
			im.Set(x, y, mgl64.Vec3{(float64(x) + 0.5) / float64(w), (float64(y) + 0.5) / float64(h), b})
		}
	}
	return im
}

// TexturedQuad returns the texture test scene: the square [-1, 1]^2 in the
// plane z = 0 facing +z ("quad", material "quadmat": diffuse with a 16 x 12
// procedural bitmap, see below), with UVs (0, 0) at its top-left corner
// (-1, 1, 0) and (1, 1) at its bottom-right (1, -1, 0), lit by a 1.5 x 1.5
// one-sided area light in the plane z = 4.5 facing -z ("light", lightmat
// black, radiance 10), which sits behind the camera. Camera at (0, 0, 3.5)
// looking at the origin, up +y, fov 40 degrees along x, so the image shows
// the texture upright: its first row at the top. 64 x 64 pixels, 16 spp,
// maxDepth 2.
//
// The texture (bilinear, repeat) has red rising from left to right
// ((x+0.5)/16), green from top to bottom ((y+0.5)/12) and a blue
// checkerboard of 4 x 4 texel cells (0.9 in the top-left cell, 0.1 in its
// neighbours).
func TexturedQuad() *render.Scene {
	quad, quadIdx := meshgen.Quad(mgl64.Vec3{-1, 1, 0}, mgl64.Vec3{-1, -1, 0}, mgl64.Vec3{1, -1, 0}, mgl64.Vec3{1, 1, 0})
	light, lightIdx := meshgen.Quad(mgl64.Vec3{-0.75, 0.75, 4.5}, mgl64.Vec3{0.75, 0.75, 4.5}, mgl64.Vec3{0.75, -0.75, 4.5}, mgl64.Vec3{-0.75, -0.75, 4.5})
	q := builtinShapeUV("quad", quad, quadIdx, []mgl64.Vec2{{0, 0}, {0, 1}, {1, 1}, {1, 0}}, 0)
	mat := &render.Material{Name: "quadmat", Kind: render.Diffuse,
		Reflectance: render.Texture{Image: builtinChecker(16, 12), Wrap: render.WrapRepeat}}
	return &render.Scene{
		Sensors:    []*render.Sensor{builtinSensor(mgl64.Vec3{0, 0, 3.5}, mgl64.Vec3{}, mgl64.Vec3{0, 1, 0}, 40, 64, 64, 16)},
		Integrator: render.Integrator{Kind: render.PathIntegrator, MaxDepth: 2, RRDepth: 5},
		Materials:  []*render.Material{mat, builtinDiffuse("lightmat", 0, 0, 0)},
		Shapes: []*render.Shape{
			q,
			builtinShape("light", light, lightIdx, 1, &render.AreaEmitter{Radiance: mgl64.Vec3{10, 10, 10}}),
		},
	}
}

func builtinShapeUV(name string, pos []mgl64.Vec3, idx []int32, uv []mgl64.Vec2, material int) *render.Shape {
	s := &render.Shape{Name: name, Positions: pos, Indices: idx, UVs: uv, Material: material}
	if _, err := validateMesh("built-in shape "+name, s); err != nil {
		panic(fmt.Sprintf("scenes: built-in shape %q: %v", name, err))
	}
	return s
}

// builtinSkyMap returns EnvLitSphere's equirectangular map, w x h texels with row
// 0 at the zenith and row h-1 at the nadir: a sky whose blue radiance
// falls from 1 at the zenith to 0.4 at the horizon, a dark ground (0.05)
// below the horizon, and a 2 x 2 texel "sun" of radiance (60, 55, 45) in
// rows h/4-1 and h/4 (about 45 degrees above the horizon) and columns
// 3w/8-1 and 3w/8.
func builtinSkyMap(w, h int) *render.Image {
	im := render.NewImage(w, h)
	for y := 0; y < h; y++ {
		theta := math.Pi * (float64(y) + 0.5) / float64(h) // from the zenith
		var c mgl64.Vec3
		if theta < math.Pi/2 {
			t := math.Cos(theta) // 1 at the zenith, 0 at the horizon
			c = mgl64.Vec3{0.25 + 0.15*t, 0.3 + 0.3*t, 0.4 + 0.6*t}
		} else {
			c = mgl64.Vec3{0.05, 0.05, 0.05}
		}
		for x := 0; x < w; x++ {
			im.Set(x, y, c)
		}
	}
	for y := h/4 - 1; y <= h/4; y++ {
		for x := 3*w/8 - 1; x <= 3*w/8; x++ {
			im.Set(x, y, mgl64.Vec3{60, 55, 45})
		}
	}
	return im
}

// EnvLitSphere returns the environment-lighting test scene: SphereOnPlane's
// geometry with a coarser sphere (icosphere subdivision 3, 1280 triangles,
// "object", objmat (0.7, 0.3, 0.2)) on the 6 x 6 plane ("plane", planemat
// 0.6), no area light, lit only by a 32 x 16 procedural equirectangular
// environment map ("envmap", scale 1, identity rotation) with a blue sky,
// a dark ground and a small bright sun about 45 degrees up that casts the
// sphere's shadow (see builtinSkyMap). Camera as SphereOnPlane's, 64 x 64 pixels,
// 16 spp, maxDepth 2.
func EnvLitSphere() *render.Scene {
	pos, idx := meshgen.Icosphere(3, 0.5, mgl64.Vec3{0, 0.5, 0}, 0)
	plane, planeIdx := meshgen.Quad(mgl64.Vec3{-3, 0, 3}, mgl64.Vec3{3, 0, 3}, mgl64.Vec3{3, 0, -3}, mgl64.Vec3{-3, 0, -3})
	return &render.Scene{
		Sensors:    []*render.Sensor{builtinSensor(mgl64.Vec3{0, 1.6, 3.2}, mgl64.Vec3{0, 0.45, 0}, mgl64.Vec3{0, 1, 0}, 45, 64, 64, 16)},
		Integrator: render.Integrator{Kind: render.PathIntegrator, MaxDepth: 2, RRDepth: 5},
		Materials: []*render.Material{
			builtinDiffuse("objmat", 0.7, 0.3, 0.2),
			builtinDiffuse("planemat", 0.6, 0.6, 0.6),
		},
		Shapes: []*render.Shape{
			builtinShape("object", pos, idx, 0, nil),
			builtinShape("plane", plane, planeIdx, 1, nil),
		},
		Env: &render.Environment{Name: "envmap", Image: builtinSkyMap(32, 16), Scale: 1, ToWorld: mgl64.Ident3()},
	}
}
