// Package herald is the server client of Herald, the Pusher-compatible
// realtime messaging platform: what a Go backend needs to publish events,
// query channels and users, authorize subscriptions and sign-ins, mint
// tokens for realtime clients, read history and usage, and verify the
// webhooks Herald sends.
//
// A Client calls the tenant HTTP API of one app, signing every request
// with the app key's secret exactly as Herald verifies it (Pusher's
// request signing: docs/protocol.md, "Pusher compatibility"):
//
//	client, err := herald.New(herald.Config{
//		AppID: "app-id", Key: "app-key", Secret: "app-secret",
//		BaseURL: "http://127.0.0.1:6001",
//	})
//	…
//	res, err := client.Trigger(ctx, []string{"orders"}, "created", order)
//	// res.Serials["orders"] is the message's serial: its position in the
//	// app's stream, increasing per channel with gaps.
//
// Every call takes a context. API errors are *Error values carrying
// Herald's error code, the HTTP status, the field at fault and
// Retry-After; errors.Is matches them against ErrQuotaExceeded,
// ErrUnauthorized, ErrNotFound and the other sentinels.
//
// Calls that are safe to repeat are retried on network errors and on 429,
// 500, 502, 503 and 504 answers, with exponential backoff and full jitter,
// honouring Retry-After (RetryPolicy): reads, token issuing, connection
// termination, and publishes that carry an idempotency key
// (WithIdempotencyKey, Event.IdempotencyKey), which the server stores
// once and answers again with the same serial. A publish without a key is
// never retried: it might have been stored before the failure.
//
// With Config.EncryptionMasterKey, private-encrypted channels work as
// with pusher-http-go: Trigger encrypts their data (NaCl secretbox under
// SHA-256(channel + master key)) and AuthorizeChannel gives subscribers
// the channel's shared_secret; Herald never sees the plaintext.
//
// Tokens: IssueToken asks Herald for a token signed by its control plane;
// SignToken signs one locally with the app key's secret (HS256, kid = the
// key), which Herald's gateways accept as well (docs/protocol.md,
// "Tokens and capabilities").
package herald
