package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/invrender/invrender/adjoint"
	"github.com/invrender/invrender/optimize"
	"github.com/invrender/invrender/render"
	"github.com/invrender/invrender/scenes"
)

func init() {
	register(&command{
		Name:    "grad",
		Summary: "print the gradient of a loss with respect to a parameter, with a finite-difference check",
		Order:   25,
		Run:     runGrad,
	})
}

const gradUsage = `
Usage: invrender grad SCENE --param KEY [--index I] [--spp N] [--seed S]
       [--seeds K] [--loss sum|l1|l2|pyramid --target IMG] [--fd [--fd-step H]
       [--fd-spp N] [--fd-seeds K]] [-o GRAD.png] [--json] [--boundary auto|on|off]

Renders SCENE, evaluates a loss of the image (by default the image sum; l1,
l2 and pyramid compare it with --target) and prints the loss's gradient
with respect to the registered parameter KEY (list the keys with
'invrender params SCENE'): every component of a parameter of up to 16
values, otherwise the gradient's norm and sum and component --index. Each
value is the mean over K independent runs (--seeds; seeds S, S+1, ...)
with its standard error (none for --seeds 1). The forward render of each
run uses seed S+k and its backward pass a decorrelated seed, so gradients
of nonlinear losses are unbiased.

--fd also estimates the same components by central finite differences,
(L(x+h) - L(x-h)) / 2h, with the same random numbers on both sides and
the same seeds, and says whether each pair agrees within three combined
standard errors plus 1 % (geometry and camera parameters need the
boundary term of edge sampling for that). The default step h is 1 % of
the parameter's largest value (values such as colours) or 0.1 % of the
scene's size (lengths), 0.002 rad for rotations, 0.05 degrees for the
field of view.

-o writes the per-pixel gradient image of component --index (or of the
direction --direction): each pixel's contribution to the derivative. A
.png file shows it in diverging colours, blue negative, white zero, red
positive, on a symmetric scale at the 99th percentile of |g| (printed),
and the float values go beside it as .pfm; a .pfm or .exr file holds the
values only.

--json prints one JSON object instead of the table:
{"param", "size", "loss", "loss_stderr", "index", "grad", "grad_stderr",
"fd", "fd_stderr", "agree", "norm", "sum", "spp", "seeds", "seconds"}; for
a parameter of more than 16 values "grad" holds component --index only.

`

// gradAllLimit is the largest parameter whose components are all printed.
const gradAllLimit = 16

// gradImagePercentile is the percentile of |g| that maps to full
// saturation in a gradient PNG: robust to the few fireflies a Monte Carlo
// gradient image has.
const gradImagePercentile = 0.99

// floatListFlag is a comma-separated list of finite numbers.
type floatListFlag struct{ v []float64 }

func (f *floatListFlag) String() string {
	if f == nil {
		return ""
	}
	return formatValues(f.v, len(f.v))
}

func (f *floatListFlag) Set(s string) error {
	f.v = nil
	for _, w := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(w), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%q is not a finite number", w)
		}
		f.v = append(f.v, v)
	}
	return nil
}

// gradJSON is the --json output.
type gradJSON struct {
	Param      string    `json:"param"`
	Size       int       `json:"size"`
	Loss       float64   `json:"loss"`
	LossStdErr float64   `json:"loss_stderr"`
	Index      []int     `json:"index"`
	Grad       []float64 `json:"grad"`
	GradStdErr []float64 `json:"grad_stderr"`
	FD         []float64 `json:"fd"`        // null without --fd
	FDStdErr   []float64 `json:"fd_stderr"` // null without --fd
	FDStep     float64   `json:"fd_step,omitempty"`
	Agree      []bool    `json:"agree,omitempty"`
	Norm       float64   `json:"norm"`
	Sum        float64   `json:"sum"`
	SPP        int       `json:"spp"`
	Seeds      int       `json:"seeds"`
	Seconds    float64   `json:"seconds"`
	ImageScale float64   `json:"image_scale,omitempty"`
}

