package main

import (
	"fmt"
	"math"

	"github.com/invrender/invrender/render"
	"github.com/invrender/invrender/scenes"
)

// targetAspectTolerance is the relative difference of aspect ratios up to
// which a target image is resampled to the film (package optimize's rule:
// the rounding of a photograph scaled to an integer size, not a wrong
// crop).
const targetAspectTolerance = 0.01

// loadTarget reads a target image for sensor sensorIndex of s. An image of
// the film's size is used as read; one of the film's aspect ratio is
// resampled to the film (scenes.Resize) with a warning; another aspect
// ratio is an error naming both sizes. Alpha is dropped: losses compare
// colour.
func (c *cli) loadTarget(flag, path string, s *render.Scene, sensorIndex int) (*render.Image, error) {
	im, err := scenes.ReadImage(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", flag, trimPkg(err.Error()))
	}
	sn := s.Sensors[sensorIndex]
	for i, v := range im.Pix {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%s %s: pixel %d,%d has a non-finite value", flag, path, (i/3)%im.Width, (i/3)/im.Width)
		}
	}
	if im.Width != sn.Width || im.Height != sn.Height {
		ar := float64(im.Width) / float64(im.Height)
		fr := float64(sn.Width) / float64(sn.Height)
		if math.Abs(ar-fr) > targetAspectTolerance*fr {
			return nil, fmt.Errorf("%s %s is %dx%d, but sensor %d's film is %dx%d, another aspect ratio: render the target with the scene's camera, or set the film with --width and --height",
				flag, path, im.Width, im.Height, sensorIndex, sn.Width, sn.Height)
		}
		c.warnf("%s %s is %dx%d; resampled to sensor %d's %dx%d film", flag, path, im.Width, im.Height, sensorIndex, sn.Width, sn.Height)
		im = scenes.Resize(im, sn.Width, sn.Height)
	}
	return &render.Image{Width: im.Width, Height: im.Height, Pix: im.Pix}, nil
}
