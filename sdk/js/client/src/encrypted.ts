/**
 * The private-encrypted channel plug-in: import it only where such
 * channels are used, so that tweetnacl (an optional peer dependency) stays
 * out of other bundles.
 *
 * @module @herald/client/encrypted
 */
import nacl from 'tweetnacl';

import { HeraldError } from './errors.js';
import { parseData } from './frames.js';
import type { Decryptor } from './herald.js';

function fromBase64(s: string): Uint8Array {
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}

/**
 * Opens Pusher end-to-end encrypted payloads (`{nonce, ciphertext}`,
 * base64, XSalsa20-Poly1305 under the channel's shared secret). Pass it as
 * `new Herald({ decryptor: naclDecryptor, … })`.
 */
export const naclDecryptor: Decryptor = (sharedSecret, data) => {
  const payload = (typeof data === 'string' ? JSON.parse(data) : data) as { nonce?: string; ciphertext?: string };
  if (!payload?.nonce || !payload.ciphertext) throw new HeraldError('encrypted data without nonce and ciphertext');
  const opened = nacl.secretbox.open(fromBase64(payload.ciphertext), fromBase64(payload.nonce), fromBase64(sharedSecret));
  if (!opened) throw new HeraldError('encrypted data could not be decrypted');
  return parseData(new TextDecoder().decode(opened));
};
