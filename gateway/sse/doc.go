// Package sse is the gateway's Server-Sent Events transport: a stream's
// bounded queue, the SSE encoding of a channel message, the cursor that
// Last-Event-ID carries, and the loop that writes a stream to its HTTP
// response.
//
// It knows nothing of connections, channels or apps: the gateway admits a
// request, subscribes it, and then hands each message to a Stream as the
// payload its fan-out encoded once and the event name it already knows,
// so that nothing is decoded again per subscriber. The gateway imports
// this package, never the reverse.
package sse
