// Package directget is Herald's one client of JetStream's batched Direct
// Get API: reads of stored messages that any replica of a stream with
// AllowDirect answers, with no consumer to create and no JetStream API
// queue to wait in. nats.go v1.55 has no call for batched or multi_last
// gets, so the request body and the reply statuses are spelled out here,
// once, for every reader: the message stream (resume and gap repair), the
// presence bucket (roster snapshots, the janitor) and the gateway
// registry (which gateways must answer a cluster query).
//
// A request is answered on a fresh inbox by up to Batch stored messages,
// each carrying the server's Nats-* headers, then one status message: 204
// ends a batch and carries Nats-Num-Pending, 404 says nothing matched.
// Each answer lands in a channel sized to the answer, not in a
// subscription's default 64 Ki-slot buffer, so a read costs what it
// returns.
package directget
