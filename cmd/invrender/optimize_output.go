package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/color/palette"
	"image/draw"
	"image/gif"
	"io"
	"io/fs"
	"math"
	"os"
	"strconv"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	vgdraw "gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/invrender/invrender/internal/atomicfile"
	"github.com/invrender/invrender/render"
	"github.com/invrender/invrender/scenes"
)

// lossRow is one iteration of loss.csv. Seconds is NaN where unknown (rows
// recovered from a checkpoint without the previous loss.csv).
type lossRow struct {
	Iteration int
	Loss      float64
	Seconds   float64
	Errors    []float64 // per truth key, in truthKeys order
}

// lossHistory is the content of loss.csv.
type lossHistory struct {
	truthKeys []string
	rows      []lossRow
}

// header returns the CSV header.
func (h *lossHistory) header() []string {
	hd := []string{"iteration", "loss", "seconds"}
	for _, k := range h.truthKeys {
		hd = append(hd, "error_"+k)
	}
	return hd
}

// csvFloat writes a number for the CSV file: the shortest exact form, or
// empty when unknown.
func csvFloat(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// write writes loss.csv atomically.
func (h *lossHistory) write(path string) error {
	return atomicfile.WriteFile(path, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		if err := cw.Write(h.header()); err != nil {
			return err
		}
		for _, r := range h.rows {
			rec := []string{strconv.Itoa(r.Iteration), csvFloat(r.Loss), csvFloat(r.Seconds)}
			for _, e := range r.Errors {
				rec = append(rec, csvFloat(e))
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	}, 0o644)
}

// resume fills the history of a run resumed after n iterations: the rows
// of the previous loss.csv at path when its header matches, else one row
// per checkpointed loss without times or errors.
func (h *lossHistory) resume(path string, n int, losses []float64) {
	h.rows = nil
	if f, err := os.Open(path); err == nil {
		recs, err := csv.NewReader(bufio.NewReader(f)).ReadAll()
		f.Close()
		if err == nil && len(recs) > 0 && strings.Join(recs[0], ",") == strings.Join(h.header(), ",") {
			for _, rec := range recs[1:] {
				it, err := strconv.Atoi(rec[0])
				if err != nil || it != len(h.rows) || it >= n {
					break
				}
				r := lossRow{Iteration: it, Loss: parseCSVFloat(rec[1]), Seconds: parseCSVFloat(rec[2])}
				for _, s := range rec[3:] {
					r.Errors = append(r.Errors, parseCSVFloat(s))
				}
				h.rows = append(h.rows, r)
			}
		}
	}
	for it := len(h.rows); it < n && it < len(losses); it++ {
		r := lossRow{Iteration: it, Loss: losses[it], Seconds: math.NaN()}
		for range h.truthKeys {
			r.Errors = append(r.Errors, math.NaN())
		}
		h.rows = append(h.rows, r)
	}
}

func parseCSVFloat(s string) float64 {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return math.NaN()
	}
	return v
}

// logPoints returns the points of a series with a positive finite value,
// for a log-scale axis.
func logPoints(rows []lossRow, value func(r lossRow) float64) plotter.XYs {
	var pts plotter.XYs
	for _, r := range rows {
		if v := value(r); v > 0 && !math.IsInf(v, 0) {
			pts = append(pts, plotter.XY{X: float64(r.Iteration), Y: v})
		}
	}
	return pts
}

// plotLoss writes loss.png: the loss per iteration on a log scale and,
// below it when true values are known, the relative error of each
// parameter.
func (h *lossHistory) plotLoss(path, title string) error {
	const width, panel = 16 * vg.Centimeter, 9 * vg.Centimeter
	var plots []*plot.Plot
	lp := plot.New()
	lp.Title.Text = title
	lp.X.Label.Text = "iteration"
	lp.Y.Label.Text = "loss"
	if err := addLine(lp, "", logPoints(h.rows, func(r lossRow) float64 { return r.Loss }), 0); err != nil {
		return err
	}
	plots = append(plots, lp)
	if len(h.truthKeys) > 0 {
		ep := plot.New()
		ep.X.Label.Text = "iteration"
		ep.Y.Label.Text = "relative parameter error"
		for i, k := range h.truthKeys {
			pts := logPoints(h.rows, func(r lossRow) float64 { return r.Errors[i] })
			if err := addLine(ep, k, pts, i+1); err != nil {
				return err
			}
		}
		ep.Legend.Top = true
		plots = append(plots, ep)
	}
	img := vgimg.New(width, panel*vg.Length(len(plots)))
	dc := vgdraw.New(img)
	tiles := vgdraw.Tiles{Rows: len(plots), Cols: 1, PadX: vg.Millimeter, PadY: 2 * vg.Millimeter, PadTop: vg.Millimeter, PadBottom: vg.Millimeter, PadLeft: vg.Millimeter, PadRight: 2 * vg.Millimeter}
	grid := make([][]*plot.Plot, len(plots))
	for i, p := range plots {
		grid[i] = []*plot.Plot{p}
	}
	canvases := plot.Align(grid, tiles, dc)
	for i, p := range plots {
		p.Draw(canvases[i][0])
	}
	return atomicfile.WriteFile(path, func(w io.Writer) error {
		_, err := vgimg.PngCanvas{Canvas: img}.WriteTo(w)
		return err
	}, 0o644)
}

// plotColors are the line colours (the loss first), distinguishable in
// print.
var plotColors = []color.RGBA{
	{0x1f, 0x77, 0xb4, 0xff}, {0xd6, 0x27, 0x28, 0xff}, {0x2c, 0xa0, 0x2c, 0xff},
	{0xff, 0x7f, 0x0e, 0xff}, {0x94, 0x67, 0xbd, 0xff}, {0x8c, 0x56, 0x4b, 0xff},
}

// addLine adds a series to p, on a log-scale y axis when it has points
// over more than a factor of 1.
func addLine(p *plot.Plot, name string, pts plotter.XYs, colorIndex int) error {
	if len(pts) == 0 {
		return nil
	}
	l, err := plotter.NewLine(pts)
	if err != nil {
		return err
	}
	l.Color = plotColors[colorIndex%len(plotColors)]
	l.Width = vg.Points(1.2)
	p.Add(l)
	if name != "" {
		p.Legend.Add(name, l)
	}
	p.X.Tick.Marker = integerTicks{}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, q := range pts {
		lo, hi = math.Min(lo, q.Y), math.Max(hi, q.Y)
	}
	if hi > lo {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	return nil
}

// integerTicks labels an iteration axis with integers: gonum's default
// ticks, relabelled in %g.
type integerTicks struct{}

// Ticks implements plot.Ticker.
func (integerTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = strconv.FormatFloat(ticks[i].Value, 'g', -1, 64)
		}
	}
	return ticks
}

