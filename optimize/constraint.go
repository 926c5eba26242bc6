package optimize

import (
	"fmt"
	"math"
	"strings"
)

// Constraint projects a block of parameters back onto its feasible set
// after each optimiser step. Project works in place on the block's values.
type Constraint interface {
	Project(x []float64)
	// String describes the constraint for logs ("clamp [0, 1]").
	String() string
}

// lengthChecker is implemented by constraints that need a block length of
// a particular form.
type lengthChecker interface {
	checkLen(n int) error
}

// CheckConstraint reports whether c can act on a block of n values (an
// axis-angle block needs a multiple of 3).
func CheckConstraint(c Constraint, n int) error {
	if lc, ok := c.(lengthChecker); ok {
		return lc.checkLen(n)
	}
	return nil
}

type clampC struct {
	lo, hi float64
	name   string
}

// Project implements Constraint.
func (c clampC) Project(x []float64) {
	for i, v := range x {
		switch {
		case v >= c.lo && v <= c.hi:
		case v > c.hi:
			x[i] = c.hi
		default: // below lo, or NaN
			x[i] = c.lo
		}
	}
}

// String implements Constraint.
func (c clampC) String() string { return c.name }

func checkBounds(what string, lo, hi float64) {
	if math.IsNaN(lo) || math.IsNaN(hi) || lo > hi {
		panic(fmt.Sprintf("optimize: %s bounds [%g, %g] are empty", what, lo, hi))
	}
}

// Clamp keeps values in [lo, hi] (reflectances in [0, 1]). NaN maps to lo.
// It panics if lo > hi or a bound is NaN.
func Clamp(lo, hi float64) Constraint {
	checkBounds("Clamp", lo, hi)
	return clampC{lo, hi, fmt.Sprintf("clamp [%g, %g]", lo, hi)}
}

// Min keeps values at or above lo (a roughness at or above 1e-3). NaN maps
// to lo. It panics if lo is NaN or +Inf.
func Min(lo float64) Constraint {
	if math.IsInf(lo, 1) {
		panic("optimize: Min bound is +Inf")
	}
	checkBounds("Min", lo, math.Inf(1))
	return clampC{lo, math.Inf(1), fmt.Sprintf("min %g", lo)}
}

// NonNegative keeps values at or above 0 (radiance, scales). NaN maps to 0.
func NonNegative() Constraint { return clampC{0, math.Inf(1), "nonnegative"} }

// rangeEps is the relative margin Range keeps from its open bounds.
const rangeEps = 1e-6

// Range keeps values in the open interval (lo, hi), clamping them to
// [lo + e, hi - e] with e = 1e-6 (hi - lo) (a field of view in (0, 180)
// degrees stays in [1.8e-4, 179.99982]). NaN maps to lo + e. It panics
// unless lo < hi, both finite.
func Range(lo, hi float64) Constraint {
	if !(lo < hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		panic(fmt.Sprintf("optimize: Range (%g, %g) is not a finite non-empty interval", lo, hi))
	}
	e := rangeEps * (hi - lo)
	return clampC{lo + e, hi - e, fmt.Sprintf("range (%g, %g)", lo, hi)}
}

type axisAngleC struct{}

// AxisAngle keeps rotation vectors (axis times angle in radians, three
// values per rotation) at angles in [0, pi]: a vector of angle theta > pi
// is replaced by the vector of the same rotation with angle in [0, pi]
// (theta reduced modulo 2 pi, and the axis flipped where the remainder
// exceeds pi). A vector with a NaN or infinite component becomes zero, the
// identity. The block length must be a multiple of 3.
func AxisAngle() Constraint { return axisAngleC{} }

// String implements Constraint.
func (axisAngleC) String() string { return "axis-angle" }

func (axisAngleC) checkLen(n int) error {
	if n%3 != 0 {
		return fmt.Errorf("optimize: axis-angle constraint on %d values, not a multiple of 3", n)
	}
	return nil
}

// Project implements Constraint.
func (axisAngleC) Project(x []float64) {
	for i := 0; i+3 <= len(x); i += 3 {
		r := x[i : i+3 : i+3]
		ok := true
		for _, v := range r {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				ok = false
			}
		}
		if !ok {
			r[0], r[1], r[2] = 0, 0, 0
			continue
		}
		theta := math.Sqrt(r[0]*r[0] + r[1]*r[1] + r[2]*r[2])
		if theta <= math.Pi {
			continue
		}
		// Rotation by theta about a equals rotation by theta - 2 pi k
		// about a, and rotation by -phi about a equals rotation by phi
		// about -a.
		phi := math.Mod(theta, 2*math.Pi)
		if phi > math.Pi {
			phi -= 2 * math.Pi
		}
		s := phi / theta
		r[0], r[1], r[2] = r[0]*s, r[1]*s, r[2]*s
	}
}

// defaultRules maps parameter-name suffixes to their default constraints,
// following the names of DESIGN.md (Mitsuba's traverse() keys).
var defaultRules = []struct {
	suffix string
	make   func() Constraint
}{
	{".reflectance.value", func() Constraint { return Clamp(0, 1) }},
	{".diffuse_reflectance.value", func() Constraint { return Clamp(0, 1) }},
	{".specular_reflectance.value", func() Constraint { return Clamp(0, 1) }},
	{"reflectance.data", func() Constraint { return Clamp(0, 1) }}, // reflectance, diffuse_ and specular_ textures
	{".alpha.value", func() Constraint { return Min(1e-3) }},
	{".alpha.data", func() Constraint { return Min(1e-3) }},
	{".fov", func() Constraint { return Range(0, 180) }},
	{".radiance.value", NonNegative},
	{".scale", NonNegative},
	{".rotation", AxisAngle},
}

// DefaultConstraint returns the constraint a parameter needs by its name,
// or nil when it needs none:
//
//	*.reflectance.value, *.diffuse_reflectance.value,
//	*.specular_reflectance.value, *reflectance.data   Clamp(0, 1)
//	*.alpha.value, *.alpha.data (GGX roughness)       Min(1e-3)
//	sensor.fov (any *.fov), in degrees                Range(0, 180)
//	*.radiance.value, *.scale (ENV.scale)             NonNegative()
//	*.rotation (axis-angle, radians)                  AxisAngle()
func DefaultConstraint(key string) Constraint {
	for _, r := range defaultRules {
		if strings.HasSuffix(key, r.suffix) {
			return r.make()
		}
	}
	return nil
}
