package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/adjoint"
	"github.com/invrender/invrender/render"
	"github.com/invrender/invrender/scenes"
)

// builtinScene is a procedural scene that SCENE arguments can name.
type builtinScene struct {
	name string
	desc string
	make func() *render.Scene
}

// builtins lists the scenes of package scenes by the names the command
// line uses, in the order help prints them.
var builtins = []builtinScene{
	{"cbox", "Cornell box, 256x256, 16 spp, max depth 3", scenes.CornellBox},
	{"sphere", "icosphere on a plane under an area light, 256x256, 16 spp", scenes.SphereOnPlane},
	{"dense", "bumpy icosphere of 327,680 triangles, 256x256, 4 spp", func() *render.Scene { return scenes.DenseScene(7) }},
	{"triangle", "emissive triangle on black, 64x64 (the analytic gradient check)", scenes.EmissiveTriangle},
	{"occluder", "square occluder casting a soft shadow, 64x64", scenes.OccluderScene},
	{"furnace", "white diffuse sphere in a unit environment (every pixel 1), 32x32", func() *render.Scene {
		return scenes.FurnaceSphere(render.Material{Kind: render.Diffuse, Reflectance: render.ConstTexture(mgl64.Vec3{1, 1, 1})})
	}},
	{"textured", "textured quad under an area light, 64x64", scenes.TexturedQuad},
	{"envsphere", "sphere on a plane lit by an environment map, 64x64", scenes.EnvLitSphere},
}

// builtinPrefix names a built-in scene explicitly, whatever files exist.
const builtinPrefix = "builtin:"

func findBuiltin(name string) (builtinScene, bool) {
	for _, b := range builtins {
		if b.name == name {
			return b, true
		}
	}
	return builtinScene{}, false
}

func builtinNames() string {
	names := make([]string, len(builtins))
	for i, b := range builtins {
		names[i] = b.name
	}
	return strings.Join(names, ", ")
}

// builtinHelp is the paragraph on SCENE arguments in the usage texts.
func builtinHelp() string {
	var b strings.Builder
	b.WriteString("SCENE is a Mitsuba XML file (0.6 or 3 spelling), a directory holding\n")
	b.WriteString("scene.xml, or a built-in scene: builtin:NAME, or plain NAME when no file\n")
	b.WriteString("or directory of that name exists. Built-in scenes:\n")
	for _, s := range builtins {
		fmt.Fprintf(&b, "  %-10s %s\n", s.name, s.desc)
	}
	return b.String()
}

// loadedScene is a scene ready for the commands.
type loadedScene struct {
	Scene *render.Scene
	// Source describes where the scene came from: the file name, or
	// "built-in scene cbox".
	Source string
	// Builtin is the built-in scene's name ("" for a file).
	Builtin string
	// LoadTime is the time taken to read the file or build the geometry.
	LoadTime time.Duration

	params *adjoint.Params
}

// Params returns the scene's parameter registry, made on first use.
func (ls *loadedScene) Params() (*adjoint.Params, error) {
	if ls.params == nil {
		ps, err := adjoint.NewParams(ls.Scene)
		if err != nil {
			return nil, errors.New(trimPkg(err.Error()))
		}
		ls.params = ps
	}
	return ls.params, nil
}

// loadScene reads the scene arg names: the file when one exists (for a
// directory, the scene.xml in it), else a built-in scene (see
// builtinHelp). Loader warnings go to stderr as they
// are found when printWarnings is set (they stay in Scene.Warnings either
// way). Defines are passed to the XML loader; built-in scenes have no
// variables, so they are ignored there with a warning.
func (c *cli) loadScene(arg string, sf *sceneFlags, printWarnings bool) (*loadedScene, error) {
	if arg == "" {
		return nil, usagef("the scene name is empty")
	}
	name, explicit := strings.CutPrefix(arg, builtinPrefix)
	if !explicit {
		st, err := os.Stat(arg)
		switch {
		case err == nil && st.IsDir():
			// A directory as the benchmark generator writes them.
			inner := filepath.Join(arg, "scene.xml")
			if _, err := os.Stat(inner); err == nil {
				return c.loadFile(inner, sf, printWarnings)
			}
			if _, ok := findBuiltin(name); ok {
				return nil, fmt.Errorf("%s is a directory without a scene.xml (for the built-in scene, say %s%s)", arg, builtinPrefix, name)
			}
			return nil, fmt.Errorf("%s is a directory without a scene.xml", arg)
		case err == nil:
			return c.loadFile(arg, sf, printWarnings)
		case !errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("%s: %v", arg, unwrapPathError(err))
		}
		if _, ok := findBuiltin(name); !ok || strings.ContainsAny(arg, `/\.`) {
			return nil, fmt.Errorf("%s: no such file (and not a built-in scene: %s)", arg, builtinNames())
		}
	}
	b, ok := findBuiltin(name)
	if !ok {
		return nil, usagef("unknown built-in scene %q (known: %s)", name, builtinNames())
	}
	if len(sf.defines.order) > 0 {
		c.warnf("-D %s: built-in scenes have no variables; ignored", sf.defines.String())
	}
	start := time.Now()
	s := b.make()
	return &loadedScene{Scene: s, Source: "built-in scene " + b.name, Builtin: b.name, LoadTime: time.Since(start)}, nil
}

