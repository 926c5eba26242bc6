package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress shows how far a long task got on stderr: a bar redrawn in place
// when stderr is a terminal, otherwise a plain line at every tenth of the
// work ("render: 30%"), which reads well in logs and pipes. It is safe for
// use from several goroutines.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	label string
	quiet bool
	// useBar draws a bar (stderr is a terminal) instead of lines.
	useBar bool
	bar    *progressbar.ProgressBar // made on the first update
	tenth  int                      // last tenth printed in line mode
	done   int
	total  int
}

// newProgress starts a progress display labelled label (such as
// "render"); quiet shows nothing.
func (c *cli) newProgress(label string, quiet bool) *progress {
	return &progress{w: c.stderr, label: label, quiet: quiet, useBar: c.terminal}
}

// update reports done units of work out of total. The total may change
// between calls (the bar is resized).
func (p *progress) update(done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done, p.total = done, total
	if p.quiet || total <= 0 {
		return
	}
	if p.useBar {
		if p.bar == nil {
			p.bar = progressbar.NewOptions64(int64(total),
				progressbar.OptionSetWriter(p.w),
				progressbar.OptionSetDescription(p.label),
				progressbar.OptionSetWidth(40),
				progressbar.OptionSetPredictTime(true),
				progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionClearOnFinish(),
				progressbar.OptionSetRenderBlankState(true),
			)
		}
		if int64(total) != p.bar.GetMax64() {
			p.bar.ChangeMax64(int64(total))
		}
		_ = p.bar.Set64(int64(done))
		return
	}
	tenth := int(int64(done) * 10 / int64(total))
	if tenth > p.tenth {
		p.tenth = tenth
		fmt.Fprintf(p.w, "%s: %d%%\n", p.label, 10*tenth)
	}
}

// fraction returns the share of the work done so far, in [0, 1].
func (p *progress) fraction() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.total <= 0 {
		return 0
	}
	return float64(p.done) / float64(p.total)
}

// finish completes the display: the bar is cleared (the caller prints a
// summary in its place).
func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}

// stop ends the display where it is (after an interrupt), leaving the bar
// visible and moving to a new line.
func (p *progress) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Exit()
		fmt.Fprintln(p.w)
	}
}
