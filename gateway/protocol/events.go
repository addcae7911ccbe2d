package protocol

// Event names: every pusher:*, pusher_internal:*, herald:* and
// herald_internal:* event the gateway sends or reads, named once, here.
// docs/protocol.md ("Vocabulary") lists them all, and a test fails when
// one is missing there.

// Pusher's events (Pusher Channels protocol v7; docs/protocol.md,
// "Pusher compatibility").
const (
	EventConnectionEstablished = "pusher:connection_established"
	EventError                 = "pusher:error"
	EventPing                  = "pusher:ping"
	EventPong                  = "pusher:pong"
	EventSubscribe             = "pusher:subscribe"
	EventUnsubscribe           = "pusher:unsubscribe"
	EventSignin                = "pusher:signin"
	EventSigninSuccess         = "pusher:signin_success"
	EventSubscriptionError     = "pusher:subscription_error"
	EventCacheMiss             = "pusher:cache_miss"
	EventSubscriptionSucceeded = "pusher_internal:subscription_succeeded"
	EventMemberAdded           = "pusher_internal:member_added"
	EventMemberRemoved         = "pusher_internal:member_removed"
	EventWatchlist             = "pusher_internal:watchlist_events"
)

// Herald's extensions (docs/protocol.md).
const (
	// EventPublish is an acked client publish:
	// {"channel","event","data","id"}.
	EventPublish = "herald:publish"
	// EventAck answers EventPublish with {"id","serial"}.
	EventAck = "herald_internal:ack"
	// EventNack refuses EventPublish with {"id","code","message"}.
	EventNack = "herald_internal:nack"
	// EventRefresh carries a new token: {"token":"<JWT>"}.
	EventRefresh = "herald:refresh"
	// EventTokenExpiring warns that the token expires at expires_at.
	EventTokenExpiring = "herald_internal:token_expiring"
	// EventTokenRefreshed confirms a refresh with the new expires_at.
	EventTokenRefreshed = "herald_internal:token_refreshed"
	// EventResumeResult ends a resume's replay: {"recovered":bool}, with
	// "reset":true when the position is beyond everything stored.
	EventResumeResult = "herald_internal:resume_result"
)

// Prefixes of event names.
const (
	// PusherPrefix starts the protocol's own client events; an unknown one
	// is an error.
	PusherPrefix = "pusher:"
	// ClientPrefix starts client events.
	ClientPrefix = "client-"
)

// Subscription error types sent in pusher:subscription_error.
const (
	SubErrAuth           = "AuthError"
	SubErrLimitReached   = "LimitReached"
	SubErrInvalidChannel = "InvalidChannel"
	SubErrForbidden      = "Forbidden"
)