// runGrad is the grad subcommand.
func runGrad(c *cli, args []string) error {
	fs := newFlagSet("grad")
	var (
		rf        renderFlags
		sf        sceneFlags
		key       string
		index     int
		seeds     int
		lossName  string
		target    string
		fd        bool
		fdStep    float64
		fdSPP     int
		fdSeeds   int
		out       string
		direction floatListFlag
		asJSON    bool
		boundary  string
		quiet     bool
	)
	fs.StringVar(&key, "param", "", "the parameter `KEY` (required; see 'invrender params SCENE')")
	fs.IntVar(&index, "index", 0, "component `I` printed for a large parameter, checked by --fd and shown by -o")
	rf.register(fs)
	sf.register(fs, true)
	fs.IntVar(&seeds, "seeds", 4, "average over `K` runs with seeds S, S+1, ... (1: a single run, no standard error)")
	fs.StringVar(&lossName, "loss", "sum", "the `LOSS`: sum (the image sum), l1, l2 or pyramid (these need --target)")
	fs.StringVar(&target, "target", "", "the target `IMG` of l1, l2 and pyramid (resampled to the film if it has its aspect ratio)")
	fs.BoolVar(&fd, "fd", false, "also estimate by central finite differences with the same random numbers")
	fs.Float64Var(&fdStep, "fd-step", 0, "the finite difference's half step `H` in the parameter's units (default: see above)")
	fs.IntVar(&fdSPP, "fd-spp", 0, "samples per pixel `N` of the finite-difference renders (default: --spp)")
	fs.IntVar(&fdSeeds, "fd-seeds", 0, "finite-difference runs `K` (default: --seeds)")
	fs.StringVar(&out, "o", "", "write the gradient image to `FILE` (.png, with the values beside it as .pfm; .pfm; .exr)")
	fs.Var(&direction, "direction", "the gradient image of the direction `V1,V2,...` (one value per component) instead of component --index")
	fs.BoolVar(&asJSON, "json", false, "print one JSON object instead of the table")
	fs.StringVar(&boundary, "boundary", "auto", "the boundary (edge-sampling) term `MODE`: auto (for geometry and camera parameters), on or off")
	fs.BoolVar(&quiet, "q", false, "show no progress")
	pos, err := c.parseArgs(fs, gradUsage+builtinHelp(), args)
	if err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if err := oneScene(pos); err != nil {
		return err
	}
	switch {
	case key == "":
		return usagef("no parameter: give --param KEY (list them with 'invrender params %s')", pos[0])
	case seeds < 1:
		return usagef("--seeds %d: want at least 1", seeds)
	case given["fd-seeds"] && fdSeeds < 1:
		return usagef("--fd-seeds %d: want at least 1", fdSeeds)
	case given["fd-spp"] && fdSPP < 1:
		return usagef("--fd-spp %d: want a positive sample count", fdSPP)
	case given["fd-step"] && !(fdStep > 0):
		return usagef("--fd-step %g: want a positive step", fdStep)
	case !fd && (given["fd-step"] || given["fd-spp"] || given["fd-seeds"]):
		return usagef("--fd-step, --fd-spp and --fd-seeds need --fd")
	case index < 0:
		return usagef("--index %d: components count from 0", index)
	}
	if err := rf.check(fs); err != nil {
		return err
	}
	bnd, err := parseBoundary(boundary)
	if err != nil {
		return err
	}
	loss, err := optimize.ParseLoss(lossName)
	if err != nil {
		return usagef("--loss %s: unknown loss (sum, l1, l2 or pyramid)", lossName)
	}
	if loss.Name() != "sum" && target == "" {
		return usagef("--loss %s compares the render with a target: give --target IMG", lossName)
	}
	if loss.Name() == "sum" && target != "" {
		return usagef("--target needs a loss that uses it (--loss l1, l2 or pyramid)")
	}
	if out != "" {
		switch strings.ToLower(filepath.Ext(out)) {
		case ".png", ".pfm", ".exr":
		default:
			return usagef("-o %s: the gradient image is written as .png (with a .pfm beside it), .pfm or .exr", out)
		}
		if err := checkDir(filepath.Dir(out)); err != nil {
			return err
		}
	} else if direction.v != nil {
		return usagef("--direction chooses the gradient image of -o; give -o too")
	}

	ls, err := c.loadScene(pos[0], &sf, !asJSON)
	if err != nil {
		return err
	}
	if err := c.applySets(ls, sf.sets.list); err != nil {
		return err
	}
	ropts, err := rf.apply(c, ls.Scene)
	if err != nil {
		return err
	}
	s := ls.Scene
	ps, err := ls.Params()
	if err != nil {
		return err
	}
	p, err := ps.Lookup(key)
	if err != nil {
		msg := trimPkg(err.Error())
		if near := nearKeys(ps.Keys(), key); len(near) > 0 && !strings.Contains(msg, "did you mean") {
			msg = fmt.Sprintf("no parameter %q (did you mean %s?)", key, strings.Join(near, ", "))
		}
		return usagef("--param: %s", msg)
	}
	if p.Flags&adjoint.Differentiable == 0 {
		return usagef("--param %s is not differentiable", key)
	}
	if index >= p.Size() {
		return usagef("--index %d: %s has %d component%s (0 to %d)", index, key, p.Size(), plural(p.Size()), p.Size()-1)
	}
	if direction.v != nil && len(direction.v) != p.Size() {
		return usagef("--direction has %d values, %s has %d", len(direction.v), key, p.Size())
	}
	var tgt *render.Image
	if target != "" {
		if tgt, err = c.loadTarget("--target", target, s, ropts.Sensor); err != nil {
			return err
		}
	}
	lossFn := func(img *render.Image) (float64, *render.Image, error) {
		return loss.Eval(img, tgt)
	}
	if !s.Built() {
		if err := s.Build(); err != nil {
			return fmt.Errorf("%s: %s", ls.label(), trimPkg(err.Error()))
		}
	}
	sensor := s.Sensors[ropts.Sensor]
	spp := spp(s, ropts)
	seed := sensor.Seed
	if ropts.SeedSet {
		seed = ropts.Seed
	}
	var indices []int
	if p.Size() <= gradAllLimit {
		for i := 0; i < p.Size(); i++ {
			indices = append(indices, i)
		}
	} else {
		indices = []int{index}
	}
	if fdSPP == 0 {
		fdSPP = spp
	}
	if fdSeeds == 0 {
		fdSeeds = seeds
	}
	if fd && fdStep == 0 {
		if fdStep, err = optimize.DefaultLearningRate(ps, p.Key); err != nil {
			return err
		}
		fdStep *= 0.2
	}

	start := time.Now()
	total := seeds
	if fd {
		total += fdSeeds * len(indices)
	}
	prog := c.newProgress("grad", quiet || asJSON)
	done := 0
	interrupted := func() error {
		prog.stop()
		fmt.Fprintf(c.stderr, "%s: interrupted; nothing written\n", c.name)
		return errInterrupted
	}

	// Autodiff: one forward render and backward pass per seed.
	var img *render.Image
	var req *adjoint.ImageRequest
	if out != "" {
		req = &adjoint.ImageRequest{Key: p.Key, Index: index, Direction: direction.v}
	}
	var runs [][]float64
	var losses []float64
	for k := 0; k < seeds; k++ {
		gopts := adjoint.GradientOptions{
			Options: adjoint.Options{
				Sensor: ropts.Sensor, SPP: spp, Seed: seed + uint64(k), SeedSet: true,
				Threads: ropts.Threads, Boundary: bnd, Image: req,
			},
		}
		v, res, err := adjoint.Gradient(c.ctx, ps, []string{p.Key}, lossFn, gopts)
		if err != nil {
			if c.ctx.Err() != nil {
				return interrupted()
			}
			return fmt.Errorf("%s: %s", ls.label(), trimPkg(err.Error()))
		}
		losses = append(losses, v)
		runs = append(runs, append([]float64(nil), p.Grad...))
		if res.Image != nil {
			if img == nil {
				img = render.NewImage(res.Image.Width, res.Image.Height)
			}
			for i, x := range res.Image.Pix {
				img.Pix[i] += x / float64(seeds)
			}
		}
		done++
		prog.update(done, total)
	}
	mean, se := meanStdErr(runs)
	lossMean, lossSE := meanStdErr(scalarRuns(losses))

	// Finite differences with the same seeds.
	var fdRuns [][]float64
	if fd {
		for k := 0; k < fdSeeds; k++ {
			r, err := adjoint.FiniteDifference(c.ctx, ps, p.Key, indices, lossFn,
				adjoint.FDOptions{Sensor: ropts.Sensor, SPP: fdSPP, Threads: ropts.Threads, Step: fdStep}, seed+uint64(k))
			if err != nil {
				if c.ctx.Err() != nil {
					return interrupted()
				}
				return fmt.Errorf("%s: %s", ls.label(), trimPkg(err.Error()))
			}
			fdRuns = append(fdRuns, r)
			done += len(indices)
			prog.update(done, total)
		}
	}
	prog.finish()
	seconds := time.Since(start).Seconds()

	res := gradJSON{
		Param: p.Key, Size: p.Size(), Loss: lossMean[0], LossStdErr: lossSE[0], Index: indices,
		SPP: spp, Seeds: seeds, Seconds: seconds,
	}
	for _, g := range mean {
		res.Norm += g * g
		res.Sum += g
	}
	res.Norm = math.Sqrt(res.Norm)
	for _, i := range indices {
		res.Grad = append(res.Grad, mean[i])
		res.GradStdErr = append(res.GradStdErr, se[i])
	}
	if fd {
		res.FD, res.FDStdErr = meanStdErr(fdRuns)
		res.FDStep = fdStep
		for j := range indices {
			res.Agree = append(res.Agree, adjoint.Agree(res.Grad[j], res.GradStdErr[j], res.FD[j], res.FDStdErr[j], 3, 0.01))
		}
	}
	var written []string
	if img != nil {
		paths, scale, err := writeGradImage(out, img)
		if err != nil {
			return err
		}
		res.ImageScale = scale
		written = paths
	}
	if asJSON {
		b, err := json.Marshal(res)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "%s\n", b)
		return nil
	}
	return writeGradText(c.stdout, &res, ls, sensor, fd, written)
}

