package api_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/internal/testenv"
)

// headChecked are the headers a HEAD must answer as its GET does.
var headChecked = []string{"Content-Type", "Allow", "WWW-Authenticate", "Cache-Control", "Access-Control-Allow-Origin"}

// answer is one HTTP answer; a stream's body is not read.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// send sends method to rawURL with headers h.
func send(tb testing.TB, method, rawURL string, h http.Header) answer {
	tb.Helper()
	req, err := http.NewRequest(method, rawURL, nil)
	if err != nil {
		tb.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	a := answer{status: res.StatusCode, header: res.Header}
	if res.Header.Get("Content-Type") == "text/event-stream" && method != http.MethodHead {
		return a // a stream never ends on its own: closing the body leaves it
	}
	if a.body, err = io.ReadAll(res.Body); err != nil {
		tb.Fatal(err)
	}
	return a
}

// wantLikeGet checks that head answers as get did, without a body.
func wantLikeGet(tb testing.TB, head, get answer) {
	tb.Helper()
	if head.status != get.status || len(head.body) != 0 {
		tb.Fatalf("HEAD = %d with %d bytes (%s), GET = %d (%s)", head.status, len(head.body), head.body, get.status, get.body)
	}
	for _, k := range headChecked {
		if head.header.Get(k) != get.header.Get(k) {
			tb.Errorf("HEAD %s = %q, GET's = %q", k, head.header.Get(k), get.header.Get(k))
		}
	}
	if cl := head.header.Get("Content-Length"); cl != "" && cl != strconv.Itoa(len(get.body)) && get.header.Get("Content-Length") != "" {
		tb.Errorf("HEAD Content-Length = %s, GET's body has %d bytes", cl, len(get.body))
	}
}

// signedURL is a tenant API URL signed for method (docs/protocol.md,
// "Pusher compatibility").
func signedURL(base, method, path string, q url.Values) string {
	q.Set(channels.ParamAuthKey, testenv.AppKey)
	q.Set(channels.ParamAuthTimestamp, strconv.FormatInt(time.Now().Unix(), 10))
	q.Set(channels.ParamAuthVersion, channels.RequestAuthVersion)
	q.Set(channels.ParamAuthSignature, channels.HMACSHA256Hex(testenv.AppSecret, channels.RequestStringToSign(method, path, q)))
	return base + path + "?" + q.Encode()
}

// docParam matches a path parameter of the OpenAPI document.
var docParam = regexp.MustCompile(`\{[a-z_]+\}`)

// TestHeadAnswersAsGet: every GET of the admin API (walked from its
// OpenAPI document) and of the tenant API answers HEAD with the GET's
// status and headers and no body, with the same credentials; a Pusher
// signature covers the method, so a HEAD is signed as a HEAD.
func TestHeadAnswersAsGet(t *testing.T) {
	t.Parallel()
	h := testenv.Herald(t)
	base := h.URL()
	var app struct {
		AccountID string `json:"account_id"`
	}
	if code := h.Admin(t, http.MethodGet, "/admin/v1/apps/"+testenv.AppID, nil, &app); code != http.StatusOK {
		t.Fatalf("GET app = %d", code)
	}
	admin := http.Header{"Authorization": {"Bearer " + h.AdminToken()}}

	t.Run("admin", func(t *testing.T) {
		var doc struct {
			Paths map[string]map[string]any `json:"paths"`
		}
		get := send(t, http.MethodGet, base+"/admin/v1/openapi.json", nil)
		if err := json.Unmarshal(get.body, &doc); err != nil {
			t.Fatal(err)
		}
		// Ids that exist where the document names one, so that most
		// answers are 200s.
		ids := map[string]string{"accounts": app.AccountID, "apps": testenv.AppID, "plans": "dev", "channels": "news"}
		gets := 0
		for p, ops := range doc.Paths {
			if _, ok := ops["head"]; ok {
				t.Errorf("the document has HEAD %s: a GET stands for both", p)
			}
			if _, ok := ops["get"]; !ok {
				continue
			}
			gets++
			segs := strings.Split(p, "/")
			for i, s := range segs {
				if docParam.MatchString(s) {
					segs[i] = "none"
					if v, ok := ids[segs[i-1]]; ok {
						segs[i] = v
					}
				}
			}
			path := strings.Join(segs, "/")
			t.Run(path, func(t *testing.T) {
				for _, hdr := range []http.Header{admin, nil} {
					wantLikeGet(t, send(t, http.MethodHead, base+path, hdr), send(t, http.MethodGet, base+path, hdr))
				}
			})
		}
		if gets < 20 {
			t.Errorf("%d GET operations in the document", gets)
		}
	})

	app1 := "/apps/" + testenv.AppID
	basic := http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(testenv.AppKey+":"+testenv.AppSecret))}}
	tenantGets := []string{
		app1 + "/channels", app1 + "/channels/news", app1 + "/channels/presence-room/users",
		app1 + "/channels/news/messages", app1 + "/usage", "/apps/no-such-app/channels", "/.well-known/jwks.json",
	}
	for _, p := range tenantGets {
		t.Run("tenant "+p, func(t *testing.T) {
			wantLikeGet(t, send(t, http.MethodHead, base+p, basic), send(t, http.MethodGet, base+p, basic))
			wantLikeGet(t, send(t, http.MethodHead, base+p, nil), send(t, http.MethodGet, base+p, nil))
			head := send(t, http.MethodHead, signedURL(base, http.MethodHead, p, url.Values{}), nil)
			get := send(t, http.MethodGet, signedURL(base, http.MethodGet, p, url.Values{}), nil)
			wantLikeGet(t, head, get)
		})
	}

	t.Run("signature of another method", func(t *testing.T) {
		p := app1 + "/channels"
		tests := []struct{ sent, signed string }{
			{http.MethodHead, http.MethodGet},
			{http.MethodGet, http.MethodHead},
			{http.MethodHead, http.MethodPost},
		}
		for _, tt := range tests {
			a := send(t, tt.sent, signedURL(base, tt.signed, p, url.Values{"filter_by_prefix": {"presence-"}, "info": {"user_count"}}), nil)
			if a.status != http.StatusUnauthorized {
				t.Errorf("%s signed as %s = %d, want 401", tt.sent, tt.signed, a.status)
			}
		}
		if a := send(t, http.MethodHead, signedURL(base, http.MethodHead, p, url.Values{"filter_by_prefix": {"presence-"}, "info": {"user_count"}}), nil); a.status != http.StatusOK {
			t.Errorf("HEAD signed as HEAD = %d", a.status)
		}
	})

	t.Run("no HEAD where there is no GET", func(t *testing.T) {
		a := send(t, http.MethodHead, base+app1+"/events", basic)
		if a.status != http.StatusMethodNotAllowed || a.header.Get("Allow") != "OPTIONS, POST" {
			t.Fatalf("HEAD events = %d, Allow %q", a.status, a.header.Get("Allow"))
		}
	})

	t.Run("cross-origin", func(t *testing.T) {
		const origin = "http://localhost:5173"
		code, _, body := tenantCall(t, h, http.MethodPost, app1+"/tokens", nil, `{"capabilities":{"*":["history"]}}`)
		var tok issuedToken
		if code != http.StatusOK || json.Unmarshal(body, &tok) != nil {
			t.Fatalf("create token = %d %s", code, body)
		}
		p := base + app1 + "/channels/news/messages"
		bearer := http.Header{"Authorization": {"Bearer " + tok.Token}, "Origin": {origin}}
		head, get := send(t, http.MethodHead, p, bearer), send(t, http.MethodGet, p, bearer)
		wantLikeGet(t, head, get)
		if head.header.Get("Access-Control-Allow-Origin") == "" {
			t.Error("HEAD from a page has no Access-Control-Allow-Origin")
		}
		for _, u := range []string{p, base + "/.well-known/jwks.json"} {
			pre := send(t, http.MethodOptions, u, http.Header{"Origin": {origin},
				"Access-Control-Request-Method": {http.MethodHead}, "Access-Control-Request-Headers": {"authorization"}})
			if pre.status != http.StatusNoContent || pre.header.Get("Access-Control-Allow-Methods") != "GET, HEAD" {
				t.Errorf("preflight of a HEAD on %s = %d, Allow-Methods %q", u, pre.status, pre.header.Get("Access-Control-Allow-Methods"))
			}
			if a := send(t, http.MethodOptions, u, nil); a.header.Get("Allow") != "GET, HEAD, OPTIONS" {
				t.Errorf("OPTIONS %s Allow = %q", u, a.header.Get("Allow"))
			}
		}
	})
}
