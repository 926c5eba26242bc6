package bvh

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/invrender/invrender/geom"
	"github.com/invrender/invrender/internal/meshgen"
)

// bruteForce is the oracle: the watertight test over every triangle in input
// order, keeping a hit only when it is strictly closer.
func bruteForce(pos []mgl64.Vec3, idx []int32, r geom.Ray) (Hit, bool) {
	wr := geom.NewWatertightRay(r.O, r.D)
	tmax := r.TMax
	var h Hit
	found := false
	for k := 0; k < len(idx)/3; k++ {
		t, b1, b2, ok := wr.Intersect(pos[idx[3*k]], pos[idx[3*k+1]], pos[idx[3*k+2]], r.TMin, tmax)
		if ok {
			tmax = t
			h = Hit{T: t, B1: b1, B2: b2, Tri: int32(k)}
			found = true
		}
	}
	return h, found
}

// testRays draws n rays around box: half from random origins in the box
// (grown by half its size) in uniform directions, half aimed at a random
// point of a random triangle, with a mix of ranges.
func testRays(pos []mgl64.Vec3, idx []int32, n int, seed uint64) []geom.Ray {
	box := geom.EmptyAABB()
	for _, p := range pos {
		box = box.Extend(p)
	}
	d := box.Diagonal()
	grow := max(d[0], d[1], d[2], 1e-3) / 2
	lo := box.Min.Sub(mgl64.Vec3{grow, grow, grow})
	hi := box.Max.Add(mgl64.Vec3{grow, grow, grow})
	rng := geom.NewRNG(seed, 0, 0, 0)
	rays := make([]geom.Ray, n)
	for i := range rays {
		var o mgl64.Vec3
		for a := 0; a < 3; a++ {
			o[a] = lo[a] + (hi[a]-lo[a])*rng.Float64()
		}
		var dir mgl64.Vec3
		if i%2 == 0 || len(idx) == 0 {
			dir = geom.SquareToUniformSphere(mgl64.Vec2{rng.Float64(), rng.Float64()})
		} else {
			k := rng.Intn(len(idx) / 3)
			b1, b2 := geom.SquareToUniformTriangle(mgl64.Vec2{rng.Float64(), rng.Float64()})
			p0, p1, p2 := pos[idx[3*k]], pos[idx[3*k+1]], pos[idx[3*k+2]]
			target := p0.Mul(1 - b1 - b2).Add(p1.Mul(b1)).Add(p2.Mul(b2))
			dir = target.Sub(o)
			if dir.Len() == 0 {
				dir = mgl64.Vec3{0, 1, 0}
			}
		}
		r := geom.Ray{O: o, D: dir, TMin: 0, TMax: math.Inf(1)}
		switch i % 5 {
		case 1:
			r.TMin = 1e-4
		case 3:
			r.TMax = 2 * rng.Float64()
		case 4:
			r.TMin, r.TMax = 0.3*rng.Float64(), 0.5+rng.Float64()
		}
		rays[i] = r
	}
	return rays
}

// checkAgainstBruteForce compares Intersect and Occluded with the oracle on
// every ray. Where the BVH and the oracle pick different triangles, the two
// hits must be a tie: the same t up to rounding and the BVH's triangle must
// really be hit there (an exact tie on a shared edge or vertex, or two
// candidates whose t differ in the last bits, where the order in which they
// are tested decides). It returns the number of hits.
func checkAgainstBruteForce(t *testing.T, name string, b *BVH, pos []mgl64.Vec3, idx []int32, rays []geom.Ray) int {
	t.Helper()
	hits, ties := 0, 0
	for i, r := range rays {
		want, wantOK := bruteForce(pos, idx, r)
		got, gotOK := b.Intersect(r)
		occ := b.Occluded(r)
		if occ != wantOK {
			t.Fatalf("%s: ray %d %+v: Occluded = %v, brute force hit = %v", name, i, r, occ, wantOK)
		}
		if gotOK != wantOK {
			t.Fatalf("%s: ray %d %+v: Intersect ok = %v (%+v), brute force %v (%+v)", name, i, r, gotOK, got, wantOK, want)
		}
		if !gotOK {
			continue
		}
		hits++
		if got == want {
			continue
		}
		if got.Tri == want.Tri {
			t.Fatalf("%s: ray %d: same triangle %d but hit %+v, brute force %+v", name, i, got.Tri, got, want)
		}
		k := got.Tri
		wr := geom.NewWatertightRay(r.O, r.D)
		tt, b1, b2, ok := wr.Intersect(pos[idx[3*k]], pos[idx[3*k+1]], pos[idx[3*k+2]], r.TMin, r.TMax)
		if !ok || tt != got.T || b1 != got.B1 || b2 != got.B2 {
			t.Fatalf("%s: ray %d: BVH hit %+v is not a hit of triangle %d (%v %v %v %v)", name, i, got, k, tt, b1, b2, ok)
		}
		if math.Abs(got.T-want.T) > 1e-12*math.Max(1, math.Abs(want.T)) {
			t.Fatalf("%s: ray %d: BVH hit %+v, brute force %+v", name, i, got, want)
		}
		ties++
	}
	if ties > len(rays)/1000+1 {
		t.Errorf("%s: %d ties in %d rays, more than edge hits explain", name, ties, len(rays))
	}
	t.Logf("%s: %d rays, %d hits, %d ties", name, len(rays), hits, ties)
	return hits
}

