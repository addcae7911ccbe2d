// `make chat` / `npm start`: herald dev plus the chat's backend; open the
// printed URL in two windows (?user=ann, ?user=bo). Ctrl-C stops both and
// removes herald's data folder.

import { startStack } from './stack.mjs';

/** The backend's port, unless CHAT_PORT says otherwise. */
const DEFAULT_PORT = 5180;

const stack = await startStack({ port: Number(process.env.CHAT_PORT ?? DEFAULT_PORT) });
console.log(`herald dev on ${stack.heraldUrl}`);
console.log(`chat on ${stack.url}/?user=ann and ${stack.url}/?user=bo (Ctrl-C to stop)`);
let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    void stack.stop().then(() => process.exit(0));
  });
}
