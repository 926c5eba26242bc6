package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/invrender/invrender/render"
)

// errHelp is returned by parseArgs after it printed the usage for -h.
var errHelp = errors.New("help requested")

// newFlagSet returns a flag set that reports errors to its caller instead of
// printing them.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseArgs parses args into fs and returns the positional arguments.
// Flags may come before, between and after positional arguments (the flag
// package alone stops at the first non-flag); "--" ends the flags. Mitsuba's
// -Dname=value spelling is accepted besides -D name=value. For -h or --help
// it prints usage (the synopsis and description, then the flags) to
// c.stdout and returns errHelp. Mistakes give a *usageError.
func (c *cli) parseArgs(fs *flag.FlagSet, usage string, args []string) ([]string, error) {
	args = splitAttachedDefines(fs, args)
	var pos []string
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			printUsage(c.stdout, usage, fs)
			return nil, errHelp
		}
		if err != nil {
			return nil, usagef("%s", flagErrorText(err))
		}
		rest := fs.Args()
		if endedByTerminator(fs, args[:len(args)-len(rest)]) {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// flagErrorText rewrites the flag package's messages to name flags as
// they are documented (--spp rather than -spp).
func flagErrorText(err error) string {
	msg := err.Error()
	if rest, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		return "unknown flag " + flagName(strings.TrimPrefix(rest, "-"))
	}
	if rest, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return flagName(strings.TrimPrefix(rest, "-")) + " needs a value"
	}
	if rest, ok := strings.CutPrefix(msg, "invalid value "); ok {
		// invalid value "x" for flag -spp: parse error
		if i := strings.Index(rest, " for flag -"); i >= 0 {
			val := rest[:i]
			tail := rest[i+len(" for flag -"):]
			name, why, _ := strings.Cut(tail, ": ")
			switch why {
			case "parse error":
				why = "not a number"
			case "value out of range":
				why = "out of range"
			}
			return fmt.Sprintf("invalid value %s for %s: %s", val, flagName(name), why)
		}
	}
	return msg
}

// flagName spells a flag as the usage text does: -D, -o, --spp.
func flagName(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// endedByTerminator reports whether the flag package stopped at "--" (the
// last consumed argument) rather than at a positional argument; a "--"
// that was the value of the flag before it does not count.
func endedByTerminator(fs *flag.FlagSet, consumed []string) bool {
	n := len(consumed)
	if n == 0 || consumed[n-1] != "--" {
		return false
	}
	return n < 2 || !flagTakesValue(fs, consumed[n-2])
}

// flagTakesValue reports whether arg is a flag (without "=value") that
// consumes the next argument as its value.
func flagTakesValue(fs *flag.FlagSet, arg string) bool {
	if len(arg) < 2 || arg[0] != '-' || arg == "--" {
		return false
	}
	name := strings.TrimPrefix(strings.TrimPrefix(arg, "-"), "-")
	if strings.Contains(name, "=") {
		return false
	}
	f := fs.Lookup(name)
	if f == nil {
		return false
	}
	if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
		return false
	}
	return true
}

// splitAttachedDefines turns "-Dname=value" into "-D" "name=value" when
// the flag set has -D.
func splitAttachedDefines(fs *flag.FlagSet, args []string) []string {
	if fs.Lookup("D") == nil {
		return args
	}
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if len(a) > 2 && strings.HasPrefix(a, "-D") && a[2] != '=' {
			out = append(out, "-D", a[2:])
			continue
		}
		out = append(out, a)
	}
	return out
}

// printUsage writes usage, then the flags as "-x VALUE" / "--name VALUE"
// with their descriptions and defaults.
func printUsage(w io.Writer, usage string, fs *flag.FlagSet) {
	fmt.Fprintln(w, strings.TrimSpace(usage))
	var flags []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) { flags = append(flags, f) })
	if len(flags) == 0 {
		return
	}
	fmt.Fprintln(w, "\nFlags:")
	for _, f := range flags {
		placeholder, text := flag.UnquoteUsage(f)
		line := "  " + flagName(f.Name)
		if placeholder != "" {
			line += " " + placeholder
		}
		fmt.Fprintln(w, line)
		if showDefault(f) {
			text += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		for _, l := range strings.Split(text, "\n") {
			fmt.Fprintf(w, "    \t%s\n", l)
		}
	}
}

