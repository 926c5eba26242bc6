package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteFileCreatesAndReplaces(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.txt")
	for _, content := range []string{"first version\n", "second, longer version\n", "3"} {
		err := WriteFile(p, func(w io.Writer) error {
			_, err := io.WriteString(w, content)
			return err
		}, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != content {
			t.Fatalf("content %q, want %q", got, content)
		}
		if names := listDir(t, dir); len(names) != 1 || names[0] != "out.txt" {
			t.Fatalf("directory holds %v, want only out.txt", names)
		}
	}
	if runtime.GOOS != "windows" {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm()&^0o644 != 0 {
			t.Errorf("mode %v has bits beyond 0644", st.Mode())
		}
	}
}

func TestWriteFileErrorKeepsOldContent(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "keep.bin")
	if err := os.WriteFile(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := WriteFile(p, func(w io.Writer) error {
		io.WriteString(w, strings.Repeat("partial", 100000))
		return boom
	}, 0o644)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	got, _ := os.ReadFile(p)
	if string(got) != "old" {
		t.Fatalf("content %q, want old", got)
	}
	if names := listDir(t, dir); len(names) != 1 {
		t.Fatalf("temporary file left behind: %v", names)
	}
}

func TestWriteFilePanicRemovesTemp(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x")
	func() {
		defer func() { recover() }()
		WriteFile(p, func(w io.Writer) error { panic("writer bug") }, 0o644)
	}()
	if names := listDir(t, dir); len(names) != 0 {
		t.Fatalf("files left behind after panic: %v", names)
	}
}

func TestWriteFileBadDirectory(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "missing", "out.txt")
	err := WriteFile(p, func(w io.Writer) error { return nil }, 0o644)
	if err == nil {
		t.Fatal("writing into a missing directory succeeded")
	}
	if err := WriteFile(dir+string(filepath.Separator), func(w io.Writer) error { return nil }, 0o644); err == nil {
		t.Fatal("writing to a directory path succeeded")
	}
}

func TestWriteFileRelativePath(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := WriteFile("rel.txt", func(w io.Writer) error {
		_, err := io.WriteString(w, "ok")
		return err
	}, 0o600); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "rel.txt")); string(got) != "ok" {
		t.Fatalf("content %q", got)
	}
}
