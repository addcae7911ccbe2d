package console

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
)

// minGzipSaving is how much smaller the gzipped form must be for it to be
// served: below it, decompressing costs the browser more than it saves.
const minGzipSaving = 0.1

// cacheControl makes a browser revalidate every file on each load: the
// names carry no content hash, so a cached copy could outlive an upgrade.
// The ETag makes the revalidation a 304 with no body.
const cacheControl = "no-cache"

// contentTypes are the types of the files the build writes, fixed here
// rather than read from the system's MIME table, which varies.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".ico":  "image/x-icon",
}

// asset is one file of the console, ready to serve.
type asset struct {
	contentType string
	etag        string
	body        []byte
	// gzipped is body compressed, or nil when that does not pay.
	gzipped []byte
}

// loadAssets reads every file under root of fsys, keyed by its path below
// root.
func loadAssets(fsys fs.FS, root string) (map[string]*asset, error) {
	assets := map[string]*asset{}
	err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(fsys, p)
		if err != nil {
			return fmt.Errorf("read %s: %w", p, err)
		}
		a, err := newAsset(p, body)
		if err != nil {
			return fmt.Errorf("load %s: %w", p, err)
		}
		assets[strings.TrimPrefix(p, root+"/")] = a
		return nil
	})
	if err != nil {
		return nil, err
	}
	if assets[indexFile] == nil {
		return nil, fmt.Errorf("no %s in %s", indexFile, root)
	}
	return assets, nil
}

func newAsset(name string, body []byte) (*asset, error) {
	ct := contentTypes[path.Ext(name)]
	if ct == "" {
		ct = mime.TypeByExtension(path.Ext(name))
	}
	if ct == "" {
		ct = "application/octet-stream"
	}
	sum := sha256.Sum256(body)
	a := &asset{
		contentType: ct,
		etag:        `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`,
		body:        body,
	}
	var b bytes.Buffer
	zw, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	if _, err := zw.Write(body); err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	if float64(b.Len()) <= float64(len(body))*(1-minGzipSaving) {
		a.gzipped = b.Bytes()
	}
	return a, nil
}

// serve writes a, or 304 when the request's If-None-Match names its ETag.
func (a *asset) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", cacheControl)
	h.Set("ETag", a.etag)
	h.Set("Vary", "Accept-Encoding")
	if etagMatches(r.Header.Get("If-None-Match"), a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := a.body
	if a.gzipped != nil && acceptsGzip(r.Header.Get("Accept-Encoding")) {
		body = a.gzipped
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Type", a.contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// etagMatches reports whether an If-None-Match header names etag (or *).
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip, that
// is names it (or *) without q=0.
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding != "gzip" && coding != "*" {
			continue
		}
		q := strings.ReplaceAll(strings.ToLower(params), " ", "")
		if q == "q=0" || strings.HasPrefix(q, "q=0.0") && strings.Trim(strings.TrimPrefix(q, "q=0."), "0") == "" {
			return false
		}
		return true
	}
	return false
}
