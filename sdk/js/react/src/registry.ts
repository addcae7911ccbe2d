import type { Channel, Herald, SubscribeOptions } from '@herald/client';

interface Entry {
  count: number;
}

const registries = new WeakMap<Herald, Map<string, Entry>>();

/**
 * Joins a channel on behalf of one hook instance. Channels are shared:
 * each name is subscribed once however many components use it, and left
 * when the last one releases it. The leave waits a microtask, so
 * StrictMode's unmount-and-remount of effects (and a component moving in
 * the tree) neither unsubscribes nor subscribes again.
 */
export function acquireChannel(client: Herald, name: string, opts?: SubscribeOptions): Channel {
  let reg = registries.get(client);
  if (!reg) registries.set(client, (reg = new Map()));
  const entry = reg.get(name);
  if (entry) entry.count++;
  else reg.set(name, { count: 1 });
  return client.subscribe(name, opts);
}

/** Releases what acquireChannel took; the last release leaves the channel. */
export function releaseChannel(client: Herald, name: string): void {
  const reg = registries.get(client);
  const entry = reg?.get(name);
  if (!reg || !entry) return;
  entry.count--;
  if (entry.count > 0) return;
  queueMicrotask(() => {
    if (entry.count > 0 || reg.get(name) !== entry) return;
    reg.delete(name);
    client.unsubscribe(name);
  });
}

/** How many hook instances hold a channel (tests and leak checks). */
export function channelHolders(client: Herald, name: string): number {
  return registries.get(client)?.get(name)?.count ?? 0;
}
