package scenes

import "fmt"

// ParseError reports malformed input: the file, the line (0 when the format
// has no lines, as in binary data, where Offset says the byte) and what was
// wrong. Errors returned by loaders wrap it, so errors.As finds it.
type ParseError struct {
	File   string
	Line   int
	Offset int64
	Err    error
}

func (e *ParseError) Error() string {
	switch {
	case e.Line > 0:
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	case e.Offset > 0:
		return fmt.Sprintf("%s: byte %d: %v", e.File, e.Offset, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

// Unwrap returns the underlying error.
func (e *ParseError) Unwrap() error { return e.Err }

func errorf(file string, line int, format string, args ...any) error {
	return &ParseError{File: file, Line: line, Err: fmt.Errorf(format, args...)}
}
