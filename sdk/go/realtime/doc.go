// Package realtime is a Go client of Herald's WebSocket protocol (Pusher
// protocol v7 with Herald's extensions): what a browser does with
// @herald/client, for Go services, CLIs and tests.
//
// A Client is one logical connection over successive WebSockets:
//
//   - It connects with an app key, or with a token (Config.TokenProvider,
//     sent as ?token= and refreshed in place on token_expiring).
//   - It reports its state on States: a bounded channel that never blocks
//     the client; when full the oldest change is dropped, and it is closed
//     after StateClosed.
//   - It pings after Config.Heartbeat of silence (or the server's
//     activity_timeout, when shorter) and reconnects when nothing answers
//     within Config.PongTimeout.
//   - It reconnects with exponential backoff and full jitter, as the close
//     code says: 4000–4099 never (StateClosed with a *CloseError), 4009
//     once more with a fresh token when there is a provider, 4100–4199
//     after a backoff of at least a second, 4200–4299 at once. A
//     connection the app terminated (terminate_connections) is closed for
//     good whatever the provider: its *CloseError matches ErrTerminated.
//   - On each reconnection every subscription is resumed from the serial
//     of its last message (resume_from); the server replays what was
//     missed and the subscription reports the outcome as an EventResumed
//     message and Subscription.Recovered. Messages arrive once each and
//     in serial order: replays that overlap live delivery are skipped.
//     When Recovered is false the gap was outside the app's resume window:
//     refetch the state (the server client's History reads it).
//   - Publish is an acked publish (herald:publish): it returns the serial
//     the server stored the message under. Publishes wait in a bounded
//     outbox while disconnected and are resent in order, with the same
//     idempotency id, after the reconnection; each fails at its context's
//     deadline, with ErrOutboxFull beyond Config.OutboxSize, or with a
//     *NackError carrying the server's code. WithPublishID sets the id,
//     so that a retry after an unknown outcome is stored once. A client's
//     own publishes and client events never come back to its own
//     subscriptions.
//
// Subscriptions deliver on a bounded channel (Messages) or to handlers
// (Bind). The client never waits for a slow reader: a subscription whose
// buffer is full is closed with ErrSlowConsumer rather than silently skip
// a message. Private, presence and private-encrypted channels are
// authorized by Config.Authorizer (or by the token's capabilities);
// encrypted payloads are opened with the key the authorization carries.
// SignIn signs the user in and returns the user's channel.
//
// Every method is safe for concurrent use. A channel's subscribes and
// unsubscribes reach the server in the order of the calls, so that
// Unsubscribe and Subscribe racing on one channel, or a Subscribe right
// after ErrSlowConsumer, leave the server with the channel joined exactly
// when the client holds a Subscription for it. Close stops every
// goroutine the client started.
package realtime
