/**
 * Herald's realtime client: the connection state machine, channels with
 * resume, presence, acknowledged publishes with an outbox, typing and
 * optimistic helpers, history and a receive-only SSE transport. See the
 * package README for a guide.
 *
 * @module @herald/client
 */
export { Herald } from './herald.js';
export type { Decryptor, HeraldEvents, HeraldOptions, PublishOptions, SubscribeOptions } from './herald.js';
export { Connection } from './connection.js';
export { TERMINATED_REASON } from './frames.js';
export type {
  ConnectionError,
  ConnectionEvents,
  ConnectionState,
  ConnectionTimings,
  StateChange,
  WebSocketConstructor,
  WebSocketLike,
} from './connection.js';
export { Channel } from './channel.js';
export type { ChannelEvents, ChannelState, EventMap, MessageMeta, ResumeResult, SubscriptionError } from './channel.js';
export { PresenceChannel } from './presence.js';
export type { Member } from './presence.js';
export { UserSession } from './user.js';
export type { UserEvents, WatchlistEvent } from './user.js';
export { Outbox, MemoryOutboxStore, IndexedDbOutboxStore, DEFAULT_DEADLINE_MS, MAX_DEADLINE_MS } from './outbox.js';
export type { OutboxEntry, OutboxOptions, OutboxStore } from './outbox.js';
export { Typing } from './typing.js';
export type { TypingOptions } from './typing.js';
export { OptimisticList } from './optimistic.js';
export type { OptimisticEvents, OptimisticItem } from './optimistic.js';
export { HeraldStream } from './sse.js';
export type { HeraldStreamOptions, StreamEvents, StreamState } from './sse.js';
export type { HistoryItem, HistoryOptions, HistoryPage } from './history.js';
export type { ChannelAuth, HeadersProvider, UserAuth } from './auth.js';
export { backoffDelay, closeAction } from './backoff.js';
export type { BackoffOptions, CloseAction, RandomSource } from './backoff.js';
export type { Environment } from './environment.js';
export { Emitter } from './emitter.js';
export type { Unsubscribe } from './emitter.js';
export {
  AuthError,
  ClosedError,
  HeraldError,
  HttpError,
  NackCode,
  OutboxFullError,
  PublishRejectedError,
  PublishTimeoutError,
} from './errors.js';
