//go:build !edges

package adjoint

import (
	"context"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/render"
)

type boundaryState struct{}

func newBoundaryState(b *backward) *boundaryState                   { return nil }
func (w *worker) secondaryEdges(key render.RandomKey, g mgl64.Vec3) { w.resetAdjP() }
func (bd *boundaryState) primaryPass(ctx context.Context, workers []*worker, threads int) error {
	return nil
}
