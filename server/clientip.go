package server

import (
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// ParseTrustedProxies reads server.trusted_proxies: CIDRs ("10.0.0.0/8") or single
// addresses ("192.0.2.7", taken as /32 or /128).
func ParseTrustedProxies(list []string) ([]*net.IPNet, error) {
	var nets []*net.IPNet
	for _, v := range list {
		v = strings.TrimSpace(v)
		if !strings.Contains(v, "/") {
			ip := net.ParseIP(v)
			if ip == nil {
				return nil, fmt.Errorf("%q is neither a CIDR nor an IP address", v)
			}
			bits := 128
			if ip.To4() != nil {
				ip, bits = ip.To4(), 32
			}
			nets = append(nets, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
			continue
		}
		_, n, err := net.ParseCIDR(v)
		if err != nil {
			return nil, fmt.Errorf("%q is not a valid CIDR", v)
		}
		nets = append(nets, n)
	}
	return nets, nil
}

// clientIPExtractor decides where c.RealIP() comes from. With no trusted proxies it is the
// peer address: anyone can write X-Forwarded-For, and trusting it would let an attacker
// pick a fresh address for every login guess. When the peer is a trusted proxy, the
// client is the nearest untrusted address in X-Forwarded-For (else X-Real-IP). Only the
// configured ranges are trusted: echo's defaults (loopback, link-local, private networks)
// are turned off, since on a shared host those are not necessarily our proxy.
func clientIPExtractor(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	xff, realIP := echo.ExtractIPFromXFFHeader(opts...), echo.ExtractIPFromRealIPHeader(opts...)
	return func(r *http.Request) string {
		if r.Header.Get(echo.HeaderXForwardedFor) != "" {
			return xff(r)
		}
		return realIP(r)
	}
}