// checkInvariants walks the tree: every box contains its subtree's boxes
// (leaves: their triangles' vertices), leaves hold 1..maxLeaf triangles,
// every triangle is in exactly one leaf, interior nodes are laid out
// depth-first, unused children are inverted boxes, and no path is deeper
// than the traversal stack allows. It returns the depth in nodes (a leaf
// counts as a level).
func checkInvariants(t *testing.T, b *BVH, maxLeaf int) (depth int) {
	t.Helper()
	if len(b.nodes) == 0 {
		if b.NumTriangles() != 0 {
			t.Fatal("no nodes for a non-empty mesh")
		}
		return 0
	}
	contains := func(outer *box32, inner *box32) bool {
		for a := 0; a < 3; a++ {
			if inner[a] < outer[a] || inner[a+3] > outer[a+3] {
				return false
			}
		}
		return true
	}
	seen := make([]bool, b.NumTriangles())
	maxDepth, leaves := 0, 0
	next := int32(1) // the index the next interior node must have, depth-first
	var walk func(i int32, depth int)
	walk = func(i int32, depth int) {
		n := &b.nodes[i]
		used := 0
		for c := 0; c < width; c++ {
			box := n.childBox(c)
			switch {
			case n.count[c] > 0:
				used++
				maxDepth = max(maxDepth, depth+1)
				leaves++
				if int(n.count[c]) > maxLeaf {
					t.Fatalf("leaf holds %d triangles, limit %d", n.count[c], maxLeaf)
				}
				for k := n.child[c]; k < n.child[c]+int32(n.count[c]); k++ {
					id := b.triID[k]
					if seen[id] {
						t.Fatalf("triangle %d in two leaves", id)
					}
					seen[id] = true
					for _, p := range b.triangle(k) {
						for a := 0; a < 3; a++ {
							if p[a] < float64(box[a]) || p[a] > float64(box[a+3]) {
								t.Fatalf("leaf box %v misses vertex %v", box, p)
							}
						}
					}
				}
			case n.child[c] < 0:
				if box != emptyBox32() {
					t.Fatalf("node %d: unused child %d has box %v", i, c, box)
				}
			default:
				used++
				if n.child[c] != next {
					t.Fatalf("node %d: child %d is node %d, depth-first order wants %d", i, c, n.child[c], next)
				}
				next++
				ch := &b.nodes[n.child[c]]
				for cc := 0; cc < width; cc++ {
					if cb := ch.childBox(cc); ch.child[cc] >= 0 && !contains(&box, &cb) {
						t.Fatalf("node %d: child box %d does not contain its child %d", i, c, cc)
					}
				}
				walk(n.child[c], depth+1)
			}
		}
		if used < 2 && !(i == 0 && used == 1 && n.count[0] > 0) {
			t.Fatalf("node %d has %d children", i, used)
		}
	}
	walk(0, 1)
	if int(next) != len(b.nodes) {
		t.Fatalf("tree reaches %d of %d nodes", next, len(b.nodes))
	}
	if b.NumNodes() != len(b.nodes)+leaves {
		t.Fatalf("NumNodes %d, want %d interior + %d leaves", b.NumNodes(), len(b.nodes), leaves)
	}
	for id, s := range seen {
		if !s {
			t.Fatalf("triangle %d in no leaf", id)
		}
	}
	if (width-1)*maxDepth > deepStack {
		t.Fatalf("depth %d needs more than the stack size %d", maxDepth, deepStack)
	}
	return maxDepth
}

type testMesh struct {
	name string
	pos  []mgl64.Vec3
	idx  []int32
}

// withDegenerates is an icosphere plus zero-area triangles of every kind: a
// repeated vertex, three collinear vertices, three equal vertices, some lying
// inside the sphere, some on its surface, some alone outside.
func withDegenerates() testMesh {
	pos, idx := meshgen.Icosphere(3, 1, mgl64.Vec3{}, 0)
	add := func(ps ...mgl64.Vec3) {
		base := int32(len(pos))
		pos = append(pos, ps...)
		idx = append(idx, base, base+1, base+2)
	}
	rng := geom.NewRNG(11, 0, 0, 0)
	for i := 0; i < 200; i++ {
		p := mgl64.Vec3{3*rng.Float64() - 1.5, 3*rng.Float64() - 1.5, 3*rng.Float64() - 1.5}
		q := mgl64.Vec3{3*rng.Float64() - 1.5, 3*rng.Float64() - 1.5, 3*rng.Float64() - 1.5}
		switch i % 3 {
		case 0:
			add(p, p, q)
		case 1:
			add(p, p.Add(q).Mul(0.5), q)
		case 2:
			add(p, p, p)
		}
	}
	// A cluster of identical point triangles (all centres coincide).
	for i := 0; i < 50; i++ {
		add(mgl64.Vec3{2, 2, 2}, mgl64.Vec3{2, 2, 2}, mgl64.Vec3{2, 2, 2})
	}
	// Degenerate triangles reusing the sphere's own vertices.
	for k := int32(0); k < 30; k++ {
		idx = append(idx, k, k, k+1)
	}
	return testMesh{"degenerate", pos, idx}
}

