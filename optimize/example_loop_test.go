package optimize_test

import (
	"context"
	"fmt"
	"log"

	"github.com/invrender/invrender/adjoint"
	"github.com/invrender/invrender/optimize"
	"github.com/invrender/invrender/render"
	"github.com/invrender/invrender/scenes"
)

// ExampleRun recovers the colour of the sphere of scenes.SphereOnPlane from
// a rendered target, starting 30 % off: the render-in-the-loop driver in
// about twenty lines.
func ExampleRun() {
	scene := scenes.SphereOnPlane()
	scene.Sensors[0].Width, scene.Sensors[0].Height = 24, 24
	target, err := render.Render(context.Background(), scene, render.Options{SPP: 128})
	if err != nil {
		log.Fatal(err)
	}
	params, err := adjoint.NewParams(scene)
	if err != nil {
		log.Fatal(err)
	}
	const key = "objmat.reflectance.value"
	copy(params.Get(key).Value, []float64{0.91, 0.39, 0.26}) // the truth is 0.7, 0.3, 0.2
	res, err := optimize.Run(context.Background(), optimize.Config{
		Params:      params,
		Keys:        []optimize.KeyRate{{Key: key}}, // learning rate: DefaultLearningRate
		Targets:     []optimize.Target{{Image: target.Image}},
		SPP:         8,
		BackwardSPP: 2,
		Iterations:  60,
		Schedule:    optimize.Cosine(60, 0.05),
		Truth:       map[string][]float64{key: {0.7, 0.3, 0.2}},
	})
	if err != nil {
		log.Fatal(err)
	}
	v := res.Values[key]
	fmt.Printf("%s = %.1f %.1f %.1f, within 2%%: %v\n", key, v[0], v[1], v[2], res.ParamError[key] < 0.02)
	// Output: objmat.reflectance.value = 0.7 0.3 0.2, within 2%: true
}
