// Package scenes turns files into render.Scene values and images into
// render.Image values, and back: Mitsuba XML scenes (both the 0.6 and the
// Mitsuba 3 spellings), OBJ and PLY meshes, and the image formats renderer
// users exchange (PNG, JPEG, TGA, PFM, Radiance HDR, OpenEXR, ...). It also
// builds the procedural scenes the tests, demos and benchmarks use.
//
// Every loader returns an error that names the file, the line (or XML
// element) and what was expected; nothing a file can contain makes it panic.
package scenes
