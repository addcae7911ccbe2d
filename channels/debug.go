package channels

import "unicode/utf8"

// The live debug stream (docs/console.md, "Debug stream"): what gateways,
// the tenant API and the webhook dispatcher tell a console watching an app.
// Events are published to DebugSubject only while a console watches the
// app, so an unwatched app costs one flag check per would-be event.

// DebugKind is the type of a debug event.
type DebugKind string

// The debug event kinds. Fields each kind fills are listed beside it;
// every event has Type and Time.
const (
	// DebugConnected: SocketID, Transport, RemoteAddr, Gateway.
	DebugConnected DebugKind = "connected"
	// DebugDisconnected: SocketID, Transport, Gateway, UserID when signed
	// in, Code and Message when the server closed it.
	DebugDisconnected DebugKind = "disconnected"
	// DebugSignedIn: SocketID, UserID (pusher:signin succeeded).
	DebugSignedIn DebugKind = "signed_in"
	// DebugSubscribed and DebugUnsubscribed: SocketID, Channel.
	DebugSubscribed   DebugKind = "subscribed"
	DebugUnsubscribed DebugKind = "unsubscribed"
	// DebugSubscriptionError: SocketID, Channel, Code (the status sent in
	// pusher:subscription_error), Message.
	DebugSubscriptionError DebugKind = "subscription_error"
	// DebugClientError: SocketID, Code, Message of a pusher:error sent to
	// the client.
	DebugClientError DebugKind = "client_error"
	// DebugChannelOccupied and DebugChannelVacated: Channel.
	DebugChannelOccupied DebugKind = "channel_occupied"
	DebugChannelVacated  DebugKind = "channel_vacated"
	// DebugMemberAdded and DebugMemberRemoved: Channel, UserID, SocketID.
	DebugMemberAdded   DebugKind = "member_added"
	DebugMemberRemoved DebugKind = "member_removed"
	// DebugAPIMessage: a message published through the tenant or admin
	// API: Channel, Event, Serial, Size, Preview, Truncated, SocketID when
	// the publisher excluded one.
	DebugAPIMessage DebugKind = "api_message"
	// DebugClientEvent: a client event: SocketID, Channel, Event, Serial,
	// Size, Preview, Truncated, UserID when signed in.
	DebugClientEvent DebugKind = "client_event"
	// DebugAckedPublish: a publish over the connection with an ack
	// (herald:publish, docs/protocol.md "Event names"): as DebugClientEvent.
	DebugAckedPublish DebugKind = "acked_publish"
	// DebugWebhook: one webhook delivery attempt settled: Webhook.
	DebugWebhook DebugKind = "webhook"
	// DebugDropped: Count events of the app were not shown because the
	// stream was over its cap (per second, per app).
	DebugDropped DebugKind = "dropped"
	// DebugReady: the first event of every stream: from here on the app's
	// events reach it.
	DebugReady DebugKind = "ready"
)

// DebugPreviewBytes bounds a debug event's payload preview.
const DebugPreviewBytes = 256

// DebugEvent is one event of an app's debug stream, as the console reads
// it (one JSON object per SSE data line).
type DebugEvent struct {
	Type DebugKind `json:"type"`
	// Time is when it happened, Unix milliseconds.
	Time int64 `json:"time"`
	// Gateway is the id of the gateway that saw it, when one did.
	Gateway    string `json:"gateway,omitempty"`
	SocketID   string `json:"socket_id,omitempty"`
	Transport  string `json:"transport,omitempty"`
	RemoteAddr string `json:"remote_addr,omitempty"`
	UserID     string `json:"user_id,omitempty"`
	Channel    string `json:"channel,omitempty"`
	Event      string `json:"event,omitempty"`
	Serial     uint64 `json:"serial,omitempty"`
	// Size is the payload's length in bytes.
	Size int `json:"size,omitempty"`
	// Preview is the payload's first DebugPreviewBytes at most, cut at a
	// character boundary; Truncated says it was cut.
	Preview   string `json:"preview,omitempty"`
	Truncated bool   `json:"truncated,omitempty"`
	// Code and Message: an error's or a close's.
	Code    int    `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
	// Count of DebugDropped.
	Count   int64          `json:"count,omitempty"`
	Webhook *DebugDelivery `json:"webhook,omitempty"`
}

// DebugDelivery is what a DebugWebhook event tells of a delivery.
type DebugDelivery struct {
	EndpointID string `json:"endpoint_id"`
	DeliveryID string `json:"delivery_id"`
	// Status is the delivery's state after this attempt: delivered,
	// retrying or failed.
	Status string `json:"status"`
	// StatusCode is the endpoint's HTTP answer, 0 when it gave none.
	StatusCode int `json:"status_code"`
	Attempts   int `json:"attempts"`
	// Events names the kinds of the webhook events delivered.
	Events []string `json:"events,omitempty"`
	Error  string   `json:"error,omitempty"`
}

// DebugSubjectPrefix starts the core NATS subjects of debug events:
// herald.debug.<app>.
const DebugSubjectPrefix = "herald.debug"

// DebugSubject is where an app's debug events are published.
func DebugSubject(appID string) string { return DebugSubjectPrefix + "." + appID }

// DebugPreview returns the preview of a payload: at most
// DebugPreviewBytes, never cutting a UTF-8 sequence, and whether it was cut.
func DebugPreview(payload []byte) (string, bool) {
	if len(payload) <= DebugPreviewBytes {
		return string(payload), false
	}
	cut := DebugPreviewBytes
	for cut > 0 && !utf8.RuneStart(payload[cut]) {
		cut--
	}
	return string(payload[:cut]), true
}