// showDefault reports whether a flag's default is worth printing.
func showDefault(f *flag.Flag) bool {
	switch f.DefValue {
	case "", "0", "false", "[]":
		return false
	}
	return true
}

// defineFlag collects -D name=value (repeatable).
type defineFlag struct {
	m     map[string]string
	order []string
}

func (d *defineFlag) String() string {
	if d == nil {
		return ""
	}
	var parts []string
	for _, k := range d.order {
		parts = append(parts, k+"="+d.m[k])
	}
	return strings.Join(parts, " ")
}

func (d *defineFlag) Set(s string) error {
	name, value, ok := strings.Cut(s, "=")
	if !ok {
		return fmt.Errorf("want name=value")
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return fmt.Errorf("empty name (want name=value)")
	}
	for _, r := range name {
		if !(r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return fmt.Errorf("name %q has a character other than letters, digits and _", name)
		}
	}
	if d.m == nil {
		d.m = map[string]string{}
	}
	if _, seen := d.m[name]; !seen {
		d.order = append(d.order, name)
	}
	d.m[name] = value
	return nil
}

// setting is one --set KEY=V1,V2,...
type setting struct {
	Key    string
	Values []float64
}

// setFlag collects --set KEY=V1,V2,... (repeatable).
type setFlag struct{ list []setting }

func (s *setFlag) String() string {
	if s == nil {
		return ""
	}
	var parts []string
	for _, st := range s.list {
		parts = append(parts, st.Key+"="+formatValues(st.Values, len(st.Values)))
	}
	return strings.Join(parts, " ")
}

func (s *setFlag) Set(arg string) error {
	key, vals, ok := strings.Cut(arg, "=")
	key = strings.TrimSpace(key)
	if !ok || key == "" {
		return fmt.Errorf("want KEY=V1,V2,... (for example object.translation=0.1,0,0)")
	}
	st := setting{Key: key}
	for _, f := range strings.Split(vals, ",") {
		f = strings.TrimSpace(f)
		v, err := strconv.ParseFloat(f, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%q is not a finite number", f)
		}
		st.Values = append(st.Values, v)
	}
	s.list = append(s.list, st)
	return nil
}

// formatValues writes up to max values as "a,b,c".
func formatValues(v []float64, max int) string {
	var b strings.Builder
	for i, x := range v {
		if i == max {
			break
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
	}
	return b.String()
}

// listFlag collects comma-separated words, possibly over several uses.
type listFlag struct{ items []string }

func (l *listFlag) String() string {
	if l == nil {
		return ""
	}
	return strings.Join(l.items, ",")
}

func (l *listFlag) Set(s string) error {
	for _, w := range strings.Split(s, ",") {
		if w = strings.TrimSpace(w); w != "" {
			l.items = append(l.items, w)
		}
	}
	return nil
}

// intListFlag is a comma-separated list of positive integers.
type intListFlag struct{ v []int }

func (l *intListFlag) String() string {
	if l == nil {
		return ""
	}
	s := make([]string, len(l.v))
	for i, n := range l.v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

func (l *intListFlag) Set(s string) error {
	var v []int
	for _, w := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(w))
		if err != nil || n <= 0 {
			return fmt.Errorf("%q is not a positive integer", w)
		}
		v = append(v, n)
	}
	l.v = v
	return nil
}

// sceneFlags are the flags that change a scene as it is loaded: -D for the
// XML's variables and --set for registered parameters.
type sceneFlags struct {
	defines defineFlag
	sets    setFlag
}

func (sf *sceneFlags) register(fs *flag.FlagSet, withSet bool) {
	fs.Var(&sf.defines, "D", "set a variable of the XML scene: `name=value`, as Mitsuba's -D (repeatable)")
	if withSet {
		fs.Var(&sf.sets, "set", "set a registered parameter before rendering: `KEY=V1,V2,...`; a single\n"+
			"value sets every component (repeatable; list the keys with 'invrender params')")
	}
}

