package edgesample

import (
	"math"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/render"
)

// Primary samples points on the screen-space projections of the edges that
// can carry a discontinuity seen from the camera (primary visibility, Li et
// al. 2018, section 4.1): an edge is chosen with probability proportional to
// the length of its projection clipped to the film times its expected jump
// (Edges.JumpWeight from the camera: 1 for silhouettes and boundaries, the
// Jump factor for Sharp edges that are not silhouettes), then a point
// uniformly on the clipped part. Build it with NewPrimary; it is read-only
// afterwards and safe for concurrent use. Rebuild it after the camera or the
// vertices move.
type Primary struct {
	cands []primaryCand
	dist  *render.Distribution1D
	total float64 // clipped screen length of all candidates
	// candOf maps an edge to its entry in cands, -1 when it has none.
	candOf []int32
}

// primaryCand is one candidate edge with its clipped segment.
type primaryCand struct {
	edge   int32
	t0, t1 float64    // 3D clip of the edge to the depth range
	a, b   mgl64.Vec2 // film coordinates of the clipped end points
	s0, s1 float64    // part of [0,1] along a..b inside the film
	jump   float64    // expected-jump factor (1 without the weighting)
}

// PrimarySample is a point on a projected edge.
type PrimarySample struct {
	// Edge indexes Edges.List.
	Edge int32
	// T0 and T1 locate the segment's 3D end points V0 + T0*(V1-V0) and
	// V0 + T1*(V1-V0): the edge clipped to the camera's depth range
	// (T0 = 0, T1 = 1 when nothing was clipped). A and B are the film
	// coordinates of those points (Camera.Project).
	T0, T1 float64
	A, B   mgl64.Vec2
	// S locates the sampled point X = A + S*(B-A) on the film.
	S float64
	X mgl64.Vec2
	// Pdf is the density of the sample in the measure dS, S in [0,1] along
	// A..B: P(edge) / (S1 - S0), where [S0, S1] is the part of [0,1] whose
	// points lie inside the film rectangle. The density on the film line
	// (per pixel of length) is Pdf / |B-A|.
	Pdf float64
	// Normal is the unit normal of AB on the film, (B-A) turned by -90
	// degrees: (B.y-A.y, -(B.x-A.x)) / |B-A|. The side X + eps*Normal is
	// where alpha(x) = cross2(x-A, B-A) > 0.
	Normal mgl64.Vec2
}

// PrimaryOptions selects the primary sampler's edge weights.
type PrimaryOptions struct {
	// NoJumpWeight weighs every candidate by its clipped screen length
	// alone (Li et al. 2018, section 4.1), without the expected-jump
	// factor.
	NoJumpWeight bool
}

// NewPrimary prepares primary edge sampling for the camera cam with the
// default options: NewPrimaryWith(s, e, cam, PrimaryOptions{}).
func NewPrimary(s *render.Scene, e *Edges, cam *render.Camera) *Primary {
	return NewPrimaryWith(s, e, cam, PrimaryOptions{})
}

