// Package history keeps every message for the history API (DESIGN.md §6,
// NATS.md §9): a Writer copies a message stream into PostgreSQL, and
// Retention purges what each app no longer keeps.
//
// The Writer reads its stream through one durable pull consumer, shared by
// every control-plane replica. It fetches batches, writes each batch in one
// idempotent statement (unique on stream and serial, so a redelivered
// message is skipped) and acknowledges the batch only after the commit.
// While PostgreSQL is down it holds its batch, retries with a capped
// backoff and tells JetStream the batch is still in progress; nothing is
// acknowledged, so nothing is lost, and publishing and delivery, which
// never touch PostgreSQL, go on. The stream's MaxAge is the outage it can
// absorb.
//
// Retention deletes each app's expired messages in bounded batches, one
// short transaction each, round-robin across apps, with a cap on the
// batches of one pass.
package history