// renderFlags are the flags that override a scene's render settings. They
// are shared by the commands that render.
type renderFlags struct {
	spp      int
	seed     uint64
	threads  int
	maxDepth int
	width    int
	height   int
	sensor   int

	seedSet, maxDepthSet bool
}

func (rf *renderFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&rf.spp, "spp", 0, "samples per pixel `N` (default: the scene's)")
	fs.Uint64Var(&rf.seed, "seed", 0, "random seed `S` (default: the scene's)")
	fs.IntVar(&rf.threads, "threads", 0, "render with `N` goroutines (default: one per CPU)")
	fs.IntVar(&rf.maxDepth, "max-depth", 0, "longest path in segments `D`: 1 emitters only, 2 direct light,\n-1 unbounded (default: the scene's)")
	fs.IntVar(&rf.width, "width", 0, "film width `W` in pixels (with --height alone: keeps the aspect ratio)")
	fs.IntVar(&rf.height, "height", 0, "film height `H` in pixels (with --width alone: keeps the aspect ratio)")
	fs.IntVar(&rf.sensor, "sensor", 0, "render from sensor `I` (0 is the scene's first)")
}

// check validates the values after parsing and records which were given.
func (rf *renderFlags) check(fs *flag.FlagSet) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	rf.seedSet = given["seed"]
	rf.maxDepthSet = given["max-depth"]
	switch {
	case given["spp"] && rf.spp <= 0:
		return usagef("--spp %d: want a positive sample count", rf.spp)
	case rf.threads < 0:
		return usagef("--threads %d: want a positive number (or 0 for one per CPU)", rf.threads)
	case rf.maxDepthSet && rf.maxDepth < -1:
		return usagef("--max-depth %d: want -1 (unbounded) or a count of segments", rf.maxDepth)
	case given["width"] && rf.width <= 0:
		return usagef("--width %d: want a positive pixel count", rf.width)
	case given["height"] && rf.height <= 0:
		return usagef("--height %d: want a positive pixel count", rf.height)
	case rf.sensor < 0:
		return usagef("--sensor %d: sensors count from 0", rf.sensor)
	case rf.width > 1<<15 || rf.height > 1<<15:
		return usagef("film %dx%d is too large (at most 32768 pixels a side)", rf.width, rf.height)
	}
	return nil
}

// apply writes the overrides into the scene (film size, maximum depth) and
// returns the render options. It notes on stderr where an override changes
// the integrator.
func (rf *renderFlags) apply(c *cli, s *render.Scene) (render.Options, error) {
	if rf.sensor >= len(s.Sensors) {
		n := len(s.Sensors)
		return render.Options{}, usagef("--sensor %d: the scene has %d sensor%s (0 to %d)", rf.sensor, n, plural(n), n-1)
	}
	sn := s.Sensors[rf.sensor]
	switch {
	case rf.width > 0 && rf.height > 0:
		sn.Width, sn.Height = rf.width, rf.height
	case rf.width > 0:
		sn.Height = max(1, int(math.Round(float64(rf.width)*float64(sn.Height)/float64(sn.Width))))
		sn.Width = rf.width
	case rf.height > 0:
		sn.Width = max(1, int(math.Round(float64(rf.height)*float64(sn.Width)/float64(sn.Height))))
		sn.Height = rf.height
	}
	if rf.maxDepthSet {
		if s.Integrator.Kind == render.DirectIntegrator && rf.maxDepth != 2 {
			c.warnf("--max-depth %d turns the scene's direct integrator into a path tracer", rf.maxDepth)
			s.Integrator.Kind = render.PathIntegrator
			if s.Integrator.RRDepth <= 0 {
				s.Integrator.RRDepth = 5
			}
		}
		s.Integrator.MaxDepth = rf.maxDepth
	}
	return render.Options{
		Sensor:  rf.sensor,
		SPP:     rf.spp,
		Seed:    rf.seed,
		SeedSet: rf.seedSet,
		Threads: rf.threads,
	}, nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
