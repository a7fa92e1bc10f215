/**
 * XOR masking (RFC 6455 §5.3): byte i of the payload is XORed with byte (i mod 4) of the key.
 * Masking and unmasking are the same operation. Both work in place.
 *
 * Payloads of 64 bytes and more are XORed a 32-bit word at a time through a `Uint32Array` view,
 * which needs a 4-byte-aligned start: the unaligned head and tail go byte by byte, and the key is
 * rotated to line up with the first aligned byte. The word is assembled from bytes in memory order
 * through a second view, so it is right on either byte order.
 */
const WORD_THRESHOLD = 64;

/**
 * XORs `data` in place with `key`, starting at key byte `keyOffset` (0–3): a frame's payload may
 * arrive in pieces, and each later piece continues where the key left off.
 */
export function applyMask(data: Uint8Array, key: Uint8Array, keyOffset = 0): void {
  const length = data.length;
  if (length < WORD_THRESHOLD) {
    for (let i = 0; i < length; i++) data[i] ^= key[(keyOffset + i) & 3];
    return;
  }
  const head = (4 - (data.byteOffset & 3)) & 3;
  for (let i = 0; i < head; i++) data[i] ^= key[(keyOffset + i) & 3];
  const rotated = new Uint8Array(4);
  for (let j = 0; j < 4; j++) rotated[j] = key[(keyOffset + head + j) & 3];
  const word = new Uint32Array(rotated.buffer)[0];
  const wordCount = (length - head) >>> 2;
  const words = new Uint32Array(data.buffer, data.byteOffset + head, wordCount);
  for (let w = 0; w < wordCount; w++) words[w] ^= word;
  for (let i = head + wordCount * 4; i < length; i++) data[i] ^= key[(keyOffset + i) & 3];
}
