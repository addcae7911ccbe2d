package channels

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// NATS names (docs/nats.md, "Message stream"). App ids are [A-Za-z0-9_-],
// which are safe in subject tokens; channel names may hold '.', so they are
// encoded.
const (
	// MessageStream is the JetStream stream every message is stored in.
	MessageStream = "HERALD_MSG"
	// MessageSubjectPrefix starts the subjects the stream stores.
	MessageSubjectPrefix = "herald.msg"
	// LiveSubjectPrefix starts the core subjects the stream republishes to.
	LiveSubjectPrefix = "herald.live"
)

// SubjectToken encodes a channel name as one subject token: base64url
// without padding, which is injective and uses only [A-Za-z0-9_-].
func SubjectToken(channel string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(channel))
}

// ParseSubjectToken decodes a SubjectToken.
func ParseSubjectToken(tok string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return "", fmt.Errorf("channel subject token: %w", err)
	}
	return string(b), nil
}

// MessageSubject is where a channel's messages are published:
// herald.msg.<shard>.<app>.<chan>.
func MessageSubject(shard int, appID, channel string) string {
	return MessageSubjectPrefix + "." + strconv.Itoa(shard) + "." + appID + "." + SubjectToken(channel)
}

// LiveSubject is where the stream republishes a channel's messages:
// herald.live.<app>.<chan>.
func LiveSubject(appID, channel string) string {
	return LiveSubjectPrefix + "." + appID + "." + SubjectToken(channel)
}

// ParseLiveSubject returns the app id and channel of a live subject.
func ParseLiveSubject(subject string) (appID, channel string, err error) {
	rest, ok := strings.CutPrefix(subject, LiveSubjectPrefix+".")
	if !ok {
		return "", "", fmt.Errorf("not a live subject: %q", subject)
	}
	appID, tok, ok := strings.Cut(rest, ".")
	if !ok || appID == "" || strings.Contains(tok, ".") {
		return "", "", fmt.Errorf("malformed live subject: %q", subject)
	}
	channel, err = ParseSubjectToken(tok)
	return appID, channel, err
}

// IdempotencyMsgID is the message stream's Nats-Msg-Id for a caller's
// idempotency key: scoped to the app and the channel, so that one tenant's
// keys never suppress another's messages, and hashed into a short,
// header-safe token. The REST API and herald:publish share it, so a retry
// through either is recognised.
func IdempotencyMsgID(appID, channel, key string) string {
	sum := sha256.Sum256([]byte(appID + "\x00" + channel + "\x00" + key))
	return "idem-" + hex.EncodeToString(sum[:])
}

// QuotaEventSubjectPrefix starts the core subjects of quota events: an
// account crossing 80% or 100% of a quota of its plan, published once per
// account, quota, threshold and period by the control plane
// (docs/billing.md, "Quotas and enforcement").
const QuotaEventSubjectPrefix = "herald.quota"

// QuotaEventSubject is where an account's quota events are published:
// herald.quota.<account>. Account ids are [A-Za-z0-9_-], safe as a token.
func QuotaEventSubject(accountID string) string {
	return QuotaEventSubjectPrefix + "." + accountID
}
