package optimize

import (
	"fmt"
	"math"
	"sort"

	"github.com/invrender/invrender/adjoint"
	"github.com/invrender/invrender/geom"
	"github.com/invrender/invrender/render"
	"github.com/invrender/invrender/scenes"
)

// Target is one view of a multi-view optimisation: the image a sensor of
// the scene should see.
type Target struct {
	// Sensor indexes the scene's sensors.
	Sensor int
	// Image is the target, linear RGB. An image of another size than the
	// sensor's film but of the same aspect ratio (within 1 %) is resampled
	// to the film with scenes.Resize; another aspect ratio is an error.
	Image *render.Image
	// Mask, when set, weights the loss per pixel of the film (row-major,
	// Width*Height weights in [0, 1]; see WithMask).
	Mask []float64
	// Name labels the target in messages (a file name); may be empty.
	Name string
}

// aspectTolerance is the relative difference of aspect ratios up to which
// a target is resampled to the film instead of refused: enough for the
// rounding of an image scaled to an integer size (a 1024x683 photograph of
// a 3:2 film), far below the change of a wrong crop or orientation.
const aspectTolerance = 0.01

// view is a prepared target: the film-sized image and the loss that
// compares a render with it.
type view struct {
	sensor int
	target *render.Image
	loss   Loss
	label  string
}

// label names target i in messages.
func (t *Target) label(i int) string {
	if t.Name != "" {
		return fmt.Sprintf("target %d (%s)", i, t.Name)
	}
	return fmt.Sprintf("target %d", i)
}

// prepareViews checks the targets against the scene's sensors, resamples
// them to the films and wraps the loss with their masks. resized lists the
// targets that were resampled.
func prepareViews(s *render.Scene, targets []Target, loss Loss) (views []view, resized []int, err error) {
	if len(targets) == 0 {
		return nil, nil, fmt.Errorf("optimize: no target images")
	}
	for i := range targets {
		t := &targets[i]
		name := t.label(i)
		if t.Sensor < 0 || t.Sensor >= len(s.Sensors) {
			return nil, nil, fmt.Errorf("optimize: %s: sensor %d does not exist (the scene has %d)", name, t.Sensor, len(s.Sensors))
		}
		sn := s.Sensors[t.Sensor]
		if t.Image == nil {
			return nil, nil, fmt.Errorf("optimize: %s: no image", name)
		}
		if err := t.Image.Validate(); err != nil {
			return nil, nil, fmt.Errorf("optimize: %s: %w", name, err)
		}
		for j, v := range t.Image.Pix {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, nil, fmt.Errorf("optimize: %s: pixel %d,%d has a non-finite value", name, (j/3)%t.Image.Width, (j/3)/t.Image.Width)
			}
		}
		img := t.Image
		if img.Width != sn.Width || img.Height != sn.Height {
			ar := float64(img.Width) / float64(img.Height)
			fr := float64(sn.Width) / float64(sn.Height)
			if math.Abs(ar-fr) > aspectTolerance*fr {
				return nil, nil, fmt.Errorf("optimize: %s is %dx%d but sensor %d's film is %dx%d, another aspect ratio (%.4g, film %.4g): render the target with the scene's camera or crop it",
					name, img.Width, img.Height, t.Sensor, sn.Width, sn.Height, ar, fr)
			}
			img = scenes.Resize(img, sn.Width, sn.Height)
			resized = append(resized, i)
		}
		// The loss compares colour only: a target's alpha is not a mask.
		img = &render.Image{Width: img.Width, Height: img.Height, Pix: img.Pix}
		l := loss
		if t.Mask != nil {
			if len(t.Mask) != sn.Width*sn.Height {
				return nil, nil, fmt.Errorf("optimize: %s: mask has %d weights, the %dx%d film %d", name, len(t.Mask), sn.Width, sn.Height, sn.Width*sn.Height)
			}
			l = WithMask(loss, t.Mask)
		}
		views = append(views, view{sensor: t.Sensor, target: img, loss: l, label: name})
	}
	return views, resized, nil
}

// Stream constants separate the loop's random choices from each other and
// from the renderer's (which hashes seeds with pixels and samples).
const (
	streamViews  = 0x76696577 // "view"
	streamRender = 0x72656e64 // "rend"
)

// ChooseViews returns the k of n views (target indices, ascending) that
// iteration it of a run with the given seed renders: all of them when
// k <= 0 or k >= n, otherwise a uniformly random subset drawn by a partial
// Fisher-Yates shuffle (Knuth, TAOCP vol. 2, algorithm 3.4.2P) from a
// generator seeded with (seed, it), so the choice depends only on the
// seed and the iteration, and a resumed run makes the same one.
func ChooseViews(seed uint64, it, n, k int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	if k <= 0 || k >= n {
		return idx
	}
	r := geom.NewRNG(seed, uint64(it), streamViews, 0)
	for i := 0; i < k; i++ {
		j := i + r.Intn(n-i)
		idx[i], idx[j] = idx[j], idx[i]
	}
	out := idx[:k]
	sort.Ints(out)
	return out
}

// ViewSeed returns the seed of the forward render of view v (a target
// index) at iteration it; the backward pass of that view uses
// adjoint.BackwardSeed of it. Every (seed, iteration, view) gets its own
// independent samples.
func ViewSeed(seed uint64, it, v int) uint64 {
	return geom.Hash4(seed, uint64(it), uint64(v), streamRender)
}

// shapeIndex returns the index of the shape whose registry prefix is name
// (its Name, or shape_<index> when anonymous, as adjoint.NewParams names
// them), or -1.
func shapeIndex(ps *adjoint.Params, name string) int {
	for i, sh := range ps.Scene.Shapes {
		n := sh.Name
		if n == "" {
			n = fmt.Sprintf("shape_%d", i)
		}
		if n == name {
			return i
		}
	}
	return -1
}
