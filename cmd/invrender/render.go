package main

import (
	"fmt"
	"io"
	"time"

	"github.com/invrender/invrender/render"
)

func init() {
	register(&command{
		Name:    "render",
		Summary: "render a scene to an image (PNG, JPEG, TGA, PFM, HDR, EXR)",
		Order:   10,
		Run:     runRender,
	})
}

const renderUsage = `
Usage: invrender render SCENE -o OUT [flags]

Renders SCENE from one of its sensors and writes the image to OUT in the
format its extension names:
` + imageFormatsHelp + `.
The scene's film size, sample count, seed and maximum depth apply unless
flags override them; --set changes registered parameters first (this is
how synthetic targets for 'invrender optimize' are made), for example

	invrender render cbox -o target.exr --set tallbox.translation=0.1,0,0

--aov writes extra images beside OUT, named OUT-albedo.EXT, OUT-normal.EXT,
OUT-depth.EXT and OUT-alpha.EXT (render.png -> render-albedo.png). In 8-bit
formats normals are stored as (n+1)/2 and depth divided by its maximum;
float formats hold the values as computed. alpha (the fraction of samples
that hit a surface) is also stored in OUT itself when the format has an
alpha channel (PNG, TGA, EXR).

Progress goes to stderr (a bar on a terminal, otherwise a line per 10%),
then a line with the wall time, samples and rays per second and the count
of samples discarded for NaN or Inf values; the names of the files written
go to stdout.
Ctrl-C stops the render and writes nothing (exit status 130). Files are
written atomically: a temporary file is renamed into place when complete.

`

// runRender is the render subcommand.
func runRender(c *cli, args []string) error {
	fs := newFlagSet("render")
	var (
		out   string
		aov   listFlag
		quiet bool
		rf    renderFlags
		sf    sceneFlags
	)
	fs.StringVar(&out, "o", "", "write the image to `OUT` (required; the extension picks the format)")
	rf.register(fs)
	sf.register(fs, true)
	fs.Var(&aov, "aov", "also write the `LIST` of comma-separated AOVs: albedo, normal, depth, alpha")
	fs.BoolVar(&quiet, "q", false, "show no progress")
	pos, err := c.parseArgs(fs, renderUsage+builtinHelp(), args)
	if err != nil {
		return err
	}
	if err := oneScene(pos); err != nil {
		return err
	}
	switch {
	case out == "":
		return usagef("no output file: give -o OUT")
	}
	if err := rf.check(fs); err != nil {
		return err
	}
	aovs, err := parseAOVs(aov.items)
	if err != nil {
		return err
	}
	if err := checkOutputPath("-o", out); err != nil {
		return err
	}

	ls, err := c.loadScene(pos[0], &sf, true)
	if err != nil {
		return err
	}
	if err := c.applySets(ls, sf.sets.list); err != nil {
		return err
	}
	opts, err := rf.apply(c, ls.Scene)
	if err != nil {
		return err
	}
	opts.AOVs = aovs
	res, err := c.renderScene(ls, opts, "render", quiet)
	if err != nil {
		return err
	}
	printRenderSummary(c.stderr, res.Stats, res.Image, spp(ls.Scene, opts))

	if err := writeImage(out, res.Image, false); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "wrote %s\n", out)
	for _, ni := range aovImages(res, out, aovs) {
		if err := writeImage(ni.path, ni.im, ni.raw); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "wrote %s\n", ni.path)
	}
	return nil
}

// renderScene builds the scene (timing nothing else) and renders it with a
// progress display labelled label. After an interrupt it says on stderr
// how far the render got and that nothing was written, and returns
// errInterrupted.
func (c *cli) renderScene(ls *loadedScene, opts render.Options, label string, quiet bool) (*render.Result, error) {
	s := ls.Scene
	if !s.Built() {
		if err := s.Build(); err != nil {
			return nil, fmt.Errorf("%s: %s", ls.label(), trimPkg(err.Error()))
		}
	}
	if err := c.ctx.Err(); err != nil {
		fmt.Fprintf(c.stderr, "%s: interrupted before rendering; nothing written\n", c.name)
		return nil, errInterrupted
	}
	p := c.newProgress(label, quiet)
	opts.Progress = p.update
	res, err := render.Render(c.ctx, s, opts)
	if err != nil {
		if c.ctx.Err() != nil {
			p.stop()
			fmt.Fprintf(c.stderr, "%s: interrupted with %.0f%% of the image rendered; nothing written\n", c.name, 100*p.fraction())
			return nil, errInterrupted
		}
		p.stop()
		return nil, fmt.Errorf("%s: %s", ls.label(), trimPkg(err.Error()))
	}
	p.finish()
	return res, nil
}

// spp returns the sample count a render with opts uses.
func spp(s *render.Scene, opts render.Options) int {
	if opts.SPP > 0 {
		return opts.SPP
	}
	return s.Sensors[opts.Sensor].SPP
}

// printRenderSummary writes the line that ends a render: size, samples,
// wall time, throughput and the discarded samples if any.
func printRenderSummary(w io.Writer, st render.Stats, im *render.Image, spp int) {
	fmt.Fprintf(w, "rendered %dx%d at %d spp in %s with %d thread%s: %s",
		im.Width, im.Height, spp, fmtDuration(st.Elapsed), st.Threads, plural(st.Threads), rates(st))
	if st.Discarded > 0 {
		fmt.Fprintf(w, "; %d sample%s discarded (NaN or Inf)", st.Discarded, plural(int(min(st.Discarded, 2))))
	}
	fmt.Fprintln(w)
}

// rates formats samples and rays per second.
func rates(st render.Stats) string {
	sec := st.Elapsed.Seconds()
	if sec <= 0 {
		return "too fast to time"
	}
	return fmt.Sprintf("%.3g Msamples/s, %.3g Mrays/s", float64(st.Samples)/sec/1e6, float64(st.Rays)/sec/1e6)
}

// fmtDuration writes a duration with three significant digits.
func fmtDuration(d time.Duration) string {
	s := d.Seconds()
	switch {
	case s >= 60:
		return d.Round(time.Second).String()
	case s >= 1:
		return fmt.Sprintf("%.3g s", s)
	}
	return fmt.Sprintf("%.3g ms", s*1e3)
}
