package scenes

import (
	"fmt"
	"math"

	"golang.org/x/image/draw"

	"github.com/invrender/invrender/render"
)

// Resize resamples im to w x h pixels with the Catmull-Rom kernel of
// golang.org/x/image/draw, separably and in float64 on the linear (and
// alpha-associated) values, so that HDR values above 1 survive and
// averaging is physically meaningful. When shrinking, the kernel is widened
// by the scale factor (it then averages every source pixel, as draw's
// Kernel.Scale does); taps past the border are dropped and the weights
// renormalised. Catmull-Rom has small negative lobes, so results near
// sharp edges can overshoot slightly (alpha is clamped to [0, 1]). A same
// size request returns a copy. w and h must be positive; Resize panics
// otherwise.
func Resize(im *render.Image, w, h int) *render.Image {
	if w <= 0 || h <= 0 {
		panic(fmt.Sprintf("scenes: Resize to %dx%d", w, h))
	}
	if w == im.Width && h == im.Height {
		return im.Clone()
	}
	nc := 3
	if im.Alpha != nil {
		nc = 4
	}
	// Interleave colour and alpha so both passes handle nc channels.
	src := make([]float64, nc*im.Width*im.Height)
	for i := 0; i < im.Width*im.Height; i++ {
		copy(src[nc*i:], im.Pix[3*i:3*i+3])
		if nc == 4 {
			src[4*i+3] = im.Alpha[i]
		}
	}
	// Horizontal pass: im.Width -> w, for every source row.
	tmp := make([]float64, nc*w*im.Height)
	hd := newResampleWeights(draw.CatmullRom, w, im.Width)
	for y := 0; y < im.Height; y++ {
		row := src[nc*im.Width*y:]
		out := tmp[nc*w*y:]
		for x, t := range hd.taps {
			o := out[nc*x : nc*x+nc]
			for _, c := range hd.contribs[t.i:t.j] {
				s := row[nc*c.coord : nc*c.coord+nc]
				for k := range o {
					o[k] += c.weight * s[k]
				}
			}
		}
	}
	// Vertical pass: im.Height -> h.
	dst := make([]float64, nc*w*h)
	vd := newResampleWeights(draw.CatmullRom, h, im.Height)
	for y, t := range vd.taps {
		out := dst[nc*w*y : nc*w*(y+1)]
		for _, c := range vd.contribs[t.i:t.j] {
			s := tmp[nc*w*c.coord : nc*w*(c.coord+1)]
			for k := range out {
				out[k] += c.weight * s[k]
			}
		}
	}
	res := render.NewImage(w, h)
	if nc == 4 {
		res.Alpha = make([]float64, w*h)
	}
	for i := 0; i < w*h; i++ {
		copy(res.Pix[3*i:3*i+3], dst[nc*i:nc*i+3])
		if nc == 4 {
			res.Alpha[i] = clamp01(dst[4*i+3])
		}
	}
	return res
}

type resampleContrib struct {
	coord  int
	weight float64
}

type resampleTaps struct{ i, j int }

// resampleWeights lists, for each destination column (or row), the source
// columns that contribute and their normalised weights.
type resampleWeights struct {
	taps     []resampleTaps
	contribs []resampleContrib
}

// newResampleWeights distributes sn source samples over dn destination
// samples with kernel q: destination sample x sits at source coordinate
// (x+0.5)*sn/dn - 0.5; the kernel is stretched by sn/dn when shrinking.
func newResampleWeights(q *draw.Kernel, dn, sn int) resampleWeights {
	scale := float64(sn) / float64(dn)
	half, argScale := q.Support, 1.0
	if scale > 1 {
		half *= scale
		argScale = 1 / scale
	}
	var r resampleWeights
	r.taps = make([]resampleTaps, dn)
	for x := range r.taps {
		center := (float64(x)+0.5)*scale - 0.5
		lo := max(0, int(math.Floor(center-half)))
		hi := min(sn, int(math.Ceil(center+half))+1)
		start := len(r.contribs)
		total := 0.0
		for c := lo; c < hi; c++ {
			t := math.Abs(center-float64(c)) * argScale
			if t >= q.Support {
				continue
			}
			wt := q.At(t)
			if wt == 0 {
				continue
			}
			total += wt
			r.contribs = append(r.contribs, resampleContrib{c, wt})
		}
		if total == 0 {
			// Cannot happen for Catmull-Rom (the nearest tap has positive
			// weight), but keep the pixel defined: nearest neighbour.
			r.contribs = append(r.contribs[:start], resampleContrib{min(sn-1, max(0, int(math.Round(center)))), 1})
			total = 1
		}
		for k := start; k < len(r.contribs); k++ {
			r.contribs[k].weight /= total
		}
		r.taps[x] = resampleTaps{start, len(r.contribs)}
	}
	return r
}
