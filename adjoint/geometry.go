package adjoint

import (
	"math"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/render"
)

// TriangleGrad is the gradient with respect to one triangle's vertex data,
// in the order of the shape's index triple.
type TriangleGrad struct {
	P  [3]mgl64.Vec3 // positions
	N  [3]mgl64.Vec3 // vertex normals (shapes with normals only)
	UV [3]mgl64.Vec2 // texture coordinates (shapes with UVs only)
}

// DIntersect is the adjoint of the ray-triangle intersection (t, b1, b2) of
// the ray o + t*d with the triangle (p0, p1, p2), which solves
// o + t*d = p0 + b1*(p1-p0) + b2*(p2-p0). Given the upstream gradients of
// (t, b1, b2) it returns those of o, d and the vertices (implicit function
// theorem: with M = [d, -(p1-p0), -(p2-p0)] and lambda = M^-T g, the input
// gradients are -lambda, -t*lambda and b_k*lambda). ok is false when the
// ray grazes the triangle's plane (M singular): the gradient is then
// undefined and dropped by the caller.
func DIntersect(o, d, p0, p1, p2 mgl64.Vec3, t, b1, b2 float64, gt, gb1, gb2 float64) (do, dd mgl64.Vec3, dp [3]mgl64.Vec3, ok bool) {
	e1 := p1.Sub(p0)
	e2 := p2.Sub(p0)
	// Columns of M: c0 = d, c1 = -e1, c2 = -e2. Solve M^T lambda = g, i.e.
	// c_i . lambda = g_i, with the dual basis of (c0, c1, c2).
	c0, c1, c2 := d, e1.Mul(-1), e2.Mul(-1)
	det := c0.Dot(c1.Cross(c2))
	scale := d.Len() * e1.Cross(e2).Len()
	if !(math.Abs(det) > 1e-12*scale) || scale == 0 {
		return do, dd, dp, false
	}
	inv := 1 / det
	// lambda = (g0 (c1 x c2) + g1 (c2 x c0) + g2 (c0 x c1)) / det
	lambda := c1.Cross(c2).Mul(gt).Add(c2.Cross(c0).Mul(gb1)).Add(c0.Cross(c1).Mul(gb2)).Mul(inv)
	b0 := 1 - b1 - b2
	do = lambda.Mul(-1)
	dd = lambda.Mul(-t)
	dp[0] = lambda.Mul(b0)
	dp[1] = lambda.Mul(b1)
	dp[2] = lambda.Mul(b2)
	return do, dd, dp, true
}

// InteractionGrad is the upstream gradient of a render.Interaction.
type InteractionGrad struct {
	P  mgl64.Vec3
	Ns mgl64.Vec3 // shading normal (the geometric normal for flat shapes)
	UV mgl64.Vec2
}

// DInteract is the adjoint of render.Scene.Interact for the hit of ray
// (o, d): it maps the gradients of the hit point, shading normal and UV to
// the triangle's vertex data and to the ray. The hit point is
// sum b_k p_k, the shading normal normalize(sum b_k n_k) (or the unit face
// normal), the UV sum b_k uv_k (or (b1, b2) without UVs), and (b1, b2)
// follow from DIntersect. ok is false for grazing hits (gradient dropped).
func DInteract(s *render.Scene, it *render.Interaction, o, d mgl64.Vec3, g InteractionGrad, tg *TriangleGrad) (do, dd mgl64.Vec3, ok bool) {
	sh := s.Shapes[it.Shape]
	_, lt := s.TriangleShape(it.Tri)
	i0, i1, i2 := sh.Indices[3*lt], sh.Indices[3*lt+1], sh.Indices[3*lt+2]
	p := [3]mgl64.Vec3{sh.Positions[i0], sh.Positions[i1], sh.Positions[i2]}
	b1, b2 := it.B1, it.B2
	b := [3]float64{1 - b1 - b2, b1, b2}
	var gb [3]float64 // gradients of b0, b1, b2 as independent inputs

	// P = sum b_k p_k
	for k := 0; k < 3; k++ {
		tg.P[k] = tg.P[k].Add(g.P.Mul(b[k]))
		gb[k] += g.P.Dot(p[k])
	}
	// Shading normal.
	if !isZero3(g.Ns) {
		if sh.Normals != nil {
			n := [3]mgl64.Vec3{sh.Normals[i0], sh.Normals[i1], sh.Normals[i2]}
			raw := n[0].Mul(b[0]).Add(n[1].Mul(b[1])).Add(n[2].Mul(b[2]))
			dRaw := dNormalize(raw, g.Ns)
			for k := 0; k < 3; k++ {
				tg.N[k] = tg.N[k].Add(dRaw.Mul(b[k]))
				gb[k] += dRaw.Dot(n[k])
			}
		} else {
			e1, e2 := p[1].Sub(p[0]), p[2].Sub(p[0])
			dc := dNormalize(e1.Cross(e2), g.Ns)
			de1, de2 := dCross(e1, e2, dc)
			tg.P[1] = tg.P[1].Add(de1)
			tg.P[2] = tg.P[2].Add(de2)
			tg.P[0] = tg.P[0].Sub(de1).Sub(de2)
		}
	}
	// UV.
	if g.UV[0] != 0 || g.UV[1] != 0 {
		if sh.UVs != nil {
			uv := [3]mgl64.Vec2{sh.UVs[i0], sh.UVs[i1], sh.UVs[i2]}
			for k := 0; k < 3; k++ {
				tg.UV[k] = tg.UV[k].Add(g.UV.Mul(b[k]))
				gb[k] += g.UV.Dot(uv[k])
			}
		} else {
			gb[1] += g.UV[0]
			gb[2] += g.UV[1]
		}
	}
	// b0 = 1 - b1 - b2.
	gb1 := gb[1] - gb[0]
	gb2 := gb[2] - gb[0]
	if gb1 == 0 && gb2 == 0 {
		return do, dd, true
	}
	var dp [3]mgl64.Vec3
	do, dd, dp, ok = DIntersect(o, d, p[0], p[1], p[2], it.T, b1, b2, 0, gb1, gb2)
	if !ok {
		return mgl64.Vec3{}, mgl64.Vec3{}, false
	}
	for k := 0; k < 3; k++ {
		tg.P[k] = tg.P[k].Add(dp[k])
	}
	return do, dd, true
}
