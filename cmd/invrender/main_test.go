package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runCmd runs the command line in-process and returns what it printed and
// its exit status.
func runCmd(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return out.String(), errb.String(), code
}

// checkClean fails if stderr shows a Go panic or stack trace.
func checkClean(t *testing.T, stderr string) {
	t.Helper()
	for _, bad := range []string{"panic", "goroutine ", ".go:"} {
		if strings.Contains(stderr, bad) {
			t.Errorf("stderr contains %q:\n%s", bad, stderr)
		}
	}
}

// writeFile writes a test file and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestHelp(t *testing.T) {
	out, _, code := runCmd(t, "help")
	if code != exitOK {
		t.Fatalf("help: exit %d", code)
	}
	for _, name := range []string{"render", "info", "params", "demo", "bench"} {
		if !strings.Contains(out, "\t"+name+" ") {
			t.Errorf("help does not list %s:\n%s", name, out)
		}
	}
	for _, args := range [][]string{{"render", "-h"}, {"render", "--help"}, {"help", "render"}, {"render", "cbox", "-h"}} {
		out, errOut, code := runCmd(t, args...)
		if code != exitOK || !strings.Contains(out, "Usage: invrender render SCENE -o OUT") || !strings.Contains(out, "--spp N") {
			t.Errorf("%q: exit %d, stdout:\n%s\nstderr:\n%s", args, code, out, errOut)
		}
	}
	for _, cmd := range []string{"info", "params", "demo", "bench"} {
		out, _, code := runCmd(t, cmd, "-h")
		if code != exitOK || !strings.Contains(out, "Usage: invrender "+cmd) {
			t.Errorf("%s -h: exit %d:\n%s", cmd, code, out)
		}
	}
	if _, errOut, code := runCmd(t); code != exitUsage || !strings.Contains(errOut, "Commands:") {
		t.Errorf("no arguments: exit %d, stderr:\n%s", code, errOut)
	}
	if _, errOut, code := runCmd(t, "help", "frobnicate"); code != exitUsage || !strings.Contains(errOut, `unknown command "frobnicate"`) {
		t.Errorf("help frobnicate: exit %d, stderr:\n%s", code, errOut)
	}
}

// TestUsageErrors checks the messages and exit statuses of mistakes that
// need no scene to be loaded or rendered.
func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "x.png")
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"frobnicate"}, exitUsage, `unknown command "frobnicate"`},
		{[]string{"--spp", "4"}, exitUsage, "give a command before the flags"},
		{[]string{"render", "triangle", "-o", out, "--bogus"}, exitUsage, "unknown flag --bogus"},
		{[]string{"render", "triangle", "-o", out, "--spp", "x"}, exitUsage, `invalid value "x" for --spp: not a number`},
		{[]string{"render", "triangle", "-o", out, "--spp", "0"}, exitUsage, "--spp 0"},
		{[]string{"render", "triangle", "-o", out, "--max-depth", "-3"}, exitUsage, "--max-depth -3"},
		{[]string{"render", "triangle", "-o", out, "--threads", "-1"}, exitUsage, "--threads -1"},
		{[]string{"render", "triangle", "-o"}, exitUsage, "-o needs a value"},
		{[]string{"render", "triangle"}, exitUsage, "no output file"},
		{[]string{"render", "-o", out}, exitUsage, "no scene given"},
		{[]string{"render", "triangle", "cbox", "-o", out}, exitUsage, "one scene at a time"},
		{[]string{"render", "triangle", "-o", filepath.Join(dir, "x.xyz")}, exitUsage, "cannot write .xyz images"},
		{[]string{"render", "triangle", "-o", filepath.Join(dir, "noext")}, exitUsage, "no extension"},
		{[]string{"render", "triangle", "-o", out, "--aov", "albedo,shininess"}, exitUsage, "--aov shininess: unknown AOV"},
		{[]string{"render", "triangle", "-o", out, "--set", "novalue"}, exitUsage, "want KEY=V1,V2,..."},
		{[]string{"render", "triangle", "-o", out, "--set", "triangle.translation=1,zz"}, exitUsage, `"zz" is not a finite number`},
		{[]string{"render", "triangle", "-o", out, "--set", "triangle.translation=NaN"}, exitUsage, `"NaN" is not a finite number`},
		{[]string{"render", "triangle", "-o", out, "-D", "no_equals"}, exitUsage, "want name=value"},
		{[]string{"render", "builtin:nope", "-o", out}, exitUsage, `unknown built-in scene "nope"`},
		{[]string{"render", "triangle", "-o", out, "--sensor", "1"}, exitUsage, "--sensor 1: the scene has 1 sensor (0 to 0)"},
		{[]string{"render", "triangle", "-o", out, "--set", "triangle.translatoin=1"}, exitUsage, `unknown parameter "triangle.translatoin" (did you mean triangle.translation?)`},
		{[]string{"render", "triangle", "-o", out, "--set", "triangle.translation=1,2"}, exitUsage, "got 2 values, but triangle.translation has 3"},
		{[]string{"info"}, exitUsage, "no scene given"},
		{[]string{"params", "a", "b"}, exitUsage, "one scene at a time"},
		{[]string{"demo", "extra"}, exitUsage, "the demo takes no arguments"},
		{[]string{"bench", "--repeat", "0"}, exitUsage, "--repeat 0"},
		{[]string{"bench", "--threads", "1,0"}, exitUsage, `"0" is not a positive integer`},
		{[]string{"bench", "--only", "teapot"}, exitUsage, "--only teapot: no such benchmark scene"},
	}
	for _, c := range cases {
		stdout, stderr, code := runCmd(t, c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%q: exit %d (want %d), stderr:\n%s\n(want it to contain %q)", c.args, code, c.code, stderr, c.want)
		}
		if c.code == exitUsage && !strings.HasPrefix(c.args[0], "-") && c.args[0] != "frobnicate" && !strings.Contains(stderr, "-h' for usage") {
			t.Errorf("%q: no pointer to the usage:\n%s", c.args, stderr)
		}
		if stdout != "" {
			t.Errorf("%q: printed to stdout:\n%s", c.args, stdout)
		}
		checkClean(t, stderr)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("usage errors left files behind: %v", entries)
	}
}

