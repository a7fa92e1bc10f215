/**
 * Differential: the same byte streams, after an opening handshake, read by wsdriver and by ws 8's
 * `Receiver` (the reference implementation's frame reader) in the same role, with the same
 * `maxPayload`, with and without permessage-deflate. Both must conclude the same: the same
 * messages (bytes and text), pings and pongs in the same order, and for a violation the same close
 * code — except where the two are known to differ and RFC 6455 allows either (see `reconcile`,
 * and "Where we differ from ws" in docs/conformance.md).
 */
import fc from "fast-check";
import { fuzzParameters, mutate, mutation, splitBy, splits } from "../fuzz/arbitraries";
import { type Conclusion, type Setup, runOurs, runWs } from "./peers";
import { type Stream, emptyCompressedAsBlock, joinCompressed, stream, wireBytes } from "./streams";

/** Two conclusions are the same; a failure's message is each reader's own, only its code counts. */
const same = (a: Conclusion, b: Conclusion): boolean =>
  a[0] === "fail" && b[0] === "fail" ? a[1] === b[1] : JSON.stringify(a) === JSON.stringify(b);

/**
 * Reconciles the known, allowed differences; returns null when the two agree, or says how they
 * disagree. Everything up to the first difference must be the same.
 */
export function reconcile(ours: Conclusion[], theirs: Conclusion[], deflate: boolean, data?: Uint8Array): string | null {
  let k = 0;
  while (k < ours.length && k < theirs.length && same(ours[k], theirs[k])) k++;
  if (k === ours.length && k === theirs.length) return null;
  const oursRest = ours.slice(k), theirsRest = theirs.slice(k);
  const first = oursRest[0], theirFirst = theirsRest[0];

  // 1. RFC 6455 §8.1 lets a reader fail on invalid UTF-8 as soon as it sees it ("fail fast"), which
  //    wsdriver does while a text message arrives; ws checks the whole message at its end. So where
  //    we fail with 1007 inside a message, ws reads on until that message ends (or something else
  //    ends the connection first): control frames between its fragments, then its own verdict.
  if (oursRest.length === 1 && first[0] === "fail" && first[1] === 1007 && first[2].startsWith("Invalid UTF-8 in a text message")
    && onlyControlThenAnEnd(theirsRest)) return null;

  // 2. RFC 6455 §5.2: "the most significant bit MUST be 0" in a 64-bit length. Breaking a framing
  //    rule is a protocol error (1002, §7.4.1); ws reads it as a length it cannot handle (1009).
  if (oursRest.length === 1 && theirsRest.length === 1 && first[0] === "fail" && first[1] === 1002
    && first[2].startsWith("64-bit payload length has its most significant bit set")
    && theirFirst[0] === "fail" && theirFirst[1] === 1009) return null;

  // 6. ws judges a frame header by its first two bytes (RSV bits, opcode, FIN on a control frame,
  //    the mask bit, a close frame's length of 1) and by its length as soon as that is read;
  //    wsdriver reads the whole header (up to 14 bytes) first, and a close frame's 1-byte payload
  //    once it is there. The verdict is the same, but a stream that stops inside that frame has
  //    had it from ws only.
  if (data !== undefined && oursRest.length === 0 && theirsRest.length === 1 && theirFirst[0] === "fail"
    && (theirFirst[1] === 1002 || theirFirst[1] === 1009) && endsInsideAFrame(data)) return null;

  // 7. ws loses the compressed message after one whose DEFLATE stream ended at its last byte (a
  //    final stored block, 01, whose LEN and NLEN are the 00 00 ff ff appended, RFC 7692 §7.2.2,
  //    §7.2.3.4): zlib reads nothing past the end of a stream, and ws delivers an empty message
  //    before it notices the end and starts a new stream. Random damage makes such messages.
  if (deflate && theirFirst !== undefined && first !== undefined && (theirFirst[0] === "text" || theirFirst[0] === "binary") && theirFirst[1] === "") {
    if (first[0] === theirFirst[0] && first[1] !== "") return reconcile(oursRest.slice(1), theirsRest.slice(1), deflate, data);
    if (oursRest.length === 1 && first[0] === "fail" && first[1] === 1007 && first[2].startsWith("Invalid compressed message")) return null;
  }

  // 3. RFC 7692 §6.2 leaves it to the reader when to inflate: ws inflates a compressed message
  //    fragment by fragment and fails (1007 bad DEFLATE data, 1009 inflated past maxPayload) on the
  //    first fragment that shows it; wsdriver inflates the message once it is whole. So where ws
  //    fails inside a compressed message, we read on to its end or to another end (the bytes are
  //    bounded by maxLength on the wire all the same).
  if (deflate && theirsRest.length === 1 && theirFirst[0] === "fail" && (theirFirst[1] === 1007 || theirFirst[1] === 1009)
    && onlyControlThenAnEnd(oursRest)) return null;

  return `they part after ${k} conclusions: ours ${JSON.stringify(ours.slice(k))}, ws ${JSON.stringify(theirs.slice(k))}`;
}

