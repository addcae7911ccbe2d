package protocol

// Pusher event names (docs/protocol.md, "Pusher compatibility").
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
	EventSubscriptionCount     = "pusher_internal:subscription_count"
	EventWatchlist             = "pusher_internal:watchlist_events"

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
