package adjoint

import (
	"math"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/render"
)

// CameraGrad is the gradient with respect to a sensor's look-at parameters.
type CameraGrad struct {
	Origin, Target, Up mgl64.Vec3
	Fov                float64 // per degree
}

// dFrame is the adjoint of render.CameraFrame: from the gradients of
// (left, up', forward) to those of origin, target and up.
func dFrame(s *render.Sensor, gLeft, gUp, gFwd mgl64.Vec3, cg *CameraGrad) {
	raw := s.Target.Sub(s.Origin)
	fwd := raw.Normalize()
	lraw := s.Up.Cross(fwd)
	left := lraw.Normalize()
	// up' = fwd x left
	df, dl := dCross(fwd, left, gUp)
	gFwd = gFwd.Add(df)
	gLeft = gLeft.Add(dl)
	// left = normalize(up x fwd)
	dlraw := dNormalize(lraw, gLeft)
	du, df2 := dCross(s.Up, fwd, dlraw)
	cg.Up = cg.Up.Add(du)
	gFwd = gFwd.Add(df2)
	// fwd = normalize(target - origin)
	dv := dNormalize(raw, gFwd)
	cg.Target = cg.Target.Add(dv)
	cg.Origin = cg.Origin.Sub(dv)
}

// dFovScale returns d(tanX)/d(fov) and d(tanY)/d(fov) (per degree) of
// render.FovScale.
func dFovScale(s *render.Sensor) (dx, dy float64) {
	t := math.Tan(0.5 * s.Fov * math.Pi / 180)
	tx, ty := render.FovScale(s.Fov, s.FovAxis, s.Width, s.Height)
	dt := (1 + t*t) * math.Pi / 360
	return tx / t * dt, ty / t * dt
}

// DCameraRay is the adjoint of the camera ray through film position (x, y)
// (render.Camera.Ray: origin = sensor origin, unit direction
// normalize(cx*left + cy*up + forward)): given the gradients of the ray's
// origin and unit direction it accumulates those of the sensor parameters.
func DCameraRay(s *render.Sensor, cam *render.Camera, x, y float64, gO, gD mgl64.Vec3, cg *CameraGrad) {
	cx := cam.TanX * (1 - 2*x/float64(cam.Width))
	cy := cam.TanY * (1 - 2*y/float64(cam.Height))
	raw := cam.Direction(x, y)
	dRaw := dNormalize(raw, gD)
	gcx := dRaw.Dot(cam.Left)
	gcy := dRaw.Dot(cam.Up)
	dFrame(s, dRaw.Mul(cx), dRaw.Mul(cy), dRaw, cg)
	dtx, dty := dFovScale(s)
	cg.Fov += gcx*(1-2*x/float64(cam.Width))*dtx + gcy*(1-2*y/float64(cam.Height))*dty
	cg.Origin = cg.Origin.Add(gO)
}

// DProject is the adjoint of render.Camera.Project (film coordinates of a
// world point p in front of the camera): given the gradients of (x, y) it
// accumulates those of the sensor parameters and returns that of p.
func DProject(s *render.Sensor, cam *render.Camera, p mgl64.Vec3, gx, gy float64, cg *CameraGrad) mgl64.Vec3 {
	d := p.Sub(cam.Origin)
	z := d.Dot(cam.Forward)
	a := d.Dot(cam.Left)
	b := d.Dot(cam.Up)
	cx := a / (z * cam.TanX)
	cy := b / (z * cam.TanY)
	// x = W/2 (1 - cx), y = H/2 (1 - cy)
	gcx := -0.5 * float64(cam.Width) * gx
	gcy := -0.5 * float64(cam.Height) * gy
	// cx = a / (z tanX), cy = b / (z tanY)
	ga := gcx / (z * cam.TanX)
	gb := gcy / (z * cam.TanY)
	gz := -(gcx*cx + gcy*cy) / z
	gTanX := -gcx * cx / cam.TanX
	gTanY := -gcy * cy / cam.TanY
	gd := cam.Left.Mul(ga).Add(cam.Up.Mul(gb)).Add(cam.Forward.Mul(gz))
	dFrame(s, d.Mul(ga), d.Mul(gb), d.Mul(gz), cg)
	dtx, dty := dFovScale(s)
	cg.Fov += gTanX*dtx + gTanY*dty
	cg.Origin = cg.Origin.Sub(gd)
	return gd
}
