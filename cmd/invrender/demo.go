package main

import (
	"fmt"
	"path/filepath"

	"github.com/invrender/invrender/adjoint"
	"github.com/invrender/invrender/render"
	"github.com/invrender/invrender/scenes"
)

func init() {
	register(&command{
		Name:    "demo",
		Summary: "render the built-in Cornell box to cbox.png in a few seconds",
		Order:   50,
		Run:     runDemo,
	})
}

const demoUsage = `
Usage: invrender demo [-o DIR] [--spp N]

Renders the built-in Cornell box (256x256, 16 samples per pixel, paths of
up to 3 segments) and writes cbox.png to DIR (default: the current
directory), then the gradient of the image with respect to the tall box's
sideways position (tallbox.translation[0]) as cbox-grad.png: each pixel's
contribution, blue negative and red positive, with edge sampling lighting
up the silhouettes and shadows. It takes a few seconds on two cores.
The same scene renders with 'invrender render cbox -o OUT'.
`

// demoRun is the state shared by the demo's steps.
type demoRun struct {
	dir   string
	spp   int // 0: the scene's
	quiet bool
	// cbox is the built-in Cornell box; image its rendering (set by the
	// first step).
	cbox  *loadedScene
	image *render.Image
}

// demoStep is one file the demo writes; the steps run in order. A step
// that needs the rendered Cornell box finds it in demoRun.
type demoStep struct {
	file string
	run  func(c *cli, d *demoRun, path string) error
}

// demoSteps are the demo's outputs. Adding one (such as a gradient image)
// is one more entry.
var demoSteps = []demoStep{
	{file: "cbox.png", run: demoRenderCbox},
	{file: "cbox-grad.png", run: demoGradient},
}

// demoGradKey and demoGradIndex name the parameter of the demo's gradient
// image: the tall box's sideways position, whose gradient lights up the
// box's silhouette, its shadow and the walls it reflects on.
const (
	demoGradKey   = "tallbox.translation"
	demoGradIndex = 0
	demoGradSPP   = 4
)

// demoGradient computes the gradient of the Cornell box's image sum with
// respect to the tall box's x position, with the per-pixel contributions
// written as a diverging-colour image (and its float values as .pfm).
func demoGradient(c *cli, d *demoRun, path string) error {
	ps, err := d.cbox.Params()
	if err != nil {
		return err
	}
	spp := demoGradSPP
	if d.spp > 0 && d.spp < spp {
		spp = d.spp
	}
	sn := d.cbox.Scene.Sensors[0]
	dLdI := render.NewImage(sn.Width, sn.Height)
	for i := range dLdI.Pix {
		dLdI.Pix[i] = 1
	}
	prog := c.newProgress("gradient", d.quiet)
	o := adjoint.Options{SPP: spp, Image: &adjoint.ImageRequest{Key: demoGradKey, Index: demoGradIndex}, Progress: prog.update}
	res, err := adjoint.Backward(c.ctx, ps, []string{demoGradKey}, dLdI, o)
	if err != nil {
		prog.stop()
		if c.ctx.Err() != nil {
			return errInterrupted
		}
		return err
	}
	prog.finish()
	files, scale, err := writeGradImage(path, res.Image)
	if err != nil {
		return err
	}
	g := ps.Get(demoGradKey).Grad[demoGradIndex]
	fmt.Fprintf(c.stderr, "gradient of the image sum with respect to %s[%d]: %.4g (%d spp, %.2f s)\n", demoGradKey, demoGradIndex, g, spp, res.Stats.Elapsed.Seconds())
	fmt.Fprintf(c.stdout, "wrote %s (its per-pixel contributions; blue negative, red positive, full colour at |g| = %.3g; floats in %s)\n", files[0], scale, files[len(files)-1])
	return nil
}

// runDemo is the demo subcommand.
func runDemo(c *cli, args []string) error {
	fs := newFlagSet("demo")
	d := &demoRun{}
	fs.StringVar(&d.dir, "o", ".", "write the images into directory `DIR`")
	fs.IntVar(&d.spp, "spp", 0, "samples per pixel `N` (default: the scene's 16)")
	fs.BoolVar(&d.quiet, "q", false, "show no progress")
	pos, err := c.parseArgs(fs, demoUsage, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("the demo takes no arguments (got %q); use -o DIR for the output directory", pos)
	}
	if d.spp < 0 {
		return usagef("--spp %d: want a positive sample count", d.spp)
	}
	if err := checkDir(d.dir); err != nil {
		return err
	}
	for _, st := range demoSteps {
		path := filepath.Join(d.dir, st.file)
		if err := st.run(c, d, path); err != nil {
			return err
		}
	}
	return nil
}

// demoRenderCbox renders the Cornell box and writes it to path.
func demoRenderCbox(c *cli, d *demoRun, path string) error {
	d.cbox = &loadedScene{Scene: scenes.CornellBox(), Source: "built-in scene cbox", Builtin: "cbox"}
	opts := render.Options{SPP: d.spp}
	res, err := c.renderScene(d.cbox, opts, "cbox", d.quiet)
	if err != nil {
		return err
	}
	d.image = res.Image
	printRenderSummary(c.stderr, res.Stats, res.Image, spp(d.cbox.Scene, opts))
	if err := writeImage(path, res.Image, false); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "wrote %s (the Cornell box, %dx%d)\n", path, res.Image.Width, res.Image.Height)
	return nil
}
