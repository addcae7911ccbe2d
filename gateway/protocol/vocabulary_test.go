package protocol_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The wire vocabulary is named once in the code and mirrored, row by row,
// by the "Vocabulary" section of docs/protocol.md. These tests read the
// sources with go/parser, so that a constant added to the code cannot be
// forgotten in the document, nor a name used without a constant.

const (
	repoRoot   = "../.."
	protocolMD = repoRoot + "/docs/protocol.md"
	// wireCodeType is the type of every code constant in channels.
	wireCodeType = "WireCode"
)

// eventName matches a Pusher or Herald event name anywhere in a string.
var eventName = regexp.MustCompile(`\b(pusher|pusher_internal|herald|herald_internal):[a-z_]+`)

// constant is one constant declaration found in a package's sources.
type constant struct {
	name  string
	value string // the literal's value, unquoted
	typ   string // the declared type's name, "" when untyped
	pos   token.Position
}

// packageConstants returns the constants of the non-test Go files of dir
// whose value is a basic literal.
func packageConstants(t *testing.T, dir string) []constant {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var out []constant
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, s := range gd.Specs {
				vs := s.(*ast.ValueSpec)
				typ := ""
				if id, ok := vs.Type.(*ast.Ident); ok {
					typ = id.Name
				}
				for i, n := range vs.Names {
					if i >= len(vs.Values) {
						continue
					}
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok {
						continue
					}
					v := lit.Value
					if lit.Kind == token.STRING {
						if v, err = strconv.Unquote(v); err != nil {
							t.Fatal(err)
						}
					}
					out = append(out, constant{name: n.Name, value: v, typ: typ, pos: fset.Position(n.Pos())})
				}
			}
		}
	}
	return out
}

// vocabularyRows returns the first cell and the second cell (both without
// backquotes) of every table row of the Vocabulary section.
func vocabularyRows(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(protocolMD)
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## Vocabulary\n")
	if !ok {
		t.Fatalf("%s has no Vocabulary section", protocolMD)
	}
	if i := strings.Index(section, "\n## "); i >= 0 {
		section = section[:i]
	}
	rows := map[string]string{}
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 || !strings.HasPrefix(line, "| ") {
			continue
		}
		key := strings.Trim(strings.TrimSpace(cells[1]), "`")
		name := strings.Trim(strings.TrimSpace(cells[2]), "`")
		if key == "code" || key == "event" {
			continue // a header
		}
		if _, dup := rows[key]; dup {
			t.Errorf("%s lists %s twice", protocolMD, key)
		}
		rows[key] = name
	}
	return rows
}

// TestVocabularyDocumented: every code constant of channels and every
// event-name constant of this package has its row in docs/protocol.md,
// under its own name, and every row names one of them.
func TestVocabularyDocumented(t *testing.T) {
	rows := vocabularyRows(t)
	want := map[string]string{}
	for _, c := range packageConstants(t, repoRoot+"/channels") {
		if c.typ == wireCodeType {
			want[c.value] = c.name
		}
	}
	for _, c := range packageConstants(t, ".") {
		if eventName.MatchString(c.value) {
			if eventName.FindString(c.value) != c.value || !strings.HasPrefix(c.name, "Event") {
				t.Errorf("%s: %s = %q: an event-name constant is named Event… and holds one name", c.pos, c.name, c.value)
			}
			want[c.value] = c.name
		}
	}
	if len(want) < 30 {
		t.Fatalf("found only %d codes and event names: is the parser looking at the right files?", len(want))
	}
	for value, name := range want {
		switch got, ok := rows[value]; {
		case !ok:
			t.Errorf("%s: Vocabulary has no row for %s (%s)", protocolMD, value, name)
		case got != name:
			t.Errorf("%s: the row of %s names %s, the code %s", protocolMD, value, got, name)
		}
	}
	for value, name := range rows {
		if _, ok := want[value]; !ok {
			t.Errorf("%s: Vocabulary lists %s (%s), which no constant names", protocolMD, value, name)
		}
	}
}

// TestVocabularyNamedOnce: outside the constants above, no source file
// spells an event name in a string, nor a Pusher or Herald code as a
// number (the WebSocket layer, gateway/ws, carries RFC 6455's codes and
// passes Pusher's through as numbers), and no code has a second name.
func TestVocabularyNamedOnce(t *testing.T) {
	codes := map[string]string{}
	for _, c := range packageConstants(t, repoRoot+"/channels") {
		if c.typ != wireCodeType {
			continue
		}
		if other, dup := codes[c.value]; dup {
			t.Errorf("%s: code %s is named both %s and %s", c.pos, c.value, other, c.name)
		}
		codes[c.value] = c.name
	}
	fset := token.NewFileSet()
	err := filepath.WalkDir(repoRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); n == "node_modules" || n == "testdata" || strings.HasPrefix(n, ".") && path != repoRoot {
				return filepath.SkipDir
			}
			// Another module (sdk/go) cannot import these constants: it
			// keeps its own names of the wire vocabulary.
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil && path != repoRoot {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(repoRoot, path)
		rel = filepath.ToSlash(rel)
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		checkCodes := (strings.HasPrefix(rel, "gateway/") && !strings.HasPrefix(rel, "gateway/ws/")) || strings.HasPrefix(rel, "channels/")
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.ValueSpec:
				// The declarations themselves.
				if id, ok := n.Type.(*ast.Ident); ok && id.Name == wireCodeType && strings.HasPrefix(rel, "channels/") {
					return false
				}
				if rel == "gateway/protocol/events.go" {
					return false
				}
			case *ast.BasicLit:
				switch n.Kind {
				case token.STRING:
					if m := eventName.FindString(n.Value); m != "" {
						t.Errorf("%s: %s spelled out: use its gateway/protocol constant", fset.Position(n.Pos()), m)
					}
				case token.INT:
					if v, err := strconv.Atoi(n.Value); err == nil && checkCodes && v >= 4000 && v <= 4999 {
						t.Errorf("%s: %d as a number: use its channels.WireCode constant", fset.Position(n.Pos()), v)
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