// TestFailures checks the messages and exit status 1 of inputs that are
// well-formed command lines but cannot be carried out.
func TestFailures(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "x.png")
	bad := writeFile(t, dir, "bad.xml", "<scene version=\"3.0.0\">\n  <shape type=\"obj\">\n</scene>\n")
	noMesh := writeFile(t, dir, "nomesh.xml", "<scene version=\"3.0.0\">\n  <shape type=\"obj\" id=\"a\">\n    <string name=\"filename\" value=\"missing.obj\"/>\n  </shape>\n</scene>\n")
	badType := writeFile(t, dir, "badtype.xml", "<scene version=\"3.0.0\">\n  <bsdf type=\"velvet\" id=\"m\"/>\n</scene>\n")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"render", filepath.Join(dir, "nothere.xml"), "-o", out}, "nothere.xml: no such file (and not a built-in scene: cbox,"},
		{[]string{"render", "cbx", "-o", out}, "cbx: no such file"},
		{[]string{"render", bad, "-o", out}, "bad.xml:3: malformed XML"},
		{[]string{"render", noMesh, "-o", out}, "nomesh.xml:2:"},
		{[]string{"info", badType}, "badtype.xml:2:"},
		{[]string{"params", bad}, "bad.xml:3:"},
		{[]string{"render", dir, "-o", out}, "is a directory without a scene.xml"},
		{[]string{"render", "triangle", "-o", filepath.Join(dir, "sub", "x.png")}, "does not exist"},
		{[]string{"demo", "-o", filepath.Join(dir, "sub")}, "does not exist"},
		{[]string{"bench", "--scenes", filepath.Join(dir, "sub")}, "does not exist"},
		{[]string{"bench", "--scenes", dir, "--only", "cbox"}, filepath.Join(dir, "cbox", "scene.xml")},
	}
	for _, c := range cases {
		_, stderr, code := runCmd(t, c.args...)
		if code != exitFailure || !strings.Contains(stderr, c.want) {
			t.Errorf("%q: exit %d (want 1), stderr:\n%s\n(want it to contain %q)", c.args, code, stderr, c.want)
		}
		checkClean(t, stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("a failed command wrote %s", out)
	}
}

