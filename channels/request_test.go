package channels_test

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/channels"
)

// The test vector of Pusher's REST API documentation (docs/protocol.md,
// "Pusher compatibility").
const (
	vecKey    = "278d425bdf160c739803"
	vecSecret = "7ad3773142a6692b25b8"
	vecBody   = `{"name":"foo","channels":["project-3"],"data":"{\"some\":\"data\"}"}`
	vecSig    = "da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c"
	vecTS     = 1353088179
)

func vecQuery() url.Values {
	return url.Values{
		"auth_key": {vecKey}, "auth_timestamp": {strconv.Itoa(vecTS)}, "auth_version": {"1.0"},
		"body_md5": {"ec365a775a4cd0599faeb73354201b6f"}, "auth_signature": {vecSig},
	}
}

func TestRequestSigningTestVector(t *testing.T) {
	if got := channels.BodyMD5([]byte(vecBody)); got != "ec365a775a4cd0599faeb73354201b6f" {
		t.Fatalf("BodyMD5 = %s", got)
	}
	want := "POST\n/apps/3/events\nauth_key=278d425bdf160c739803&auth_timestamp=1353088179&auth_version=1.0&body_md5=ec365a775a4cd0599faeb73354201b6f"
	if got := channels.RequestStringToSign("post", "/apps/3/events", vecQuery()); got != want {
		t.Fatalf("string to sign =\n%q\nwant\n%q", got, want)
	}
	if got := channels.HMACSHA256Hex(vecSecret, want); got != vecSig {
		t.Fatalf("signature = %s", got)
	}
	now := time.Unix(vecTS+30, 0)
	if err := channels.VerifyRequest(vecSecret, "POST", "/apps/3/events", vecQuery(), []byte(vecBody), now); err != nil {
		t.Fatalf("VerifyRequest: %v", err)
	}
}

// TestVerifyRequestKeyCase: Pusher lower-cases keys before signing, so a
// request whose keys arrive in another case is the same request.
func TestVerifyRequestKeyCase(t *testing.T) {
	q := url.Values{}
	for k, v := range vecQuery() {
		q[strings.ToUpper(k[:1])+k[1:]] = v
	}
	q.Set("Auth_signature", strings.ToUpper(vecSig))
	if err := channels.VerifyRequest(vecSecret, "POST", "/apps/3/events", q, []byte(vecBody), time.Unix(vecTS, 0)); err != nil {
		t.Fatalf("VerifyRequest: %v", err)
	}
	// Keys differing only in case fold in a stable order.
	dup := url.Values{"a": {"1"}, "A": {"2"}}
	for range 20 {
		if got := channels.RequestStringToSign("GET", "/p", dup); got != "GET\n/p\na=2,1" {
			t.Fatalf("string to sign = %q", got)
		}
	}
}

func TestVerifyRequestRejects(t *testing.T) {
	now := time.Unix(vecTS, 0)
	with := func(k, v string) url.Values {
		q := vecQuery()
		if v == "" {
			q.Del(k)
		} else {
			q.Set(k, v)
		}
		return q
	}
	also := func(k, v string) url.Values {
		q := vecQuery()
		q.Add(k, v)
		return q
	}
	cases := []struct {
		name   string
		secret string
		path   string
		query  url.Values
		body   string
		now    time.Time
	}{
		{"wrong secret", "nope", "/apps/3/events", vecQuery(), vecBody, now},
		{"other path", vecSecret, "/apps/4/events", vecQuery(), vecBody, now},
		{"tampered body", vecSecret, "/apps/3/events", vecQuery(), vecBody + " ", now},
		{"no signature", vecSecret, "/apps/3/events", with("auth_signature", ""), vecBody, now},
		{"no timestamp", vecSecret, "/apps/3/events", with("auth_timestamp", ""), vecBody, now},
		{"too old", vecSecret, "/apps/3/events", vecQuery(), vecBody, now.Add(601 * time.Second)},
		{"from the future", vecSecret, "/apps/3/events", vecQuery(), vecBody, now.Add(-601 * time.Second)},
		{"bad version", vecSecret, "/apps/3/events", with("auth_version", "2.0"), vecBody, now},
		{"extra param", vecSecret, "/apps/3/events", with("extra", "1"), vecBody, now},
		{"two signatures", vecSecret, "/apps/3/events", also("Auth_Signature", vecSig), vecBody, now},
		{"two timestamps", vecSecret, "/apps/3/events", also("AUTH_TIMESTAMP", "1353088179"), vecBody, now},
		{"body_md5 without the body", vecSecret, "/apps/3/events", vecQuery(), "", now},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := channels.VerifyRequest(c.secret, "POST", c.path, c.query, []byte(c.body), c.now)
			if !errors.Is(err, channels.ErrUnauthorized) {
				t.Fatalf("err = %v, want unauthorized", err)
			}
		})
	}
}

func TestStringToSignUnescapedAndLowercased(t *testing.T) {
	q, _ := url.ParseQuery("B=Something%20else&a=1&auth_signature=x")
	if got := channels.RequestStringToSign("GET", "/apps/1/channels", q); got != "GET\n/apps/1/channels\na=1&b=Something else" {
		t.Fatalf("got %q", got)
	}
}

func FuzzVerifyRequest(f *testing.F) {
	f.Add("POST", "/apps/3/events", "auth_key=278d425bdf160c739803&auth_timestamp=1353088179&auth_version=1.0&body_md5=ec365a775a4cd0599faeb73354201b6f&auth_signature="+vecSig, vecBody)
	f.Add("GET", "/apps/1/channels", "auth_signature=&&&=", "")
	f.Add("GET", "/", "%zz", "\x00")
	f.Fuzz(func(t *testing.T, method, path, rawQuery, body string) {
		q, err := url.ParseQuery(rawQuery)
		if err != nil {
			return
		}
		err = channels.VerifyRequest(vecSecret, method, path, q, []byte(body), time.Unix(vecTS, 0))
		if err == nil {
			// Only a correctly signed request may pass: exactly one
			// auth_signature (keys match in any case, hex in any case)
			// equal to the HMAC of the string to sign.
			var sigs []string
			for k, vs := range q {
				if strings.EqualFold(k, "auth_signature") {
					sigs = append(sigs, vs...)
				}
			}
			want := channels.HMACSHA256Hex(vecSecret, channels.RequestStringToSign(method, path, q))
			if len(sigs) != 1 || !strings.EqualFold(sigs[0], want) {
				t.Fatalf("accepted a request with a wrong signature: %q", sigs)
			}
		} else if !errors.Is(err, channels.ErrUnauthorized) {
			t.Fatalf("unexpected error kind: %v", err)
		}
	})
}
