package scenes_test

import (
	"fmt"
	"log"
	"path/filepath"
	"strings"

	"github.com/invrender/invrender/scenes"
)

func ExampleLoadFile() {
	s, err := scenes.LoadFile(filepath.Join("testdata", "xml", "cbox", "scene.xml"))
	if err != nil {
		log.Fatal(err)
	}
	c := s.Sensors[0]
	fmt.Printf("%dx%d pixels, %d spp, fov %g, max depth %d\n", c.Width, c.Height, c.SPP, c.Fov, s.Integrator.MaxDepth)
	for _, sh := range s.Shapes[5:] {
		fmt.Println(sh.Name, sh.NumTriangles(), s.Materials[sh.Material].Name, sh.Emitter != nil)
	}
	// Output:
	// 256x256 pixels, 16 spp, fov 39.3, max depth 3
	// shortbox 12 white false
	// tallbox 12 white false
	// light 2 lightmat true
}

func ExampleInfo() {
	const scene = `<scene version="3.0.0">
	<default name="spp" value="16"/>
	<sensor type="perspective">
		<float name="fov" value="40"/>
		<transform name="to_world"><lookat origin="0, 0, 4" target="0, 0, 0" up="0, 1, 0"/></transform>
		<sampler type="independent"><integer name="sample_count" value="$spp"/></sampler>
		<film type="hdrfilm"><integer name="width" value="64"/><integer name="height" value="64"/></film>
	</sensor>
	<integrator type="path"><integer name="max_depth" value="4"/></integrator>
	<shape type="cube" id="box">
		<bsdf type="roughplastic"><float name="alpha" value="0.2"/></bsdf>
	</shape>
	<shape type="rectangle" id="lamp">
		<transform name="to_world"><translate z="3"/></transform>
		<boolean name="flip_normals" value="true"/>
		<emitter type="area"><rgb name="radiance" value="5, 5, 5"/></emitter>
	</shape>
</scene>`
	o := scenes.LoadOptions{Defines: map[string]string{"spp": "4"}}
	s, err := scenes.LoadReader(strings.NewReader(scene), "example.xml", ".", o)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(scenes.Info(s))
	// Output:
	// camera "sensor": origin (0, 0, 4), target (0, 0, 0), up (0, 1, 0), fov 40 deg along x, clip [0.01, 10000]
	//   film 64x64, filter gaussian (stddev 0.5), 4 spp, seed 0
	// integrator: path, max depth 4, Russian roulette from depth 5
	// shapes: 2 (14 triangles)
	//   "box": 12 triangles, face normals, uv; material "bsdf_0": roughplastic (GGX), alpha 0.2, diffuse_reflectance 0.5, specular_reflectance 1, int_ior 1.49, ext_ior 1.000277
	//   "lamp": 2 triangles, face normals, uv; material "bsdf_1": diffuse, reflectance 0.5; area emitter, radiance (5, 5, 5)
	// lights: none
	// environment: none
	// warnings: 1
	//   example.xml:11: <bsdf type="roughplastic">: Mitsuba's default microfacet distribution "beckmann" is rendered with GGX of the same alpha (say <string name="distribution" value="ggx"/> to avoid this warning)
}
