package meshgen

import (
	"math"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/geom"
)

// Mesh pairs the two arrays of an indexed triangle mesh, for Merge.
type Mesh struct {
	Positions []mgl64.Vec3
	Indices   []int32
}

// Of wraps a generator's two results into a Mesh, so that calls compose:
// Merge(Of(Icosphere(...)), Of(Quad(...))).
func Of(positions []mgl64.Vec3, indices []int32) Mesh {
	return Mesh{Positions: positions, Indices: indices}
}

// Merge concatenates meshes into one, offsetting each mesh's indices by the
// number of vertices before it. Triangle k of the i-th mesh becomes triangle
// k plus the triangle counts of the meshes before it.
func Merge(meshes ...Mesh) ([]mgl64.Vec3, []int32) {
	nv, ni := 0, 0
	for _, m := range meshes {
		nv += len(m.Positions)
		ni += len(m.Indices)
	}
	pos := make([]mgl64.Vec3, 0, nv)
	idx := make([]int32, 0, ni)
	for _, m := range meshes {
		base := int32(len(pos))
		pos = append(pos, m.Positions...)
		for _, i := range m.Indices {
			idx = append(idx, base+i)
		}
	}
	return pos, idx
}

// norm3 is sqrt(x*x + y*y + z*z) summed left to right without fused
// multiply-adds, as Python evaluates sum(x*x for x in v).
func norm3(x, y, z float64) float64 {
	return math.Sqrt(float64(float64(x*x)+float64(y*y)) + float64(z*z))
}

// Icosphere returns a sphere made by subdividing an icosahedron subdiv times
// (20*4^subdiv triangles), each vertex pushed onto the unit sphere and then
// displaced to the radius
//
//	r = radius * (1 + bump*sin(9x)*sin(11y)*sin(13z))
//
// along its unit direction (x, y, z), and translated to center. bump = 0
// gives a plain sphere. The construction follows genscenes.py exactly (see
// the package comment).
func Icosphere(subdiv int, radius float64, center mgl64.Vec3, bump float64) ([]mgl64.Vec3, []int32) {
	if subdiv < 0 {
		subdiv = 0
	}
	t := (1 + math.Sqrt(5)) / 2
	base := [12][3]float64{{-1, t, 0}, {1, t, 0}, {-1, -t, 0}, {1, -t, 0}, {0, -1, t}, {0, 1, t},
		{0, -1, -t}, {0, 1, -t}, {t, 0, -1}, {t, 0, 1}, {-t, 0, -1}, {-t, 0, 1}}
	nTri := 20
	for i := 0; i < subdiv; i++ {
		nTri *= 4
	}
	// V = E - F + 2 for a closed genus-0 mesh, and E = 3F/2.
	nVert := nTri/2 + 2
	verts := make([]mgl64.Vec3, 0, nVert)
	for _, v := range base {
		n := norm3(v[0], v[1], v[2])
		verts = append(verts, mgl64.Vec3{v[0] / n, v[1] / n, v[2] / n})
	}
	faces := []int32{0, 11, 5, 0, 5, 1, 0, 1, 7, 0, 7, 10, 0, 10, 11, 1, 5, 9, 5, 11, 4,
		11, 10, 2, 10, 7, 6, 7, 1, 8, 3, 9, 4, 3, 4, 2, 3, 2, 6, 3, 6, 8,
		3, 8, 9, 4, 9, 5, 2, 4, 11, 6, 2, 10, 8, 6, 7, 9, 8, 1}
	for s := 0; s < subdiv; s++ {
		cache := make(map[[2]int32]int32, len(faces)/2)
		mid := func(i, j int32) int32 {
			key := [2]int32{min(i, j), max(i, j)}
			if k, ok := cache[key]; ok {
				return k
			}
			a, b := verts[i], verts[j]
			m := mgl64.Vec3{(a[0] + b[0]) / 2, (a[1] + b[1]) / 2, (a[2] + b[2]) / 2}
			n := norm3(m[0], m[1], m[2])
			verts = append(verts, mgl64.Vec3{m[0] / n, m[1] / n, m[2] / n})
			k := int32(len(verts) - 1)
			cache[key] = k
			return k
		}
		nf := make([]int32, 0, 4*len(faces))
		for f := 0; f < len(faces); f += 3 {
			a, b, c := faces[f], faces[f+1], faces[f+2]
			ab := mid(a, b)
			bc := mid(b, c)
			ca := mid(c, a)
			nf = append(nf, a, ab, ca, b, bc, ab, c, ca, bc, ab, bc, ca)
		}
		faces = nf
	}
	for i, v := range verts {
		x, y, z := v[0], v[1], v[2]
		// Python: radius * (1 + bump * sin(9x) * sin(11y) * sin(13z)),
		// multiplied left to right.
		r := radius * (1 + float64(float64(float64(bump*math.Sin(9*x))*math.Sin(11*y))*math.Sin(13*z)))
		verts[i] = mgl64.Vec3{center[0] + float64(r*x), center[1] + float64(r*y), center[2] + float64(r*z)}
	}
	return verts, faces
}

