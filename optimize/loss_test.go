package optimize

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/invrender/invrender/render"
)

func randImage(rng *rand.Rand, w, h int) *render.Image {
	im := render.NewImage(w, h)
	for i := range im.Pix {
		im.Pix[i] = rng.Float64()
	}
	return im
}

func randMask(rng *rand.Rand, n int) []float64 {
	m := make([]float64, n)
	for i := range m {
		switch rng.IntN(4) {
		case 0:
			m[i] = 0
		case 1:
			m[i] = 1
		default:
			m[i] = rng.Float64()
		}
	}
	m[0] = 1 // never all zero
	return m
}

// checkLossGradient compares dLdI with central differences of the loss on
// every value of img. The losses are at most quadratic in I (L1 piecewise
// linear, away from its kinks for random images), so the central difference
// is exact but for rounding: about 1e-16 |L| / h = 1e-10 |L| here, so the
// tolerance is 1e-8 max(1, |L|) plus 1e-6 relative.
func checkLossGradient(t *testing.T, l Loss, img, target *render.Image) {
	t.Helper()
	v, d, err := l.Eval(img, target)
	if err != nil {
		t.Fatal(err)
	}
	if d.Width != img.Width || d.Height != img.Height || len(d.Pix) != len(img.Pix) {
		t.Fatalf("%s: gradient %dx%d (%d values) for a %dx%d image", l.Name(), d.Width, d.Height, len(d.Pix), img.Width, img.Height)
	}
	const h = 1e-6
	for i := range img.Pix {
		p := img.Clone()
		p.Pix[i] += h
		fp, _, err := l.Eval(p, target)
		if err != nil {
			t.Fatal(err)
		}
		p.Pix[i] -= 2 * h
		fm, _, err := l.Eval(p, target)
		if err != nil {
			t.Fatal(err)
		}
		fd := (fp - fm) / (2 * h)
		tol := 1e-8*math.Max(1, math.Abs(v)) + 1e-6*math.Abs(fd)
		if math.Abs(fd-d.Pix[i]) > tol {
			t.Errorf("%s %dx%d: dL/dI[%d] = %.10g, central difference %.10g", l.Name(), img.Width, img.Height, i, d.Pix[i], fd)
		}
	}
}

// foreignL2 is L2 seen as a loss from outside the package (no weights).
type foreignL2 struct{}

func (foreignL2) Name() string { return "foreign" }
func (foreignL2) Eval(img, target *render.Image) (float64, *render.Image, error) {
	return L2().Eval(img, target)
}

func TestLossGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	sizes := [][2]int{{1, 1}, {4, 3}, {5, 7}, {9, 9}, {17, 3}}
	for _, sz := range sizes {
		w, h := sz[0], sz[1]
		img, tgt := randImage(rng, w, h), randImage(rng, w, h)
		mask := randMask(rng, w*h)
		losses := []Loss{
			L1(), L2(), Sum(), Pyramid(0), Pyramid(3), Pyramid(10), PyramidWeighted(1, 0.5, 2, 0.25),
			WithMask(L1(), mask), WithMask(L2(), mask), WithMask(Sum(), mask),
			WithMask(Pyramid(4), mask), WithMask(PyramidWeighted(0.3, 1.7, 1), mask),
			WithMask(foreignL2{}, mask),
		}
		for _, l := range losses {
			checkLossGradient(t, l, img, tgt)
		}
	}
}

func TestLossValues(t *testing.T) {
	img := render.NewImage(2, 1)
	copy(img.Pix, []float64{1, 2, 3, 4, 5, 6})
	tgt := render.NewImage(2, 1)
	copy(tgt.Pix, []float64{0, 2, 5, 4, 8, 6})
	// Residuals 1, 0, -2, 0, -3, 0.
	cases := []struct {
		l    Loss
		want float64
	}{
		{L1(), 6.0 / 6},
		{L2(), 14.0 / 6},
		{Sum(), 21},
		{WithMask(L1(), []float64{1, 0}), 3.0 / 3},
		{WithMask(L2(), []float64{0.5, 1}), (0.5*5 + 9) / (3 * 1.5)},
		{WithMask(Sum(), []float64{0.5, 1}), 0.5*6 + 15},
		{WithMask(WithMask(Sum(), []float64{0.5, 1}), []float64{1, 0.5}), 0.5*6 + 0.5*15},
	}
	for _, c := range cases {
		v, _, err := c.l.Eval(img, tgt)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(v-c.want) > 1e-14 {
			t.Errorf("%s = %g, want %g", c.l.Name(), v, c.want)
		}
	}
}

