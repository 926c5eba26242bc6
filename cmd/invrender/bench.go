package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"runtime"
	"text/tabwriter"
	"time"

	"github.com/invrender/invrender/render"
	"github.com/invrender/invrender/scenes"
)

func init() {
	register(&command{
		Name:    "bench",
		Summary: "time the benchmark scenes with 1 and 2 goroutines",
		Order:   60,
		Run:     runBench,
	})
}

const benchUsage = `
Usage: invrender bench [--scenes DIR] [--threads 1,2] [--repeat N] [--json]

Renders the benchmark scenes and prints, per scene, the time to load it and
build its BVH, then for each goroutine count the best wall time of N
renders, the throughput in millions of samples and rays per second, and
the speed-up over the first count:

	cbox   Cornell box, 256x256, 16 spp, max depth 3
	dense  bumpy icosphere of 327,680 triangles, 256x256, 4 spp, max depth 2

With --scenes DIR the scenes are read from DIR/cbox/scene.xml and
DIR/dense/scene.xml, as the project's scene generator (genscenes.py)
writes them; otherwise the identical built-in scenes are used. The film
size, sample count and depth above are applied either way.
`

// benchScene is a benchmark scene and the settings it is timed with.
type benchScene struct {
	name     string
	spp      int
	maxDepth int
	builtin  func() *render.Scene
}

var benchScenes = []benchScene{
	{"cbox", 16, 3, scenes.CornellBox},
	{"dense", 4, 2, func() *render.Scene { return scenes.DenseScene(7) }},
}

// benchRun is one goroutine count's timing.
type benchRun struct {
	Threads       int     `json:"threads"`
	BestSeconds   float64 `json:"best_s"`
	MSamplesPerS  float64 `json:"msamples_per_s"`
	MRaysPerS     float64 `json:"mrays_per_s"`
	Speedup       float64 `json:"speedup"`
	Discarded     int64   `json:"discarded,omitempty"`
	SamplesPerRun int64   `json:"samples"`
	RaysPerRun    int64   `json:"rays"`
}

// benchResult is one scene's timings.
type benchResult struct {
	Name        string     `json:"name"`
	Source      string     `json:"source"`
	Triangles   int        `json:"triangles"`
	Width       int        `json:"width"`
	Height      int        `json:"height"`
	SPP         int        `json:"spp"`
	MaxDepth    int        `json:"max_depth"`
	LoadSeconds float64    `json:"load_build_s"`
	Runs        []benchRun `json:"runs"`
}

