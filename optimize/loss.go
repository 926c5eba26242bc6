package optimize

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/invrender/invrender/render"
)

// Loss is a scalar function of a rendered image and its target. Eval returns
// the value and its derivative with respect to every value of img (dLdI has
// img's size and no alpha). Eval never modifies its arguments. A size
// mismatch, an invalid image or an invalid mask is an error naming the sizes.
type Loss interface {
	// Name is the loss's spelling for ParseLoss ("l1", "l2", ...).
	Name() string
	// Eval evaluates the loss and its image gradient.
	Eval(img, target *render.Image) (value float64, dLdI *render.Image, err error)
}

// weightedLoss is implemented by the package's losses, which know how to
// weight pixels by a mask (one weight per pixel, nil meaning all ones).
type weightedLoss interface {
	evalWeighted(img, target *render.Image, w []float64) (float64, *render.Image, error)
}

type pixelKind int

const (
	kindL1 pixelKind = iota
	kindL2
	kindSum
)

// pixelLoss is a loss that is a (weighted) mean or sum of one function of
// each channel value: L1, L2 and the image sum.
type pixelLoss struct{ kind pixelKind }

// L1 returns the mean absolute error over pixels and channels,
// (1/3N) sum |I - T|. Its derivative at I = T is taken as 0. With a mask
// (see WithMask) it is the weighted mean sum w |I - T| / (3 sum w).
func L1() Loss { return pixelLoss{kindL1} }

// L2 returns the mean squared error over pixels and channels,
// (1/3N) sum (I - T)^2. With a mask (see WithMask) it is the weighted mean
// sum w (I - T)^2 / (3 sum w).
func L2() Loss { return pixelLoss{kindL2} }

// Sum returns the sum of all channel values of the image, the loss of
// gradient checks (its image gradient is all ones). The target is ignored
// and may be nil; when it is not nil its size must match. With a mask it is
// the weighted sum sum w I (not normalised).
func Sum() Loss { return pixelLoss{kindSum} }

// Name implements Loss.
func (l pixelLoss) Name() string {
	switch l.kind {
	case kindL1:
		return "l1"
	case kindL2:
		return "l2"
	default:
		return "sum"
	}
}

// Eval implements Loss.
func (l pixelLoss) Eval(img, target *render.Image) (float64, *render.Image, error) {
	return l.evalWeighted(img, target, nil)
}

func (l pixelLoss) evalWeighted(img, target *render.Image, w []float64) (float64, *render.Image, error) {
	name := l.Name()
	if err := checkPair(name, img, target, l.kind != kindSum); err != nil {
		return 0, nil, err
	}
	wsum, err := checkWeights(name, w, img.Width, img.Height, l.kind != kindSum)
	if err != nil {
		return 0, nil, err
	}
	d := render.NewImage(img.Width, img.Height)
	np := img.Width * img.Height
	if l.kind == kindSum {
		s := 0.0
		for p := range np {
			wp := 1.0
			if w != nil {
				wp = w[p]
			}
			i := 3 * p
			s += wp * (img.Pix[i] + img.Pix[i+1] + img.Pix[i+2])
			d.Pix[i], d.Pix[i+1], d.Pix[i+2] = wp, wp, wp
		}
		return s, d, nil
	}
	// Mean over channels and (weighted) pixels: the normaliser is 3 sum w.
	inv := 1 / (3 * wsum)
	s := 0.0
	for p := range np {
		wp := 1.0
		if w != nil {
			wp = w[p]
		}
		for c := range 3 {
			i := 3*p + c
			r := img.Pix[i] - target.Pix[i]
			if l.kind == kindL1 {
				s += wp * math.Abs(r)
				switch {
				case r > 0:
					d.Pix[i] = wp * inv
				case r < 0:
					d.Pix[i] = -wp * inv
				}
			} else {
				s += wp * r * r
				d.Pix[i] = 2 * wp * r * inv
			}
		}
	}
	return s * inv, d, nil
}

