// Package bus is the NATS contract that gateways and control planes
// share: every subject, stream, consumer and KV bucket Herald uses, each
// owned by one package below bus/. Both sides import these packages and
// never each other; bus imports only channels (the pure domain), NATS and
// process plumbing (backoff, defaults, tick, metrics).
//
// Processes: a gateway (herald gateway) serves WebSocket and SSE clients;
// a control plane (herald controlplane) serves the REST and admin APIs
// and owns Postgres; herald dev runs both in one process. Every name
// below is ensured (created or updated) at start by the processes that
// use it.
//
// # Streams
//
// HERALD_MSG (bus/stream; HERALD_MSG_<n> for shard n > 0): every message
// a tenant or a client publishes. Subjects herald.msg.<shard>.<app>.<chan>
// (channels.MessageSubject; <chan> is channels.SubjectToken, base64url of
// the channel name), file storage, limits retention, discard old, MaxAge
// 24h by default (stream.DefaultMaxAge), no size or
// count limit, Nats-Msg-Id deduplication window 2m, AllowDirect. The
// stream sequence is the message's serial.
//   - Written by the control plane (REST publish: controlplane/api
//     tenant_events.go through stream.Publisher) and by gateways (client
//     events and herald:publish, through the same Publisher).
//   - Republished by the server to herald.live.<app>.<chan>, the shard
//     dropped (see Core subjects).
//   - Read by gateways with Direct Get (stream.Reader: resume, replay, gap
//     repair of live delivery) and by control planes (the durable
//     consumer below, and stream.Reader for what the history writer has
//     not stored yet; LeaderLast asks the leader with
//     $JS.API.STREAM.MSG.GET).
//
// HERALD_METER (bus/meter): every process's usage meter flushes
// (docs/billing.md). Subjects herald.meter.flush.<process id>, file
// storage, limits retention, MaxAge 24h (meter.DefaultMaxAge), Nats-Msg-Id
// deduplication window 2m; each flush's id is
// <process id>.<boot nonce>.<flush seq>, republished unchanged until
// acknowledged.
//   - Written by gateways and control planes (billing.Flusher) every
//     --meter-flush-interval, at minute boundaries and on a graceful stop.
//   - Read by control planes (the herald-meter-flushes consumer below).
//
// HERALD_WEBHOOK_EVENTS (bus/webhookevents; docs/webhooks.md): webhook
// events (channels.WebhookEnvelope, JSON) on their way to the dispatcher.
// Subjects herald.webhook.<app>.<chan>, so that one channel's events keep
// their order; file storage, limits retention, MaxAge 24h, Nats-Msg-Id
// deduplication window 2m (an event published twice under one id is
// stored once).
//   - Written by gateways (client_event, cache_miss) and control planes
//     (channel and member transitions decided from HERALD_WEBHOOK_STATE),
//     through bus/webhookstate.Emitter: one event per channel in flight,
//     so a publisher's events of a channel are stored in order.
//   - Written also by control planes (billing.QuotaReporter) for operator
//     webhooks: quota_warning / quota_reached / quota_exceeded under the reserved app id
//     ~operator (no app can have it), subjects
//     herald.webhook.~operator.<account>, Nats-Msg-Id
//     quota:<account>:<quota>:<threshold>:<period> (the quota_events row,
//     the outbox: published after it is recorded, marked once stored).
//   - Read by the webhook dispatcher in the control plane.
//
// HERALD_METER and HERALD_WEBHOOK_EVENTS are both ensured through
// bus/logstream, which owns their shared shape and defaults.
//
// # Consumers
//
// herald-history (controlplane/history, history.DefaultConsumer): the
// durable pull consumer on HERALD_MSG that every control plane shares to
// copy messages into Postgres. DeliverAll, AckExplicit, AckWait 5s by
// default (renewed while a batch is written), MaxDeliver unlimited,
// MaxAckPending 20000. Its ack floor is the history watermark.
//
// herald-meter-flushes (bus/meter.FlushConsumer; billing.Aggregator): the
// durable pull consumer on HERALD_METER that every control plane shares to
// fold flushes into Postgres, each flush id once. DeliverAll, AckExplicit,
// AckWait 10s, MaxDeliver unlimited, MaxAckPending 2000.
//
// herald-meter (bus/meter.PublishedConsumer; billing.PublishedCounter):
// the durable pull consumer on each message stream (HERALD_MSG,
// HERALD_MSG_<n>) that every control plane shares to count
// messages_published and bytes_in. DeliverAll, AckExplicit, AckWait 10s,
// MaxDeliver unlimited, MaxAckPending equal to its fetch batch (500), so
// that one batch is in flight cluster-wide and batches fold in stream
// order against the stream's mark in usage_stream_marks.
//
// Every KV watch (bus/kvwatch for HERALD_APPS, HERALD_SIGNING_KEYS,
// HERALD_CONN_COUNTS, and HERALD_WEBHOOK_STATE and HERALD_GATEWAYS in the
// webhook decider; bus/gateways for HERALD_GATEWAYS; the decider's one
// read of HERALD_WEBHOOK_REPORTED at start) is an ephemeral
// ordered consumer made by nats.go, one per watching process; Herald keeps
// no other consumer. Direct Get (bus/directget) reads without consumers.
//
// # KV buckets
//
// Every bucket keeps one message per key (History 1), so a key's revision
// is the stream sequence of its last write.
//
// HERALD_APPS (bus/appconfig): one key <app id> per app, the app's config
// as JSON (key secrets sealed). File storage, no TTL.
//   - Written by the control plane (controlplane/appsync, from Postgres).
//   - Read by gateways and control planes (appconfig.Cache, a kvwatch).
//
// HERALD_SIGNING_KEYS (bus/signingkeys): one key <kid> per live token
// signing key, its Ed25519 public key. File storage, no TTL.
//   - Written by the control plane (controlplane/appsync).
//   - Read by gateways and control planes (signingkeys.Cache, a kvwatch)
//     to verify Herald tokens.
//
// HERALD_CACHE (bus/cachechan): one key <app>.<chan> per cache channel,
// its last server-published event. File storage; each write carries a
// per-message TTL, the app's cache_ttl_s (at least 1s); expiry markers
// live 1s.
//   - Written by the control plane (REST publish to a cache- channel).
//   - Read by gateways (replayed to a new subscriber, or
//     pusher:cache_miss) with a KV get.
//
// HERALD_PRESENCE (gateway/presence): one key
// <app>.<chan>.<gateway id>.<socket> per connection on a presence channel
// (the socket id's '.' becomes '_'), its user id and info. File storage;
// per-key TTL 60s by default, renewed every TTL/3 by the connection's
// gateway; delete markers live 30s. Republished to
// herald.presence.<app>.<chan>.<gateway id>.<socket>.
//   - Written by gateways: join, leave, renewals; the janitor of a dead
//     gateway purges its members.
//   - Read by gateways: rosters follow the republished subjects and take
//     snapshots with Direct Get.
//
// HERALD_GATEWAYS (bus/gateways): one key <gateway id> per running
// gateway process, {id, started_at, addr}, plus lock keys janitor.<dead
// gateway id> that elect who cleans up after a dead gateway. File
// storage; per-key TTL 15s by default (presence.DefaultGatewayTTL),
// heartbeated every TTL/3 as a compare-and-set; delete markers live 30s.
//   - Written by gateways (gateways.Register, Registration.Run;
//     Unregister on a clean stop; ClaimCleanup).
//   - Read by gateways (Registration.Run watches it: who is live, who
//     died) and by the control plane (gateways.Reader, one Direct Get
//     multi_last, lists the gateways that must answer an occupancy
//     query).
//
// HERALD_WEBHOOK_STATE (bus/webhookstate): one key <app>.<chan>.<gateway
// id> per channel a gateway holds of an app whose endpoints want a
// channel webhook kind, {subscriptions, users}: the gateway's local
// subscription count (1 unless the app wants subscription_count) and the
// presence user ids of its local subscribers (when the app wants member
// events). File storage, no TTL; purges leave markers that live 30s.
//   - Written by gateways (webhookstate.Reporter: on change, coalesced;
//     purged on the last local leave and on a clean stop) and purged by
//     control planes for gateways that left the registry (compare-and-set
//     on the revision).
//   - Read by control planes (webhookstate.Decider, a kvwatch), which
//     turn its ordered changes into cluster-wide channel and member
//     webhook events on HERALD_WEBHOOK_EVENTS.
//
// HERALD_WEBHOOK_REPORTED (bus/webhookstate): one key <app>.<chan> per
// channel the webhook deciders reported occupied and not vacated since,
// {members}: the members reported added and not removed since. File
// storage, no TTL; purges leave markers that live 30s.
//   - Written by control planes (webhookstate.Decider), once the events
//     are stored in HERALD_WEBHOOK_EVENTS.
//   - Read by a control plane that starts (one WatchAll read), to report
//     what changed while no decider ran.
//
// HERALD_CONN_COUNTS (bus/conncount): one key <app>.<gateway id> per app
// with a max_connections limit (every app with connections when metering
// is on, for peak_connections) and gateway, {count, updated_at}. Memory
// storage, bucket MaxAge 1h (garbage collection only: readers judge
// freshness by updated_at).
//   - Written by every gateway (conncount.Counter): counts that changed
//     every --conn-count-interval (1s), unchanged ones every heartbeat
//     interval; its own keys deleted on a clean stop.
//   - Read by every gateway (conncount.Counter watches the bucket with
//     kvwatch and sums the other gateways' fresh counts to admit a
//     connection against the app's cluster-wide limit). The control plane
//     neither writes nor reads it.
//
// HERALD_DEBUG_INTEREST (bus/debugstream): one key <app>.<holder> per app
// a control plane's debug streams read, empty, per-key TTL
// --debug-interest-ttl (10s), LimitMarkerTTL the same.
//   - Written by control planes (debugstream.Watchers): put when the
//     first stream of the app opens, renewed every third of the TTL,
//     purged when the last one closes.
//   - Read by every process (debugstream.Interest, a kvwatch): debug
//     events are published only for the apps it holds.
//
// # Core subjects
//
//   - herald.live.<app>.<chan>: HERALD_MSG's republish, at most once.
//     Gateways subscribe per channel with local subscribers (stream.Live,
//     on the live connection) and repair gaps with Direct Get.
//   - herald.presence.<app>.<chan>.<gateway id>.<socket>: HERALD_PRESENCE's
//     republish. Gateways subscribe per presence channel with local
//     subscribers (presence rosters).
//   - herald.occupancy.query, herald.occupancy.terminate (bus/occupancy):
//     scatter-gather requests. Control planes publish (occupancy.Client,
//     replies on a _INBOX subject); every gateway answers (no queue group,
//     occupancy.Responder) from its own connections.
//   - herald.debug.<app> (bus/debugstream): an app's debug events, JSON,
//     at most once, published by every process only while the app is
//     watched and capped per app and second; read by the control plane's
//     debug streams (docs/console.md, "Debug stream").
//
// # JetStream API subjects used directly
//
//   - $JS.API.DIRECT.GET.<stream> (bus/directget): batched and multi_last
//     Direct Get of HERALD_MSG, KV_HERALD_PRESENCE and KV_HERALD_GATEWAYS,
//     answered by any replica.
//   - $JS.API.DIRECT.GET.HERALD_MSG.<subject>: a channel's last message
//     (stream.Reader.Last).
//   - $JS.API.STREAM.MSG.GET.HERALD_MSG: a channel's last serial as the
//     leader knows it (stream.Reader.LeaderLast).
//
// Helper packages: bus/kvwatch is the watch loop behind the KV caches;
// bus/kvttl writes KV leases with per-key TTLs and compare-and-sets;
// bus/directget is the one Direct Get client.
package bus
