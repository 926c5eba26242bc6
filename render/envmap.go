package render

import (
	"math"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/geom"
)

// envTable is the environment prepared for lookups and importance sampling.
//
// The equirectangular mapping follows Mitsuba 3's envmap: in the map's local
// frame (+y up) a direction d has u = atan2(d.x, -d.z)/(2 pi) (wrapped to
// [0,1)) and v = acos(d.y)/pi, so the image's top row is straight up.
type envTable struct {
	img      *Image
	scale    float64
	constant mgl64.Vec3
	toWorld  mgl64.Mat3
	toLocal  mgl64.Mat3
	dist     *Distribution2D
}

func newEnvTable(e *Environment) *envTable {
	t := &envTable{img: e.Image, scale: e.Scale, constant: e.Radiance, toWorld: e.ToWorld}
	if t.scale == 0 {
		t.scale = 1
	}
	if t.toWorld == (mgl64.Mat3{}) {
		t.toWorld = mgl64.Ident3()
	}
	t.toLocal = t.toWorld.Transpose()
	if t.img != nil {
		w, h := t.img.Width, t.img.Height
		f := make([]float64, w*h)
		for y := 0; y < h; y++ {
			sinTheta := math.Sin(math.Pi * (float64(y) + 0.5) / float64(h))
			for x := 0; x < w; x++ {
				f[y*w+x] = math.Max(Luminance(t.img.At(x, y)), 0) * sinTheta
			}
		}
		t.dist = NewDistribution2D(f, w, h)
	}
	return t
}

// EnvDirToUV maps a local direction to equirectangular coordinates.
func EnvDirToUV(d mgl64.Vec3) mgl64.Vec2 {
	u := math.Atan2(d[0], -d[2]) * (0.5 / math.Pi)
	if u < 0 {
		u += 1
	}
	v := math.Acos(math.Max(-1, math.Min(1, d[1]))) / math.Pi
	return mgl64.Vec2{u, v}
}

// EnvUVToDir is the inverse of EnvDirToUV.
func EnvUVToDir(uv mgl64.Vec2) mgl64.Vec3 {
	sp, cp := math.Sincos(2 * math.Pi * uv[0])
	st, ct := math.Sincos(math.Pi * uv[1])
	return mgl64.Vec3{sp * st, ct, -cp * st}
}

// EnvTaps returns the bilinear taps of an equirectangular lookup at uv
// (u repeats, v clamps). The lookup and its adjoint share it.
func EnvTaps(img *Image, uv mgl64.Vec2) TexelTaps {
	w, h := img.Width, img.Height
	x := uv[0]*float64(w) - 0.5
	y := uv[1]*float64(h) - 0.5
	if math.IsNaN(x) || math.IsNaN(y) {
		x, y = 0, 0
	}
	fx, fy := math.Floor(x), math.Floor(y)
	dx, dy := x-fx, y-fy
	x0, y0 := int(fx), int(fy)
	x0w, x1w := wrapCoord(x0, w, WrapRepeat), wrapCoord(x0+1, w, WrapRepeat)
	y0c, y1c := wrapCoord(y0, h, WrapClamp), wrapCoord(y0+1, h, WrapClamp)
	return TexelTaps{
		Index:  [4]int32{int32(y0c*w + x0w), int32(y0c*w + x1w), int32(y1c*w + x0w), int32(y1c*w + x1w)},
		Weight: [4]float64{(1 - dx) * (1 - dy), dx * (1 - dy), (1 - dx) * dy, dx * dy},
	}
}

// eval returns the radiance arriving from world direction d (unit).
func (t *envTable) eval(d mgl64.Vec3) mgl64.Vec3 {
	if t.img == nil {
		return t.constant.Mul(t.scale)
	}
	uv := EnvDirToUV(t.toLocal.Mul3x1(d))
	taps := EnvTaps(t.img, uv)
	var c mgl64.Vec3
	p := t.img.Pix
	for i := 0; i < 4; i++ {
		j := 3 * int(taps.Index[i])
		w := taps.Weight[i]
		c[0] += w * p[j]
		c[1] += w * p[j+1]
		c[2] += w * p[j+2]
	}
	return c.Mul(t.scale)
}

// sample draws a world direction with density pdf (solid angle).
func (t *envTable) sample(u0, u1 float64) (mgl64.Vec3, float64) {
	if t.dist == nil {
		return geom.SquareToUniformSphere(mgl64.Vec2{u0, u1}), geom.UniformSpherePdf()
	}
	uv, pdf := t.dist.Sample(u0, u1)
	sinTheta := math.Sin(math.Pi * uv[1])
	if pdf == 0 || sinTheta <= 0 {
		return mgl64.Vec3{}, 0
	}
	d := EnvUVToDir(mgl64.Vec2{uv[0], uv[1]})
	return t.toWorld.Mul3x1(d), pdf / (2 * math.Pi * math.Pi * sinTheta)
}

// pdf returns the density of sample for world direction d.
func (t *envTable) pdf(d mgl64.Vec3) float64 {
	if t.dist == nil {
		return geom.UniformSpherePdf()
	}
	l := t.toLocal.Mul3x1(d)
	uv := EnvDirToUV(l)
	sinTheta := math.Sqrt(math.Max(0, 1-l[1]*l[1]))
	if sinTheta <= 0 {
		return 0
	}
	return t.dist.Pdf(uv[0], uv[1]) / (2 * math.Pi * math.Pi * sinTheta)
}

// meanRadiance is the environment's average radiance over the sphere.
func (t *envTable) meanRadiance() mgl64.Vec3 {
	if t.img == nil {
		return t.constant.Mul(t.scale)
	}
	var c mgl64.Vec3
	sum := 0.0
	for y := 0; y < t.img.Height; y++ {
		w := math.Sin(math.Pi * (float64(y) + 0.5) / float64(t.img.Height))
		for x := 0; x < t.img.Width; x++ {
			c = c.Add(t.img.At(x, y).Mul(w))
			sum += w
		}
	}
	if sum == 0 {
		return mgl64.Vec3{}
	}
	return c.Mul(t.scale / sum)
}