// progressGIF collects the frames of progress.gif: for every target, the
// latest render beside the target image, sRGB, quantised to the Plan 9
// palette with Floyd-Steinberg dithering, with the iteration number.
type progressGIF struct {
	targets []*render.Image
	latest  []*render.Image
	scale   float64
	frames  []*image.Paletted
	delays  []int
}

// gifMaxSide bounds a frame's width and height in pixels; larger films
// are shrunk in the animation.
const gifMaxSide = 1024

// gifGap is the gap in pixels between the images of a frame.
const gifGap = 4

func newProgressGIF(targets []*render.Image) *progressGIF {
	g := &progressGIF{targets: targets, latest: make([]*render.Image, len(targets))}
	w, h := 0, 0
	for _, t := range targets {
		w = max(w, 2*t.Width+gifGap)
		h += t.Height + gifGap
	}
	g.scale = math.Min(1, math.Min(gifMaxSide/float64(w), gifMaxSide/float64(h)))
	return g
}

// thumb returns im at the animation's scale.
func (g *progressGIF) thumb(im *render.Image) *render.Image {
	if g.scale >= 1 {
		return im
	}
	return scenes.Resize(im, max(1, int(math.Round(float64(im.Width)*g.scale))), max(1, int(math.Round(float64(im.Height)*g.scale))))
}

// update records the renders of an iteration (target index -> image).
func (g *progressGIF) update(views map[int]*render.Image) {
	for i, im := range views {
		g.latest[i] = im
	}
}

