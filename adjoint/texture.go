package adjoint

import (
	"math"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/render"
)

// DTextureUV returns the gradient of <g, t.Eval(uv)> with respect to uv for
// a bilinear bitmap texture (0 for constants and nearest lookups, whose
// value is piecewise constant in uv). Texel gradients come from the taps
// (render.Texture.Taps): texel k receives Weight[k]*g.
func DTextureUV(t *render.Texture, uv mgl64.Vec2, g mgl64.Vec3) mgl64.Vec2 {
	if t.Image == nil || t.Nearest {
		return mgl64.Vec2{}
	}
	im := t.Image
	us, vs := t.UScale, t.VScale
	if us == 0 {
		us = 1
	}
	if vs == 0 {
		vs = 1
	}
	u := uv[0]*us*float64(im.Width) - 0.5
	v := uv[1]*vs*float64(im.Height) - 0.5
	if math.IsNaN(u) || math.IsNaN(v) || math.IsInf(u, 0) || math.IsInf(v, 0) {
		return mgl64.Vec2{}
	}
	taps := t.Taps(uv)
	du, dv := u-math.Floor(u), v-math.Floor(v)
	val := func(k int) float64 {
		j := 3 * int(taps.Index[k])
		return g[0]*im.Pix[j] + g[1]*im.Pix[j+1] + g[2]*im.Pix[j+2]
	}
	c00, c10, c01, c11 := val(0), val(1), val(2), val(3)
	// value = (1-du)(1-dv) c00 + du(1-dv) c10 + (1-du)dv c01 + du dv c11
	gdu := (1-dv)*(c10-c00) + dv*(c11-c01)
	gdv := (1-du)*(c01-c00) + du*(c11-c10)
	return mgl64.Vec2{gdu * us * float64(im.Width), gdv * vs * float64(im.Height)}
}
