package channels

import "slices"

// AllowsOrigin reports whether a browser page served from origin (the
// request's Origin header, compared byte for byte) may connect to the app
// or read its data: any origin when AllowedOrigins is empty, else one of
// them. The WebSocket handshake and CORS both decide with it, so an origin
// is allowed on every client transport or on none.
func (s Settings) AllowsOrigin(origin string) bool {
	return len(s.AllowedOrigins) == 0 || slices.Contains(s.AllowedOrigins, origin)
}
