package render

import (
	"github.com/go-gl/mathgl/mgl64"
)

// FovAxis says which extent of the film the field of view spans, with
// Mitsuba's names.
type FovAxis uint8

const (
	// FovX: the horizontal extent (Mitsuba's default).
	FovX FovAxis = iota
	// FovY: the vertical extent.
	FovY
	// FovDiagonal: the film's diagonal.
	FovDiagonal
	// FovSmaller: the smaller of width and height.
	FovSmaller
	// FovLarger: the larger of width and height.
	FovLarger
)

// String returns Mitsuba's name of the axis.
func (a FovAxis) String() string {
	return [...]string{"x", "y", "diagonal", "smaller", "larger"}[a]
}

// FilterKind is a reconstruction filter.
type FilterKind uint8

const (
	// FilterBox is a box of radius 0.5 pixel (the default).
	FilterBox FilterKind = iota
	// FilterTent is a tent of radius Radius (Mitsuba default 1).
	FilterTent
	// FilterGaussian is a Gaussian of standard deviation Stddev (Mitsuba
	// default 0.5) truncated at Radius (default 4*Stddev).
	FilterGaussian
)

// String returns Mitsuba's name of the filter.
func (k FilterKind) String() string {
	return [...]string{"box", "tent", "gaussian"}[k]
}

// Filter is a pixel reconstruction filter. The renderer importance-samples
// it (filter importance sampling), so each sample lands in one pixel and the
// pixel value is the filter-weighted mean of radiance around its centre.
type Filter struct {
	Kind   FilterKind
	Radius float64 // pixels; 0 means the kind's default
	Stddev float64 // Gaussian only; 0 means 0.5
}

// Sensor is a perspective pinhole camera with its film and sampler, as
// Mitsuba groups them. The camera sits at Origin and looks at Target with Up
// as the up direction; Mitsuba's camera space has +x to the left, +y up and
// +z forward, and image rows run from the top.
type Sensor struct {
	Name string

	Origin, Target, Up mgl64.Vec3
	// Fov is the full field of view in degrees along FovAxis.
	Fov      float64
	FovAxis  FovAxis
	NearClip float64
	FarClip  float64

	Width, Height int
	Filter        Filter

	// SPP is the sample count per pixel and Seed the sampler's seed.
	SPP  int
	Seed uint64
}

// IntegratorKind selects the light transport algorithm.
type IntegratorKind uint8

const (
	// PathIntegrator is unidirectional path tracing with next-event
	// estimation and multiple importance sampling (Mitsuba's "path").
	PathIntegrator IntegratorKind = iota
	// DirectIntegrator computes direct illumination only (Mitsuba's "direct").
	DirectIntegrator
)

// Integrator holds the light transport settings. MaxDepth counts path
// segments as Mitsuba does: 1 shows emitters only, 2 direct light, -1 is
// unbounded. Russian roulette starts at RRDepth (Mitsuba default 5).
type Integrator struct {
	Kind         IntegratorKind
	MaxDepth     int
	RRDepth      int
	HideEmitters bool
}

// MaterialKind is the family of a BSDF.
type MaterialKind uint8

const (
	// Diffuse is a Lambertian reflector ("diffuse").
	Diffuse MaterialKind = iota
	// Plastic is a diffuse base under a dielectric coating with GGX
	// roughness Alpha ("roughplastic"; Alpha == 0 is the smooth "plastic").
	Plastic
	// Conductor is a GGX metal with complex index of refraction Eta + iK
	// ("roughconductor"; Alpha == 0 is the smooth "conductor").
	Conductor
)

// String returns the Mitsuba plugin name of the kind.
func (k MaterialKind) String() string {
	return [...]string{"diffuse", "roughplastic", "roughconductor"}[k]
}

// Material describes a surface's BSDF. Like Mitsuba's BSDFs it is one-sided
// (black from behind the shading normal) unless TwoSided is set.
type Material struct {
	// Name is the id used in parameter names ("objmat.reflectance.value").
	Name     string
	Kind     MaterialKind
	TwoSided bool

	// Reflectance is the diffuse albedo (Diffuse) or the diffuse base
	// (Plastic's diffuse_reflectance).
	Reflectance Texture
	// SpecularReflectance scales the specular lobe (Plastic, Conductor;
	// Mitsuba's specular_reflectance, default 1).
	SpecularReflectance Texture
	// Alpha is the GGX roughness (first channel); 0 means perfectly smooth.
	Alpha Texture

	// IntIOR and ExtIOR are the interior and exterior indices of refraction
	// of Plastic's coating (Mitsuba defaults 1.49 and 1.000277).
	IntIOR, ExtIOR float64
	// Nonlinear selects Mitsuba's nonlinear color shift of Plastic.
	Nonlinear bool

	// Eta and K are a Conductor's complex index of refraction per channel,
	// relative to ExtIOR.
	Eta, K mgl64.Vec3
}

// AreaEmitter makes a shape emit Radiance from the front side of each
// triangle (the side its counter-clockwise winding faces), as Mitsuba's
// one-sided "area" emitter.
type AreaEmitter struct {
	Radiance mgl64.Vec3
}

// Shape is a triangle mesh with a material and an optional area emitter.
// Indices holds three vertex indices per triangle; Normals (per vertex) and
// UVs are optional (nil when absent). Positions, normals and UVs are in world
// space.
type Shape struct {
	// Name is the shape's id ("object" in "object.vertex_positions").
	Name string

	Positions []mgl64.Vec3
	Normals   []mgl64.Vec3
	UVs       []mgl64.Vec2
	Indices   []int32

	// Material indexes Scene.Materials.
	Material int
	// Emitter is non-nil for area lights.
	Emitter *AreaEmitter
	// Degenerate flags zero-area triangles (set by the loaders and by Build);
	// the renderer never samples them as lights and ray tracing never hits
	// them.
	Degenerate []bool
}

// NumTriangles returns the number of triangles.
func (s *Shape) NumTriangles() int { return len(s.Indices) / 3 }

// LightKind is the type of a non-area light.
type LightKind uint8

const (
	// PointLight emits Intensity (W/sr) uniformly from Position.
	PointLight LightKind = iota
	// DirectionalLight arrives along Direction with irradiance Intensity.
	DirectionalLight
)

// Light is a point or directional light (Mitsuba "point", "directional").
type Light struct {
	Name      string
	Kind      LightKind
	Position  mgl64.Vec3
	Direction mgl64.Vec3 // direction of propagation (from the light), unit
	Intensity mgl64.Vec3
}

// Environment is light arriving from infinitely far away: a constant
// radiance, or an equirectangular (latitude-longitude) map Image scaled by
// Scale, rotated into the world by ToWorld (a pure rotation), as Mitsuba's
// "constant" and "envmap" emitters.
type Environment struct {
	Name     string
	Radiance mgl64.Vec3 // constant radiance when Image is nil
	Image    *Image
	Scale    float64
	ToWorld  mgl64.Mat3
}

// Scene is everything the renderer needs. Build it with a loader from the
// scenes package or by hand, then call Build before rendering.
type Scene struct {
	Sensors    []*Sensor
	Integrator Integrator
	Shapes     []*Shape
	Materials  []*Material
	Lights     []*Light
	Env        *Environment

	// Warnings collects what a loader could not honour exactly.
	Warnings []string

	acc *accel
}
