module github.com/invrender/invrender

go 1.26.8

require (
	github.com/ftrvxmtrx/tga v0.0.0-20150524081124-bd8e8d5be13a // indirect
	github.com/go-gl/mathgl v1.2.0 // indirect
	golang.org/x/image v0.48.0 // indirect
)
