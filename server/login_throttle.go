package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/docuvault/docuvault/store"
)

// Login throttling. Every attempt is counted in the database before the password hash is
// computed, in buckets checked in this order (a refused attempt is given back to the
// buckets it already passed, so it costs nothing elsewhere):
//
//   - client address: 20 attempts per 15 minutes over all usernames (successful logins are
//     given back), so one address cannot spray many accounts. It comes first so that an
//     address past its limit creates no bucket: spraying random usernames adds one row per
//     address, not one per request.
//   - username + client address: 5 attempts per 15 minutes, then 429 until the window ends.
//     Guessing one password from one place is slow; nobody else's address is affected.
//   - username, from anywhere: 20 attempts per hour pass freely, then one attempt per 20
//     seconds. This bounds a distributed guess against one account (about 180 an hour)
//     without ever locking it: the wait is seconds, and never grows by being hit.
//
// A browser holding a known-device cookie for the username (set by an earlier successful
// login) is counted only in its own bucket (username + device: 5 per 15 minutes), so no
// attack from elsewhere can keep the owner out of their usual browsers.
var (
	throttleUserIP = store.ThrottleRule{Window: 15 * time.Minute, Limit: 5, Free: 5}
	throttleIP     = store.ThrottleRule{Window: 15 * time.Minute, Limit: 20, Free: 20}
	throttleUser   = store.ThrottleRule{Window: time.Hour, Limit: 1 << 30, Free: 20, Spacing: 20 * time.Second}
	throttleDevice = throttleUserIP
)

// throttleKeep is how long a bucket can matter: the longest window.
const throttleKeep = time.Hour

type throttleBucket struct {
	key  string
	rule store.ThrottleRule
	own  bool // the guesser's own bucket: cleared by a success (the others get it back)
}

// bucketKey hashes the parts, so any username (NUL bytes, any length) makes a short key.
func bucketKey(kind string, parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return kind + ":" + hex.EncodeToString(h.Sum(nil))
}

// addressKey is the client address as throttling sees it: an IPv6 client is its /64, the
// block one subscriber usually holds, so rotating addresses inside it does not help.
func addressKey(ip string) string {
	parsed := net.ParseIP(ip)
	if parsed == nil || parsed.To4() != nil {
		return ip
	}
	return parsed.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

func loginBuckets(username, ip, device string) []throttleBucket {
	if device != "" {
		return []throttleBucket{{bucketKey("ud", username, device), throttleDevice, true}}
	}
	addr := addressKey(ip)
	return []throttleBucket{
		{bucketKey("ip", addr), throttleIP, false},
		{bucketKey("ui", username, addr), throttleUserIP, true},
		{bucketKey("u", username), throttleUser, false},
	}
}

// recheckBuckets are those of a signed-in user's password re-check (password change, 2FA
// off, new backup codes), keyed like a login: per address, so a stolen session guessing
// from its own address cannot keep the owner, elsewhere, from changing the password (the
// remedy that ends the stolen session), and a user-wide backoff for guesses from many.
func recheckBuckets(userID, ip string) []throttleBucket {
	return []throttleBucket{
		{bucketKey("pwi", userID, addressKey(ip)), throttleUserIP, true},
		{bucketKey("pw", userID), throttleUser, false},
	}
}

// takeAttempt counts the attempt in every bucket. It returns the grants to settle after
// the password check, or how long to wait when a bucket refuses.
func (s *Server) takeAttempt(ctx context.Context, buckets []throttleBucket) ([]store.ThrottleGrant, time.Duration, error) {
	var grants []store.ThrottleGrant
	for _, b := range buckets {
		g, err := s.store.TakeLoginAttempt(ctx, b.key, b.rule)
		if err != nil {
			return nil, 0, err
		}
		if !g.Allowed {
			for _, prev := range grants {
				if err := s.store.RefundLoginAttempt(ctx, prev); err != nil {
					return nil, 0, err
				}
			}
			return nil, max(g.RetryAfter, time.Second), nil
		}
		grants = append(grants, g)
	}
	return grants, 0, nil
}

// attemptSucceeded clears the guesser's own bucket and gives the attempt back to the
// shared ones, so successful checks never count as guesses.
func (s *Server) attemptSucceeded(ctx context.Context, buckets []throttleBucket, grants []store.ThrottleGrant) error {
	for i, g := range grants {
		var err error
		if buckets[i].own {
			err = s.store.ResetLoginBucket(ctx, g.Bucket)
		} else {
			err = s.store.RefundLoginAttempt(ctx, g)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// tooManyAttempts is the 429 of a throttled password check, with Retry-After in seconds.
func tooManyAttempts(c echo.Context, wait time.Duration) error {
	secs := int((wait + time.Second - 1) / time.Second)
	c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
	return fail(http.StatusTooManyRequests, map[string]any{"message": "too many attempts", "retry_after_seconds": secs})
}