// parseBoundary reads --boundary.
func parseBoundary(s string) (adjoint.Boundary, error) {
	switch strings.ToLower(s) {
	case "auto":
		return adjoint.BoundaryAuto, nil
	case "on":
		return adjoint.BoundaryOn, nil
	case "off":
		return adjoint.BoundaryOff, nil
	}
	return 0, usagef("--boundary %s: want auto, on or off", s)
}

// meanStdErr returns the per-component mean of runs and its standard error
// (the sample standard deviation over sqrt(runs); 0 for one run).
func meanStdErr(runs [][]float64) (mean, stderr []float64) {
	n := len(runs[0])
	mean, stderr = make([]float64, n), make([]float64, n)
	k := float64(len(runs))
	for i := 0; i < n; i++ {
		s := 0.0
		for _, r := range runs {
			s += r[i]
		}
		m := s / k
		mean[i] = m
		if len(runs) > 1 {
			ss := 0.0
			for _, r := range runs {
				ss += (r[i] - m) * (r[i] - m)
			}
			stderr[i] = math.Sqrt(ss / (k - 1) / k)
		}
	}
	return mean, stderr
}

// scalarRuns turns a list of values into one-component runs.
func scalarRuns(v []float64) [][]float64 {
	out := make([][]float64, len(v))
	for i, x := range v {
		out[i] = []float64{x}
	}
	return out
}

