/**
 * The UTF-8 sequences of Autobahn's group 6, valid and invalid, and an independent reading of
 * RFC 3629 that says where an invalid one first fails.
 */
import { hex, utf8 } from "../../lib/testing";
import { bytes, concat } from "../support/wire";

export { hex, utf8 };
export const KOSME = utf8("κόσμε");

/**
 * An independent reading of RFC 3629 §4: the 1-based position of the first byte that cannot be
 * part of valid UTF-8, the length if the bytes end inside a sequence, or 0 if they are valid.
 */
export function failPosition(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    if (c < 0x80) { i++; continue; }
    let need: number, lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c === 0xe0) { need = 2; lo = 0xa0; }
    else if ((c >= 0xe1 && c <= 0xec) || c === 0xee || c === 0xef) need = 2;
    else if (c === 0xed) { need = 2; hi = 0x9f; } // no UTF-16 surrogates
    else if (c === 0xf0) { need = 3; lo = 0x90; } // no overlong 4-byte forms
    else if (c >= 0xf1 && c <= 0xf3) need = 3;
    else if (c === 0xf4) { need = 3; hi = 0x8f; } // nothing above U+10FFFF
    else return i + 1;
    for (let k = 1; k <= need; k++) {
      if (i + k >= b.length) return b.length;
      const d = b[i + k];
      if (d < (k === 1 ? lo : 0x80) || d > (k === 1 ? hi : 0xbf)) return i + k + 1;
    }
    i += need + 1;
  }
  return 0;
}

export const VALID: Array<[string, Uint8Array]> = [
  ["empty", new Uint8Array(0)],
  ["Hello-µ@ßöäüàá-UTF-8!!", utf8("Hello-µ@ßöäüàá-UTF-8!!")],
  ["κόσμε", KOSME],
  ["first 1-byte sequence U+0000", bytes(0x00)],
  ["first 2-byte sequence U+0080", bytes(0xc2, 0x80)],
  ["first 3-byte sequence U+0800", bytes(0xe0, 0xa0, 0x80)],
  ["first 4-byte sequence U+10000", bytes(0xf0, 0x90, 0x80, 0x80)],
  ["last 1-byte sequence U+007F", bytes(0x7f)],
  ["last 2-byte sequence U+07FF", bytes(0xdf, 0xbf)],
  ["last 3-byte sequence U+FFFF", bytes(0xef, 0xbf, 0xbf)],
  ["last 4-byte sequence U+10FFFF", bytes(0xf4, 0x8f, 0xbf, 0xbf)],
  ["U+D7FF, before the surrogates", bytes(0xed, 0x9f, 0xbf)],
  ["U+E000, after the surrogates", bytes(0xee, 0x80, 0x80)],
  ["U+FFFD", bytes(0xef, 0xbf, 0xbd)],
  ["U+FEFF, a byte order mark, kept", bytes(0xef, 0xbb, 0xbf)],
  ["U+FFFE noncharacter", bytes(0xef, 0xbf, 0xbe)],
  ["U+1FFFE and U+1FFFF noncharacters", bytes(0xf0, 0x9f, 0xbf, 0xbe, 0xf0, 0x9f, 0xbf, 0xbf)],
  ["U+10FFFE noncharacter", bytes(0xf4, 0x8f, 0xbf, 0xbe)],
  ["U+FDD0 to U+FDEF noncharacters", concat(...Array.from({ length: 32 }, (_, i) => bytes(0xef, 0xb7, 0x90 + i)))],
  ["a long mixed-width text", utf8("abc-é-€-𝄞-".repeat(50))],
];

const continuationBytes = Uint8Array.from({ length: 64 }, (_, i) => 0x80 + i);
const lonely = (from: number, to: number): Uint8Array => concat(...Array.from({ length: to - from + 1 }, (_, i) => bytes(from + i, 0x20)));
const truncated = [
  bytes(0xc0), bytes(0xe0, 0x80), bytes(0xf0, 0x80, 0x80), bytes(0xf8, 0x80, 0x80, 0x80), bytes(0xfc, 0x80, 0x80, 0x80, 0x80),
  bytes(0xdf), bytes(0xef, 0xbf), bytes(0xf7, 0xbf, 0xbf), bytes(0xfb, 0xbf, 0xbf, 0xbf), bytes(0xfd, 0xbf, 0xbf, 0xbf, 0xbf),
];