func testMeshes() []testMesh {
	var ms []testMesh
	p, i := meshgen.Icosphere(4, 0.5, mgl64.Vec3{0, 0.5, 0}, 0.1)
	ms = append(ms, testMesh{"icosphere", p, i})
	rng := geom.NewRNG(5, 0, 0, 0)
	p, i = meshgen.RandomSoup(3000, &rng)
	ms = append(ms, testMesh{"soup", p, i})
	ms = append(ms, withDegenerates())
	p, i = meshgen.Merge(meshgen.Of(meshgen.Torus(1, 0.3, 40, 20)), meshgen.Of(meshgen.Box(mgl64.Vec3{-2, -1, -2}, mgl64.Vec3{2, -0.5, 2})))
	ms = append(ms, testMesh{"torus+box", p, i})
	return ms
}

func TestIntersectMatchesBruteForce(t *testing.T) {
	n := 4000
	if testing.Short() {
		n = 1000
	}
	for _, m := range testMeshes() {
		for _, leaf := range []int{1, 4, 11} {
			b, err := Build(m.pos, m.idx, Options{MaxLeafSize: leaf})
			if err != nil {
				t.Fatal(err)
			}
			checkInvariants(t, b, leaf)
			rays := testRays(m.pos, m.idx, n, uint64(leaf))
			if hits := checkAgainstBruteForce(t, m.name, b, m.pos, m.idx, rays); hits < n/4 {
				t.Errorf("%s: only %d of %d rays hit; the test rays miss too often to test much", m.name, hits, n)
			}
		}
	}
}

// TestPlanarMesh builds over a mesh whose triangles all lie in y = 0 (every
// box is flat) and traces rays lying in the plane, which must miss (the
// watertight test never hits a triangle edge-on), parallel to it just above,
// and oblique to it.
func TestPlanarMesh(t *testing.T) {
	pos, idx := meshgen.Plane(60, 45, 2)
	b, err := Build(pos, idx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, b, DefaultMaxLeafSize)
	if bb := b.Bounds(); bb.Min[1] != 0 || bb.Max[1] != 0 {
		t.Fatalf("bounds %v not flat", bb)
	}
	rng := geom.NewRNG(3, 0, 0, 0)
	var rays []geom.Ray
	for i := 0; i < 3000; i++ {
		o := mgl64.Vec3{3*rng.Float64() - 1.5, 0, 3*rng.Float64() - 1.5}
		phi := 2 * math.Pi * rng.Float64()
		inPlane := mgl64.Vec3{math.Cos(phi), 0, math.Sin(phi)}
		switch i % 3 {
		case 0: // in the plane
			rays = append(rays, geom.Ray{O: o, D: inPlane, TMax: math.Inf(1)})
		case 1: // parallel, just above
			o[1] = 1e-9
			rays = append(rays, geom.Ray{O: o, D: inPlane, TMax: math.Inf(1)})
		case 2: // oblique, from above or below, half aimed at the mesh
			o[1] = 2*rng.Float64() - 1
			d := geom.SquareToUniformSphere(mgl64.Vec2{rng.Float64(), rng.Float64()})
			if i%2 == 0 {
				d = mgl64.Vec3{2*rng.Float64() - 1, 0, 2*rng.Float64() - 1}.Sub(o)
			}
			if d[1]*o[1] > 0 {
				d[1] = -d[1]
			}
			rays = append(rays, geom.Ray{O: o, D: d, TMax: math.Inf(1)})
		}
	}
	hits := checkAgainstBruteForce(t, "plane", b, pos, idx, rays)
	if hits < 600 {
		t.Errorf("only %d of 1000 oblique rays hit", hits)
	}
	for i := 0; i < len(rays); i += 3 {
		if _, ok := b.Intersect(rays[i]); ok {
			t.Fatalf("ray %+v in the plane of the mesh hits it", rays[i])
		}
	}
}

func TestRefitMatchesBruteForce(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 800
	}
	for _, m := range testMeshes() {
		b, err := Build(m.pos, m.idx, Options{})
		if err != nil {
			t.Fatal(err)
		}
		rng := geom.NewRNG(17, 0, 0, 0)
		moved := make([]mgl64.Vec3, len(m.pos))
		for i, p := range m.pos {
			// A smooth deformation plus a random jitter.
			j := mgl64.Vec3{rng.Float64() - 0.5, rng.Float64() - 0.5, rng.Float64() - 0.5}.Mul(0.05)
			moved[i] = mgl64.Vec3{p[0] + 0.3*math.Sin(2*p[1]), 1.2 * p[1], p[2] - 0.2*p[0]}.Add(j)
		}
		if err := b.Refit(moved); err != nil {
			t.Fatal(err)
		}
		checkInvariants(t, b, DefaultMaxLeafSize)
		rays := testRays(moved, m.idx, n, 99)
		checkAgainstBruteForce(t, m.name+" refit", b, moved, m.idx, rays)
		// The bounds follow the vertices.
		want := geom.EmptyAABB()
		for _, k := range m.idx {
			want = want.Extend(moved[k])
		}
		if b.Bounds() != want {
			t.Errorf("%s: bounds after refit %v, want %v", m.name, b.Bounds(), want)
		}
	}
}