// NewPrimaryWith prepares primary edge sampling for the camera cam: it
// keeps the edges that are Candidates seen from cam.Origin, clips each to
// the camera's depth range in 3D (camera-space depth z between
// max(cam.Near, 1e-6*scale) and cam.Far, scale being the largest distance
// of a scene vertex from the camera: nearer and farther points are never
// seen) and its projection to the film rectangle [0,W]x[0,H]
// (Liang-Barsky), and weighs it by its clipped screen length times
// Edges.JumpWeight from cam.Origin (unless o.NoJumpWeight). Edges entirely
// off the film or behind the camera get weight zero.
func NewPrimaryWith(s *render.Scene, e *Edges, cam *render.Camera, o PrimaryOptions) *Primary {
	pr := &Primary{candOf: make([]int32, len(e.List))}
	scale := 0.0
	for _, sh := range s.Shapes {
		if sh == nil {
			continue
		}
		for _, q := range sh.Positions {
			scale = math.Max(scale, q.Sub(cam.Origin).Len())
		}
	}
	zNear := math.Max(cam.Near, 1e-6*scale)
	zFar := cam.Far
	if !(zFar > zNear) {
		zFar = math.Inf(1)
	}
	W, H := float64(cam.Width), float64(cam.Height)
	// Clip the edges in parallel chunks, then concatenate the chunks'
	// visible edges in order.
	chunks := chunkRanges(len(e.List))
	found := make([][]primaryCand, len(chunks))
	parallelChunks(chunks, func(k int) {
		for i := chunks[k][0]; i < chunks[k][1]; i++ {
			jw := e.JumpWeight(s, i, cam.Origin)
			if !(jw > 0) {
				continue
			}
			if o.NoJumpWeight {
				jw = 1
			}
			v0, v1 := e.Vertices(s, i)
			if c, ok := clipEdge(cam, v0, v1, zNear, zFar, W, H); ok {
				c.edge = int32(i)
				c.jump = jw
				found[k] = append(found[k], c)
			}
		}
	})
	n := 0
	for _, f := range found {
		n += len(f)
	}
	for i := range pr.candOf {
		pr.candOf[i] = -1
	}
	pr.cands = make([]primaryCand, 0, n)
	weights := make([]float64, 0, n)
	for _, f := range found {
		for _, c := range f {
			pr.candOf[c.edge] = int32(len(pr.cands))
			pr.cands = append(pr.cands, c)
			l := c.b.Sub(c.a).Len() * (c.s1 - c.s0)
			pr.total += l
			weights = append(weights, l*c.jump)
		}
	}
	if len(weights) > 0 {
		pr.dist = render.NewDistribution1D(weights)
	}
	return pr
}

// clipEdge clips the edge (v0, v1) to the depth range (zNear, zFar] in 3D
// and its projection to the film [0,W]x[0,H]; ok is false when nothing of
// positive screen length remains.
func clipEdge(cam *render.Camera, v0, v1 mgl64.Vec3, zNear, zFar, W, H float64) (primaryCand, bool) {
	z0 := v0.Sub(cam.Origin).Dot(cam.Forward)
	z1 := v1.Sub(cam.Origin).Dot(cam.Forward)
	t0, t1, ok := clipRange(z0, z1, zNear, zFar)
	if !ok {
		return primaryCand{}, false
	}
	d := v1.Sub(v0)
	p0, p1 := v0, v1
	if t0 != 0 {
		p0 = v0.Add(d.Mul(t0))
	}
	if t1 != 1 {
		p1 = v0.Add(d.Mul(t1))
	}
	ax, ay, ok0 := cam.Project(p0)
	bx, by, ok1 := cam.Project(p1)
	if !ok0 || !ok1 {
		return primaryCand{}, false
	}
	a, b := mgl64.Vec2{ax, ay}, mgl64.Vec2{bx, by}
	s0, s1, ok := liangBarsky(a, b, W, H)
	if !ok {
		return primaryCand{}, false
	}
	w := b.Sub(a).Len() * (s1 - s0)
	if !(w > 0) || math.IsInf(w, 0) {
		return primaryCand{}, false
	}
	return primaryCand{t0: t0, t1: t1, a: a, b: b, s0: s0, s1: s1}, true
}

// clipRange clips the parameter range [0,1] of a segment whose end points
// have depths z0 and z1 to zNear < z <= zFar.
func clipRange(z0, z1, zNear, zFar float64) (t0, t1 float64, ok bool) {
	t0, t1 = 0, 1
	if !(z0 > zNear) && !(z1 > zNear) {
		return 0, 0, false
	}
	if z0 > zFar && z1 > zFar {
		return 0, 0, false
	}
	dz := z1 - z0
	if !(z0 > zNear) {
		t0 = (zNear - z0) / dz
	} else if !(z1 > zNear) {
		t1 = (zNear - z0) / dz
	}
	if !math.IsInf(zFar, 1) {
		if z0 > zFar {
			t0 = math.Max(t0, (zFar-z0)/dz)
		} else if z1 > zFar {
			t1 = math.Min(t1, (zFar-z0)/dz)
		}
	}
	if !(t1 > t0) {
		return 0, 0, false
	}
	return t0, t1, true
}

