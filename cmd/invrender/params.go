package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/invrender/invrender/adjoint"
)

func init() {
	register(&command{
		Name:    "params",
		Summary: "list a scene's parameters (the keys of --set, grad and optimize)",
		Order:   30,
		Run:     runParams,
	})
}

const paramsUsage = `
Usage: invrender params SCENE [-D name=value ...] [--set KEY=V,...] [--json] [--all]

Lists every parameter the scene registers: its key (named as Mitsuba's
traverse() names it, plus SHAPE.translation, SHAPE.rotation and the sensor's
origin, target, up and fov), its number of values, its flags
(differentiable; discontinuous when it moves visibility boundaries, so its
gradient needs edge sampling) and its current value. Values of more than
four components are abbreviated to their first few unless --all is given.
Values are in the scene file's units: fov in degrees, rotation an
axis-angle vector in radians about the shape's centroid, translation from
zero.

`

// paramsShown is how many values of a parameter are printed without --all;
// parameters of up to paramsFull values are printed whole.
const (
	paramsShown = 3
	paramsFull  = 4
)

// paramJSON is one parameter in the --json output.
type paramJSON struct {
	Key       string    `json:"key"`
	Size      int       `json:"size"`
	Flags     []string  `json:"flags"`
	Value     []float64 `json:"value"`
	Truncated bool      `json:"truncated,omitempty"`
}

// runParams is the params subcommand.
func runParams(c *cli, args []string) error {
	fs := newFlagSet("params")
	var (
		sf      sceneFlags
		asJSON  bool
		showAll bool
	)
	sf.register(fs, true)
	fs.BoolVar(&asJSON, "json", false, "print JSON: {\"scene\": ..., \"parameters\": [{\"key\", \"size\", \"flags\", \"value\", \"truncated\"}]}")
	fs.BoolVar(&showAll, "all", false, "print every value of every parameter")
	pos, err := c.parseArgs(fs, paramsUsage+builtinHelp(), args)
	if err != nil {
		return err
	}
	if err := oneScene(pos); err != nil {
		return err
	}
	ls, err := c.loadScene(pos[0], &sf, true)
	if err != nil {
		return err
	}
	if err := c.applySets(ls, sf.sets.list); err != nil {
		return err
	}
	ps, err := ls.Params()
	if err != nil {
		return err
	}
	if asJSON {
		return writeParamsJSON(c.stdout, ls.Source, ps, showAll)
	}
	return writeParamsText(c.stdout, ps, showAll)
}

func flagWords(f adjoint.Flags) []string {
	if s := f.String(); s != "" {
		return strings.Split(s, ",")
	}
	return []string{}
}

func writeParamsJSON(w io.Writer, source string, ps *adjoint.Params, all bool) error {
	// One parameter per line: readable, and long value arrays (--all)
	// stay on their own line.
	src, err := json.Marshal(source)
	if err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "{\"scene\": %s, \"parameters\": [", src)
	for i, p := range ps.List {
		pj := paramJSON{Key: p.Key, Size: p.Size(), Flags: flagWords(p.Flags), Value: p.Value}
		if !all && p.Size() > paramsFull {
			pj.Value = p.Value[:paramsShown]
			pj.Truncated = true
		}
		line, err := json.Marshal(pj)
		if err != nil {
			return err
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n  ")
		b.Write(line)
	}
	b.WriteString("\n]}\n")
	_, err = io.WriteString(w, b.String())
	return err
}

func writeParamsText(w io.Writer, ps *adjoint.Params, all bool) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tSIZE\tFLAGS\tVALUE")
	for _, p := range ps.List {
		flags := p.Flags.String()
		if flags == "" {
			flags = "-"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", p.Key, p.Size(), flags, abbreviate(p.Value, all))
	}
	return tw.Flush()
}

// abbreviate formats values as "a, b, c", or for long vectors the first
// few followed by "… (N values)".
func abbreviate(v []float64, all bool) string {
	n := len(v)
	if !all && n > paramsFull {
		n = paramsShown
	}
	parts := make([]string, n)
	for i := range parts {
		parts[i] = strconv.FormatFloat(v[i], 'g', -1, 64)
	}
	s := strings.Join(parts, ", ")
	if n < len(v) {
		s += fmt.Sprintf(", … (%d values)", len(v))
	}
	return s
}