func (c *cli) loadFile(path string, sf *sceneFlags, printWarnings bool) (*loadedScene, error) {
	o := scenes.LoadOptions{Defines: sf.defines.m}
	if printWarnings {
		o.Warn = func(msg string) { c.warnf("%s", msg) }
	}
	start := time.Now()
	s, err := scenes.LoadFileOpts(path, o)
	if err != nil {
		return nil, errors.New(trimPkg(err.Error()))
	}
	return &loadedScene{Scene: s, Source: path, LoadTime: time.Since(start)}, nil
}

// applySets writes the --set values into the parameter registry and the
// scene (adjoint.Params.Update). An unknown key or a wrong number of values
// is a usage error naming the key and its size; a single value sets every
// component.
func (c *cli) applySets(ls *loadedScene, sets []setting) error {
	if len(sets) == 0 {
		return nil
	}
	ps, err := ls.Params()
	if err != nil {
		return err
	}
	for _, st := range sets {
		p, err := ps.Lookup(st.Key)
		if err != nil {
			msg := trimPkg(err.Error())
			if rest, ok := strings.CutPrefix(msg, fmt.Sprintf("no parameter %q", st.Key)); ok {
				// Keys a typing mistake away are better guesses than the
				// registry's keys that share a part of the name.
				if near := nearKeys(ps.Keys(), st.Key); len(near) > 0 {
					rest = fmt.Sprintf(" (did you mean %s?)", strings.Join(near, ", "))
				}
				msg = fmt.Sprintf("unknown parameter %q%s", st.Key, rest)
			}
			return usagef("--set: %s", msg)
		}
		switch n := len(st.Values); {
		case n == 1:
			for i := range p.Value {
				p.Value[i] = st.Values[0]
			}
		case n == p.Size():
			copy(p.Value, st.Values)
		default:
			return usagef("--set %s: got %d values, but %s has %d (give %d, or one for all)", st.Key, n, p.Key, p.Size(), p.Size())
		}
	}
	if err := ps.Update(); err != nil {
		return errors.New(trimPkg(err.Error()))
	}
	return nil
}

// trimPkg removes the "pkg: " prefixes that library errors start with;
// the command names itself instead.
func trimPkg(msg string) string {
	for {
		trimmed := false
		for _, p := range []string{"scenes: ", "render: ", "adjoint: ", "atomicfile: "} {
			if rest, ok := strings.CutPrefix(msg, p); ok {
				msg, trimmed = rest, true
			}
		}
		if !trimmed {
			return msg
		}
	}
}

// unwrapPathError drops the operation and path of an *fs.PathError (the
// caller names the path).
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// sceneLabel is a short name for a scene in messages: the file's base name
// or the built-in's name.
func (ls *loadedScene) label() string {
	if ls.Builtin != "" {
		return ls.Builtin
	}
	return filepath.Base(ls.Source)
}

// nearKeys returns the keys within a few single-character edits of key
// (typing mistakes), closest first, at most five.
func nearKeys(keys []string, key string) []string {
	limit := max(2, len(key)/8)
	type cand struct {
		key  string
		dist int
	}
	var cs []cand
	for _, k := range keys {
		if d := editDistance(k, key, limit); d <= limit {
			cs = append(cs, cand{k, d})
		}
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].dist < cs[j].dist })
	var out []string
	for i := 0; i < len(cs) && i < 5; i++ {
		out = append(out, cs[i].key)
	}
	return out
}

// editDistance is the Levenshtein distance between a and b, or limit+1
// when it exceeds limit (Wagner and Fischer's dynamic programme over one
// row).
func editDistance(a, b string, limit int) int {
	if d := len(a) - len(b); d > limit || -d > limit {
		return limit + 1
	}
	row := make([]int, len(b)+1)
	for j := range row {
		row[j] = j
	}
	for i := 1; i <= len(a); i++ {
		diag := row[0]
		row[0] = i
		best := row[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			next := min(row[j]+1, row[j-1]+1, diag+cost)
			diag = row[j]
			row[j] = next
			best = min(best, next)
		}
		if best > limit {
			return limit + 1
		}
	}
	return row[len(b)]
}

// oneScene checks that the positional arguments name exactly one scene.
func oneScene(pos []string) error {
	switch {
	case len(pos) == 0:
		return usagef("no scene given")
	case len(pos) > 1:
		return usagef("one scene at a time (got %q)", pos)
	}
	return nil
}