func TestSumWithoutTarget(t *testing.T) {
	img := render.NewImage(3, 2)
	for i := range img.Pix {
		img.Pix[i] = float64(i)
	}
	v, d, err := Sum().Eval(img, nil)
	if err != nil {
		t.Fatal(err)
	}
	if v != 17*18/2 {
		t.Errorf("sum = %g, want 153", v)
	}
	for i, g := range d.Pix {
		if g != 1 {
			t.Fatalf("dSum/dI[%d] = %g, want 1", i, g)
		}
	}
}

func TestPyramidLevels(t *testing.T) {
	cases := []struct{ w, h, levels, want int }{
		{64, 64, 0, 4}, // 64, 32, 16, 8
		{65, 64, 0, 4}, // 65x64, 33x32, 17x16, 9x8
		{10, 10, 0, 1}, // 5x5 is below 8
		{4, 4, 0, 1},
		{7, 5, 3, 3}, // 7x5, 4x3, 2x2
		{7, 5, 9, 4}, // ... 1x1
		{1, 1, 5, 1},
		{256, 16, 0, 2}, // 256x16, 128x8
	}
	for _, c := range cases {
		if got := PyramidLevels(c.w, c.h, c.levels); got != c.want {
			t.Errorf("PyramidLevels(%d, %d, %d) = %d, want %d", c.w, c.h, c.levels, got, c.want)
		}
	}
}

// TestPyramidOddDownsample checks the box levels of a 3x3 image on a
// hand-computed case: level 1 is 2x2 with blocks of 4, 2, 2 and 1 pixels.
func TestPyramidOddDownsample(t *testing.T) {
	img := render.NewImage(3, 3)
	tgt := render.NewImage(3, 3)
	for p := range 9 {
		for c := range 3 {
			img.Pix[3*p+c] = float64(p)
		}
	}
	// Level 0 error: mean of p^2 over 9 pixels; level 1 values are the block
	// means 2 (pixels 0,1,3,4), 3.5 (2,5), 6.5 (6,7) and 8.
	want := 0.0
	for p := range 9 {
		want += float64(p*p) / 9
	}
	want += (2*2 + 3.5*3.5 + 6.5*6.5 + 8*8) / 4.0
	v, _, err := Pyramid(2).Eval(img, tgt)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(v-want) > 1e-12 {
		t.Errorf("pyramid = %.15g, want %.15g", v, want)
	}
}

// TestPyramidConstantOffset: every level of I = T + c has MSE c^2.
func TestPyramidConstantOffset(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	tgt := randImage(rng, 37, 21)
	img := tgt.Clone()
	for i := range img.Pix {
		img.Pix[i] += 0.25
	}
	n := PyramidLevels(37, 21, 0)
	if n != 2 {
		t.Fatalf("levels %d, want 2", n)
	}
	v, _, err := Pyramid(0).Eval(img, tgt)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(v-float64(n)*0.0625) > 1e-12 {
		t.Errorf("pyramid = %g, want %g", v, float64(n)*0.0625)
	}
	v, _, err = PyramidWeighted(1, 3).Eval(img, tgt)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(v-4*0.0625) > 1e-12 {
		t.Errorf("weighted pyramid = %g, want %g", v, 4*0.0625)
	}
}

