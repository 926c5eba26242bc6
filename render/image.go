package render

import (
	"fmt"

	"github.com/go-gl/mathgl/mgl64"
)

// Image is a linear-RGB float image stored row-major from the top-left
// pixel, three float64 per pixel. Alpha is optional (nil when absent) and
// holds one value per pixel.
type Image struct {
	Width, Height int
	Pix           []float64
	Alpha         []float64
}

// NewImage returns a black w x h image without alpha.
func NewImage(w, h int) *Image {
	return &Image{Width: w, Height: h, Pix: make([]float64, 3*w*h)}
}

// At returns the pixel at column x, row y.
func (im *Image) At(x, y int) mgl64.Vec3 {
	i := 3 * (y*im.Width + x)
	return mgl64.Vec3{im.Pix[i], im.Pix[i+1], im.Pix[i+2]}
}

// Set stores c at column x, row y.
func (im *Image) Set(x, y int, c mgl64.Vec3) {
	i := 3 * (y*im.Width + x)
	im.Pix[i], im.Pix[i+1], im.Pix[i+2] = c[0], c[1], c[2]
}

// Clone returns a deep copy.
func (im *Image) Clone() *Image {
	c := &Image{Width: im.Width, Height: im.Height, Pix: append([]float64(nil), im.Pix...)}
	if im.Alpha != nil {
		c.Alpha = append([]float64(nil), im.Alpha...)
	}
	return c
}

// Validate checks that the buffers match the size.
func (im *Image) Validate() error {
	if im.Width <= 0 || im.Height <= 0 {
		return fmt.Errorf("render: image size %dx%d is not positive", im.Width, im.Height)
	}
	if len(im.Pix) != 3*im.Width*im.Height {
		return fmt.Errorf("render: image %dx%d has %d values, want %d", im.Width, im.Height, len(im.Pix), 3*im.Width*im.Height)
	}
	if im.Alpha != nil && len(im.Alpha) != im.Width*im.Height {
		return fmt.Errorf("render: image %dx%d has %d alpha values, want %d", im.Width, im.Height, len(im.Alpha), im.Width*im.Height)
	}
	return nil
}

// Sum returns the sum of all channel values.
func (im *Image) Sum() float64 {
	s := 0.0
	for _, v := range im.Pix {
		s += v
	}
	return s
}