// TestRefitSameIsBuild checks that refitting to the build positions gives
// back exactly the built nodes and SAH cost.
func TestRefitSameIsBuild(t *testing.T) {
	m := withDegenerates()
	b, err := Build(m.pos, m.idx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	nodes := slices.Clone(b.nodes)
	cost := b.SAHCost()
	if err := b.Refit(m.pos); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(nodes, b.nodes) {
		t.Error("refit to the same positions changed the nodes")
	}
	if b.SAHCost() != cost || b.BuildSAHCost() != cost || b.NeedsRebuild() {
		t.Errorf("SAH cost %g after refit, %g at build; NeedsRebuild %v", b.SAHCost(), cost, b.NeedsRebuild())
	}
}

func TestNeedsRebuild(t *testing.T) {
	pos, idx := meshgen.Icosphere(4, 1, mgl64.Vec3{}, 0)
	b, err := Build(pos, idx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	base := b.SAHCost()
	if !(base > 0) || math.IsInf(base, 0) {
		t.Fatalf("SAH cost %g", base)
	}
	// A rigid motion and a uniform scaling keep the tree as good as it was.
	moved := make([]mgl64.Vec3, len(pos))
	for i, p := range pos {
		moved[i] = p.Mul(3).Add(mgl64.Vec3{5, -2, 1})
	}
	if err := b.Refit(moved); err != nil {
		t.Fatal(err)
	}
	if r := b.SAHCost() / base; math.Abs(r-1) > 1e-6 || b.NeedsRebuild() {
		t.Errorf("scaled and moved: cost ratio %g, NeedsRebuild %v; want 1, false", r, b.NeedsRebuild())
	}
	// A small jitter (a tenth of an edge length) degrades the tree a little.
	rng := geom.NewRNG(23, 0, 0, 0)
	jittered := slices.Clone(pos)
	for i := range jittered {
		jittered[i] = jittered[i].Add(mgl64.Vec3{rng.Float64() - 0.5, rng.Float64() - 0.5, rng.Float64() - 0.5}.Mul(0.008))
	}
	if err := b.Refit(jittered); err != nil {
		t.Fatal(err)
	}
	prev := b.SAHCost() / base
	t.Logf("jittered: SAH cost ratio %.3f, NeedsRebuild %v", prev, b.NeedsRebuild())
	if prev <= 1 || b.NeedsRebuild() {
		t.Errorf("jittered: cost ratio %g, NeedsRebuild %v; want in (1, %g]", prev, b.NeedsRebuild(), RebuildRatio)
	}
	// Scrambling more and more vertices (swapping them with random others)
	// makes the refitted boxes overlap more and more.
	scrambled := slices.Clone(jittered)
	for step, frac := range []float64{0.001, 0.01, 0.05, 0.2, 1} {
		for i := 0; i < int(frac*float64(len(pos))); i++ {
			a, c := rng.Intn(len(pos)), rng.Intn(len(pos))
			scrambled[a], scrambled[c] = scrambled[c], scrambled[a]
		}
		if err := b.Refit(scrambled); err != nil {
			t.Fatal(err)
		}
		r := b.SAHCost() / base
		t.Logf("scrambled %.1f%% of the vertices: SAH cost ratio %.3f, NeedsRebuild %v", 100*frac, r, b.NeedsRebuild())
		if r <= prev {
			t.Errorf("step %d: cost ratio %g did not grow from %g", step, r, prev)
		}
		if b.NeedsRebuild() != (r > RebuildRatio) {
			t.Errorf("NeedsRebuild %v with ratio %g", b.NeedsRebuild(), r)
		}
		prev = r
	}
	if !b.NeedsRebuild() {
		t.Errorf("fully scrambled mesh (ratio %g) does not need a rebuild", prev)
	}

	// Moving every triangle of a soup somewhere else: the refitted tree is
	// poor, a fresh build over the new positions is as good as the first.
	rng = geom.NewRNG(29, 0, 0, 0)
	smallSoup := func() ([]mgl64.Vec3, []int32) {
		p, i := meshgen.RandomSoup(5000, &rng)
		for k := 0; k < len(p); k += 3 { // shrink each triangle to 2% of its size
			p[k+1] = p[k].Add(p[k+1].Sub(p[k]).Mul(0.02))
			p[k+2] = p[k].Add(p[k+2].Sub(p[k]).Mul(0.02))
		}
		return p, i
	}
	soup, sidx := smallSoup()
	sb, err := Build(soup, sidx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	soup2, _ := smallSoup()
	if err := sb.Refit(soup2); err != nil {
		t.Fatal(err)
	}
	nb, err := Build(soup2, sidx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("soup: built %.2f, refitted to new positions %.2f, rebuilt %.2f", sb.BuildSAHCost(), sb.SAHCost(), nb.SAHCost())
	if !sb.NeedsRebuild() || nb.SAHCost() >= sb.SAHCost()/RebuildRatio || math.Abs(nb.SAHCost()/sb.BuildSAHCost()-1) > 0.1 {
		t.Errorf("soup: built %g, refitted %g (NeedsRebuild %v), rebuilt %g", sb.BuildSAHCost(), sb.SAHCost(), sb.NeedsRebuild(), nb.SAHCost())
	}
}

func TestDeterministicAcrossWorkers(t *testing.T) {
	subdiv := 6 // 81,920 triangles: parallel binning at the root
	if testing.Short() {
		subdiv = 5
	}
	pos, idx := meshgen.Icosphere(subdiv, 0.5, mgl64.Vec3{0, 0.55, 0}, 0.08)
	pos, idx = meshgen.Merge(meshgen.Of(pos, idx),
		meshgen.Of(meshgen.Quad(mgl64.Vec3{-3, 0, 3}, mgl64.Vec3{3, 0, 3}, mgl64.Vec3{3, 0, -3}, mgl64.Vec3{-3, 0, -3})))
	var ref *BVH
	for _, w := range []int{1, 2, 3, 4} {
		b, err := Build(pos, idx, Options{Workers: w})
		if err != nil {
			t.Fatal(err)
		}
		if ref == nil {
			ref = b
			checkInvariants(t, b, DefaultMaxLeafSize)
			continue
		}
		if !slices.Equal(ref.nodes, b.nodes) || !slices.Equal(ref.triID, b.triID) || ref.SAHCost() != b.SAHCost() {
			t.Errorf("Workers %d builds a different tree than Workers 1", w)
		}
	}
}

func TestZeroAllocs(t *testing.T) {
	pos, idx := meshgen.Icosphere(3, 1, mgl64.Vec3{}, 0)
	b, err := Build(pos, idx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rays := testRays(pos, idx, 64, 1)
	i := 0
	var sink float64
	if a := testing.AllocsPerRun(200, func() {
		h, _ := b.Intersect(rays[i%len(rays)])
		sink += h.T
		i++
	}); a != 0 {
		t.Errorf("Intersect: %g allocations per ray", a)
	}
	if a := testing.AllocsPerRun(200, func() {
		if b.Occluded(rays[i%len(rays)]) {
			sink++
		}
		i++
	}); a != 0 {
		t.Errorf("Occluded: %g allocations per ray", a)
	}
	_ = sink
}

func TestEmptyAndInvalidRays(t *testing.T) {
	b, err := Build(nil, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := geom.Ray{O: mgl64.Vec3{0, 0, -1}, D: mgl64.Vec3{0, 0, 1}, TMax: math.Inf(1)}
	if _, ok := b.Intersect(r); ok || b.Occluded(r) || b.NumNodes() != 0 || b.NumTriangles() != 0 || !b.Bounds().IsEmpty() {
		t.Error("empty BVH is not empty")
	}
	if err := b.Refit(nil); err != nil || b.NeedsRebuild() || b.SAHCost() != 0 {
		t.Errorf("empty refit: %v, cost %g", err, b.SAHCost())
	}

	pos, idx := meshgen.Quad(mgl64.Vec3{-1, -1, 0}, mgl64.Vec3{1, -1, 0}, mgl64.Vec3{1, 1, 0}, mgl64.Vec3{-1, 1, 0})
	b, err = Build(pos, idx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if h, ok := b.Intersect(r); !ok || h.T != 1 {
		t.Fatalf("ray through the quad: %+v %v", h, ok)
	}
	nan, inf := math.NaN(), math.Inf(1)
	for _, bad := range []geom.Ray{
		{O: r.O, D: mgl64.Vec3{}, TMax: inf},
		{O: mgl64.Vec3{nan, 0, -1}, D: r.D, TMax: inf},
		{O: r.O, D: mgl64.Vec3{0, nan, 1}, TMax: inf},
		{O: r.O, D: mgl64.Vec3{0, 0, inf}, TMax: inf},
		{O: mgl64.Vec3{0, 0, -inf}, D: r.D, TMax: inf},
		{O: r.O, D: r.D, TMin: nan, TMax: inf},
		{O: r.O, D: r.D, TMin: 0, TMax: nan},
		{O: r.O, D: r.D, TMin: 2, TMax: 1},
		{O: r.O, D: r.D, TMin: 1, TMax: 1},
	} {
		if h, ok := b.Intersect(bad); ok || b.Occluded(bad) {
			t.Errorf("invalid ray %+v hits: %+v", bad, h)
		}
	}
	// Denormal and zero direction components (infinite inverse).
	for _, d := range []mgl64.Vec3{{0, 0, 1}, {5e-324, 0, 1}, {-5e-324, 1e-320, 1}, {0, -0.0, 1}} {
		rr := geom.Ray{O: mgl64.Vec3{1, 0, -1}, D: d, TMax: inf} // along the quad's edge x = 1
		want, wantOK := bruteForce(pos, idx, rr)
		got, ok := b.Intersect(rr)
		if ok != wantOK || got != want || b.Occluded(rr) != wantOK {
			t.Errorf("ray %+v: %+v %v, brute force %+v %v", rr, got, ok, want, wantOK)
		}
	}
}

// TestDeepTree feeds triangles whose sizes and positions shrink
// geometrically, so that SAH peels off one triangle per level, and checks
// the depth limit keeps traversal within its stack.
func TestDeepTree(t *testing.T) {
	var pos []mgl64.Vec3
	var idx []int32
	for k := 0; k < 400; k++ {
		s := math.Ldexp(1, -k)
		base := int32(len(pos))
		pos = append(pos, mgl64.Vec3{s, 0, 0}, mgl64.Vec3{s * 1.5, 0, 0}, mgl64.Vec3{s, s * 0.5, 0.1})
		idx = append(idx, base, base+1, base+2)
	}
	b, err := Build(pos, idx, Options{MaxLeafSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	// Without the limit the binary tree would be 400 levels deep.
	if d := checkInvariants(t, b, 1); d <= sahDepthLimit/2 {
		t.Errorf("depth %d: the test does not reach the SAH depth limit %d", d, sahDepthLimit)
	} else {
		t.Logf("depth %d", d)
	}
	rays := testRays(pos, idx, 2000, 4)
	checkAgainstBruteForce(t, "deep", b, pos, idx, rays)
}

func TestCoincidentTriangles(t *testing.T) {
	// 1000 copies of one triangle: no split separates them, so the builder
	// halves ranges until leaves fit.
	var pos []mgl64.Vec3
	var idx []int32
	for k := 0; k < 1000; k++ {
		base := int32(len(pos))
		pos = append(pos, mgl64.Vec3{0, 0, 0}, mgl64.Vec3{1, 0, 0}, mgl64.Vec3{0, 1, 0})
		idx = append(idx, base, base+1, base+2)
	}
	b, err := Build(pos, idx, Options{MaxLeafSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, b, 3)
	h, ok := b.Intersect(geom.Ray{O: mgl64.Vec3{0.2, 0.2, 1}, D: mgl64.Vec3{0, 0, -1}, TMax: math.Inf(1)})
	if !ok || h.T != 1 || h.Tri < 0 || h.Tri >= 1000 {
		t.Errorf("hit %+v %v", h, ok)
	}
}

func TestBadInput(t *testing.T) {
	pos, idx := meshgen.Box(mgl64.Vec3{}, mgl64.Vec3{1, 1, 1})
	nan, inf := math.NaN(), math.Inf(1)
	withPos := func(i int, p mgl64.Vec3) []mgl64.Vec3 {
		q := slices.Clone(pos)
		q[i] = p
		return q
	}
	withIdx := func(k int, v int32) []int32 {
		j := slices.Clone(idx)
		j[k] = v
		return j
	}
	for _, c := range []struct {
		name string
		pos  []mgl64.Vec3
		idx  []int32
		opts Options
	}{
		{"index count", pos, idx[:len(idx)-1], Options{}},
		{"negative index", pos, withIdx(7, -1), Options{}},
		{"index too large", pos, withIdx(35, 8), Options{}},
		{"indices without positions", nil, idx, Options{}},
		{"NaN position", withPos(3, mgl64.Vec3{0, nan, 0}), idx, Options{}},
		{"infinite position", withPos(0, mgl64.Vec3{0, 0, -inf}), idx, Options{}},
		{"unused NaN position", append(slices.Clone(pos), mgl64.Vec3{nan, nan, nan}), idx, Options{}},
		{"negative leaf size", pos, idx, Options{MaxLeafSize: -1}},
		{"huge leaf size", pos, idx, Options{MaxLeafSize: MaxLeafSizeLimit + 1}},
		{"negative workers", pos, idx, Options{Workers: -2}},
	} {
		b, err := Build(c.pos, c.idx, c.opts)
		if err == nil || b != nil {
			t.Errorf("%s: Build = %v, %v; want an error", c.name, b, err)
		} else {
			t.Logf("%s: %v", c.name, err)
		}
	}

	b, err := Build(pos, idx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	nodes := slices.Clone(b.nodes)
	tris := slices.Clone(b.tris)
	if err := b.Refit(pos[:7]); !errors.Is(err, ErrVertexCount) {
		t.Errorf("Refit with 7 of 8 positions: %v", err)
	}
	if err := b.Refit(withPos(5, mgl64.Vec3{inf, 0, 0})); err == nil {
		t.Error("Refit with an infinite position succeeded")
	}
	if err := b.Refit(withPos(2, mgl64.Vec3{0, 0, nan})); err == nil {
		t.Error("Refit with a NaN position succeeded")
	}
	if !slices.Equal(nodes, b.nodes) || !slices.Equal(tris, b.tris) {
		t.Error("a failed Refit changed the BVH")
	}
}

// TestInputCopied checks that the BVH does not alias the caller's slices.
func TestInputCopied(t *testing.T) {
	pos, idx := meshgen.Box(mgl64.Vec3{}, mgl64.Vec3{1, 1, 1})
	b, err := Build(pos, idx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := geom.Ray{O: mgl64.Vec3{0.5, 0.5, -1}, D: mgl64.Vec3{0, 0, 1}, TMax: math.Inf(1)}
	before, _ := b.Intersect(r)
	for i := range pos {
		pos[i] = mgl64.Vec3{9, 9, 9}
	}
	for i := range idx {
		idx[i] = 0
	}
	after, ok := b.Intersect(r)
	if !ok || after != before {
		t.Errorf("hit changed from %+v to %+v after the input slices changed", before, after)
	}
}

// TestInlineTriangleTest checks that the triangle test written out in the
// traversal gives exactly the bits of geom.WatertightRay.Intersect, on
// random, sliver, zero-area and axis-aligned triangles, with rays aimed at
// their vertices and edges and ranges that end near the hit.
func TestInlineTriangleTest(t *testing.T) {
	pos := []mgl64.Vec3{{0, 0, 0}, {1, 0, 0}, {0, 1, 0}}
	b, err := Build(pos, []int32{0, 1, 2}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rng := geom.NewRNG(31, 0, 0, 0)
	rnd := func() mgl64.Vec3 {
		return mgl64.Vec3{2*rng.Float64() - 1, 2*rng.Float64() - 1, 2*rng.Float64() - 1}
	}
	n := 60000
	if testing.Short() {
		n = 10000
	}
	hits := 0
	for i := 0; i < n; i++ {
		p0, p1, p2 := rnd(), rnd(), rnd()
		switch i % 6 {
		case 1: // collinear
			p2 = p0.Add(p1.Sub(p0).Mul(2*rng.Float64() - 0.5))
		case 2: // repeated vertex
			p1 = p0
		case 3: // axis-aligned, in z = const
			p1[2], p2[2] = p0[2], p0[2]
		case 4: // sliver
			p2 = p0.Add(p1.Sub(p0).Mul(rng.Float64())).Add(rnd().Mul(1e-9))
		}
		pos = []mgl64.Vec3{p0, p1, p2}
		if err := b.Refit(pos); err != nil {
			t.Fatal(err)
		}
		o := rnd().Mul(3)
		// Aim at a vertex, an edge point or an interior point.
		var target mgl64.Vec3
		switch i % 3 {
		case 0:
			target = pos[rng.Intn(3)]
		case 1:
			a, c := pos[rng.Intn(3)], pos[rng.Intn(3)]
			target = a.Add(c.Sub(a).Mul(rng.Float64()))
		default:
			b1, b2 := geom.SquareToUniformTriangle(mgl64.Vec2{rng.Float64(), rng.Float64()})
			target = p0.Mul(1 - b1 - b2).Add(p1.Mul(b1)).Add(p2.Mul(b2))
		}
		d := target.Sub(o)
		if i%7 == 0 {
			d = mgl64.Vec3{0, 0, d[2]} // axis-parallel
		}
		if d.Len() == 0 {
			continue
		}
		r := geom.Ray{O: o, D: d, TMin: 0, TMax: math.Inf(1)}
		switch i % 4 {
		case 1:
			r.TMax = 1 // the hit is at t = 1 up to rounding
		case 2:
			r.TMin = 1
		case 3:
			r.TMin, r.TMax = 0.5, 1.5
		}
		wt, wb1, wb2, wok := geom.IntersectTriangle(r, p0, p1, p2)
		h, ok := b.Intersect(r)
		if ok != wok || (ok && (h.T != wt || h.B1 != wb1 || h.B2 != wb2 || h.Tri != 0)) {
			t.Fatalf("case %d: triangle %v %v %v, ray %+v: BVH %+v %v, geom %v %v %v %v", i, p0, p1, p2, r, h, ok, wt, wb1, wb2, wok)
		}
		if b.Occluded(r) != wok {
			t.Fatalf("case %d: Occluded disagrees with geom (%v)", i, wok)
		}
		if ok {
			hits++
		}
	}
	t.Logf("%d cases, %d hits", n, hits)
}

// TestStackRestart checks the restart with a deep stack. The triangles are
// the lower-left halves (x + y <= 0) of the square [-1, 1]^2 at z = 2^-k
// (and, mirrored, at z = -2^-k): their boxes differ only along z, where they
// crowd towards 0, so the tree peels them off one by one and is deep; a ray
// parallel to the z axis through (0.5, 0.5) enters every box and hits no
// triangle, so the traversal overflows the short stack; a ray through
// (-0.5, -0.5) hits them all.
func TestStackRestart(t *testing.T) {
	var items [shortStack]uint64
	var ts [shortStack]int64
	overflows := map[bool]int{}
	for _, sign := range []float64{1, -1} {
		var pos []mgl64.Vec3
		var idx []int32
		for k := 0; k < 300; k++ {
			z := sign * math.Ldexp(1, -k)
			base := int32(len(pos))
			pos = append(pos, mgl64.Vec3{-1, -1, z}, mgl64.Vec3{1, -1, z}, mgl64.Vec3{-1, 1, z})
			idx = append(idx, base, base+1, base+2)
		}
		b, err := Build(pos, idx, Options{MaxLeafSize: 1})
		if err != nil {
			t.Fatal(err)
		}
		checkInvariants(t, b, 1)
		rays := []geom.Ray{
			{O: mgl64.Vec3{0.5, 0.5, -2}, D: mgl64.Vec3{0, 0, 1}, TMax: math.Inf(1)},
			{O: mgl64.Vec3{0.5, 0.5, 2}, D: mgl64.Vec3{0, 0, -1}, TMax: math.Inf(1)},
			{O: mgl64.Vec3{-0.5, -0.5, -2}, D: mgl64.Vec3{0, 0, 1}, TMax: math.Inf(1)},
			{O: mgl64.Vec3{-0.5, -0.5, 2}, D: mgl64.Vec3{0, 0, -1}, TMax: 1.9},
		}
		for _, anyHit := range []bool{false, true} {
			for i := range rays[:2] {
				var q query
				q.init(&rays[i])
				if b.walk(&q, anyHit, items[:], ts[:]) {
					overflows[anyHit]++
				}
			}
		}
		// Closest hits restart with the hit found before the overflow:
		// force overflows with a tiny stack.
		restarts := 0
		for i, r := range rays {
			var q query
			q.init(&r)
			if b.walk(&q, false, items[:4], ts[:4]) {
				restarts++
				b.walkDeep(&q, false)
			}
			want, wantOK := bruteForce(pos, idx, r)
			if q.found != wantOK || (q.found && (q.hit.T != want.T || q.hit.Tri != want.Tri)) {
				t.Fatalf("ray %d: restarted traversal found %+v %v, brute force %+v %v", i, q.hit, q.found, want, wantOK)
			}
		}
		if restarts < 2 {
			t.Fatalf("only %d rays overflowed a 4-entry stack", restarts)
		}
		checkAgainstBruteForce(t, "restart", b, pos, idx, rays)
		var sink float64
		if a := testing.AllocsPerRun(20, func() {
			h, _ := b.Intersect(rays[0])
			sink += h.T
			if b.Occluded(rays[1]) {
				sink++
			}
		}); a != 0 {
			t.Errorf("restart allocates %g times per ray", a)
		}
	}
	if overflows[false] == 0 || overflows[true] == 0 {
		t.Fatalf("short-stack overflows: %v; the test does not exercise the restart of both queries", overflows)
	}
}

// TestExtremeMeshes builds over meshes whose bounds have no area (every
// triangle collapsed onto one point or one segment) and over coordinates
// beyond the float32 range: the SAH cost must be a number and queries must
// agree with brute force.
func TestExtremeMeshes(t *testing.T) {
	point := []mgl64.Vec3{{1, 2, 3}}
	segment := []mgl64.Vec3{{0, 0, 0}, {1, 0, 0}, {2, 0, 0}, {3, 0, 0}}
	huge := []mgl64.Vec3{{-1e39, -1e39, 0}, {1e39, -1e39, 0}, {0, 1e39, 0}, {0, 0, 1e39}}
	for _, c := range []struct {
		name string
		pos  []mgl64.Vec3
		idx  []int32
	}{
		{"point", point, []int32{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
		{"segment", segment, []int32{0, 1, 2, 1, 2, 3, 0, 3, 1, 2, 0, 3, 3, 2, 1, 0, 1, 1}},
		{"huge", huge, []int32{0, 1, 2, 0, 1, 3, 1, 2, 3, 2, 0, 3}},
	} {
		b, err := Build(c.pos, c.idx, Options{MaxLeafSize: 2})
		if err != nil {
			t.Fatal(err)
		}
		checkInvariants(t, b, 2)
		if cost := b.SAHCost(); math.IsNaN(cost) || math.IsInf(cost, 0) || cost < 0 {
			t.Errorf("%s: SAH cost %g", c.name, cost)
		}
		rays := testRays(c.pos, c.idx, 500, 7)
		checkAgainstBruteForce(t, c.name, b, c.pos, c.idx, rays)
		if err := b.Refit(c.pos); err != nil || b.NeedsRebuild() {
			t.Errorf("%s: refit %v, NeedsRebuild %v", c.name, err, b.NeedsRebuild())
		}
	}
}

// TestConcurrentQueries runs queries from several goroutines at once (run
// with -race to check that they only read) and compares with serial ones.
func TestConcurrentQueries(t *testing.T) {
	pos, idx := meshgen.Icosphere(4, 0.5, mgl64.Vec3{0, 0.5, 0}, 0.1)
	b, err := Build(pos, idx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rays := testRays(pos, idx, 2000, 13)
	want := make([]Hit, len(rays))
	for i, r := range rays {
		want[i], _ = b.Intersect(r)
	}
	const g = 4
	errs := make(chan string, g)
	for k := 0; k < g; k++ {
		go func() {
			for i := k; i < len(rays); i += g {
				h, ok := b.Intersect(rays[i])
				if h != want[i] || ok != b.Occluded(rays[i]) {
					errs <- fmt.Sprintf("ray %d: concurrent %+v %v, serial %+v", i, h, ok, want[i])
					return
				}
			}
			errs <- ""
		}()
	}
	for k := 0; k < g; k++ {
		if e := <-errs; e != "" {
			t.Error(e)
		}
	}
}

// FuzzBuild feeds arbitrary vertex and index data to Build, and rays to the
// queries: errors are fine, panics are not, and closest hits must match
// brute force.
func FuzzBuild(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, uint8(3), uint8(4))
	f.Add([]byte{255, 255, 0, 0, 128, 7, 7, 7, 1, 2}, uint8(1), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, nv, leaf uint8) {
		// Vertices from pairs of bytes (occasionally NaN or infinite),
		// indices from the rest (occasionally out of range).
		var pos []mgl64.Vec3
		k := 0
		next := func() byte {
			if len(data) == 0 {
				return 0
			}
			v := data[k%len(data)]
			k++
			return v
		}
		for i := 0; i < int(nv%16); i++ {
			var p mgl64.Vec3
			for a := 0; a < 3; a++ {
				switch v := next(); v {
				case 255:
					p[a] = math.NaN()
				case 254:
					p[a] = math.Inf(1)
				default:
					p[a] = float64(int(v)-128) / 16
				}
			}
			pos = append(pos, p)
		}
		var idx []int32
		for i := 0; i < len(data); i++ {
			idx = append(idx, int32(next()%(nv%16+2))-1)
		}
		b, err := Build(pos, idx, Options{MaxLeafSize: int(leaf % 8)})
		if err != nil {
			return
		}
		rays := testRays(pos, idx, 64, uint64(len(data)))
		for _, r := range rays {
			want, wantOK := bruteForce(pos, idx, r)
			got, ok := b.Intersect(r)
			// Hits at a vertex or an edge shared by two triangles may
			// differ in the last bit of t; the order in which the two are
			// tested then decides (see checkAgainstBruteForce).
			if ok != wantOK || b.Occluded(r) != wantOK || (ok && math.Abs(got.T-want.T) > 1e-12*math.Max(1, math.Abs(want.T))) {
				t.Fatalf("ray %+v: BVH %+v %v, brute force %+v %v", r, got, ok, want, wantOK)
			}
		}
	})
}