// TestMaskIgnoresMaskedPixels: changing a pixel of weight zero changes
// neither the value nor the gradient elsewhere, at every level.
func TestMaskIgnoresMaskedPixels(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	w, h := 19, 17
	img, tgt := randImage(rng, w, h), randImage(rng, w, h)
	mask := randMask(rng, w*h)
	for _, base := range []Loss{L1(), L2(), Sum(), Pyramid(0), Pyramid(5)} {
		l := WithMask(base, mask)
		v0, d0, err := l.Eval(img, tgt)
		if err != nil {
			t.Fatal(err)
		}
		img2, tgt2 := img.Clone(), tgt.Clone()
		for p, m := range mask {
			if m == 0 {
				for c := range 3 {
					img2.Pix[3*p+c] += 100 * rng.Float64()
					tgt2.Pix[3*p+c] -= 100 * rng.Float64()
				}
			}
		}
		v1, d1, err := l.Eval(img2, tgt2)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(v1-v0) > 1e-12*math.Abs(v0) {
			t.Errorf("%s: masked-out pixels changed the loss from %g to %g", l.Name(), v0, v1)
		}
		for i := range d0.Pix {
			if mask[i/3] == 0 && d0.Pix[i] != 0 {
				t.Fatalf("%s: masked-out value %d has gradient %g", l.Name(), i, d0.Pix[i])
			}
			if math.Abs(d1.Pix[i]-d0.Pix[i]) > 1e-12*(1+math.Abs(d0.Pix[i])) {
				t.Fatalf("%s: gradient %d changed from %g to %g", l.Name(), i, d0.Pix[i], d1.Pix[i])
			}
		}
	}
}

func TestLossErrors(t *testing.T) {
	a := render.NewImage(4, 3)
	b := render.NewImage(5, 3)
	bad := &render.Image{Width: 2, Height: 2, Pix: make([]float64, 5)}
	cases := []struct {
		l      Loss
		img    *render.Image
		target *render.Image
		want   []string
	}{
		{L2(), a, b, []string{"l2", "4x3", "5x3"}},
		{L1(), b, a, []string{"l1", "5x3", "4x3"}},
		{Pyramid(0), a, b, []string{"pyramid", "4x3", "5x3"}},
		{Sum(), a, b, []string{"sum", "4x3", "5x3"}},
		{L2(), a, nil, []string{"target is nil"}},
		{L2(), nil, a, []string{"image is nil"}},
		{L2(), bad, bad, []string{"2x2", "5 values"}},
		{WithMask(L2(), make([]float64, 11)), a, a, []string{"11 weights", "4x3"}},
		{WithMask(L2(), make([]float64, 12)), a, a, []string{"zero everywhere"}},
		{WithMask(Pyramid(0), []float64{1, 1, 1, 1, 1, 1.5, 1, 1, 1, 1, 1, 1}), a, a, []string{"1.5", "pixel 1,1"}},
		{WithMask(L1(), []float64{1, 1, 1, 1, 1, math.NaN(), 1, 1, 1, 1, 1, 1}), a, a, []string{"NaN"}},
		{WithMask(foreignL2{}, make([]float64, 3)), a, a, []string{"3 weights"}},
		{WithMask(WithMask(L2(), make([]float64, 3)), make([]float64, 12)), a, a, []string{"3 weights"}},
		{PyramidWeighted(1, -1), a, a, []string{"level 1 weight -1"}},
	}
	for _, c := range cases {
		_, _, err := c.l.Eval(c.img, c.target)
		if err == nil {
			t.Errorf("%s: no error for %v", c.l.Name(), c.want)
			continue
		}
		for _, s := range c.want {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("%s: error %q does not mention %q", c.l.Name(), err, s)
			}
		}
	}
}

func TestParseLoss(t *testing.T) {
	for name, want := range map[string]string{"l1": "l1", "L2": "l2", " mse ": "l2", "sum": "sum", "pyramid": "pyramid", "Pyramid:3": "pyramid"} {
		l, err := ParseLoss(name)
		if err != nil {
			t.Errorf("ParseLoss(%q): %v", name, err)
			continue
		}
		if l.Name() != want {
			t.Errorf("ParseLoss(%q).Name() = %q, want %q", name, l.Name(), want)
		}
	}
	if l, _ := ParseLoss("pyramid:3"); l.(pyramidLoss).levels != 3 {
		t.Errorf("pyramid:3 has %d levels", l.(pyramidLoss).levels)
	}
	for _, name := range []string{"", "l3", "pyramid:0", "pyramid:x", "huber"} {
		if _, err := ParseLoss(name); err == nil || !strings.Contains(err.Error(), "optimize: ") {
			t.Errorf("ParseLoss(%q) error %v", name, err)
		}
	}
}
