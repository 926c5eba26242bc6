package render_test

import (
	"math"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/geom"
	"github.com/invrender/invrender/render"
)

// texImage returns a 4 x 3 image whose texel (x, y) holds (10y + x, x, y):
// every texel distinct, so a wrong tap shows.
func texImage() *render.Image {
	im := render.NewImage(4, 3)
	for y := 0; y < 3; y++ {
		for x := 0; x < 4; x++ {
			im.Set(x, y, mgl64.Vec3{float64(10*y + x), float64(x), float64(y)})
		}
	}
	return im
}

// tx returns texImage's texel (x, y).
func tx(x, y int) mgl64.Vec3 { return mgl64.Vec3{float64(10*y + x), float64(x), float64(y)} }

// mix returns the weighted sum of texels.
func mix(ws ...any) mgl64.Vec3 {
	var c mgl64.Vec3
	for i := 0; i < len(ws); i += 2 {
		c = c.Add(ws[i+1].(mgl64.Vec3).Mul(ws[i].(float64)))
	}
	return c
}

// TestTextureTexelCentres: a bilinear lookup at a texel's centre returns
// the texel exactly, in every wrap mode, and UV (0, 0) is the image's
// top-left corner (texel (0, 0) is the first row's first texel).
func TestTextureTexelCentres(t *testing.T) {
	for _, wrap := range []render.WrapMode{render.WrapRepeat, render.WrapMirror, render.WrapClamp} {
		tex := render.Texture{Image: texImage(), Wrap: wrap}
		for y := 0; y < 3; y++ {
			for x := 0; x < 4; x++ {
				uv := mgl64.Vec2{(float64(x) + 0.5) / 4, (float64(y) + 0.5) / 3}
				if got := tex.Eval(uv); got != tx(x, y) {
					t.Errorf("%v: Eval(%v) = %v, want texel (%d, %d) = %v", wrap, uv, got, x, y, tx(x, y))
				}
			}
		}
	}
}

// TestTextureLookups checks lookups between texel centres and outside
// [0, 1] against values worked out by hand for each wrap mode and for
// nearest-texel lookups. Values are small integers times quarters, so
// rounding is below 1e-13.
func TestTextureLookups(t *testing.T) {
	repeat, mirror, clamp := render.WrapRepeat, render.WrapMirror, render.WrapClamp
	cases := []struct {
		wrap    render.WrapMode
		nearest bool
		uv      mgl64.Vec2
		want    mgl64.Vec3
	}{
		// A quarter of the way from texel (1,1)'s centre to (2,1)'s.
		{repeat, false, mgl64.Vec2{1.75 / 4, 1.5 / 3}, mix(0.75, tx(1, 1), 0.25, tx(2, 1))},
		// Halfway between four centres.
		{clamp, false, mgl64.Vec2{2.0 / 4, 1.0 / 3}, mix(0.25, tx(1, 0), 0.25, tx(2, 0), 0.25, tx(1, 1), 0.25, tx(2, 1))},
		// The corner (0, 0): repeat blends the four corner texels, clamp
		// and mirror return texel (0, 0).
		{repeat, false, mgl64.Vec2{0, 0}, mix(0.25, tx(0, 0), 0.25, tx(3, 0), 0.25, tx(0, 2), 0.25, tx(3, 2))},
		{clamp, false, mgl64.Vec2{0, 0}, tx(0, 0)},
		{mirror, false, mgl64.Vec2{0, 0}, tx(0, 0)},
		// The corner (1, 1).
		{repeat, false, mgl64.Vec2{1, 1}, mix(0.25, tx(3, 2), 0.25, tx(0, 2), 0.25, tx(3, 0), 0.25, tx(0, 0))},
		{clamp, false, mgl64.Vec2{1, 1}, tx(3, 2)},
		{mirror, false, mgl64.Vec2{1, 1}, tx(3, 2)},
		// Outside [0, 1]: repeat shifts by whole periods, mirror reflects,
		// clamp holds the border.
		{repeat, false, mgl64.Vec2{1 + 1.5/4, -1 + 2.5/3}, tx(1, 2)},
		{repeat, false, mgl64.Vec2{-3 + 0.5/4, 7 + 0.5/3}, tx(0, 0)},
		{mirror, false, mgl64.Vec2{1 + 0.5/4, 0.5 / 3}, tx(3, 0)},
		{mirror, false, mgl64.Vec2{-1.5 / 4, -0.5 / 3}, tx(1, 0)},
		{mirror, false, mgl64.Vec2{2 + 1.5/4, 1.5 / 3}, tx(1, 1)},
		{clamp, false, mgl64.Vec2{1.7, -0.3}, tx(3, 0)},
		{clamp, false, mgl64.Vec2{-5, 1.5 / 3}, tx(0, 1)},
		// Repeat across the seam: halfway between the last and the first
		// column.
		{repeat, false, mgl64.Vec2{1, 0.5 / 3}, mix(0.5, tx(3, 0), 0.5, tx(0, 0))},
		// Nearest lookups take the texel the point falls in.
		{repeat, true, mgl64.Vec2{0.99 / 4, 2.01 / 3}, tx(0, 2)},
		{repeat, true, mgl64.Vec2{1.25, 0}, tx(1, 0)},
		{mirror, true, mgl64.Vec2{1.1, 0}, tx(3, 0)},
		{clamp, true, mgl64.Vec2{-0.1, 1.2}, tx(0, 2)},
	}
	for _, c := range cases {
		tex := render.Texture{Image: texImage(), Wrap: c.wrap, Nearest: c.nearest}
		if got := tex.Eval(c.uv); got.Sub(c.want).Len() > 1e-13 {
			t.Errorf("%v nearest=%v: Eval(%v) = %v, want %v", c.wrap, c.nearest, c.uv, got, c.want)
		}
	}
	// UScale and VScale multiply the coordinates before the lookup.
	tex := render.Texture{Image: texImage(), UScale: 2, VScale: 3}
	if got := tex.Eval(mgl64.Vec2{1.5 / 8, 2.5 / 9}); got != tx(1, 2) {
		t.Errorf("scaled lookup %v, want %v", got, tx(1, 2))
	}
	c := render.ConstTexture(mgl64.Vec3{0.1, 0.2, 0.3})
	if got := c.Eval(mgl64.Vec2{5, -7}); got != (mgl64.Vec3{0.1, 0.2, 0.3}) || !c.IsConstant() {
		t.Errorf("constant texture: %v", got)
	}
	if m := (&render.Texture{Image: texImage()}).Mean(); m.Sub(mgl64.Vec3{11.5, 1.5, 1}).Len() > 1e-12 {
		t.Errorf("Mean = %v, want (11.5, 1.5, 1)", m)
	}
}