/** Whether `data`, read as a sequence of frames (RFC 6455 §5.2), stops inside a frame. */
function endsInsideAFrame(data: Uint8Array): boolean {
  let at = 0;
  while (at < data.length) {
    if (data.length - at < 2) return true;
    const b1 = data[at + 1];
    const form = b1 & 0x7f;
    const size = 2 + (form === 126 ? 2 : form === 127 ? 8 : 0) + (b1 & 0x80 ? 4 : 0);
    if (data.length - at < size) return true;
    let length = form;
    if (form === 126) length = (data[at + 2] << 8) | data[at + 3];
    else if (form === 127) length = Number(new DataView(data.buffer, data.byteOffset + at + 2, 8).getBigUint64(0));
    at += size + length;
  }
  return at > data.length;
}

/** Control frames only, then at most one end (a failure or a close), and nothing after it. */
function onlyControlThenAnEnd(rest: Conclusion[]): boolean {
  const ends = rest.filter(([kind]) => kind === "fail" || kind === "close").length;
  const controls = rest.filter(([kind]) => kind === "ping" || kind === "pong").length;
  return ends <= 1 && controls + ends === rest.length && (ends === 0 || ["fail", "close"].includes(rest[rest.length - 1][0]));
}

const configurations: Array<{ name: string; setup: (max: number) => Setup }> = [
  { name: "server", setup: (maxPayload) => ({ role: "server", maxPayload, deflate: false }) },
  { name: "client", setup: (maxPayload) => ({ role: "client", maxPayload, deflate: false }) },
  { name: "server with permessage-deflate", setup: (maxPayload) => ({ role: "server", maxPayload, deflate: true }) },
  { name: "client with permessage-deflate", setup: (maxPayload) => ({ role: "client", maxPayload, deflate: true }) },
];

/** Checks one stream on both readers; throws if they disagree beyond the known differences. */
async function compare(config: Setup, s: Stream, cuts: number[] | "every-byte", damage?: Array<{ kind: string; at: number; value: number }>): Promise<void> {
  // Damaged bytes are not frames to rewrite afterwards (4 and 5 below): rewrite the stream first.
  let data = wireBytes(damage === undefined ? s : emptyCompressedAsBlock(joinCompressed(s)), config.role === "server");
  if (damage !== undefined) data = mutate(data, damage);
  const ours = runOurs(config, splitBy(data, cuts));
  const theirs = await runWs(config, splitBy(data, cuts));
  let disagreement = reconcile(ours, theirs, config.deflate, data);
  if (disagreement !== null && config.deflate && damage === undefined) {
    // 4. ws inflates each fragment as it comes, so its verdict on a compressed message can
    //    depend on how the message is fragmented: a DEFLATE stream that ends (BFINAL,
    //    RFC 7692 §7.2.3.4) in one fragment fails on the next, though the same bytes in
    //    one frame inflate. RFC 6455 §5.4 and RFC 7692 §6.1 make the message the same
    //    either way, as wsdriver reads it.
    // 5. A compressed message with an empty payload: RFC 7692 sends an empty message as 00
    //    (§7.2.3.6); wsdriver reads an empty payload as the empty message too and leaves
    //    its inflater alone, while ws inflates 00 00 ff ff alone, delivers "" and is left
    //    inside a stored block, which garbles the next compressed message.
    // ws on the stream with both rewritten to the form it reads as meant must agree.
    const joined = emptyCompressedAsBlock(joinCompressed(s));
    const unfragmented = await runWs(config, splitBy(wireBytes(joined, config.role === "server"), cuts));
    if (reconcile(ours, unfragmented, config.deflate) === null) disagreement = null;
  }
  if (disagreement !== null) throw new Error(disagreement);
}

const maxPayload = fc.oneof(fc.integer({ min: 1, max: 300 }), fc.constant(70000));

describe("differential: wsdriver and ws's Receiver read the same bytes alike", () => {
  for (const { name, setup } of configurations) {
    test(name, async () => {
      await fc.assert(fc.asyncProperty(
        maxPayload.chain((max) => fc.tuple(fc.constant(max), stream(max, setup(max).deflate), splits)),
        async ([max, s, cuts]) => compare(setup(max), s, cuts),
      ), fuzzParameters(100));
    });

    // The same streams with random bytes flipped, changed, put in, taken out or cut off: every
    // combination of header fields, wherever the damage falls.
    test(`${name}, damaged at random`, async () => {
      await fc.assert(fc.asyncProperty(
        maxPayload.chain((max) => fc.tuple(fc.constant(max), stream(max, setup(max).deflate), splits, mutation)),
        async ([max, s, cuts, damage]) => compare(setup(max), s, cuts, damage),
      ), fuzzParameters(100));
    });
  }
});
