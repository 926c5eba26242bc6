package scenes_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/invrender/invrender/render"
	"github.com/invrender/invrender/scenes"
)

// Write a linear HDR image as half-float OpenEXR and read it back.
func ExampleEncodeImage() {
	im := render.NewImage(3, 2)
	im.Set(1, 0, [3]float64{4.5, 0.25, 1e-3})
	var buf bytes.Buffer
	if err := scenes.EncodeImage(&buf, im, "exr", scenes.ImageOptions{HalfEXR: true, EXRCompression: "zip"}); err != nil {
		fmt.Println(err)
		return
	}
	back, err := scenes.DecodeImage(&buf, "example.exr", scenes.ImageOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%dx%d %.6g\n", back.Width, back.Height, back.At(1, 0))
	// Output: 3x2 [4.5 0.25 0.0010004]
}

// Save a render as an 8-bit PNG (sRGB-encoded) next to a lossless PFM.
func ExampleWriteImage() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	im := render.NewImage(2, 1)
	im.Set(0, 0, [3]float64{0.5, 0.5, 0.5})
	for _, name := range []string{"out.png", "out.pfm"} {
		if err := scenes.WriteImage(filepath.Join(dir, name), im); err != nil {
			fmt.Println(err)
			return
		}
	}
	png, _ := scenes.ReadImage(filepath.Join(dir, "out.png"))
	pfm, _ := scenes.ReadImage(filepath.Join(dir, "out.pfm"))
	fmt.Printf("png %.4f, pfm %.4f, sRGB code %.0f\n", png.Pix[0], pfm.Pix[0], 255*scenes.LinearToSRGB(0.5))
	// Output: png 0.5029, pfm 0.5000, sRGB code 188
}