// checkPair validates img and, when present or required, target, and that
// their sizes agree.
func checkPair(name string, img, target *render.Image, needTarget bool) error {
	if img == nil {
		return fmt.Errorf("optimize: %s loss: image is nil", name)
	}
	if err := img.Validate(); err != nil {
		return fmt.Errorf("optimize: %s loss: image: %w", name, err)
	}
	if target == nil {
		if needTarget {
			return fmt.Errorf("optimize: %s loss: target is nil", name)
		}
		return nil
	}
	if err := target.Validate(); err != nil {
		return fmt.Errorf("optimize: %s loss: target: %w", name, err)
	}
	if img.Width != target.Width || img.Height != target.Height {
		return fmt.Errorf("optimize: %s loss: image is %dx%d but target is %dx%d",
			name, img.Width, img.Height, target.Width, target.Height)
	}
	return nil
}

// checkWeights validates per-pixel weights (nil means all ones) and returns
// their sum. needMass asks for a positive sum (a mean needs one).
func checkWeights(name string, w []float64, width, height int, needMass bool) (float64, error) {
	if w == nil {
		return float64(width * height), nil
	}
	if len(w) != width*height {
		return 0, fmt.Errorf("optimize: %s loss: mask has %d weights but the image is %dx%d (%d pixels)",
			name, len(w), width, height, width*height)
	}
	s := 0.0
	for i, v := range w {
		if !(v >= 0 && v <= 1) {
			return 0, fmt.Errorf("optimize: %s loss: mask weight %d (pixel %d,%d) is %g, not in [0, 1]",
				name, i, i%width, i/width, v)
		}
		s += v
	}
	if needMass && s == 0 {
		return 0, fmt.Errorf("optimize: %s loss: mask is zero everywhere", name)
	}
	return s, nil
}

// masked weights the pixels of an inner loss by a mask.
type masked struct {
	inner Loss
	mask  []float64
}

// WithMask returns l with every pixel weighted by mask (row-major from the
// top-left pixel, one weight in [0, 1] per pixel, checked at Eval). The
// package's losses use the weights as documented on each (weighted means or
// sums; the pyramid downsamples the mask with the image). A loss from
// outside the package is evaluated on the premultiplied images w I and w T,
// its gradient multiplied by w. Masks of nested WithMask calls multiply.
// The mask is not copied: do not modify it while the loss is in use.
func WithMask(l Loss, mask []float64) Loss {
	if m, ok := l.(masked); ok {
		prod := make([]float64, len(mask))
		if len(mask) == len(m.mask) {
			for i := range prod {
				prod[i] = mask[i] * m.mask[i]
			}
			return masked{m.inner, prod}
		}
		// Different lengths: keep the nesting so that Eval reports the
		// mismatch against the image size.
	}
	return masked{l, mask}
}

// Name implements Loss; a masked loss has its inner loss's name.
func (m masked) Name() string { return m.inner.Name() }

// Eval implements Loss.
func (m masked) Eval(img, target *render.Image) (float64, *render.Image, error) {
	return m.evalWeighted(img, target, nil)
}

func (m masked) evalWeighted(img, target *render.Image, w []float64) (float64, *render.Image, error) {
	name := m.inner.Name()
	if img == nil {
		return 0, nil, fmt.Errorf("optimize: %s loss: image is nil", name)
	}
	if _, err := checkWeights(name, m.mask, img.Width, img.Height, false); err != nil {
		return 0, nil, err
	}
	mask := m.mask
	if w != nil {
		if len(w) != len(mask) {
			return 0, nil, fmt.Errorf("optimize: %s loss: masks of %d and %d weights", name, len(w), len(mask))
		}
		mask = make([]float64, len(w))
		for i := range mask {
			mask[i] = w[i] * m.mask[i]
		}
	}
	if wl, ok := m.inner.(weightedLoss); ok {
		return wl.evalWeighted(img, target, mask)
	}
	// A foreign loss: evaluate it on premultiplied images.
	if err := checkPair(name, img, target, false); err != nil {
		return 0, nil, err
	}
	mi := premultiply(img, mask)
	var mt *render.Image
	if target != nil {
		mt = premultiply(target, mask)
	}
	v, d, err := m.inner.Eval(mi, mt)
	if err != nil {
		return 0, nil, err
	}
	if d == nil || d.Width != img.Width || d.Height != img.Height || len(d.Pix) != len(img.Pix) {
		return 0, nil, fmt.Errorf("optimize: %s loss: gradient image does not match the %dx%d image", name, img.Width, img.Height)
	}
	out := render.NewImage(img.Width, img.Height)
	for p, wp := range mask {
		for c := range 3 {
			out.Pix[3*p+c] = wp * d.Pix[3*p+c]
		}
	}
	return v, out, nil
}

