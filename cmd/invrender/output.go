package main

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/invrender/invrender/render"
	"github.com/invrender/invrender/scenes"
)

// imageExts are the extensions images can be written with (the spellings
// package scenes knows).
var imageExts = map[string]bool{
	".png": true,
	".jpg": true, ".jpeg": true, ".jpe": true, ".jfif": true,
	".tga": true, ".targa": true,
	".pfm": true,
	".hdr": true, ".rgbe": true, ".pic": true,
	".exr": true,
}

// ldrExts are the 8-bit formats, which hold sRGB-encoded values in [0, 1].
var ldrExts = map[string]bool{
	".png": true, ".jpg": true, ".jpeg": true, ".jpe": true, ".jfif": true, ".tga": true, ".targa": true,
}

const imageFormatsHelp = ".png, .jpg, .tga (8-bit sRGB), .pfm, .hdr, .exr (linear float)"

// isLDR reports whether path names an 8-bit format.
func isLDR(path string) bool { return ldrExts[strings.ToLower(filepath.Ext(path))] }

// checkOutputPath refuses, before any work is done, an output whose
// extension is not a writable image format (a usage error) or whose
// directory does not exist.
func checkOutputPath(flagName, path string) error {
	if path == "" {
		return usagef("%s: the output file name is empty", flagName)
	}
	ext := strings.ToLower(filepath.Ext(path))
	if !imageExts[ext] {
		if ext == "" {
			return usagef("%s %s: no extension to choose the format by (%s)", flagName, path, imageFormatsHelp)
		}
		return usagef("%s %s: cannot write %s images (%s)", flagName, path, ext, imageFormatsHelp)
	}
	return checkDir(filepath.Dir(path))
}

// checkDir fails unless dir is an existing directory.
func checkDir(dir string) error {
	st, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("directory %s does not exist", dir)
		}
		return fmt.Errorf("%s: %v", dir, unwrapPathError(err))
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	return nil
}

// aovPath returns the file an AOV is written to beside out: out's name
// with "-" and the AOV's name before the extension (render.exr ->
// render-albedo.exr).
func aovPath(out, aov string) string {
	ext := filepath.Ext(out)
	return strings.TrimSuffix(out, ext) + "-" + aov + ext
}

// writeImage writes im to path atomically (a temporary file renamed into
// place), in the format the extension names. raw writes 8-bit formats
// without the sRGB curve (data such as normals, depth and alpha).
func writeImage(path string, im *render.Image, raw bool) error {
	if err := scenes.WriteImageOpts(path, im, scenes.ImageOptions{Raw: raw}); err != nil {
		return errors.New(trimPkg(err.Error()))
	}
	return nil
}

// aovImages returns the extra images of a render result for --aov, each
// with its file name beside out and whether it is data (written without
// the sRGB curve). For 8-bit formats normals are mapped from [-1, 1] to
// [0, 1] (n+1)/2, as normal maps store them, and depth is divided by the
// largest depth in the image so that it fills [0, 1]; float formats hold
// the values as computed. Alpha is also kept in the main image, whose
// PNG, TGA and OpenEXR files store it.
func aovImages(res *render.Result, out string, aovs render.AOV) []namedImage {
	ldr := isLDR(out)
	var list []namedImage
	if res.Albedo != nil {
		list = append(list, namedImage{aovPath(out, "albedo"), res.Albedo, false})
	}
	if res.Normal != nil {
		im := res.Normal
		if ldr {
			im = im.Clone()
			for i, v := range im.Pix {
				im.Pix[i] = 0.5 * (v + 1)
			}
		}
		list = append(list, namedImage{aovPath(out, "normal"), im, true})
	}
	if res.Depth != nil {
		im := res.Depth
		if ldr {
			im = im.Clone()
			m := 0.0
			for _, v := range im.Pix {
				if v > m && !math.IsInf(v, 0) {
					m = v
				}
			}
			if m > 0 {
				for i := range im.Pix {
					im.Pix[i] /= m
				}
			}
		}
		list = append(list, namedImage{aovPath(out, "depth"), im, true})
	}
	if aovs&render.AOVAlpha != 0 && res.Image.Alpha != nil {
		im := render.NewImage(res.Image.Width, res.Image.Height)
		for i, a := range res.Image.Alpha {
			im.Pix[3*i], im.Pix[3*i+1], im.Pix[3*i+2] = a, a, a
		}
		list = append(list, namedImage{aovPath(out, "alpha"), im, true})
	}
	return list
}

// namedImage is an image with the file it goes to.
type namedImage struct {
	path string
	im   *render.Image
	raw  bool
}

// parseAOVs turns --aov names into render.AOV bits.
func parseAOVs(names []string) (render.AOV, error) {
	var a render.AOV
	for _, n := range names {
		switch strings.ToLower(n) {
		case "albedo":
			a |= render.AOVAlbedo
		case "normal", "normals":
			a |= render.AOVNormal
		case "depth":
			a |= render.AOVDepth
		case "alpha":
			a |= render.AOVAlpha
		default:
			return 0, usagef("--aov %s: unknown AOV (albedo, normal, depth or alpha)", n)
		}
	}
	return a, nil
}