// liangBarsky clips the segment a..b to the rectangle [0,W]x[0,H] and
// returns the parameter range [s0, s1] of the part inside (Liang and
// Barsky, "A New Concept and Method for Line Clipping", ACM TOG 3(1),
// 1984).
func liangBarsky(a, b mgl64.Vec2, W, H float64) (s0, s1 float64, ok bool) {
	s0, s1 = 0, 1
	dx, dy := b[0]-a[0], b[1]-a[1]
	// Each boundary is p*s <= q.
	ps := [4]float64{-dx, dx, -dy, dy}
	qs := [4]float64{a[0], W - a[0], a[1], H - a[1]}
	for k := 0; k < 4; k++ {
		p, q := ps[k], qs[k]
		if p == 0 {
			if q < 0 {
				return 0, 0, false
			}
			continue
		}
		r := q / p
		if p < 0 {
			if r > s1 {
				return 0, 0, false
			}
			if r > s0 {
				s0 = r
			}
		} else {
			if r < s0 {
				return 0, 0, false
			}
			if r < s1 {
				s1 = r
			}
		}
	}
	if !(s1 > s0) {
		return 0, 0, false
	}
	return s0, s1, true
}

// NumCandidates returns the number of edges with a positive clipped screen
// length.
func (p *Primary) NumCandidates() int { return len(p.cands) }

// TotalLength returns the sum of the candidates' clipped screen lengths, in
// pixels.
func (p *Primary) TotalLength() float64 { return p.total }

// TotalWeight returns the sum of the candidates' weights: clipped screen
// length times expected jump, in pixels (TotalLength without the
// weighting).
func (p *Primary) TotalWeight() float64 {
	if p.dist == nil {
		return 0
	}
	return p.dist.Sum
}

// Weight returns edge i's weight: its clipped screen length in pixels times
// its expected jump (Edges.JumpWeight from the camera, 1 with
// NoJumpWeight); zero for edges that are not candidates.
func (p *Primary) Weight(i int) float64 {
	if i < 0 || i >= len(p.candOf) || p.candOf[i] < 0 {
		return 0
	}
	c := &p.cands[p.candOf[i]]
	return c.b.Sub(c.a).Len() * (c.s1 - c.s0) * c.jump
}

// Pmf returns the probability that Sample picks edge i: its Weight over
// TotalWeight, zero for edges that are not candidates.
func (p *Primary) Pmf(i int) float64 {
	if i < 0 || i >= len(p.candOf) || p.candOf[i] < 0 {
		return 0
	}
	return p.dist.PMF(int(p.candOf[i]))
}

// Sample picks an edge with u0 and a point on its clipped projection with
// u1 (both in [0,1)). ok is false when no edge is visible.
func (p *Primary) Sample(u0, u1 float64) (PrimarySample, bool) {
	if len(p.cands) == 0 {
		return PrimarySample{}, false
	}
	i, pmf, _ := p.dist.SampleDiscrete(u0)
	c := &p.cands[i]
	ds := c.s1 - c.s0
	s := math.Min(c.s0+u1*ds, c.s1)
	d := c.b.Sub(c.a)
	l := d.Len()
	return PrimarySample{
		Edge:   c.edge,
		T0:     c.t0,
		T1:     c.t1,
		A:      c.a,
		B:      c.b,
		S:      s,
		X:      mgl64.Vec2{c.a[0] + s*d[0], c.a[1] + s*d[1]},
		Pdf:    pmf / ds,
		Normal: mgl64.Vec2{d[1] / l, -d[0] / l},
	}, true
}