func premultiply(im *render.Image, w []float64) *render.Image {
	out := render.NewImage(im.Width, im.Height)
	for p, wp := range w {
		for c := range 3 {
			out.Pix[3*p+c] = wp * im.Pix[3*p+c]
		}
	}
	return out
}

// pyramidMinSize is the smallest side the automatic pyramid goes down to.
const pyramidMinSize = 8

// pyramidLoss is the sum over the levels of an image pyramid of the
// per-level mean squared error.
type pyramidLoss struct {
	levels  int       // <= 0: automatic
	weights []float64 // per level; nil: all ones
}

// Pyramid returns the multi-resolution L2 loss: the image and the target are
// box-downsampled by 2 repeatedly (an image pyramid, Burt and Adelson 1983)
// and the loss is the sum of the per-level mean squared errors. Coarse levels
// see far-away structure, so geometry that starts far from the target still
// gets a useful gradient. A level of odd size w has (w+1)/2 pixels, the last
// one averaging the one or two (or four) pixels that exist.
//
// levels <= 0 chooses the count automatically: the full-resolution level and
// then every halving whose smaller side is still at least 8 pixels. A
// positive levels gives that many levels, fewer only where the image reaches
// 1x1 first.
//
// With a mask (WithMask) each level's error is the weighted mean
// sum w (I - T)^2 / (3 sum w); a coarse pixel is the weight-averaged value
// of its block and its weight is the block's mean weight, so masked-out
// pixels never leak into coarse levels.
func Pyramid(levels int) Loss { return pyramidLoss{levels: levels} }

// PyramidWeighted is Pyramid with len(weights) levels, level l (0 = full
// resolution) weighted by weights[l]. Weights must be finite and
// non-negative (checked at Eval).
func PyramidWeighted(weights ...float64) Loss {
	return pyramidLoss{levels: len(weights), weights: append([]float64(nil), weights...)}
}

// Name implements Loss.
func (pyramidLoss) Name() string { return "pyramid" }

// Eval implements Loss.
func (l pyramidLoss) Eval(img, target *render.Image) (float64, *render.Image, error) {
	return l.evalWeighted(img, target, nil)
}

// pyrLevel is one level of the pyramid: image, target, per-pixel weights.
type pyrLevel struct {
	w, h     int
	img, tgt []float64
	wt       []float64
}

// PyramidLevels returns the number of levels the pyramid loss uses for a
// w x h image when asked for levels (<= 0: automatic), as Pyramid documents.
func PyramidLevels(w, h, levels int) int {
	n := 1
	for {
		if levels > 0 && n >= levels {
			return n
		}
		if w == 1 && h == 1 {
			return n
		}
		nw, nh := (w+1)/2, (h+1)/2
		if levels <= 0 && min(nw, nh) < pyramidMinSize {
			return n
		}
		w, h = nw, nh
		n++
	}
}

func (l pyramidLoss) evalWeighted(img, target *render.Image, mask []float64) (float64, *render.Image, error) {
	const name = "pyramid"
	if err := checkPair(name, img, target, true); err != nil {
		return 0, nil, err
	}
	if _, err := checkWeights(name, mask, img.Width, img.Height, true); err != nil {
		return 0, nil, err
	}
	for i, lw := range l.weights {
		if !(lw >= 0) || math.IsInf(lw, 0) {
			return 0, nil, fmt.Errorf("optimize: %s loss: level %d weight %g is not finite and non-negative", name, i, lw)
		}
	}
	nl := PyramidLevels(img.Width, img.Height, l.levels)
	lv := make([]pyrLevel, nl)
	wt := mask
	if wt == nil {
		wt = make([]float64, img.Width*img.Height)
		for i := range wt {
			wt[i] = 1
		}
	}
	lv[0] = pyrLevel{img.Width, img.Height, img.Pix, target.Pix, wt}
	for k := 1; k < nl; k++ {
		lv[k] = downsample(&lv[k-1])
	}
	// Per-level weighted MSE and its gradient with respect to that level.
	grads := make([][]float64, nl)
	total := 0.0
	for k := range lv {
		L := &lv[k]
		lw := 1.0
		if l.weights != nil {
			lw = l.weights[k]
		}
		g := make([]float64, len(L.img))
		grads[k] = g
		wsum := 0.0
		for _, v := range L.wt {
			wsum += v
		}
		if wsum == 0 || lw == 0 {
			continue
		}
		inv := 1 / (3 * wsum)
		s := 0.0
		for p, wp := range L.wt {
			for c := range 3 {
				i := 3*p + c
				r := L.img[i] - L.tgt[i]
				s += wp * r * r
				g[i] = 2 * lw * wp * r * inv
			}
		}
		total += lw * s * inv
	}
	// Back-propagate from the coarsest level to the full resolution: the
	// adjoint of downsample spreads each coarse gradient over its block.
	for k := nl - 1; k >= 1; k-- {
		upsampleAdjoint(&lv[k-1], grads[k-1], grads[k])
	}
	return total, &render.Image{Width: img.Width, Height: img.Height, Pix: grads[0]}, nil
}

