package gateway

import "github.com/heraldhq/herald/channels"

// clientEnvelopeBytes is what a client message may hold besides the parts
// that scale with its app's settings (event data, presence user_info).
// The largest legitimate envelopes (see TestClientMessageCapFits):
//
//   - pusher:signin: user_data with an id of MaxUserIDLen characters and a
//     watchlist of MaxWatchlist such ids, JSON-escaped inside its string,
//     and the auth signature: about 14 KiB, the largest;
//   - herald:refresh: a token of channels.MaxTokenLen (8 KiB), base64url
//     that needs no escaping;
//   - pusher:subscribe: a channel name of MaxChannelNameLen, the auth
//     signature, channel_data's user_id and keys, resume and rewind
//     fields: under 2 KiB besides user_info;
//   - a client event or herald:publish: event and channel names of 200
//     characters and an idempotency id of MaxPublishIDLen characters even
//     as \u escapes: under 2 KiB besides the data, the rest being slack
//     for escapes in string data.
const clientEnvelopeBytes = 16 << 10

// clientMessageCap is the largest message a connection of app may send,
// all fragments together: what its largest legitimate message needs, under
// the operator's ceiling. Event data counts up to max_message_bytes;
// presence channel_data carries user_info JSON-escaped inside a string,
// which at most doubles it (every escaped byte is a quote, a backslash
// or a control character written as two bytes). A frame announcing more
// is refused from its header with 1009, before any of it is buffered, so
// the cap is also what a connection can make the gateway hold.
func clientMessageCap(app *channels.AppConfig, ceiling int) int {
	s := app.Settings
	return min(ceiling, max(s.MaxMessageBytes, 2*s.MaxPresenceUserInfoBytes)+clientEnvelopeBytes)
}
