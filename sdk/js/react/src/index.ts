/**
 * React bindings for Herald: a provider, hooks for the connection,
 * channels (shared, ref-counted subscriptions that survive StrictMode),
 * presence, typing and acked publishing, React Query helpers, and a
 * store-agnostic optimistic list. See the package README.
 *
 * @module @herald/react
 */
export { HeraldProvider, useHerald } from './context.js';
export type { HeraldProviderProps } from './context.js';
export { useConnectionState } from './connection.js';
export { useChannel, useChannelState, useSubscription } from './channel.js';
export { usePresence } from './presence.js';
export type { PresenceState } from './presence.js';
export { useTyping } from './typing.js';
export type { TypingState } from './typing.js';
export { usePublish } from './publish.js';
export type { PublishEntry, PublishState, PublishStatus } from './publish.js';
export { useRealtimeCache, useRealtimeInvalidation } from './query.js';
export type { InvalidationRule, RealtimeCacheEvents } from './query.js';
export { ConfirmTimeoutError, DEFAULT_CONFIRM_TIMEOUT_MS, useRealtimeMutation } from './mutation.js';
export type { MutationEntry, RealtimeMutationOptions, RealtimeMutationResult } from './mutation.js';
export { optimisticList } from './optimistic.js';
export type { Optimistic, OptimisticListOps, OptimisticStatus, OptimisticStore } from './optimistic.js';
export { channelHolders } from './registry.js';