// downsample halves a level with weight-averaged 2x2 boxes (clipped at odd
// borders): coarse value = sum w v / sum w over the block (0 where the block
// weighs nothing), coarse weight = mean weight of the block.
func downsample(f *pyrLevel) pyrLevel {
	cw, ch := (f.w+1)/2, (f.h+1)/2
	c := pyrLevel{cw, ch, make([]float64, 3*cw*ch), make([]float64, 3*cw*ch), make([]float64, cw*ch)}
	for Y := range ch {
		for X := range cw {
			var si, st [3]float64
			sw, cnt := 0.0, 0
			for y := 2 * Y; y < min(2*Y+2, f.h); y++ {
				for x := 2 * X; x < min(2*X+2, f.w); x++ {
					p := y*f.w + x
					wp := f.wt[p]
					cnt++
					sw += wp
					for k := range 3 {
						si[k] += wp * f.img[3*p+k]
						st[k] += wp * f.tgt[3*p+k]
					}
				}
			}
			q := Y*cw + X
			c.wt[q] = sw / float64(cnt)
			if sw > 0 {
				for k := range 3 {
					c.img[3*q+k] = si[k] / sw
					c.tgt[3*q+k] = st[k] / sw
				}
			}
		}
	}
	return c
}

// upsampleAdjoint adds to gf (the gradient on the fine level f) the adjoint
// of downsample applied to gc, the gradient on the coarse level: a fine
// pixel p of block B receives w_p / sum_B w times its block's gradient.
func upsampleAdjoint(f *pyrLevel, gf, gc []float64) {
	cw, ch := (f.w+1)/2, (f.h+1)/2
	for Y := range ch {
		for X := range cw {
			sw := 0.0
			for y := 2 * Y; y < min(2*Y+2, f.h); y++ {
				for x := 2 * X; x < min(2*X+2, f.w); x++ {
					sw += f.wt[y*f.w+x]
				}
			}
			if sw == 0 {
				continue
			}
			q := Y*cw + X
			for y := 2 * Y; y < min(2*Y+2, f.h); y++ {
				for x := 2 * X; x < min(2*X+2, f.w); x++ {
					p := y*f.w + x
					a := f.wt[p] / sw
					for k := range 3 {
						gf[3*p+k] += a * gc[3*q+k]
					}
				}
			}
		}
	}
}

// ParseLoss returns the loss a name spells (case-insensitive): "l1", "l2"
// or "mse", "sum", "pyramid" (automatic level count) or "pyramid:N" (N
// levels).
func ParseLoss(name string) (Loss, error) {
	s := strings.ToLower(strings.TrimSpace(name))
	switch s {
	case "l1":
		return L1(), nil
	case "l2", "mse":
		return L2(), nil
	case "sum":
		return Sum(), nil
	case "pyramid":
		return Pyramid(0), nil
	}
	if rest, ok := strings.CutPrefix(s, "pyramid:"); ok {
		n, err := strconv.Atoi(rest)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("optimize: loss %q: level count %q is not a positive integer", name, rest)
		}
		return Pyramid(n), nil
	}
	return nil, fmt.Errorf("optimize: unknown loss %q (want l1, l2, mse, sum, pyramid or pyramid:N)", name)
}
