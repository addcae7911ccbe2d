package gateway

import (
	"net/url"
	"testing"
)

// queryCases are raw query strings queryGet must read as url.ParseQuery
// does.
var queryCases = []string{
	"",
	"protocol=7&client=js&version=8.4.0&flash=false",
	"protocol=7&protocol=6",
	"client=js&protocol=7",
	"protocol",
	"protocol=",
	"protocol=7;x=1&protocol=8",
	"prot%6Fcol=7",
	"protocol=%37",
	"protocol=%zz&protocol=7",
	"%zz=1&protocol=7",
	"token=a+b%2Fc&protocol=7",
	"token=a%20b",
	"&&protocol=7&&",
	"x=1&token=eyJhbGciOi.J9.sig-_",
	"protocol=7&tok%65n=abc",
	"token=1&token=2",
	"a=b=c&protocol==7",
	"%=0&protocol=7",
	"a+b=1&a b=2",
}

func TestQueryGetMatchesParseQuery(t *testing.T) {
	for _, raw := range queryCases {
		want, _ := url.ParseQuery(raw)
		for _, name := range []string{"protocol", "token", "client", "a", "", "%", "a b", "a+b"} {
			if got := queryGet(raw, name); got != want.Get(name) {
				t.Errorf("queryGet(%q, %q) = %q, ParseQuery says %q", raw, name, got, want.Get(name))
			}
		}
	}
}

// FuzzQueryGet compares queryGet with url.ParseQuery on any query string
// (the handshake's query comes from the network).
func FuzzQueryGet(f *testing.F) {
	for _, raw := range queryCases {
		f.Add(raw, "protocol")
	}
	f.Fuzz(func(t *testing.T, raw, name string) {
		want, _ := url.ParseQuery(raw)
		if got := queryGet(raw, name); got != want.Get(name) {
			t.Fatalf("queryGet(%q, %q) = %q, ParseQuery says %q", raw, name, got, want.Get(name))
		}
	})
}
