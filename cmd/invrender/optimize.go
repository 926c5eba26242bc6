package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/invrender/invrender/adjoint"
	"github.com/invrender/invrender/optimize"
	"github.com/invrender/invrender/render"
	"github.com/invrender/invrender/scenes"
)

func init() {
	register(&command{
		Name:    "optimize",
		Summary: "recover scene parameters from target images (inverse rendering)",
		Order:   20,
		Run:     runOptimize,
	})
}

const optimizeUsage = `
Usage: invrender optimize SCENE --target IMG [--sensor I] [--target IMG2 --sensor 1 ...]
       --param KEY[:LR] [--param ...] [--iters N] [--spp S] [--loss l1|l2|pyramid]
       [--optimizer adam|sgd] [--lr X] [--seed S] [--views-per-iter K]
       [--large-steps LAMBDA] [--smooth W] [--out DIR] [--resume DIR]
       [--checkpoint-every N] [--progress-every K] [--json] [-D ...] [--set ...]
       [--truth KEY=V1,V2,...]

Changes the parameters --param of SCENE (keys as 'invrender params SCENE'
lists them) until renders of the scene match the target images, by
gradient descent through the differentiable renderer: each iteration
renders every view (or --views-per-iter of them, chosen at random), compares
each render with its target (--loss), back-propagates the loss's image
gradient to the parameters, sums over the views and takes an optimiser
step (Adam by default, with a cosine-annealed learning rate). Parameters
stay physical (reflectances in [0, 1], radiance >= 0, roughness >= 0.001,
fov in (0, 180)). A typical start: render a target with --set, then
recover the value from elsewhere:

	invrender render sphere -o target.exr --set objmat.reflectance.value=0.7,0.3,0.2
	invrender optimize sphere --target target.exr --param objmat.reflectance.value \
		--set objmat.reflectance.value=0.9,0.4,0.3 --truth objmat.reflectance.value=0.7,0.3,0.2

Each --target is seen by sensor 0 unless a --sensor I follows it (or
precedes the first --target); --mask IMG after a target weights its
pixels by the mask's grey value in [0, 1]. A target of another size than
the film but of its aspect ratio is resampled to the film; another aspect
ratio is an error. --width, --height and --max-depth apply to every
sensor. Learning rates are in the parameter's units per step: --param
KEY:LR, else --lr, else a default from the parameter's kind and size (5 %
of a colour's largest value, 0.5 % of the scene's size for lengths, 0.01
rad, 0.25 degrees of fov). --large-steps LAMBDA optimises vertex
positions (SHAPE.vertex_positions) in the variables of Nicolet et al.'s
large steps (I + LAMBDA L) with uniform Adam; --smooth W adds W/2 |L x|^2
smoothness of the mesh to the loss. --truth gives the true values, to
report each parameter's relative error.

The run writes into DIR (--out, default optimize-out): loss.csv
(iteration, loss, seconds of the iteration, relative error of each --truth
parameter), loss.png (their plot), progress.gif (every --progress-every
iterations the current render of each view beside its target),
params.json (each key's final values), final.xml (the optimised scene,
with its meshes and textures beside it, loadable by every command) and
checkpoint.json (every --checkpoint-every iterations and at the end).
Progress goes to stderr (a bar on a terminal, otherwise a line every
--progress-every iterations); --json prints one JSON object per iteration
on stdout instead. Ctrl-C stops after writing a checkpoint and the files
so far (exit status 130); --resume DIR continues such a run from DIR's
checkpoint (give the same scene and flags; --iters may grow): with the
same flags it ends bit for bit where the uninterrupted run would. (The
cosine schedule spans --iters: a run continued to more iterations
anneals as that longer run would from then on.)
Results do not depend on --threads.

`

// targetSpec is one --target with its --sensor and --mask.
type targetSpec struct {
	path      string
	sensor    int
	sensorSet bool
	mask      string
}

// targetList collects --target, --sensor and --mask in command-line order.
type targetList struct {
	list []targetSpec
	// pending is a --sensor given before the first --target.
	pending    int
	pendingSet bool
}

type targetFlag struct{ l *targetList }