// gradColor maps a gradient value to the diverging colour map's sRGB
// colour: white at zero, towards pure blue at -scale and beyond, towards
// pure red at +scale and beyond.
func gradColor(g, scale float64) [3]float64 {
	t := g / scale
	if math.IsNaN(t) {
		t = 0
	}
	t = math.Max(-1, math.Min(1, t))
	if t >= 0 {
		return [3]float64{1, 1 - t, 1 - t}
	}
	return [3]float64{1 + t, 1 + t, 1}
}

// gradScale returns the gradPercentile-th percentile of |g| over the
// image's pixels, or the largest |g| when that is zero, or 1 for an image
// that is zero everywhere.
func gradScale(img *render.Image) float64 {
	n := img.Width * img.Height
	a := make([]float64, n)
	m := 0.0
	for i := 0; i < n; i++ {
		a[i] = math.Abs(img.Pix[3*i])
		m = math.Max(m, a[i])
	}
	sort.Float64s(a)
	s := a[min(n-1, int(gradImagePercentile*float64(n)))]
	switch {
	case s > 0:
		return s
	case m > 0:
		return m
	}
	return 1
}

// writeGradImage writes the gradient image to out: a diverging-colour PNG
// with the float values beside it as .pfm, or the float values only for
// .pfm and .exr. It returns the files written and the PNG's scale.
func writeGradImage(out string, img *render.Image) ([]string, float64, error) {
	ext := strings.ToLower(filepath.Ext(out))
	if ext != ".png" {
		if err := writeImage(out, img, false); err != nil {
			return nil, 0, err
		}
		return []string{out}, 0, nil
	}
	scale := gradScale(img)
	col := render.NewImage(img.Width, img.Height)
	for i := 0; i < img.Width*img.Height; i++ {
		c := gradColor(img.Pix[3*i], scale)
		for k := 0; k < 3; k++ {
			// The PNG writer applies the sRGB curve to linear values:
			// hand it the linear values of the colour map's sRGB ones.
			col.Pix[3*i+k] = scenes.SRGBToLinear(c[k])
		}
	}
	if err := writeImage(out, col, false); err != nil {
		return nil, 0, err
	}
	pfm := strings.TrimSuffix(out, filepath.Ext(out)) + ".pfm"
	if err := writeImage(pfm, img, false); err != nil {
		return nil, 0, err
	}
	return []string{out, pfm}, scale, nil
}

