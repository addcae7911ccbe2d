// Package netfuzz generates hostile input for Herald's listeners and
// drives it over TCP (issue 22): random bytes and mutated HTTP requests at
// every endpoint (WebSocket, SSE, tenant REST, admin API), headers over
// the server's cap, slowloris headers sent a byte at a time, half-open
// connections that never send, and, after a valid WebSocket handshake,
// generated frames (every opcode, unmasked, reserved bits, RSV1
// "compressed" frames, 64-bit lengths, fragmented control frames, invalid
// UTF-8, cut frames) or mutated Pusher JSON (wrong types, deep nesting,
// huge strings, invalid escapes).
//
// Generation is deterministic: a Gen built from a seed yields the same
// attacks in the same order, so a failure is reproduced from the seed and
// the attack's index alone.
//
// For frame attacks the expected answer is computed, not guessed: the
// bytes sent are run through the gateway's own ws.Parser, with the
// gateway's message cap, and its verdict (a protocol error and its close
// code, a close frame to echo, an unfinished frame that the frame read
// timeout must end, or valid input) is what Check holds the gateway to
// over the network.
package netfuzz
