package main

import (
	"fmt"

	"github.com/invrender/invrender/scenes"
)

func init() {
	register(&command{
		Name:    "info",
		Summary: "describe what a scene file holds, with the loader's warnings",
		Order:   40,
		Run:     runInfo,
	})
}

const infoUsage = `
Usage: invrender info SCENE [-D name=value ...]

Loads SCENE and prints what the renderer will see: each camera, the
integrator, every shape with its triangle count, material and emitter, the
lights, the environment and the loader's warnings (settings the renderer
cannot honour exactly, misspelt parameters).

`

// runInfo is the info subcommand.
func runInfo(c *cli, args []string) error {
	fs := newFlagSet("info")
	var sf sceneFlags
	sf.register(fs, false)
	pos, err := c.parseArgs(fs, infoUsage+builtinHelp(), args)
	if err != nil {
		return err
	}
	if err := oneScene(pos); err != nil {
		return err
	}
	ls, err := c.loadScene(pos[0], &sf, false)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "scene: %s (loaded in %s)\n", ls.Source, fmtDuration(ls.LoadTime))
	if err := scenes.WriteInfo(c.stdout, ls.Scene); err != nil {
		return err
	}
	ps, err := ls.Params()
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "parameters: %d (list them with 'invrender params %s')\n", len(ps.List), pos[0])
	return nil
}
