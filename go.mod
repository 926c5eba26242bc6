module github.com/invrender/invrender

go 1.26.8

require github.com/go-gl/mathgl v1.2.0 // indirect
