package main

import (
	"bytes"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// repoRoot is the module root, seen from this package's directory.
const repoRoot = "../.."

// outsideDocs are the names of design notes that live outside the
// repository. A comment citing one sends its reader to a file they do not
// have; the repository's own docs/ must say it instead. The names are
// built so that this file does not contain them.
var outsideDocs = []string{"DESIGN" + ".md", "PUSHER" + ".md", "NATS" + ".md", "STYLE" + ".md"}

// commentBreak joins a comment's lines, so that a citation wrapped over
// two lines reads as one.
var commentBreak = regexp.MustCompile(`\n[ \t]*(//|--)[ \t]*`)

// docCitation matches a citation of a repository doc: "docs/", a file
// name ending in ".md", and optionally a comma and a section title in
// quotes, as in (docs/nats.md, "Direct Get").
var docCitation = regexp.MustCompile(`docs/([A-Za-z0-9_.-]+\.md)(?:, "([^"]+)")?`)

// sourceFiles returns the repository's Go and SQL files, relative to root,
// leaving out dependencies and hidden folders.
func sourceFiles(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != root && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(p, ".go") || strings.HasSuffix(p, ".sql") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no Go or SQL files under %s", root)
	}
	return files
}

// headings returns the titles of a markdown document's headings, as
// written and without backticks.
func headings(doc []byte) map[string]bool {
	out := map[string]bool{}
	for line := range strings.SplitSeq(string(doc), "\n") {
		if !strings.HasPrefix(line, "#") {
			continue
		}
		title := strings.TrimSpace(strings.TrimLeft(line, "#"))
		out[title] = true
		out[strings.ReplaceAll(title, "`", "")] = true
	}
	return out
}

// TestSourcesCiteRepositoryDocs keeps the code's references inside the
// repository: no Go or SQL file names a design note from outside it, and
// every docs/*.md a comment cites exists, with a lower-case name and with
// the section the citation names.
func TestSourcesCiteRepositoryDocs(t *testing.T) {
	docs := map[string]map[string]bool{} // by file name; nil: missing
	cited := 0
	for _, p := range sourceFiles(t, repoRoot) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(repoRoot, p)
		for _, name := range outsideDocs {
			if bytes.Contains(b, []byte(name)) {
				t.Errorf("%s cites %s, which is not in the repository: cite docs/ instead", rel, name)
			}
		}
		text := commentBreak.ReplaceAllString(string(b), " ")
		for _, m := range docCitation.FindAllStringSubmatch(text, -1) {
			name, section := m[1], m[2]
			cited++
			if name != strings.ToLower(name) {
				t.Errorf("%s cites docs/%s: doc names are lower-case", rel, name)
				continue
			}
			titles, seen := docs[name]
			if !seen {
				doc, err := os.ReadFile(filepath.Join(repoRoot, "docs", name))
				if err == nil {
					titles = headings(doc)
				}
				docs[name] = titles
			}
			switch {
			case titles == nil:
				t.Errorf("%s cites docs/%s, which does not exist", rel, name)
			case section != "" && !titles[section]:
				t.Errorf("%s cites docs/%s, %q: no such section", rel, name, section)
			}
		}
	}
	if cited == 0 {
		t.Fatal("found no citation of docs/*.md at all: the pattern is broken")
	}
}

// mdLink matches the target of a markdown link.
var mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// anchor is GitHub's id for a heading: lower case, punctuation dropped,
// spaces as hyphens.
func anchor(title string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(title) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r > 0x7f:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// TestDocLinksResolve checks the relative links of the README and of
// docs/*.md: the file exists, and so does the heading a #fragment names.
func TestDocLinksResolve(t *testing.T) {
	pages, err := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	pages = append(pages, filepath.Join(repoRoot, "README.md"))
	for _, page := range pages {
		src, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(repoRoot, page)
		for _, m := range mdLink.FindAllStringSubmatch(string(src), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			file, frag, _ := strings.Cut(target, "#")
			dest := page
			if file != "" {
				dest = filepath.Join(filepath.Dir(page), filepath.FromSlash(path.Clean(file)))
			}
			doc, err := os.ReadFile(dest)
			if err != nil {
				t.Errorf("%s links to %s, which does not exist", rel, target)
				continue
			}
			if frag == "" {
				continue
			}
			found := false
			for title := range headings(doc) {
				if anchor(title) == frag {
					found = true
					break
				}
			}
			if !found {
				t.Errorf("%s links to %s: no heading has the id %q", rel, target, frag)
			}
		}
	}
}
