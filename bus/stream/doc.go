// Package stream is Herald's one message path (docs/nats.md,
// "Message stream"). Every message a tenant or a client publishes is stored
// in the JetStream stream HERALD_MSG, whose sequence number is the message's
// serial; the stream republishes each stored message to a core subject per
// channel, which gateways subscribe to.
//
// The package has four parts that share one message format:
//   - Ensure creates or updates the stream;
//   - Publisher stores messages (idempotently, with Nats-Msg-Id);
//   - Reader reads a channel's stored messages back with batched Direct
//     Get, for resume, gap repair and cache channels;
//   - Live delivers a gateway's channels in serial order, without holes:
//     it detects the gaps that at-most-once republishing leaves and repairs
//     them with the Reader before handing a message on.
//
// Names: the stream HERALD_MSG (StreamName; HERALD_MSG_<n> for shard n),
// stored subjects herald.msg.<shard>.<app>.<chan> and republished
// subjects herald.live.<app>.<chan> (channels.MessageSubject and
// channels.LiveSubject). The control plane's history writer reads it with
// the durable consumer herald-history (controlplane/history).
package stream