// TestTextureTapsValid: for any coordinates, including huge, infinite and
// NaN ones, the taps index the image and their weights are non-negative and
// sum to 1, so a lookup never panics and stays within the texel values.
func TestTextureTapsValid(t *testing.T) {
	rng := geom.NewRNG(1, 1, 1, 1)
	special := []float64{0, 1, -1, 1e15, -1e15, 1e300, -1e300, math.Inf(1), math.Inf(-1), math.NaN(), 0x1p62, -0x1p62}
	im := texImage()
	for _, wrap := range []render.WrapMode{render.WrapRepeat, render.WrapMirror, render.WrapClamp} {
		for _, nearest := range []bool{false, true} {
			tex := render.Texture{Image: im, Wrap: wrap, Nearest: nearest}
			check := func(uv mgl64.Vec2) {
				taps := tex.Taps(uv)
				sum := 0.0
				for i := 0; i < 4; i++ {
					if taps.Weight[i] < 0 || taps.Index[i] < 0 || int(taps.Index[i]) >= im.Width*im.Height {
						t.Fatalf("%v nearest=%v uv %v: taps %+v", wrap, nearest, uv, taps)
					}
					sum += taps.Weight[i]
				}
				if math.Abs(sum-1) > 1e-12 {
					t.Fatalf("%v nearest=%v uv %v: weights sum to %v", wrap, nearest, uv, sum)
				}
			}
			for _, u := range special {
				for _, v := range special {
					check(mgl64.Vec2{u, v})
				}
			}
			for k := 0; k < 1000; k++ {
				check(mgl64.Vec2{20*rng.Float64() - 10, 20*rng.Float64() - 10})
			}
		}
	}
}

// TestTextureRepeatPeriodic: with repeat, shifting uv by whole periods
// changes nothing; with mirror, reflecting about 0 changes nothing. The
// tolerance is the rounding of u*W for |u| up to 10.
func TestTextureRepeatPeriodic(t *testing.T) {
	rng := geom.NewRNG(2, 2, 2, 2)
	rep := render.Texture{Image: texImage(), Wrap: render.WrapRepeat}
	mir := render.Texture{Image: texImage(), Wrap: render.WrapMirror}
	for k := 0; k < 1000; k++ {
		uv := mgl64.Vec2{rng.Float64(), rng.Float64()}
		shift := mgl64.Vec2{float64(int(rng.Float64()*10) - 5), float64(int(rng.Float64()*10) - 5)}
		if a, b := rep.Eval(uv), rep.Eval(uv.Add(shift)); a.Sub(b).Len() > 1e-12 {
			t.Fatalf("repeat: Eval(%v) = %v, Eval(%v) = %v", uv, a, uv.Add(shift), b)
		}
		if a, b := mir.Eval(uv), mir.Eval(uv.Mul(-1)); a.Sub(b).Len() > 1e-12 {
			t.Fatalf("mirror: Eval(%v) = %v, Eval(%v) = %v", uv, a, uv.Mul(-1), b)
		}
	}
}