// Quad returns the quadrilateral p0 p1 p2 p3 as the two triangles (0, 1, 2)
// and (0, 2, 3); counter-clockwise corners give the right-hand-rule normal.
func Quad(p0, p1, p2, p3 mgl64.Vec3) ([]mgl64.Vec3, []int32) {
	return []mgl64.Vec3{p0, p1, p2, p3}, []int32{0, 1, 2, 0, 2, 3}
}

// Box returns the axis-aligned box [lo, hi] as 8 corners and 12 triangles
// with outward normals. The corner order and the faces follow the box of
// genscenes.py (bottom corners first, counter-clockwise seen from above).
func Box(lo, hi mgl64.Vec3) ([]mgl64.Vec3, []int32) {
	pos := make([]mgl64.Vec3, 0, 8)
	for _, y := range [2]float64{lo[1], hi[1]} {
		pos = append(pos,
			mgl64.Vec3{lo[0], y, lo[2]}, mgl64.Vec3{hi[0], y, lo[2]},
			mgl64.Vec3{hi[0], y, hi[2]}, mgl64.Vec3{lo[0], y, hi[2]})
	}
	idx := []int32{
		0, 1, 2, 0, 2, 3, // bottom (-y)
		4, 6, 5, 4, 7, 6, // top (+y)
		0, 4, 5, 0, 5, 1, // -z
		1, 5, 6, 1, 6, 2, // +x
		2, 6, 7, 2, 7, 3, // +z
		3, 7, 4, 3, 4, 0, // -x
	}
	return pos, idx
}

// Plane returns the square [-size/2, size/2]^2 in the plane y = 0, divided
// into nx by nz cells of two triangles each (2*nx*nz triangles, normal +y).
// Vertex (i, k) lies at x = -size/2 + size*i/nx, z = -size/2 + size*k/nz and
// has index k*(nx+1) + i. Counts below 1 are taken as 1.
func Plane(nx, nz int, size float64) ([]mgl64.Vec3, []int32) {
	nx, nz = max(nx, 1), max(nz, 1)
	pos := make([]mgl64.Vec3, 0, (nx+1)*(nz+1))
	for k := 0; k <= nz; k++ {
		for i := 0; i <= nx; i++ {
			pos = append(pos, mgl64.Vec3{
				-size/2 + size*float64(i)/float64(nx), 0, -size/2 + size*float64(k)/float64(nz)})
		}
	}
	idx := make([]int32, 0, 6*nx*nz)
	row := int32(nx + 1)
	for k := int32(0); k < int32(nz); k++ {
		for i := int32(0); i < int32(nx); i++ {
			a := k*row + i // (i, k)
			b := a + 1     // (i+1, k)
			c := a + row   // (i, k+1)
			d := c + 1     // (i+1, k+1)
			// Seen from +y, x to the right and z downwards is clockwise, so
			// a -> c -> d runs counter-clockwise: (c-a)x(d-a) is +y.
			idx = append(idx, a, c, d, a, d, b)
		}
	}
	return pos, idx
}

// Torus returns a torus about the y axis centred at the origin, with major
// radius bigR (centre to tube centre) and minor radius r (the tube), divided
// into nu segments around the y axis and nv around the tube (2*nu*nv
// triangles, nu*nv vertices, closed, outward normals). Counts below 3 are
// taken as 3.
func Torus(bigR, r float64, nu, nv int) ([]mgl64.Vec3, []int32) {
	nu, nv = max(nu, 3), max(nv, 3)
	pos := make([]mgl64.Vec3, 0, nu*nv)
	for i := 0; i < nu; i++ {
		su, cu := math.Sincos(2 * math.Pi * float64(i) / float64(nu))
		for j := 0; j < nv; j++ {
			sv, cv := math.Sincos(2 * math.Pi * float64(j) / float64(nv))
			rr := bigR + r*cv
			pos = append(pos, mgl64.Vec3{rr * cu, r * sv, rr * su})
		}
	}
	idx := make([]int32, 0, 6*nu*nv)
	at := func(i, j int) int32 { return int32((i%nu)*nv + j%nv) }
	for i := 0; i < nu; i++ {
		for j := 0; j < nv; j++ {
			a, b, c, d := at(i, j), at(i+1, j), at(i+1, j+1), at(i, j+1)
			// The u direction (x -> z) turns clockwise about +y and the v
			// direction runs outward -> up -> inward, so (d-a)x(b-a) points
			// away from the tube's centre: wind a, d, c and a, c, b.
			idx = append(idx, a, d, c, a, c, b)
		}
	}
	return pos, idx
}

// RandomSoup returns n independent triangles whose 3n vertices are uniform in
// the unit cube [0,1)^3, drawn from rng in order (x, y, z per vertex).
// Triangle k uses vertices 3k, 3k+1, 3k+2.
func RandomSoup(n int, rng *geom.RNG) ([]mgl64.Vec3, []int32) {
	n = max(n, 0)
	pos := make([]mgl64.Vec3, 3*n)
	idx := make([]int32, 3*n)
	for i := range pos {
		x := rng.Float64()
		y := rng.Float64()
		z := rng.Float64()
		pos[i] = mgl64.Vec3{x, y, z}
		idx[i] = int32(i)
	}
	return pos, idx
}
