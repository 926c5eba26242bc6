package render_test

import (
	"math"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/render"
	"github.com/invrender/invrender/scenes"
)

// TestAOVs renders the textured quad (scenes.TexturedQuad) with every AOV
// and a box filter of radius 1e-3 pixel, so that each sample looks through
// its pixel's centre up to 1e-3 pixel, and checks each pixel against the
// quad's geometry computed here: where the centre's ray meets the quad
// (with a margin that keeps the footprint on it) the albedo is the texture
// at the UV of the hit point (UV (0, 0) at the quad's top-left corner, as
// the scene puts it), the normal +z, the depth the distance to the hit and
// alpha 1; elsewhere all four are 0. Tolerance 1e-3: the footprint moves
// the hit point by 1e-3 pixel, and the steepest AOV, the blue checkerboard
// blended bilinearly, changes by less than 0.3 per pixel.
func TestAOVs(t *testing.T) {
	s := scenes.TexturedQuad()
	setFilm(s, 48, 40, 4)
	s.Sensors[0].Filter = render.Filter{Kind: render.FilterBox, Radius: 1e-3}
	res := renderOnce(t, s, render.Options{AOVs: render.AOVAlbedo | render.AOVNormal | render.AOVDepth | render.AOVAlpha})
	if res.Albedo == nil || res.Normal == nil || res.Depth == nil || res.Image.Alpha == nil {
		t.Fatal("an AOV is missing")
	}
	cam := mustCamera(t, s)
	tex := &s.Materials[0].Reflectance
	const tol = 1e-3
	on, off := 0, 0
	for py := 0; py < cam.Height; py++ {
		for px := 0; px < cam.Width; px++ {
			r := cam.Ray(float64(px)+0.5, float64(py)+0.5)
			tt := -r.O[2] / r.D[2]
			p := r.At(tt)
			var albedo, normal mgl64.Vec3
			var depth, alpha float64
			switch {
			case math.Abs(p[0]) < 0.99 && math.Abs(p[1]) < 0.99:
				albedo = tex.Eval(mgl64.Vec2{(p[0] + 1) / 2, (1 - p[1]) / 2})
				normal = mgl64.Vec3{0, 0, 1}
				depth, alpha = tt, 1
				on++
			case math.Abs(p[0]) > 1.01 || math.Abs(p[1]) > 1.01:
				off++
			default:
				continue // the footprint may straddle the quad's border
			}
			i := py*cam.Width + px
			if d := res.Albedo.At(px, py).Sub(albedo).Len(); d > tol {
				t.Errorf("pixel (%d, %d): albedo %v, want %v", px, py, res.Albedo.At(px, py), albedo)
			}
			if d := res.Normal.At(px, py).Sub(normal).Len(); d > tol {
				t.Errorf("pixel (%d, %d): normal %v, want %v", px, py, res.Normal.At(px, py), normal)
			}
			if d := res.Depth.At(px, py); math.Abs(d[0]-depth) > tol || d[1] != d[0] || d[2] != d[0] {
				t.Errorf("pixel (%d, %d): depth %v, want %v", px, py, d, depth)
			}
			if a := res.Image.Alpha[i]; a != alpha {
				t.Errorf("pixel (%d, %d): alpha %v, want %v", px, py, a, alpha)
			}
		}
	}
	if on < 500 || off < 100 {
		t.Fatalf("only %d pixels on the quad and %d off it were checked", on, off)
	}
	// The texture shows upright: red grows to the right, green downwards.
	a, b, c := res.Albedo.At(10, 20), res.Albedo.At(38, 20), res.Albedo.At(24, 32)
	if !(a[0] < b[0] && a[1] < c[1]) {
		t.Errorf("texture not upright: albedo left %v right %v below %v", a, b, c)
	}
}

// TestAOVsDoNotChangeImage: asking for AOVs leaves the image bit for bit
// as it is without them.
func TestAOVsDoNotChangeImage(t *testing.T) {
	s := scenes.TexturedQuad()
	setFilm(s, 24, 24, 4)
	plain := renderOnce(t, s, render.Options{})
	all := renderOnce(t, s, render.Options{AOVs: render.AOVAlbedo | render.AOVNormal | render.AOVDepth | render.AOVAlpha})
	for i := range plain.Image.Pix {
		if math.Float64bits(plain.Image.Pix[i]) != math.Float64bits(all.Image.Pix[i]) {
			t.Fatalf("value %d: %v without AOVs, %v with", i, plain.Image.Pix[i], all.Image.Pix[i])
		}
	}
	if plain.Albedo != nil || plain.Normal != nil || plain.Depth != nil || plain.Image.Alpha != nil {
		t.Errorf("AOVs returned without being asked for")
	}
}
