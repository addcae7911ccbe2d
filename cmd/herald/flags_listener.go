package main

import (
	"flag"
	"strings"

	"github.com/heraldhq/herald/gateway"
	"github.com/heraldhq/herald/internal/platform"
)

// bindListenerFlags declares the TLS and abuse-limit flags: TLS and the
// header cap on every server, the connection-rate limits where a gateway
// runs.
func bindListenerFlags(fs *flag.FlagSet, cfg *platform.Config, mode platform.Mode) {
	fs.StringVar(&cfg.TLS.CertFile, "tls-cert", "", "PEM certificate (chain) file: serve HTTPS and WSS; needs --tls-key")
	fs.StringVar(&cfg.TLS.KeyFile, "tls-key", "", "PEM private key file of --tls-cert")
	fs.IntVar(&cfg.Limits.MaxHeaderBytes, "max-header-bytes", platform.DefaultMaxHeaderBytes, "cap on a request's headers; larger requests get 431")
	if mode == platform.ModeControlPlane {
		return
	}
	l := &cfg.Limits.Conn
	fs.Float64Var(&l.RatePerIP, "conn-rate-per-ip", gateway.DefaultConnRatePerIP, "new connections per second one client address may open (negative: no limit)")
	fs.IntVar(&l.BurstPerIP, "conn-burst-per-ip", gateway.DefaultConnBurstPerIP, "connections one client address may open at once")
	fs.Float64Var(&l.RatePerApp, "conn-rate-per-app", gateway.DefaultConnRatePerApp, "new connections per second one app may open on this gateway (negative: no limit)")
	fs.IntVar(&l.BurstPerApp, "conn-burst-per-app", gateway.DefaultConnBurstPerApp, "connections one app may open at once on this gateway")
	fs.BoolVar(&l.Loopback, "rate-limit-loopback", false, "apply the connection-rate limits to loopback clients too")
	fs.Func("trusted-proxies", "comma-separated CIDRs whose X-Forwarded-For gives the client address", func(s string) error {
		l.TrustedProxies = nil
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				l.TrustedProxies = append(l.TrustedProxies, p)
			}
		}
		return nil
	})
}
