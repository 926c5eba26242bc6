package render

// accel holds what Build derives from the scene: the flattened geometry,
// the BVH and the light sampling tables.
type accel struct{}
