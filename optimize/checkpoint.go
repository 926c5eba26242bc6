package optimize

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"

	"github.com/invrender/invrender/internal/atomicfile"
)

// CheckpointVersion is the version of the checkpoint format this package
// writes and the newest it reads.
const CheckpointVersion = 1

// checkpointFormat identifies checkpoint files.
const checkpointFormat = "invrender-optimize-checkpoint"

// Checkpoint is everything a run needs to continue exactly where it
// stopped: the iteration count, the parameters (and the variables of
// reparameterised blocks), the optimiser state with its block layout, the
// loss history, the caller's random seed and free-form strings (the scene
// path, the parameter names, ...).
//
// On disk it is a JSON object with "format":
// "invrender-optimize-checkpoint" and "version": 1. Numbers are written in
// the shortest form that reads back to the same float64, so a resumed run
// is bit-identical; parameters and moments must be finite, losses may be
// NaN or infinite (written as null, read back as NaN).
type Checkpoint struct {
	Iteration int               // completed iterations
	Seed      uint64            // the caller's seed, stored as given
	X         []float64         // parameters
	U         []float64         // optimiser variables when blocks are reparameterised, else nil
	Losses    []float64         // loss of every completed iteration
	Optimizer *State            // optimiser state and block layout
	Meta      map[string]string // free-form
}

// checkpointFile is the JSON layout.
type checkpointFile struct {
	Format    string            `json:"format"`
	Version   int               `json:"version"`
	Iteration int               `json:"iteration"`
	Seed      uint64            `json:"seed"`
	Meta      map[string]string `json:"meta,omitempty"`
	Losses    lossList          `json:"losses"`
	X         []float64         `json:"x"`
	U         []float64         `json:"u,omitempty"`
	Optimizer *State            `json:"optimizer"`
}

// lossList is a float list whose non-finite values travel as null.
type lossList []float64

// MarshalJSON writes the list with null for NaN and infinities.
func (l lossList) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, v := range l {
		if i > 0 {
			b.WriteByte(',')
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			b.WriteString("null")
			continue
		}
		b.Write(strconv.AppendFloat(nil, v, 'g', -1, 64))
	}
	b.WriteByte(']')
	return b.Bytes(), nil
}

// UnmarshalJSON reads the list, null as NaN.
func (l *lossList) UnmarshalJSON(data []byte) error {
	var raw []*float64
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	out := make([]float64, len(raw))
	for i, p := range raw {
		out[i] = math.NaN()
		if p != nil {
			out[i] = *p
		}
	}
	*l = out
	return nil
}

// Validate checks the checkpoint's consistency: a state whose blocks lie
// within X, moments of the blocks' lengths, finite parameters.
func (c *Checkpoint) Validate() error {
	if c.Iteration < 0 {
		return fmt.Errorf("optimize: checkpoint iteration %d is negative", c.Iteration)
	}
	if c.Optimizer == nil {
		return fmt.Errorf("optimize: checkpoint has no optimiser state")
	}
	if len(c.Losses) > c.Iteration {
		return fmt.Errorf("optimize: checkpoint at iteration %d has %d losses", c.Iteration, len(c.Losses))
	}
	st := c.Optimizer
	if st.Kind != "adam" && st.Kind != "adam-uniform" && st.Kind != "sgd" {
		return fmt.Errorf("optimize: checkpoint optimiser kind %q is unknown", st.Kind)
	}
	blocks := make([]Block, len(st.Blocks))
	for i, b := range st.Blocks {
		blocks[i] = b.Block
	}
	if err := ValidateBlocks(blocks, len(c.X)); err != nil {
		return fmt.Errorf("optimize: checkpoint layout: %w", err)
	}
	if err := st.check(st.Kind, blocks, st.Kind != "sgd"); err != nil {
		return fmt.Errorf("optimize: checkpoint: %w", err)
	}
	if c.U != nil && len(c.U) != len(c.X) {
		return fmt.Errorf("optimize: checkpoint has %d parameters but %d optimiser variables", len(c.X), len(c.U))
	}
	for _, v := range []struct {
		name string
		v    []float64
	}{{"x", c.X}, {"u", c.U}} {
		for i, f := range v.v {
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return fmt.Errorf("optimize: checkpoint %s[%d] is %g", v.name, i, f)
			}
		}
	}
	return nil
}

// SaveCheckpoint writes c to path atomically: a reader sees the previous
// file or the complete new one, never a torn write.
func SaveCheckpoint(path string, c *Checkpoint) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("%w (not saved to %s)", err, path)
	}
	f := checkpointFile{
		Format: checkpointFormat, Version: CheckpointVersion,
		Iteration: c.Iteration, Seed: c.Seed, Meta: c.Meta,
		Losses: lossList(c.Losses), X: c.X, U: c.U, Optimizer: c.Optimizer,
	}
	err := atomicfile.WriteFile(path, func(w io.Writer) error {
		return json.NewEncoder(w).Encode(&f)
	}, 0o644)
	if err != nil {
		return fmt.Errorf("optimize: saving checkpoint %s: %w", path, err)
	}
	return nil
}

// LoadCheckpoint reads a checkpoint written by SaveCheckpoint. Errors name
// the file: unreadable, not JSON (with the byte offset), not a checkpoint,
// a newer version, or inconsistent contents.
func LoadCheckpoint(path string) (*Checkpoint, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("optimize: loading checkpoint: %w", err)
	}
	c, err := decodeCheckpoint(data)
	if err != nil {
		return nil, fmt.Errorf("optimize: checkpoint %s: %w", path, err)
	}
	return c, nil
}

func decodeCheckpoint(data []byte) (*Checkpoint, error) {
	// Identify the file before decoding the body, so that a foreign JSON
	// file is reported as such rather than by a field type error.
	var head struct {
		Format  string `json:"format"`
		Version int    `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, jsonError(data, err)
	}
	if head.Format != checkpointFormat {
		return nil, fmt.Errorf("not an optimisation checkpoint (format %q, want %q)", head.Format, checkpointFormat)
	}
	if head.Version < 1 || head.Version > CheckpointVersion {
		return nil, fmt.Errorf("format version %d is not supported (this program reads 1 to %d)", head.Version, CheckpointVersion)
	}
	var f checkpointFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, jsonError(data, err)
	}
	c := &Checkpoint{Iteration: f.Iteration, Seed: f.Seed, X: f.X, U: f.U, Losses: f.Losses, Optimizer: f.Optimizer, Meta: f.Meta}
	if c.X == nil {
		c.X = []float64{}
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// jsonError turns a decoding error into a message with a byte offset.
func jsonError(data []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("corrupt JSON at byte %d of %d: %w", se.Offset, len(data), err)
	case errors.As(err, &te):
		return fmt.Errorf("field %q at byte %d: %w", te.Field, te.Offset, err)
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return fmt.Errorf("truncated after %d bytes: %w", len(data), err)
	}
	return err
}
