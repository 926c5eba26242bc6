package render

import "math"

// Radius returns the filter's support radius in pixels.
func (f Filter) radius() float64 {
	switch f.Kind {
	case FilterTent:
		if f.Radius > 0 {
			return f.Radius
		}
		return 1
	case FilterGaussian:
		if f.Radius > 0 {
			return f.Radius
		}
		return 4 * f.stddev()
	}
	if f.Radius > 0 {
		return f.Radius
	}
	return 0.5
}

// SupportRadius returns the radius in pixels beyond which the filter is 0.
func (f Filter) SupportRadius() float64 { return f.radius() }

func (f Filter) stddev() float64 {
	if f.Stddev > 0 {
		return f.Stddev
	}
	return 0.5
}

// Sample1D maps u in [0,1) to an offset from the pixel centre distributed as
// the normalised 1D filter (the 2D filters are separable products, as in
// Mitsuba). Filter importance sampling (Ernst et al. 2006) lets every sample
// land in exactly one pixel with weight 1.
func (f Filter) Sample1D(u float64) float64 {
	r := f.radius()
	switch f.Kind {
	case FilterTent:
		if u < 0.5 {
			return r * (math.Sqrt(2*u) - 1)
		}
		return r * (1 - math.Sqrt(2-2*u))
	case FilterGaussian:
		s := f.stddev()
		e := math.Erf(r / (s * math.Sqrt2))
		x := s * math.Sqrt2 * math.Erfinv((2*u-1)*e)
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return 0
		}
		return x
	}
	return r * (2*u - 1)
}

// Eval1D returns the normalised 1D filter density at offset x (integrates to
// 1 over its support); the 2D density is Eval1D(dx)*Eval1D(dy).
func (f Filter) Eval1D(x float64) float64 {
	r := f.radius()
	ax := math.Abs(x)
	if ax > r {
		return 0
	}
	switch f.Kind {
	case FilterTent:
		return (r - ax) / (r * r)
	case FilterGaussian:
		s := f.stddev()
		norm := s * math.Sqrt(2*math.Pi) * math.Erf(r/(s*math.Sqrt2))
		return math.Exp(-x*x/(2*s*s)) / norm
	}
	return 1 / (2 * r)
}
