// Command invrender renders Mitsuba-style XML scenes and recovers scene
// parameters from images with gradients (differentiable path tracing with
// edge sampling: Li, Aittala, Durand and Lehtinen, "Differentiable Monte
// Carlo Ray Tracing through Edge Sampling", SIGGRAPH Asia 2018).
//
// Usage:
//
//	invrender COMMAND [arguments]
//
// The commands:
//
//	render   render a scene to an image: invrender render SCENE -o OUT
//	         [--spp N] [--seed S] [--threads N] [--max-depth D]
//	         [--width W --height H] [--sensor I] [-D name=value ...]
//	         [--set KEY=V1,V2,... ...] [--aov albedo,normal,depth,alpha] [-q]
//	params   list the scene's parameters (key, size, flags, value), the
//	         keys that --set, grad and optimize take: invrender params
//	         SCENE [-D ...] [--json] [--all]
//	info     describe what was loaded, with the loader's warnings:
//	         invrender info SCENE [-D ...]
//	demo     render the built-in Cornell box to cbox.png in a few seconds:
//	         invrender demo [-o DIR]
//	bench    time the benchmark scenes (cbox, dense) with 1 and 2
//	         goroutines: invrender bench [--scenes DIR] [--threads 1,2]
//	         [--repeat N] [--json]
//	help     list the commands, or print one's usage: invrender help render
//
// SCENE is a Mitsuba XML file (0.6 or 3 spelling; see package scenes for
// what is read), a directory holding scene.xml (as the benchmark generator
// writes them), or a built-in scene: builtin:NAME always, or plain NAME
// when no file or directory of that name exists. The built-in scenes are cbox, sphere
// and dense (the benchmark scenes, identical to the files the project's
// generator writes) and the test scenes triangle, occluder, furnace,
// textured and envsphere. -D sets the XML's $variables; built-in scenes
// have none.
//
// --set KEY=V1,V2,... sets a registered parameter (package adjoint's
// registry, listed by the params command) before rendering, for example
// --set object.translation=0.1,0,0 or --set objmat.reflectance.value=0.5;
// a single value sets every component, and another count than the
// parameter's size is an error naming both.
//
// The output format follows the extension: .png, .jpg, .tga (8-bit sRGB),
// .pfm, .hdr and .exr (linear float). AOVs go beside the output as
// OUT-albedo.EXT, OUT-normal.EXT, OUT-depth.EXT and OUT-alpha.EXT. Every
// file is written atomically (a temporary file renamed into place).
//
// Flags may come before or after SCENE; "--" ends them. Progress goes to
// stderr, as a bar on a terminal and as a line per tenth of the work
// otherwise. Ctrl-C stops a render cleanly and writes nothing. The exit
// status is 0 on success, 1 when the work failed (a missing or malformed
// file, a write error), 2 for a mistake on the command line (an unknown
// command, flag or parameter, a bad value) and 130 after an interrupt.
//
// Each command lives in its own file and adds itself to the command table
// with register; the shared pieces are the flag parsing (flags.go), scene
// loading with -D and --set (scene.go), the progress display
// (progress.go) and image output (output.go).
package main