export const INVALID: Array<[string, Uint8Array]> = [
  ["κόσμε with a surrogate inside", concat(KOSME, bytes(0xed, 0xa0, 0x80), utf8("edited"))],
  ["κόσμε with a code point above U+10FFFF inside", concat(KOSME, bytes(0xf4, 0x90, 0x80, 0x80), utf8("edited"))],
  ["5-byte sequence", bytes(0xf8, 0x88, 0x80, 0x80, 0x80)],
  ["6-byte sequence", bytes(0xfc, 0x84, 0x80, 0x80, 0x80, 0x80)],
  ["U+110000, above U+10FFFF", bytes(0xf4, 0x90, 0x80, 0x80)],
  ["U+1FFFFF in 4 bytes", bytes(0xf7, 0xbf, 0xbf, 0xbf)],
  ["U+3FFFFFF in 5 bytes", bytes(0xfb, 0xbf, 0xbf, 0xbf, 0xbf)],
  ["U+7FFFFFFF in 6 bytes", bytes(0xfd, 0xbf, 0xbf, 0xbf, 0xbf, 0xbf)],
  ["a lone first continuation byte 0x80", bytes(0x80)],
  ["a lone last continuation byte 0xBF", bytes(0xbf)],
  ["2 continuation bytes", bytes(0x80, 0xbf)],
  ["3 continuation bytes", bytes(0x80, 0xbf, 0x80)],
  ["7 continuation bytes", bytes(0x80, 0xbf, 0x80, 0xbf, 0x80, 0xbf, 0x80)],
  ["all 64 continuation bytes", continuationBytes],
  ["lonely 2-byte leads 0xC0–0xDF, each followed by a space", lonely(0xc0, 0xdf)],
  ["lonely 3-byte leads 0xE0–0xEF, each followed by a space", lonely(0xe0, 0xef)],
  ["lonely 4-byte leads 0xF0–0xF7, each followed by a space", lonely(0xf0, 0xf7)],
  ["lonely 5-byte leads 0xF8–0xFB, each followed by a space", lonely(0xf8, 0xfb)],
  ["lonely 6-byte leads 0xFC–0xFD, each followed by a space", lonely(0xfc, 0xfd)],
  ...truncated.map((b): [string, Uint8Array] => [`a sequence missing its last byte: ${hex(b)}`, b]),
  ["all the truncated sequences, concatenated", concat(...truncated)],
  ["κόσμε ending inside a 2-byte sequence", concat(KOSME, bytes(0xce))],
  ["κόσμε ending inside a 4-byte sequence", concat(KOSME, bytes(0xf0, 0x9d, 0x84))],
  ["impossible byte 0xFE", bytes(0xfe)],
  ["impossible byte 0xFF", bytes(0xff)],
  ["impossible bytes 0xFE 0xFE 0xFF 0xFF", bytes(0xfe, 0xfe, 0xff, 0xff)],
  ["overlong '/' in 2 bytes", bytes(0xc0, 0xaf)],
  ["overlong '/' in 3 bytes", bytes(0xe0, 0x80, 0xaf)],
  ["overlong '/' in 4 bytes", bytes(0xf0, 0x80, 0x80, 0xaf)],
  ["overlong '/' in 5 bytes", bytes(0xf8, 0x80, 0x80, 0x80, 0xaf)],
  ["overlong '/' in 6 bytes", bytes(0xfc, 0x80, 0x80, 0x80, 0x80, 0xaf)],
  ["largest overlong 2-byte sequence", bytes(0xc1, 0xbf)],
  ["largest overlong 3-byte sequence", bytes(0xe0, 0x9f, 0xbf)],
  ["largest overlong 4-byte sequence", bytes(0xf0, 0x8f, 0xbf, 0xbf)],
  ["largest overlong 5-byte sequence", bytes(0xf8, 0x87, 0xbf, 0xbf, 0xbf)],
  ["largest overlong 6-byte sequence", bytes(0xfc, 0x83, 0xbf, 0xbf, 0xbf, 0xbf)],
  ["overlong NUL in 2 bytes", bytes(0xc0, 0x80)],
  ["overlong NUL in 3 bytes", bytes(0xe0, 0x80, 0x80)],
  ["overlong NUL in 4 bytes", bytes(0xf0, 0x80, 0x80, 0x80)],
  ["overlong NUL in 5 bytes", bytes(0xf8, 0x80, 0x80, 0x80, 0x80)],
  ["overlong NUL in 6 bytes", bytes(0xfc, 0x80, 0x80, 0x80, 0x80, 0x80)],
  ...[[0xa0, 0x80], [0xad, 0xbf], [0xae, 0x80], [0xaf, 0xbf], [0xb0, 0x80], [0xbe, 0x80], [0xbf, 0xbf]].map(
    ([b1, b2]): [string, Uint8Array] => [`single UTF-16 surrogate ed ${hex(bytes(b1, b2))}`, bytes(0xed, b1, b2)]),
  ...[[0xa0, 0x80, 0xb0, 0x80], [0xa0, 0x80, 0xbf, 0xbf], [0xad, 0xbf, 0xb0, 0x80], [0xad, 0xbf, 0xbf, 0xbf],
    [0xae, 0x80, 0xb0, 0x80], [0xae, 0x80, 0xbf, 0xbf], [0xaf, 0xbf, 0xb0, 0x80], [0xaf, 0xbf, 0xbf, 0xbf]].map(
    ([a, b, c, d]): [string, Uint8Array] => [`paired UTF-16 surrogates ed ${hex(bytes(a, b))} ed ${hex(bytes(c, d))}`, bytes(0xed, a, b, 0xed, c, d)]),
];

