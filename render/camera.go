package render

import (
	"fmt"
	"math"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/geom"
)

// Camera is a Sensor prepared for ray generation: an orthonormal frame and
// the half-extents of the image plane at unit distance.
//
// Film coordinates (x, y) are continuous pixel positions: (0, 0) is the
// top-left corner of the top-left pixel, (W, H) the bottom-right corner, and
// pixel (i, j) covers [i, i+1) x [j, j+1). Mitsuba's camera space has +x to
// the left, so x in film space grows towards camera -x.
type Camera struct {
	Origin            mgl64.Vec3
	Left, Up, Forward mgl64.Vec3
	// TanX and TanY are the half-width and half-height of the image plane at
	// distance 1 along Forward.
	TanX, TanY    float64
	Width, Height int
	Near, Far     float64
}

// FovScale returns the half-extents of the image plane at unit distance for
// a full field of view fovDeg along axis on a w x h film. It is shared by
// the camera and its adjoint.
func FovScale(fovDeg float64, axis FovAxis, w, h int) (tanX, tanY float64) {
	t := math.Tan(0.5 * fovDeg * math.Pi / 180)
	fw, fh := float64(w), float64(h)
	aspect := fw / fh
	switch axis {
	case FovY:
		return t * aspect, t
	case FovDiagonal:
		d := math.Hypot(fw, fh)
		return t * fw / d, t * fh / d
	case FovSmaller:
		if w <= h {
			return t, t / aspect
		}
		return t * aspect, t
	case FovLarger:
		if w >= h {
			return t, t / aspect
		}
		return t * aspect, t
	}
	return t, t / aspect
}

// CameraFrame returns Mitsuba's look-at frame (left, up, forward) for a
// camera at origin looking at target.
func CameraFrame(origin, target, up mgl64.Vec3) (left, newUp, fwd mgl64.Vec3, err error) {
	d := target.Sub(origin)
	dl := d.Len()
	if !(dl > 0) {
		return left, newUp, fwd, fmt.Errorf("render: camera origin and target coincide")
	}
	fwd = d.Mul(1 / dl)
	l := up.Cross(fwd)
	ll := l.Len()
	if !(ll > 1e-12*up.Len()) {
		return left, newUp, fwd, fmt.Errorf("render: camera up vector %v is zero or parallel to the viewing direction", up)
	}
	left = l.Mul(1 / ll)
	newUp = fwd.Cross(left)
	return left, newUp, fwd, nil
}

// NewCamera prepares the sensor for ray generation.
func NewCamera(s *Sensor) (Camera, error) {
	if s.Width <= 0 || s.Height <= 0 {
		return Camera{}, fmt.Errorf("render: sensor %q: film size %dx%d is not positive", s.Name, s.Width, s.Height)
	}
	if !(s.Fov > 0 && s.Fov < 180) {
		return Camera{}, fmt.Errorf("render: sensor %q: fov %g is not in (0, 180) degrees", s.Name, s.Fov)
	}
	for _, v := range []mgl64.Vec3{s.Origin, s.Target, s.Up} {
		if !finite3(v) {
			return Camera{}, fmt.Errorf("render: sensor %q: origin, target or up is not finite", s.Name)
		}
	}
	left, up, fwd, err := CameraFrame(s.Origin, s.Target, s.Up)
	if err != nil {
		return Camera{}, fmt.Errorf("sensor %q: %w", s.Name, err)
	}
	tx, ty := FovScale(s.Fov, s.FovAxis, s.Width, s.Height)
	far := s.FarClip
	if far <= 0 {
		far = math.Inf(1)
	}
	return Camera{
		Origin: s.Origin, Left: left, Up: up, Forward: fwd,
		TanX: tx, TanY: ty, Width: s.Width, Height: s.Height,
		Near: math.Max(s.NearClip, 0), Far: far,
	}, nil
}

// Direction returns the unnormalised direction through film position (x, y):
// its Forward component is exactly 1.
func (c *Camera) Direction(x, y float64) mgl64.Vec3 {
	cx := c.TanX * (1 - 2*x/float64(c.Width))
	cy := c.TanY * (1 - 2*y/float64(c.Height))
	return mgl64.Vec3{
		cx*c.Left[0] + cy*c.Up[0] + c.Forward[0],
		cx*c.Left[1] + cy*c.Up[1] + c.Forward[1],
		cx*c.Left[2] + cy*c.Up[2] + c.Forward[2],
	}
}

// Ray returns the camera ray through film position (x, y), with a unit
// direction and the clip planes applied (Mitsuba measures them along the
// viewing axis).
func (c *Camera) Ray(x, y float64) geom.Ray {
	d := c.Direction(x, y)
	inv := 1 / d.Len()
	return geom.Ray{O: c.Origin, D: d.Mul(inv), TMin: c.Near / inv, TMax: c.Far / inv}
}

// Project maps a world point to film coordinates. ok is false for points at
// or behind the camera plane.
func (c *Camera) Project(p mgl64.Vec3) (x, y float64, ok bool) {
	d := p.Sub(c.Origin)
	z := d.Dot(c.Forward)
	if !(z > 0) {
		return 0, 0, false
	}
	cx := d.Dot(c.Left) / (z * c.TanX)
	cy := d.Dot(c.Up) / (z * c.TanY)
	return 0.5 * float64(c.Width) * (1 - cx), 0.5 * float64(c.Height) * (1 - cy), true
}

func finite3(v mgl64.Vec3) bool {
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}
