package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"

	"golang.org/x/term"
)

// command is one subcommand. Each lives in its own file and adds itself to
// the table with register from an init function.
type command struct {
	// Name is the word after "invrender".
	Name string
	// Summary is the one-line description in the command list.
	Summary string
	// Order places the command in the list (lower first; ties by name).
	Order int
	// Run parses args (everything after the command's name) and does the
	// work. It returns a *usageError for a wrong command line, errInterrupted
	// when the context was cancelled, and other errors for failures. For -h
	// it prints the usage to c.stdout and returns errHelp (exit status 0).
	Run func(c *cli, args []string) error
}

// commands is the subcommand table, filled by register.
var commands = map[string]*command{}

// register adds a subcommand to the table; a duplicate name is a bug.
func register(cmd *command) {
	if _, dup := commands[cmd.Name]; dup {
		panic("invrender: command " + cmd.Name + " registered twice")
	}
	commands[cmd.Name] = cmd
}

// sortedCommands returns the table in display order.
func sortedCommands() []*command {
	list := make([]*command, 0, len(commands))
	for _, c := range commands {
		list = append(list, c)
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].Order != list[j].Order {
			return list[i].Order < list[j].Order
		}
		return list[i].Name < list[j].Name
	})
	return list
}

// cli is what a subcommand runs with: where to write, whether stderr is a
// terminal (progress bars instead of progress lines) and the context that
// an interrupt cancels.
type cli struct {
	ctx      context.Context
	stdout   io.Writer
	stderr   io.Writer
	terminal bool
	// name is "invrender CMD", the prefix of messages.
	name string
}

// warnf prints a warning line to stderr.
func (c *cli) warnf(format string, args ...any) {
	fmt.Fprintf(c.stderr, "%s: warning: %s\n", c.name, fmt.Sprintf(format, args...))
}

// usageError is a mistake on the command line (exit status 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// usagef returns a *usageError.
func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// errInterrupted reports that the context was cancelled (Ctrl-C); the
// command has already said what it did not write.
var errInterrupted = errors.New("interrupted")

// Exit statuses.
const (
	exitOK          = 0
	exitFailure     = 1
	exitUsage       = 2
	exitInterrupted = 130 // 128 + SIGINT, as shells report it
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	go func() {
		// After the first Ctrl-C the default handling returns, so a second
		// one ends the program at once.
		<-ctx.Done()
		stop()
	}()
	terminal := term.IsTerminal(int(os.Stderr.Fd()))
	code := runContext(ctx, os.Args[1:], os.Stdout, os.Stderr, terminal)
	stop()
	os.Exit(code)
}

// run runs the command line args (without the program name) and returns
// the exit status; progress is written as plain lines.
func run(args []string, stdout, stderr io.Writer) int {
	return runContext(context.Background(), args, stdout, stderr, false)
}

// runContext is run with a context that cancels the work and a choice of
// progress display (terminal: a redrawn bar on stderr).
func runContext(ctx context.Context, args []string, stdout, stderr io.Writer, terminal bool) int {
	c := &cli{ctx: ctx, stdout: stdout, stderr: stderr, terminal: terminal, name: "invrender"}
	if len(args) == 0 {
		printMainUsage(stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if name == "help" && len(args) > 1 {
			cmd, ok := commands[args[1]]
			if !ok {
				fmt.Fprintf(stderr, "invrender help: unknown command %q\n", args[1])
				printCommandList(stderr)
				return exitUsage
			}
			c.name = "invrender " + cmd.Name
			return exitCode(c, cmd.Run(c, []string{"-h"}))
		}
		printMainUsage(stdout)
		return exitOK
	}
	cmd, ok := commands[name]
	if !ok {
		if strings.HasPrefix(name, "-") {
			fmt.Fprintf(stderr, "invrender: give a command before the flags (%s)\n", name)
		} else {
			fmt.Fprintf(stderr, "invrender: unknown command %q\n", name)
		}
		printCommandList(stderr)
		return exitUsage
	}
	c.name = "invrender " + cmd.Name
	return exitCode(c, cmd.Run(c, args[1:]))
}

// exitCode prints err (if any) and maps it to an exit status.
func exitCode(c *cli, err error) int {
	if err == nil {
		return exitOK
	}
	var ue *usageError
	switch {
	case errors.Is(err, errHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(c.stderr, "%s: %s\n", c.name, ue.msg)
		fmt.Fprintf(c.stderr, "Run '%s -h' for usage.\n", c.name)
		return exitUsage
	case errors.Is(err, errInterrupted):
		return exitInterrupted
	}
	fmt.Fprintf(c.stderr, "%s: %v\n", c.name, err)
	return exitFailure
}

func printMainUsage(w io.Writer) {
	fmt.Fprint(w, `invrender renders Mitsuba-style XML scenes and recovers scene parameters
from images with gradients.

Usage:

	invrender COMMAND [arguments]

`)
	printCommandList(w)
	fmt.Fprint(w, `
Run 'invrender COMMAND -h' (or 'invrender help COMMAND') for a command's flags.
Exit status: 0 on success, 1 when the work failed (a missing or malformed
file, a write error), 2 for a mistake on the command line, 130 after Ctrl-C.
`)
}

func printCommandList(w io.Writer) {
	fmt.Fprintln(w, "Commands:")
	fmt.Fprintln(w)
	for _, cmd := range sortedCommands() {
		fmt.Fprintf(w, "\t%-10s %s\n", cmd.Name, cmd.Summary)
	}
	fmt.Fprintf(w, "\t%-10s %s\n", "help", "print this list, or a command's usage (help COMMAND)")
}
