// Package console serves Herald's web console: the built files of web/
// (TypeScript and Preact, bundled by esbuild into dist/, which is
// committed), embedded in the binary so that `herald dev` needs no Node at
// run time. The console is a single page that talks to the admin API with
// the admin token the operator types in; this package only serves its
// files, each with strict security headers.
package console

import (
	"embed"
	"net/http"
	"path"
	"strings"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/internal/httperr"
)

// Path is where the console is mounted; Path without its trailing slash
// redirects to it.
const Path = "/console/"

// indexFile is the page every route of the single-page app answers with.
const indexFile = "index.html"

//go:embed dist
var distFS embed.FS

// Handler serves the embedded console under Path: its files, index.html
// for every other path without a file extension (the console routes in
// the URL's fragment, but a reload of a deeper path must still work), 404
// for a missing file, and a redirect from Path without its slash.
func Handler() http.Handler {
	assets, err := loadAssets(distFS, "dist")
	if err != nil {
		// The files are compiled in: a failure is a broken build, caught
		// by this package's tests.
		panic("console: " + err.Error())
	}
	return &handler{assets: assets}
}

type handler struct {
	assets map[string]*asset
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setSecurityHeaders(w.Header())
	if r.URL.Path == strings.TrimSuffix(Path, "/") {
		http.Redirect(w, r, Path, http.StatusMovedPermanently)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		httperr.Write(w, r, http.StatusMethodNotAllowed, channels.CodeMethodNotAllowed, "method not allowed: use GET, HEAD")
		return
	}
	name, ok := strings.CutPrefix(r.URL.Path, Path)
	if !ok {
		httperr.Write(w, r, http.StatusNotFound, channels.CodeNotFound, "no such route")
		return
	}
	a := h.assets[name]
	if a == nil {
		if path.Ext(name) != "" {
			// A missing script or image: index.html in its place would
			// hide the broken link behind a confusing parse error.
			httperr.Write(w, r, http.StatusNotFound, channels.CodeNotFound, "no such file")
			return
		}
		a = h.assets[indexFile]
	}
	a.serve(w, r)
}
