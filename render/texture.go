package render

import (
	"math"

	"github.com/go-gl/mathgl/mgl64"
)

// WrapMode says how texture coordinates outside [0,1] are folded back, with
// Mitsuba's names.
type WrapMode uint8

const (
	// WrapRepeat tiles the texture (Mitsuba "repeat", the default).
	WrapRepeat WrapMode = iota
	// WrapMirror tiles it with every other copy mirrored ("mirror").
	WrapMirror
	// WrapClamp extends the border texels ("clamp").
	WrapClamp
)

// String returns Mitsuba's name of the mode.
func (w WrapMode) String() string {
	switch w {
	case WrapMirror:
		return "mirror"
	case WrapClamp:
		return "clamp"
	}
	return "repeat"
}

// Texture is a spatially varying RGB value: a constant (Image == nil) or a
// bitmap looked up bilinearly at the surface's UV coordinates. Scalar
// quantities (roughness) use the first channel.
//
// UV conventions follow Mitsuba 3: (u, v) = (0, 0) is the top-left corner of
// the image's first row and texel centres sit at half-integer positions
// ((x+0.5)/W, (y+0.5)/H). Mesh loaders flip OBJ's v accordingly.
type Texture struct {
	// Value is the constant value, used when Image is nil.
	Value mgl64.Vec3
	// Image holds linear texel values (already decoded from sRGB unless the
	// file asked for raw values).
	Image *Image
	// UScale and VScale multiply the UV coordinates before the lookup
	// (Mitsuba 0.6's uscale/vscale); 0 is read as 1.
	UScale, VScale float64
	// Wrap is applied to both coordinates.
	Wrap WrapMode
	// Nearest selects nearest-texel lookup instead of bilinear.
	Nearest bool
}

// ConstTexture returns a constant texture.
func ConstTexture(v mgl64.Vec3) Texture { return Texture{Value: v} }

// ConstScalar returns a constant scalar texture (all channels equal).
func ConstScalar(v float64) Texture { return Texture{Value: mgl64.Vec3{v, v, v}} }

// IsConstant reports whether the texture has no bitmap.
func (t *Texture) IsConstant() bool { return t.Image == nil }

// TexelTaps are the (up to four) texels a lookup reads and their weights;
// texel i is at Pix[3*Index[i]:3*Index[i]+3]. Unused taps have weight 0.
// The forward lookup and its adjoint (which scatters into texel gradients)
// both use it, so they cannot disagree.
type TexelTaps struct {
	Index  [4]int32
	Weight [4]float64
}

func wrapCoord(i, n int, mode WrapMode) int {
	switch mode {
	case WrapClamp:
		if i < 0 {
			return 0
		}
		if i >= n {
			return n - 1
		}
		return i
	case WrapMirror:
		period := 2 * n
		i %= period
		if i < 0 {
			i += period
		}
		if i >= n {
			i = period - 1 - i
		}
		return i
	}
	i %= n
	if i < 0 {
		i += n
	}
	return i
}

// Taps returns the texels and weights of a lookup at uv. It must only be
// called on a bitmap texture.
func (t *Texture) Taps(uv mgl64.Vec2) TexelTaps {
	im := t.Image
	us, vs := t.UScale, t.VScale
	if us == 0 {
		us = 1
	}
	if vs == 0 {
		vs = 1
	}
	u := uv[0] * us * float64(im.Width)
	v := uv[1] * vs * float64(im.Height)
	// Keep NaN/Inf coordinates from producing wild indices.
	if math.IsNaN(u) || math.IsInf(u, 0) {
		u = 0
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		v = 0
	}
	var taps TexelTaps
	if t.Nearest {
		x := wrapCoord(int(math.Floor(u)), im.Width, t.Wrap)
		y := wrapCoord(int(math.Floor(v)), im.Height, t.Wrap)
		taps.Index[0] = int32(y*im.Width + x)
		taps.Weight[0] = 1
		return taps
	}
	u -= 0.5
	v -= 0.5
	fu, fv := math.Floor(u), math.Floor(v)
	du, dv := u-fu, v-fv
	x0, y0 := int(fu), int(fv)
	x0w, x1w := wrapCoord(x0, im.Width, t.Wrap), wrapCoord(x0+1, im.Width, t.Wrap)
	y0w, y1w := wrapCoord(y0, im.Height, t.Wrap), wrapCoord(y0+1, im.Height, t.Wrap)
	taps.Index = [4]int32{
		int32(y0w*im.Width + x0w), int32(y0w*im.Width + x1w),
		int32(y1w*im.Width + x0w), int32(y1w*im.Width + x1w),
	}
	taps.Weight = [4]float64{(1 - du) * (1 - dv), du * (1 - dv), (1 - du) * dv, du * dv}
	return taps
}

// Eval returns the texture's value at uv.
func (t *Texture) Eval(uv mgl64.Vec2) mgl64.Vec3 {
	if t.Image == nil {
		return t.Value
	}
	taps := t.Taps(uv)
	var c mgl64.Vec3
	p := t.Image.Pix
	for i := 0; i < 4; i++ {
		w := taps.Weight[i]
		if w == 0 {
			continue
		}
		j := 3 * int(taps.Index[i])
		c[0] += w * p[j]
		c[1] += w * p[j+1]
		c[2] += w * p[j+2]
	}
	return c
}

// Mean returns the average value of the texture (the constant, or the mean
// texel), used to estimate emitted power and albedo.
func (t *Texture) Mean() mgl64.Vec3 {
	if t.Image == nil {
		return t.Value
	}
	var c mgl64.Vec3
	p := t.Image.Pix
	for i := 0; i+2 < len(p); i += 3 {
		c[0] += p[i]
		c[1] += p[i+1]
		c[2] += p[i+2]
	}
	n := float64(len(p) / 3)
	if n == 0 {
		return c
	}
	return c.Mul(1 / n)
}
