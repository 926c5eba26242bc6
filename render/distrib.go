package render

// Distribution1D is a discrete distribution over n items with weights
// proportional to the given function values, sampled by inverting its CDF
// (pbrt-v4 A.4.2). It doubles as a piecewise-constant density on [0,1).
type Distribution1D struct {
	Func []float64
	CDF  []float64 // len(Func)+1, CDF[0] = 0, CDF[n] = 1
	Sum  float64
}

// NewDistribution1D builds the distribution; negative or NaN weights count
// as zero. When all weights are zero the distribution is uniform.
func NewDistribution1D(f []float64) *Distribution1D {
	n := len(f)
	d := &Distribution1D{Func: make([]float64, n), CDF: make([]float64, n+1)}
	for i, v := range f {
		if v > 0 {
			d.Func[i] = v
		}
	}
	for i := 0; i < n; i++ {
		d.CDF[i+1] = d.CDF[i] + d.Func[i]
	}
	d.Sum = d.CDF[n]
	if d.Sum == 0 {
		for i := 1; i <= n; i++ {
			d.CDF[i] = float64(i) / float64(n)
		}
	} else {
		for i := 1; i <= n; i++ {
			d.CDF[i] /= d.Sum
		}
	}
	if n > 0 {
		d.CDF[n] = 1
	}
	return d
}

// Len returns the number of items.
func (d *Distribution1D) Len() int { return len(d.Func) }

// PMF returns the probability of item i.
func (d *Distribution1D) PMF(i int) float64 {
	return d.CDF[i+1] - d.CDF[i]
}

// SampleDiscrete returns an item drawn with probability PMF(i) and u
// remapped to [0,1) within the item's CDF interval (for reuse).
func (d *Distribution1D) SampleDiscrete(u float64) (i int, pmf, uRemapped float64) {
	n := len(d.Func)
	// Largest i < n with CDF[i] <= u (CDF[0] = 0), by bisection.
	lo, hi := 0, n
	for hi-lo > 1 {
		mid := int(uint(lo+hi) >> 1)
		if d.CDF[mid] <= u {
			lo = mid
		} else {
			hi = mid
		}
	}
	i = lo
	// Skip zero-probability items that the search can land on at their edge.
	for i < n-1 && d.CDF[i+1] == d.CDF[i] {
		i++
	}
	pmf = d.CDF[i+1] - d.CDF[i]
	if pmf > 0 {
		uRemapped = (u - d.CDF[i]) / pmf
		if uRemapped >= 1 {
			uRemapped = 0x1.fffffffffffffp-1
		}
		if uRemapped < 0 {
			uRemapped = 0
		}
	}
	return i, pmf, uRemapped
}

// SampleContinuous returns x in [0,1) with the piecewise-constant density
// and that density, plus the segment index.
func (d *Distribution1D) SampleContinuous(u float64) (x, pdf float64, i int) {
	i, pmf, ur := d.SampleDiscrete(u)
	n := float64(len(d.Func))
	return (float64(i) + ur) / n, pmf * n, i
}

// Distribution2D samples a piecewise-constant 2D density on [0,1)^2 given on
// an nu x nv grid (row-major, v rows): a marginal over rows and a conditional
// per row.
type Distribution2D struct {
	conditional []*Distribution1D
	marginal    *Distribution1D
}

// NewDistribution2D builds the distribution from f[v*nu+u].
func NewDistribution2D(f []float64, nu, nv int) *Distribution2D {
	d := &Distribution2D{conditional: make([]*Distribution1D, nv)}
	rows := make([]float64, nv)
	for v := 0; v < nv; v++ {
		d.conditional[v] = NewDistribution1D(f[v*nu : (v+1)*nu])
		rows[v] = d.conditional[v].Sum
	}
	d.marginal = NewDistribution1D(rows)
	return d
}

// Sample returns a point of [0,1)^2 and its density.
func (d *Distribution2D) Sample(u0, u1 float64) (uv [2]float64, pdf float64) {
	v, pdfV, iv := d.marginal.SampleContinuous(u1)
	u, pdfU, _ := d.conditional[iv].SampleContinuous(u0)
	return [2]float64{u, v}, pdfU * pdfV
}

// Pdf returns the density at uv in [0,1)^2.
func (d *Distribution2D) Pdf(u, v float64) float64 {
	nv := len(d.conditional)
	nu := len(d.conditional[0].Func)
	iu := clampInt(int(u*float64(nu)), 0, nu-1)
	iv := clampInt(int(v*float64(nv)), 0, nv-1)
	return d.marginal.PMF(iv) * float64(nv) * d.conditional[iv].PMF(iu) * float64(nu)
}

func clampInt(x, lo, hi int) int {
	if x < lo {
		return lo
	}
	if x > hi {
		return hi
	}
	return x
}