// addFrame adds a frame showing the latest renders at iteration it.
func (g *progressGIF) addFrame(it int) {
	var rows [][2]*image.NRGBA
	w, h := 0, 0
	for i, t := range g.targets {
		tt := scenes.ToNRGBA(g.thumb(t), 0)
		var rr *image.NRGBA
		if g.latest[i] != nil {
			rr = scenes.ToNRGBA(g.thumb(g.latest[i]), 0)
		} else {
			rr = image.NewNRGBA(tt.Bounds())
		}
		rows = append(rows, [2]*image.NRGBA{rr, tt})
		w = max(w, rr.Bounds().Dx()+gifGap+tt.Bounds().Dx())
		h += tt.Bounds().Dy() + gifGap
	}
	h -= gifGap
	canvas := image.NewNRGBA(image.Rect(0, 0, w, h))
	draw.Draw(canvas, canvas.Bounds(), image.NewUniform(color.NRGBA{0x40, 0x40, 0x40, 0xff}), image.Point{}, draw.Src)
	y := 0
	for _, r := range rows {
		draw.Draw(canvas, r[0].Bounds().Add(image.Pt(0, y)), r[0], image.Point{}, draw.Src)
		x := r[0].Bounds().Dx() + gifGap
		draw.Draw(canvas, r[1].Bounds().Add(image.Pt(x, y)), r[1], image.Point{}, draw.Src)
		y += r[1].Bounds().Dy() + gifGap
	}
	label(canvas, fmt.Sprintf("%d", it))
	pal := image.NewPaletted(canvas.Bounds(), palette.Plan9)
	draw.FloydSteinberg.Draw(pal, pal.Bounds(), canvas, image.Point{})
	g.frames = append(g.frames, pal)
	g.delays = append(g.delays, 20)
}

// label writes text at the top-left corner, white on a black outline.
func label(img draw.Image, text string) {
	face := basicfont.Face7x13
	for _, d := range []image.Point{{-1, 0}, {1, 0}, {0, -1}, {0, 1}, {0, 0}} {
		col := color.Black
		if d == (image.Point{}) {
			col = color.White
		}
		dr := &font.Drawer{Dst: img, Src: image.NewUniform(col), Face: face,
			Dot: fixed.P(3+d.X, 11+d.Y)}
		dr.DrawString(text)
	}
}

// resume keeps the first n frames of an earlier progress.gif at path when
// they have this animation's size.
func (g *progressGIF) resume(path string, n int) {
	data, err := os.ReadFile(path)
	if err != nil || n <= 0 {
		return
	}
	old, err := gif.DecodeAll(bytes.NewReader(data))
	if err != nil || len(old.Image) == 0 {
		return
	}
	probe := *g
	probe.frames = nil
	probe.addFrame(0)
	if old.Image[0].Bounds() != probe.frames[0].Bounds() {
		return
	}
	for i := 0; i < n && i < len(old.Image); i++ {
		g.frames = append(g.frames, old.Image[i])
		g.delays = append(g.delays, old.Delay[i])
	}
}

// write writes the animation atomically; the last frame stays up longer.
func (g *progressGIF) write(path string) error {
	if len(g.frames) == 0 {
		return nil
	}
	delays := append([]int(nil), g.delays...)
	delays[len(delays)-1] = 200
	return atomicfile.WriteFile(path, func(w io.Writer) error {
		return gif.EncodeAll(w, &gif.GIF{Image: g.frames, Delay: delays})
	}, 0o644)
}

// writeParamsFile writes params.json: an object mapping each optimised
// key to its list of values, in the order the keys were given.
func writeParamsFile(path string, keys []string, values map[string][]float64) error {
	var b strings.Builder
	b.WriteString("{")
	for i, k := range keys {
		kj, _ := json.Marshal(k)
		vj, err := json.Marshal(values[k])
		if err != nil {
			return err
		}
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "\n  %s: %s", kj, vj)
	}
	b.WriteString("\n}\n")
	return atomicfile.WriteFile(path, func(w io.Writer) error {
		_, err := io.WriteString(w, b.String())
		return err
	}, 0o644)
}

// fileExists reports whether path exists.
func fileExists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, fs.ErrNotExist)
}