// runBench is the bench subcommand.
func runBench(c *cli, args []string) error {
	fs := newFlagSet("bench")
	var (
		dir     string
		threads = intListFlag{v: []int{1, 2}}
		repeat  int
		asJSON  bool
		size    int
		only    listFlag
	)
	fs.StringVar(&dir, "scenes", "", "read the scenes from `DIR`/cbox/scene.xml and DIR/dense/scene.xml\n(default: the built-in scenes)")
	fs.Var(&threads, "threads", "time each of the comma-separated goroutine counts in `LIST`")
	fs.IntVar(&repeat, "repeat", 3, "take the best of `N` renders")
	fs.BoolVar(&asJSON, "json", false, "print the results as JSON")
	fs.IntVar(&size, "size", 256, "film width and height `N` in pixels")
	fs.Var(&only, "only", "time only the scenes in `LIST` (cbox, dense)")
	pos, err := c.parseArgs(fs, benchUsage, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return usagef("bench takes no arguments (got %q); use --scenes DIR", pos)
	case repeat <= 0:
		return usagef("--repeat %d: want a positive count", repeat)
	case size <= 0 || size > 1<<14:
		return usagef("--size %d: want a pixel count from 1 to 16384", size)
	}
	list := benchScenes
	if len(only.items) > 0 {
		list = nil
		for _, name := range only.items {
			found := false
			for _, b := range benchScenes {
				if b.name == name {
					list = append(list, b)
					found = true
				}
			}
			if !found {
				return usagef("--only %s: no such benchmark scene (cbox, dense)", name)
			}
		}
	}
	if dir != "" {
		if err := checkDir(dir); err != nil {
			return err
		}
	}
	for _, t := range threads.v {
		if t > runtime.NumCPU() {
			c.warnf("--threads %d exceeds the %d CPUs: expect no speed-up beyond %d", t, runtime.NumCPU(), runtime.NumCPU())
		}
	}

	if !asJSON {
		fmt.Fprintf(c.stdout, "%d CPUs, GOMAXPROCS %d, best of %d\n", runtime.NumCPU(), runtime.GOMAXPROCS(0), repeat)
	}
	var results []benchResult
	for _, b := range list {
		r, err := c.benchOne(b, dir, size, threads.v, repeat, !asJSON)
		if err != nil {
			return err
		}
		results = append(results, r)
	}
	if asJSON {
		out := struct {
			NumCPU     int           `json:"num_cpu"`
			GOMAXPROCS int           `json:"gomaxprocs"`
			Repeat     int           `json:"repeat"`
			Scenes     []benchResult `json:"scenes"`
		}{runtime.NumCPU(), runtime.GOMAXPROCS(0), repeat, results}
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	return nil
}

// benchOne loads, builds and times one scene; with text it prints the
// results as they come.
func (c *cli) benchOne(b benchScene, dir string, size int, threads []int, repeat int, text bool) (benchResult, error) {
	start := time.Now()
	var s *render.Scene
	source := "built-in"
	if dir != "" {
		source = filepath.Join(dir, b.name, "scene.xml")
		var err error
		s, err = scenes.LoadFile(source)
		if err != nil {
			return benchResult{}, fmt.Errorf("%s", trimPkg(err.Error()))
		}
	} else {
		s = b.builtin()
	}
	if len(s.Sensors) == 0 {
		return benchResult{}, fmt.Errorf("%s: no sensor", source)
	}
	sn := s.Sensors[0]
	sn.Width, sn.Height = size, size
	s.Integrator.Kind = render.PathIntegrator
	s.Integrator.MaxDepth = b.maxDepth
	if err := s.Build(); err != nil {
		return benchResult{}, fmt.Errorf("%s: %s", source, trimPkg(err.Error()))
	}
	load := time.Since(start)
	tris := 0
	for _, sh := range s.Shapes {
		tris += sh.NumTriangles()
	}
	res := benchResult{Name: b.name, Source: source, Triangles: tris, Width: size, Height: size,
		SPP: b.spp, MaxDepth: b.maxDepth, LoadSeconds: load.Seconds()}
	if text {
		fmt.Fprintf(c.stdout, "\n%s (%s): %d triangles, %dx%d, %d spp, max depth %d; load+build %s\n",
			b.name, source, tris, size, size, b.spp, b.maxDepth, fmtDuration(load))
	}
	for _, t := range threads {
		var best render.Stats
		for k := 0; k < repeat; k++ {
			r, err := render.Render(c.ctx, s, render.Options{SPP: b.spp, Threads: t})
			if err != nil {
				if c.ctx.Err() != nil {
					fmt.Fprintf(c.stderr, "%s: interrupted\n", c.name)
					return res, errInterrupted
				}
				return res, fmt.Errorf("%s: %s", source, trimPkg(err.Error()))
			}
			if k == 0 || r.Stats.Elapsed < best.Elapsed {
				best = r.Stats
			}
		}
		sec := max(best.Elapsed.Seconds(), 1e-9)
		run := benchRun{
			Threads: t, BestSeconds: sec,
			MSamplesPerS:  float64(best.Samples) / sec / 1e6,
			MRaysPerS:     float64(best.Rays) / sec / 1e6,
			Speedup:       1,
			Discarded:     best.Discarded,
			SamplesPerRun: best.Samples, RaysPerRun: best.Rays,
		}
		if len(res.Runs) > 0 {
			run.Speedup = res.Runs[0].BestSeconds / sec
		}
		res.Runs = append(res.Runs, run)
	}
	if text {
		tw := tabwriter.NewWriter(c.stdout, 0, 8, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "threads\tbest\tMsamples/s\tMrays/s\tspeed-up\t")
		for _, r := range res.Runs {
			fmt.Fprintf(tw, "%d\t%s\t%.3g\t%.3g\t%.2fx\t\n", r.Threads,
				fmtDuration(time.Duration(r.BestSeconds*float64(time.Second))), r.MSamplesPerS, r.MRaysPerS, r.Speedup)
		}
		if err := tw.Flush(); err != nil {
			return res, err
		}
	}
	return res, nil
}