// writeGradText prints the table of the grad command.
func writeGradText(w io.Writer, r *gradJSON, ls *loadedScene, sn *render.Sensor, fd bool, written []string) error {
	fmt.Fprintf(w, "parameter %s (%d component%s) of %s, sensor %dx%d, %d spp, %d seed%s, %s\n",
		r.Param, r.Size, plural(r.Size), ls.label(), sn.Width, sn.Height, r.SPP, r.Seeds, plural(r.Seeds), fmtDuration(time.Duration(r.Seconds*float64(time.Second))))
	fmt.Fprintf(w, "loss %s\n", plusMinus(r.Loss, r.LossStdErr, r.Seeds))
	if r.Size > gradAllLimit {
		fmt.Fprintf(w, "gradient norm %.6g, sum %.6g (means over the seeds)\n", r.Norm, r.Sum)
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	head := "INDEX\tGRADIENT\tSTDERR"
	if fd {
		head += "\tFINITE DIFF\tSTDERR\tAGREE"
	}
	fmt.Fprintln(tw, head)
	for j, i := range r.Index {
		line := fmt.Sprintf("%d\t%.6g\t%s", i, r.Grad[j], stderrText(r.GradStdErr[j], r.Seeds))
		if fd {
			agree := "no"
			if r.Agree[j] {
				agree = "yes"
			}
			line += fmt.Sprintf("\t%.6g\t%s\t%s", r.FD[j], stderrText(r.FDStdErr[j], len(r.FD)), agree)
		}
		fmt.Fprintln(tw, line)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if fd {
		fmt.Fprintf(w, "finite differences with step %.3g; agreement: within 3 standard errors + 1%%\n", r.FDStep)
	}
	for _, p := range written {
		if r.ImageScale > 0 && strings.EqualFold(filepath.Ext(p), ".png") {
			fmt.Fprintf(w, "wrote %s (blue negative, white zero, red positive; full colour at |g| >= %.4g, the 99th percentile)\n", p, r.ImageScale)
			continue
		}
		fmt.Fprintf(w, "wrote %s\n", p)
	}
	return nil
}

// plusMinus formats a mean with its standard error when there is one.
func plusMinus(m, se float64, runs int) string {
	if runs < 2 {
		return fmt.Sprintf("%.6g", m)
	}
	return fmt.Sprintf("%.6g ± %.2g", m, se)
}

func stderrText(se float64, runs int) string {
	if runs < 2 {
		return "-"
	}
	return fmt.Sprintf("%.2g", se)
}
