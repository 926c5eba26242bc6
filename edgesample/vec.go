package edgesample

import (
	"math"

	"github.com/go-gl/mathgl/mgl64"
)

// v3 is the vector type of the secondary sampler's inner loops. The
// compiler keeps a small struct's fields in registers, while an array such
// as mgl64.Vec3 lives in memory and every operation on it loads and
// stores; the descent's arithmetic is several times faster on v3. Its dot
// product rounds every product on its own, as dot64 does, so that the
// sampler's candidate test (candWeight) has the signs of Edges.Candidate
// on every platform.
type v3 struct{ x, y, z float64 }

func vec(a mgl64.Vec3) v3         { return v3{a[0], a[1], a[2]} }
func (a v3) mgl() mgl64.Vec3      { return mgl64.Vec3{a.x, a.y, a.z} }
func (a v3) add(b v3) v3          { return v3{a.x + b.x, a.y + b.y, a.z + b.z} }
func (a v3) sub(b v3) v3          { return v3{a.x - b.x, a.y - b.y, a.z - b.z} }
func (a v3) mul(s float64) v3     { return v3{a.x * s, a.y * s, a.z * s} }
func (a v3) dot(b v3) float64     { return float64(a.x*b.x) + float64(a.y*b.y) + float64(a.z*b.z) }
func (a v3) len() float64         { return math.Sqrt(a.dot(a)) }
func f32vec(a *[3]float32) v3     { return v3{float64(a[0]), float64(a[1]), float64(a[2])} }
func lerpV(a, b v3, s float64) v3 { return v3{a.x + s*(b.x-a.x), a.y + s*(b.y-a.y), a.z + s*(b.z-a.z)} }

// cross is a x b.
func cross(a, b v3) v3 {
	return v3{a.y*b.z - a.z*b.y, a.z*b.x - a.x*b.z, a.x*b.y - a.y*b.x}
}

// boxMaxV returns the largest value of m.(x - p) over the box [mn, mx].
func boxMaxV(mn, mx, p, m v3) float64 {
	return max(m.x*(mn.x-p.x), m.x*(mx.x-p.x)) +
		max(m.y*(mn.y-p.y), m.y*(mx.y-p.y)) +
		max(m.z*(mn.z-p.z), m.z*(mx.z-p.z))
}
