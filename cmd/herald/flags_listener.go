package main

import (
	"flag"
	"strings"

	"github.com/heraldhq/herald/gateway"
	"github.com/heraldhq/herald/internal/authguard"
	"github.com/heraldhq/herald/internal/platform"
)

// bindListenerFlags declares the TLS and abuse-limit flags: TLS, the
// header cap, the auth-failure throttle, loopback and the trusted proxies
// on every server, the connection-rate limits where a gateway runs.
func bindListenerFlags(fs *flag.FlagSet, cfg *platform.Config, mode platform.Mode) {
	fs.StringVar(&cfg.TLS.CertFile, "tls-cert", "", "PEM certificate (chain) file: serve HTTPS and WSS; needs --tls-key")
	fs.StringVar(&cfg.TLS.KeyFile, "tls-key", "", "PEM private key file of --tls-cert")
	fs.IntVar(&cfg.Limits.MaxHeaderBytes, "max-header-bytes", platform.DefaultMaxHeaderBytes, "cap on a request's headers; larger requests get 431")
	fs.DurationVar(&cfg.Limits.HeaderTimeout, "http-header-timeout", platform.DefaultReadHeaderTimeout, "time a client has to send a request's line and headers (slow-loris bound)")
	fs.DurationVar(&cfg.Limits.BodyTimeout, "http-body-timeout", platform.DefaultBodyReadTimeout, "time a client has to send a request's announced body once its headers have arrived")
	fs.DurationVar(&cfg.Limits.IdleTimeout, "http-idle-timeout", platform.DefaultIdleTimeout, "time a kept-alive HTTP connection may wait for its next request before it is closed")
	fs.Float64Var(&cfg.Limits.AuthFailRate, "auth-fail-rate", authguard.DefaultRate, "failed authentications per second one client address may make in the long run; over it its credentials are refused unchecked (429, or 4301 on a WebSocket) until its bucket refills (negative: no limit)")
	fs.IntVar(&cfg.Limits.AuthFailBurst, "auth-fail-burst", authguard.DefaultBurst, "failed authentications one client address may make at once")
	l := &cfg.Limits.Conn
	fs.BoolVar(&l.Loopback, "rate-limit-loopback", false, "apply the connection-rate limits and the auth-failure throttle to loopback clients too")
	fs.Func("trusted-proxies", "comma-separated CIDRs whose X-Forwarded-For gives the client address", func(s string) error {
		l.TrustedProxies = nil
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				l.TrustedProxies = append(l.TrustedProxies, p)
			}
		}
		return nil
	})
	if mode == platform.ModeControlPlane {
		return
	}
	fs.Float64Var(&l.RatePerIP, "conn-rate-per-ip", gateway.DefaultConnRatePerIP, "new connections per second one client address may open (negative: no limit)")
	fs.IntVar(&l.BurstPerIP, "conn-burst-per-ip", gateway.DefaultConnBurstPerIP, "connections one client address may open at once")
	fs.Float64Var(&l.RatePerApp, "conn-rate-per-app", gateway.DefaultConnRatePerApp, "new connections per second one app may open on this gateway (negative: no limit)")
	fs.IntVar(&l.BurstPerApp, "conn-burst-per-app", gateway.DefaultConnBurstPerApp, "connections one app may open at once on this gateway")
}
