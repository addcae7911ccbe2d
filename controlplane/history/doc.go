// Package history keeps every message for the history API
// (docs/architecture.md, "Where state lives"; docs/nats.md,
// "Ack floor and the history watermark"): a Writer copies a message stream
// into PostgreSQL, and Retention purges what each app no longer keeps.
//
// The Writer reads its stream through one durable pull consumer, shared by
// every control-plane replica. It fetches batches, writes each batch in one
// idempotent statement (unique on stream and serial, so a redelivered
// message is skipped) and acknowledges the batch only after the commit.
// Each writer runs a few such loops on the consumer (Config.Concurrency):
// one loop at a time left PostgreSQL idle while the next batch was
// fetched and decoded, and NATS idle during the COPY, which capped one
// writer at 41,000–48,000 messages/s on 2 cores; three overlap them.
// Their batches commit in any order, which the watermark below tolerates
// as it does the writers of several replicas.
// While it writes, and while PostgreSQL is down and it retries with a
// capped backoff, it tells JetStream the batch is still in progress;
// nothing is acknowledged, so nothing is lost, and publishing and
// delivery, which never touch PostgreSQL, go on. The stream's MaxAge is the
// outage it can absorb. The ack wait is short (seconds): it is how long the
// batch of a writer that died waits to be delivered again.
//
// The Reader answers the history API. Because acknowledgements follow
// commits, the consumer's ack floor (the Watermark) is a serial at or
// below which every message is stored, whichever replica wrote it; above
// it some messages may be missing (a batch in flight, or one a dead
// writer held), and the stream, which holds them all, fills the page. So
// a page is complete the moment a publish returns, also right after a
// crash, and paging on with a cursor never skips a message.
//
// Retention deletes each app's expired messages in bounded batches, one
// short transaction each, round-robin across apps, with a cap on the
// batches of one pass.
package history
