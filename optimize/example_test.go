package optimize_test

import (
	"fmt"
	"log"

	"github.com/invrender/invrender/optimize"
	"github.com/invrender/invrender/render"
)

// Example recovers a colour: the "image" is one pixel of the parameter
// itself, the loss is L2 against the target pixel, and the reflectance is
// clamped to [0, 1] by its default constraint (the target's green, 1.3, is
// out of range).
func Example() {
	target := render.NewImage(1, 1)
	copy(target.Pix, []float64{0.8, 1.3, 0.1})
	loss := optimize.L2()
	blocks := []optimize.Block{{Key: "box.reflectance.value", Offset: 0, Len: 3, LR: 0.05}}
	cfg := optimize.DefaultAdamConfig()
	cfg.Schedule = optimize.Cosine(300, 0.01)
	adam, err := optimize.NewAdam(blocks, cfg)
	if err != nil {
		log.Fatal(err)
	}
	problem := optimize.Problem{FuncGrad: func(grad, x []float64) (float64, error) {
		img := render.NewImage(1, 1)
		copy(img.Pix, x) // the "renderer"
		v, dLdI, err := loss.Eval(img, target)
		if err != nil {
			return 0, err
		}
		copy(grad, dLdI.Pix) // the backward pass: dI/dx is the identity
		return v, nil
	}}
	res, err := optimize.Minimize(problem, []float64{0.5, 0.5, 0.5}, optimize.Options{
		Optimizer:     adam,
		MaxIterations: 300,
		Constraints:   optimize.DefaultConstraints(blocks),
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%.3f %.3f %.3f after %d iterations (%v)\n", res.X[0], res.X[1], res.X[2], res.Iterations, res.Status)
	// Output: 0.800 1.000 0.100 after 300 iterations (iteration limit)
}