func (f targetFlag) String() string { return "" }
func (f targetFlag) Set(s string) error {
	if s == "" {
		return fmt.Errorf("empty file name")
	}
	t := targetSpec{path: s}
	if len(f.l.list) == 0 && f.l.pendingSet {
		t.sensor, t.sensorSet = f.l.pending, true
	}
	f.l.list = append(f.l.list, t)
	return nil
}

type sensorFlag struct{ l *targetList }

func (f sensorFlag) String() string { return "" }
func (f sensorFlag) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return fmt.Errorf("%q is not a sensor index (0, 1, ...)", s)
	}
	if len(f.l.list) == 0 {
		if f.l.pendingSet {
			return fmt.Errorf("give one --sensor per --target")
		}
		f.l.pending, f.l.pendingSet = n, true
		return nil
	}
	t := &f.l.list[len(f.l.list)-1]
	if t.sensorSet {
		return fmt.Errorf("--target %s already has a sensor", t.path)
	}
	t.sensor, t.sensorSet = n, true
	return nil
}

type maskFlag struct{ l *targetList }

func (f maskFlag) String() string { return "" }
func (f maskFlag) Set(s string) error {
	if len(f.l.list) == 0 {
		return fmt.Errorf("--mask follows the --target it weights")
	}
	t := &f.l.list[len(f.l.list)-1]
	if t.mask != "" {
		return fmt.Errorf("--target %s already has a mask", t.path)
	}
	t.mask = s
	return nil
}

// paramSpec is one --param KEY[:LR].
type paramSpec struct {
	key string
	lr  float64
}

type paramListFlag struct{ list []paramSpec }

func (f *paramListFlag) String() string { return "" }
func (f *paramListFlag) Set(s string) error {
	key, lrText, hasLR := strings.Cut(s, ":")
	key = strings.TrimSpace(key)
	if key == "" {
		return fmt.Errorf("want KEY or KEY:LR")
	}
	p := paramSpec{key: key}
	if hasLR {
		v, err := strconv.ParseFloat(strings.TrimSpace(lrText), 64)
		if err != nil || !(v > 0) || math.IsInf(v, 0) {
			return fmt.Errorf("learning rate %q is not a positive number", lrText)
		}
		p.lr = v
	}
	f.list = append(f.list, p)
	return nil
}

// parseSchedule reads --schedule: cosine (annealing to 5 % of the rate
// over the run), constant, or exp:GAMMA.
func parseSchedule(s string, iters int) (optimize.Schedule, error) {
	switch {
	case s == "cosine":
		return optimize.Cosine(max(iters, 1), 0.05), nil
	case s == "constant":
		return optimize.Constant(), nil
	case strings.HasPrefix(s, "exp:"):
		g, err := strconv.ParseFloat(s[4:], 64)
		if err != nil || !(g > 0 && g <= 1) {
			return optimize.Schedule{}, usagef("--schedule %s: the factor per iteration must be in (0, 1]", s)
		}
		return optimize.Exponential(g), nil
	}
	return optimize.Schedule{}, usagef("--schedule %s: want cosine, constant or exp:GAMMA", s)
}

// optimizeOutputs are the files a run writes into its directory.
type optimizeOutputs struct {
	dir, csv, png, gif, params, xml, checkpoint string
}

func newOptimizeOutputs(dir string) optimizeOutputs {
	j := func(n string) string { return filepath.Join(dir, n) }
	return optimizeOutputs{dir: dir, csv: j("loss.csv"), png: j("loss.png"), gif: j("progress.gif"),
		params: j("params.json"), xml: j("final.xml"), checkpoint: j("checkpoint.json")}
}

// iterationJSON is one line of --json.
type iterationJSON struct {
	Iteration int                  `json:"iteration"`
	Loss      float64              `json:"loss"`
	Seconds   float64              `json:"seconds"`
	Values    map[string][]float64 `json:"values"`
	Error     map[string]float64   `json:"error,omitempty"`
}

// jsonValueLimit is the largest parameter whose values the --json lines
// carry (vertex positions would make each line megabytes long).
const jsonValueLimit = 16