func TestParseArgsOrder(t *testing.T) {
	c := &cli{ctx: context.Background(), stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
	cases := []struct {
		args    []string
		pos     []string
		out     string
		defines string
	}{
		{[]string{"scene.xml", "-o", "a.png"}, []string{"scene.xml"}, "a.png", ""},
		{[]string{"-o", "a.png", "scene.xml"}, []string{"scene.xml"}, "a.png", ""},
		{[]string{"-o", "a.png", "scene.xml", "-D", "x=1", "more"}, []string{"scene.xml", "more"}, "a.png", "x=1"},
		{[]string{"-Dx=1", "scene.xml", "-Dy=a=b"}, []string{"scene.xml"}, "", "x=1 y=a=b"},
		{[]string{"-o", "a.png", "--", "-scene.xml", "-o"}, []string{"-scene.xml", "-o"}, "a.png", ""},
		{[]string{"-o", "--", "scene.xml"}, []string{"scene.xml"}, "--", ""},
		{[]string{"-q", "--", "s"}, []string{"s"}, "", ""},
	}
	for _, tc := range cases {
		fs := newFlagSet("test")
		var out string
		var quiet bool
		var sf sceneFlags
		fs.StringVar(&out, "o", "", "")
		fs.BoolVar(&quiet, "q", false, "")
		sf.register(fs, true)
		pos, err := c.parseArgs(fs, "", tc.args)
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		if strings.Join(pos, "|") != strings.Join(tc.pos, "|") || out != tc.out || sf.defines.String() != tc.defines {
			t.Errorf("%q: positional %q, -o %q, defines %q; want %q, %q, %q", tc.args, pos, out, sf.defines.String(), tc.pos, tc.out, tc.defines)
		}
	}
}

func TestEditDistance(t *testing.T) {
	cases := []struct {
		a, b  string
		limit int
		want  int
	}{
		{"", "", 2, 0},
		{"abc", "abc", 2, 0},
		{"abc", "abd", 2, 1},
		{"object.translation", "objct.translation", 2, 1},
		{"object.translation", "object.translatoin", 2, 2},
		{"kitten", "sitting", 5, 3},
		{"abc", "xyzxyz", 2, 3}, // lengths differ by 3: over the limit
		{"abcdef", "uvwxyz", 2, 3},
	}
	for _, c := range cases {
		if got := editDistance(c.a, c.b, c.limit); got != c.want {
			t.Errorf("editDistance(%q, %q, %d) = %d, want %d", c.a, c.b, c.limit, got, c.want)
		}
		if got := editDistance(c.b, c.a, c.limit); got != c.want {
			t.Errorf("editDistance(%q, %q, %d) = %d, want %d", c.b, c.a, c.limit, got, c.want)
		}
	}
}

func TestProgressLines(t *testing.T) {
	var buf bytes.Buffer
	c := &cli{stderr: &buf}
	p := c.newProgress("job", false)
	for _, d := range []int{0, 5, 10, 11, 35, 35, 99, 100} {
		p.update(d, 100)
	}
	p.finish()
	want := "job: 10%\njob: 30%\njob: 90%\njob: 100%\n"
	if buf.String() != want {
		t.Errorf("progress lines:\n%s\nwant:\n%s", buf.String(), want)
	}
	if f := p.fraction(); f != 1 {
		t.Errorf("fraction %g, want 1", f)
	}

	buf.Reset()
	q := c.newProgress("job", true)
	q.update(100, 100)
	q.finish()
	if buf.Len() != 0 {
		t.Errorf("quiet progress printed %q", buf.String())
	}
}

func TestProgressBar(t *testing.T) {
	var buf bytes.Buffer
	c := &cli{stderr: &buf, terminal: true}
	p := c.newProgress("job", false)
	p.update(0, 200)
	time.Sleep(150 * time.Millisecond) // the bar redraws at most every 100 ms
	p.update(100, 200)
	p.stop()
	s := buf.String()
	if !strings.Contains(s, "job") || !strings.Contains(s, "50%") || !strings.Contains(s, "\r") {
		t.Errorf("bar output %q: want the label, 50%% and carriage returns", s)
	}
	if strings.Count(s, "\n") != 1 {
		t.Errorf("bar output %q: want one newline (after stop)", s)
	}
}
