package gateway

import (
	"net/url"
	"strings"
)

// queryGet returns what url.ParseQuery(raw).Get(name) returns, without
// building the map: a WebSocket handshake reads two parameters (protocol
// and token), and the map with its strings was a tenth of a handshake's
// CPU (docs/performance.md, "Connection rate"). As ParseQuery does, it
// skips pairs holding a semicolon or a bad escape and decodes '+' as a
// space.
func queryGet(raw, name string) string {
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" || strings.Contains(pair, ";") {
			continue
		}
		key, value, _ := strings.Cut(pair, "=")
		// A key is compared unescaped, even one spelled as name: "%=…"
		// is a bad escape, which ParseQuery drops, not the key "%".
		if strings.ContainsAny(key, "%+") {
			k, err := url.QueryUnescape(key)
			if err != nil || k != name {
				continue
			}
		} else if key != name {
			continue
		}
		if !strings.ContainsAny(value, "%+") {
			return value
		}
		v, err := url.QueryUnescape(value)
		if err != nil {
			continue
		}
		return v
	}
	return ""
}