// runOptimize is the optimize subcommand.
func runOptimize(c *cli, args []string) error {
	fs := newFlagSet("optimize")
	var (
		sf             sceneFlags
		targets        targetList
		params         paramListFlag
		truth          setFlag
		iters          int
		spp, bspp      int
		lossName       string
		optName        string
		momentum       float64
		lr             float64
		schedName      string
		seed           uint64
		views          int
		largeSteps     float64
		smooth         float64
		outDir         string
		resumeDir      string
		ckEvery        int
		progressEvery  int
		asJSON         bool
		threads        int
		width, height  int
		maxDepth       int
		boundary       string
		quiet          bool
		defaultOutName = "optimize-out"
	)
	fs.Var(targetFlag{&targets}, "target", "a target `IMG` (repeatable; float formats keep HDR values)")
	fs.Var(sensorFlag{&targets}, "sensor", "the sensor `I` that sees the --target before it (default 0)")
	fs.Var(maskFlag{&targets}, "mask", "weight the pixels of the --target before it by the grey values of `IMG`")
	fs.Var(&params, "param", "optimise the parameter `KEY[:LR]` with learning rate LR (repeatable)")
	fs.IntVar(&iters, "iters", 100, "the number of iterations `N`, resumed ones included")
	fs.IntVar(&spp, "spp", 8, "samples per pixel `S` of each iteration's renders")
	fs.IntVar(&bspp, "backward-spp", 0, "samples per pixel `N` of the backward passes (default: --spp; the\nforward render's noise dominates the gradient's, so --spp/4 is often as good)")
	fs.StringVar(&lossName, "loss", "l2", "the `LOSS`: l1, l2 or pyramid (multi-resolution l2)")
	fs.StringVar(&optName, "optimizer", "adam", "the optimiser `NAME`: adam or sgd")
	fs.Float64Var(&momentum, "momentum", 0, "SGD's momentum `M` in [0, 1)")
	fs.Float64Var(&lr, "lr", 0, "the learning rate `X` of every --param without its own (default: per key)")
	fs.StringVar(&schedName, "schedule", "cosine", "the learning-rate `SCHEDULE`: cosine (annealed to 5 %), constant or exp:GAMMA")
	fs.Uint64Var(&seed, "seed", 0, "the random seed `S` of the run")
	fs.IntVar(&views, "views-per-iter", 0, "render `K` randomly chosen views per iteration (default: all)")
	fs.Float64Var(&largeSteps, "large-steps", 0, "optimise vertex positions with the large-steps `LAMBDA` (e.g. 20)")
	fs.Float64Var(&smooth, "smooth", 0, "add the Laplacian smoothness of vertex positions with weight `W`")
	fs.StringVar(&outDir, "out", "", "write the results into `DIR` (default "+defaultOutName+", or the --resume DIR)")
	fs.StringVar(&resumeDir, "resume", "", "continue the run whose checkpoint is in `DIR`")
	fs.IntVar(&ckEvery, "checkpoint-every", 10, "write a checkpoint every `N` iterations (0: only at the end)")
	fs.IntVar(&progressEvery, "progress-every", 0, "a progress line and an animation frame every `K` iterations (default: iters/25)")
	fs.BoolVar(&asJSON, "json", false, "print one JSON object per iteration on stdout")
	fs.Var(&truth, "truth", "the true value `KEY=V1,V2,...` of a --param, to report its error (repeatable)")
	fs.IntVar(&threads, "threads", 0, "render with `N` goroutines (default: one per CPU); results do not depend on it")
	fs.IntVar(&width, "width", 0, "film width `W` of every sensor (with --height alone: keeps the aspect ratio)")
	fs.IntVar(&height, "height", 0, "film height `H` of every sensor (with --width alone: keeps the aspect ratio)")
	fs.IntVar(&maxDepth, "max-depth", 0, "longest path in segments `D` (default: the scene's)")
	fs.StringVar(&boundary, "boundary", "auto", "the boundary (edge-sampling) term `MODE`: auto (for geometry and camera parameters), on or off")
	fs.BoolVar(&quiet, "q", false, "show no progress")
	sf.register(fs, true)
	pos, err := c.parseArgs(fs, optimizeUsage+builtinHelp(), args)
	if err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if err := oneScene(pos); err != nil {
		return err
	}
	switch {
	case len(targets.list) == 0:
		return usagef("no target image: give --target IMG")
	case len(params.list) == 0:
		return usagef("no parameter to optimise: give --param KEY (list them with 'invrender params %s')", pos[0])
	case iters < 0:
		return usagef("--iters %d: want a count of iterations", iters)
	case spp < 1:
		return usagef("--spp %d: want a positive sample count", spp)
	case given["backward-spp"] && bspp < 1:
		return usagef("--backward-spp %d: want a positive sample count", bspp)
	case views < 0:
		return usagef("--views-per-iter %d: want a positive count (or 0 for all)", views)
	case !(largeSteps >= 0) || math.IsInf(largeSteps, 0):
		return usagef("--large-steps %g: want a non-negative lambda", largeSteps)
	case !(smooth >= 0) || math.IsInf(smooth, 0):
		return usagef("--smooth %g: want a non-negative weight", smooth)
	case given["lr"] && (!(lr > 0) || math.IsInf(lr, 0)):
		return usagef("--lr %g: want a positive learning rate", lr)
	case ckEvery < 0:
		return usagef("--checkpoint-every %d: want a count of iterations (0: only at the end)", ckEvery)
	case progressEvery < 0:
		return usagef("--progress-every %d: want a count of iterations", progressEvery)
	case threads < 0:
		return usagef("--threads %d: want a positive number (or 0 for one per CPU)", threads)
	case (given["width"] && width <= 0) || (given["height"] && height <= 0) || width > 1<<15 || height > 1<<15:
		return usagef("--width %d --height %d: want positive pixel counts up to 32768", width, height)
	case given["max-depth"] && maxDepth < -1:
		return usagef("--max-depth %d: want -1 (unbounded) or a count of segments", maxDepth)
	case !(momentum >= 0 && momentum < 1):
		return usagef("--momentum %g: want a value in [0, 1)", momentum)
	case given["momentum"] && optName != "sgd":
		return usagef("--momentum is SGD's: give --optimizer sgd")
	}
	if targets.pendingSet && len(targets.list) == 0 {
		return usagef("--sensor without a --target")
	}
	if optName != "adam" && optName != "sgd" {
		return usagef("--optimizer %s: want adam or sgd", optName)
	}
	loss, err := optimize.ParseLoss(lossName)
	if err != nil || loss.Name() == "sum" {
		return usagef("--loss %s: want l1, l2 or pyramid", lossName)
	}
	sched, err := parseSchedule(schedName, iters)
	if err != nil {
		return err
	}
	bnd, err := parseBoundary(boundary)
	if err != nil {
		return err
	}
	if progressEvery == 0 {
		progressEvery = max(1, iters/25)
	}

	// The checkpoint to resume from, and the output directory.
	var ck *optimize.Checkpoint
	if resumeDir != "" {
		ck, err = optimize.LoadCheckpoint(filepath.Join(resumeDir, "checkpoint.json"))
		if err != nil {
			return fmt.Errorf("--resume %s: %s", resumeDir, trimOptimize(err.Error()))
		}
		if outDir == "" {
			outDir = resumeDir
		}
	}
	if outDir == "" {
		outDir = defaultOutName
	}
	out := newOptimizeOutputs(outDir)

	// The scene, the parameters and the targets.
	ls, err := c.loadScene(pos[0], &sf, !asJSON)
	if err != nil {
		return err
	}
	if err := c.applySets(ls, sf.sets.list); err != nil {
		return err
	}
	s := ls.Scene
	for i := range targets.list {
		t := &targets.list[i]
		if t.sensor >= len(s.Sensors) {
			n := len(s.Sensors)
			return usagef("--target %s: sensor %d does not exist (the scene has %d sensor%s: 0 to %d)", t.path, t.sensor, n, plural(n), n-1)
		}
	}
	for i := range s.Sensors {
		sn := s.Sensors[i]
		switch {
		case width > 0 && height > 0:
			sn.Width, sn.Height = width, height
		case width > 0:
			sn.Height = max(1, int(math.Round(float64(width)*float64(sn.Height)/float64(sn.Width))))
			sn.Width = width
		case height > 0:
			sn.Width = max(1, int(math.Round(float64(height)*float64(sn.Width)/float64(sn.Height))))
			sn.Height = height
		}
	}
	if given["max-depth"] {
		if s.Integrator.Kind == render.DirectIntegrator && maxDepth != 2 {
			c.warnf("--max-depth %d turns the scene's direct integrator into a path tracer", maxDepth)
			s.Integrator.Kind = render.PathIntegrator
			if s.Integrator.RRDepth <= 0 {
				s.Integrator.RRDepth = 5
			}
		}
		s.Integrator.MaxDepth = maxDepth
	}
	ps, err := ls.Params()
	if err != nil {
		return err
	}
	var keys []optimize.KeyRate
	for _, p := range params.list {
		pr, err := ps.Lookup(p.key)
		if err != nil {
			msg := trimPkg(err.Error())
			if near := nearKeys(ps.Keys(), p.key); len(near) > 0 && !strings.Contains(msg, "did you mean") {
				msg = fmt.Sprintf("no parameter %q (did you mean %s?)", p.key, strings.Join(near, ", "))
			}
			return usagef("--param: %s", msg)
		}
		if pr.Flags&adjoint.Differentiable == 0 {
			return usagef("--param %s is not differentiable", p.key)
		}
		for _, k := range keys {
			if k.Key == p.key {
				return usagef("--param %s is given twice", p.key)
			}
		}
		rate := p.lr
		if rate == 0 {
			rate = lr
		}
		if rate == 0 {
			if rate, err = optimize.DefaultLearningRate(ps, p.key); err != nil {
				return fmt.Errorf("%s", trimPkg(err.Error()))
			}
		}
		keys = append(keys, optimize.KeyRate{Key: p.key, LR: rate})
	}
	truthValues := map[string][]float64{}
	for _, st := range truth.list {
		var size int
		found := false
		for _, k := range keys {
			if k.Key == st.Key {
				found, size = true, ps.Get(k.Key).Size()
			}
		}
		if !found {
			return usagef("--truth %s: not one of the --param keys", st.Key)
		}
		v := st.Values
		switch {
		case len(v) == 1:
			v = make([]float64, size)
			for i := range v {
				v[i] = st.Values[0]
			}
		case len(v) != size:
			return usagef("--truth %s: got %d values, but the parameter has %d (give %d, or one for all)", st.Key, len(v), size, size)
		}
		truthValues[st.Key] = v
	}
	if largeSteps > 0 || smooth > 0 {
		vertex := false
		for _, k := range keys {
			vertex = vertex || strings.HasSuffix(k.Key, ".vertex_positions")
		}
		if !vertex {
			return usagef("--large-steps and --smooth act on SHAPE.vertex_positions, and no such --param is given")
		}
	}
	var tgts []optimize.Target
	var tgtImages []*render.Image
	for _, t := range targets.list {
		im, err := c.loadTarget("--target", t.path, s, t.sensor)
		if err != nil {
			return err
		}
		tg := optimize.Target{Sensor: t.sensor, Image: im, Name: t.path}
		if t.mask != "" {
			m, err := c.loadTarget("--mask", t.mask, s, t.sensor)
			if err != nil {
				return err
			}
			tg.Mask = make([]float64, m.Width*m.Height)
			for i := range tg.Mask {
				tg.Mask[i] = math.Max(0, math.Min(1, (m.Pix[3*i]+m.Pix[3*i+1]+m.Pix[3*i+2])/3))
			}
		}
		tgts = append(tgts, tg)
		tgtImages = append(tgtImages, im)
	}

	// What must match for a resume.
	meta := map[string]string{}
	setting := func(name string, v any) { meta["cli."+name] = fmt.Sprint(v) }
	setting("scene", ls.Source)
	var tdesc []string
	for _, t := range targets.list {
		d := fmt.Sprintf("%s@%d", t.path, t.sensor)
		if t.mask != "" {
			d += " mask " + t.mask
		}
		tdesc = append(tdesc, d)
	}
	setting("targets", strings.Join(tdesc, ", "))
	var pdesc []string
	for _, k := range keys {
		pdesc = append(pdesc, fmt.Sprintf("%s:%g", k.Key, k.LR))
	}
	setting("params", strings.Join(pdesc, ", "))
	setting("loss", loss.Name())
	setting("optimizer", optName)
	setting("momentum", momentum)
	setting("schedule", schedName)
	setting("spp", spp)
	setting("backward-spp", bspp)
	setting("views-per-iter", views)
	setting("large-steps", largeSteps)
	setting("smooth", smooth)
	setting("boundary", boundary)
	setting("set", sf.sets.String())
	setting("D", sf.defines.String())
	var films []string
	for _, sn := range s.Sensors {
		films = append(films, fmt.Sprintf("%dx%d", sn.Width, sn.Height))
	}
	setting("films", strings.Join(films, ","))
	setting("max-depth", s.Integrator.MaxDepth)
	if ck != nil {
		var diffs []string
		for _, k := range sortedKeys(meta) {
			if old, ok := ck.Meta[k]; !ok || old != meta[k] {
				diffs = append(diffs, fmt.Sprintf("%s: %q, now %q", strings.TrimPrefix(k, "cli."), ck.Meta[k], meta[k]))
			}
		}
		if len(diffs) > 0 {
			return usagef("--resume %s: the run was made with other settings; give the same scene and flags:\n\t%s", resumeDir, strings.Join(diffs, "\n\t"))
		}
		if ck.Iteration >= iters {
			c.warnf("--resume %s: the checkpoint has %d iterations, --iters is %d: nothing to do but write the outputs", resumeDir, ck.Iteration, iters)
		}
	}

	if err := os.MkdirAll(out.dir, 0o755); err != nil {
		return fmt.Errorf("--out: %v", err)
	}
	if ck == nil && fileExists(out.checkpoint) {
		c.warnf("%s holds an earlier run; its files are replaced (continue it with --resume %s instead)", out.dir, out.dir)
	}

	// The outputs of the iterations.
	var truthKeys []string
	for _, k := range keys {
		if _, ok := truthValues[k.Key]; ok {
			truthKeys = append(truthKeys, k.Key)
		}
	}
	hist := &lossHistory{truthKeys: truthKeys}
	anim := newProgressGIF(tgtImages)
	if ck != nil {
		prev := newOptimizeOutputs(resumeDir)
		hist.resume(prev.csv, ck.Iteration, ck.Losses)
		anim.resume(prev.gif, (ck.Iteration+progressEvery-1)/progressEvery)
	}
	var bar *progressbar.ProgressBar
	showProgress := !quiet && !asJSON
	if showProgress && c.terminal {
		bar = progressbar.NewOptions(iters,
			progressbar.OptionSetWriter(c.stderr),
			progressbar.OptionSetDescription("optimize"),
			progressbar.OptionSetWidth(30),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetRenderBlankState(true),
		)
		if ck != nil {
			_ = bar.Set(ck.Iteration)
		}
	}
	var lastLoss float64
	lastIt := -1
	callback := func(it *optimize.Iteration) error {
		row := lossRow{Iteration: it.Iteration, Loss: it.Loss, Seconds: it.Seconds}
		for _, k := range truthKeys {
			row.Errors = append(row.Errors, it.ParamError[k])
		}
		hist.rows = append(hist.rows, row)
		rs := map[int]*render.Image{}
		for _, v := range it.Views {
			rs[v.Target] = v.Image
		}
		anim.update(rs)
		last := it.Iteration == iters-1
		if it.Iteration%progressEvery == 0 {
			anim.addFrame(it.Iteration)
		}
		lastLoss, lastIt = it.Loss, it.Iteration
		errText := ""
		for _, k := range truthKeys {
			errText += fmt.Sprintf(", %s error %.3g%%", k, 100*it.ParamError[k])
		}
		switch {
		case asJSON:
			j := iterationJSON{Iteration: it.Iteration, Loss: it.Loss, Seconds: it.Seconds, Values: map[string][]float64{}, Error: it.ParamError}
			for k, v := range it.Values {
				if len(v) <= jsonValueLimit {
					j.Values[k] = v
				}
			}
			b, err := json.Marshal(j)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "%s\n", b)
		case bar != nil:
			bar.Describe(fmt.Sprintf("loss %.4g, %.3g s/it%s", it.Loss, it.Seconds, errText))
			_ = bar.Set(it.Iteration + 1)
		case showProgress && (it.Iteration%progressEvery == 0 || last):
			fmt.Fprintf(c.stderr, "iteration %d/%d: loss %.6g, %.3g s%s\n", it.Iteration+1, iters, it.Loss, it.Seconds, errText)
		}
		return nil
	}

	var startIt int
	if ck != nil {
		startIt = ck.Iteration
	}
	start := time.Now()
	res, runErr := optimize.Run(c.ctx, optimize.Config{
		Params:            ps,
		Keys:              keys,
		Targets:           tgts,
		Loss:              loss,
		SPP:               spp,
		BackwardSPP:       bspp,
		Iterations:        iters,
		Optimizer:         optName,
		Momentum:          momentum,
		Schedule:          sched,
		Seed:              seed,
		ViewsPerIteration: views,
		Smoothness:        smooth,
		LargeSteps:        largeSteps,
		CheckpointPath:    out.checkpoint,
		CheckpointEvery:   ckEvery,
		Resume:            ck,
		Threads:           threads,
		Boundary:          bnd,
		Callback:          callback,
		Truth:             truthValues,
		Meta:              meta,
	})
	if bar != nil {
		_ = bar.Exit()
		fmt.Fprintln(c.stderr)
	}
	interrupted := runErr != nil && res != nil && res.Interrupted
	if runErr != nil && !interrupted {
		return errors.New(trimOptimize(runErr.Error()))
	}
	// An interrupted iteration recorded no row (its callback never ran),
	// but a stop by the callback keeps its row out of the history too.
	if interrupted && len(hist.rows) > res.Iterations {
		hist.rows = hist.rows[:res.Iterations]
	}
	elapsed := time.Since(start)

	// The files.
	var written []string
	write := func(path string, f func() error) error {
		if err := f(); err != nil {
			return fmt.Errorf("%s: %s", path, trimPkg(err.Error()))
		}
		written = append(written, path)
		return nil
	}
	title := fmt.Sprintf("%s: %s loss", ls.label(), loss.Name())
	steps := []struct {
		path string
		f    func() error
	}{
		{out.csv, func() error { return hist.write(out.csv) }},
		{out.png, func() error { return hist.plotLoss(out.png, title) }},
		{out.gif, func() error { return anim.write(out.gif) }},
		{out.params, func() error { return writeParamsFile(out.params, res.Keys, res.Values) }},
		{out.xml, func() error { return scenes.SaveXML(out.xml, s) }},
	}
	for _, st := range steps {
		if err := write(st.path, st.f); err != nil {
			return err
		}
	}
	written = append(written, out.checkpoint)

	if !asJSON {
		for _, k := range res.Keys {
			v := res.Values[k]
			line := fmt.Sprintf("%s = %s", k, abbreviate(v, false))
			if e, ok := res.ParamError[k]; ok {
				line += fmt.Sprintf(" (relative error %.3g%%)", 100*e)
			}
			fmt.Fprintln(c.stdout, line)
		}
		done := res.Iterations - startIt
		per := 0.0
		if done > 0 {
			per = elapsed.Seconds() / float64(done)
		}
		if lastIt >= 0 && !quiet {
			fmt.Fprintf(c.stderr, "%d iteration%s in %s (%.3g s each), last loss %.6g\n", done, plural(done), fmtDuration(elapsed), per, lastLoss)
		}
		for _, p := range written {
			fmt.Fprintf(c.stdout, "wrote %s\n", p)
		}
	}
	if interrupted {
		fmt.Fprintf(c.stderr, "%s: interrupted after %d iteration%s; the files above hold them. Continue with --resume %s\n", c.name, res.Iterations, plural(res.Iterations), out.dir)
		return errInterrupted
	}
	return nil
}

// trimOptimize removes the package prefixes of optimisation errors.
func trimOptimize(msg string) string {
	for {
		rest, ok := strings.CutPrefix(msg, "optimize: ")
		if !ok {
			return trimPkg(msg)
		}
		msg = rest
	}
}
