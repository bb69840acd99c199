/**
 * TCP (RFC 9293): the header, the options the connection tracking needs (MSS, window scale, SACK-permitted,
 * SACK blocks, timestamps) and the checksum. Fills the reused TcpSegment; the caller copies the frame facts.
 */
import { u16, u32 } from './bytes.js';
import { DecodeOutcome, type TcpSegment } from './segment.js';
import { IpProto } from './link-types.js';
import type { DecodeState } from './decode-state.js';
import { noteProblem } from './stats.js';
import { sumWords, wordHalves } from './checksum.js';

export const TCP_MIN_HEADER_LEN = 20;

const OPT_EOL = 0;
const OPT_NOP = 1;
const OPT_MSS = 2;
const OPT_WINDOW_SCALE = 3;
const OPT_SACK_PERMITTED = 4;
const OPT_SACK = 5;
const OPT_TIMESTAMPS = 8;

export function decodeTcp(st: DecodeState): number {
  const b = st.buf;
  const o = st.off;
  if (st.capEnd - o < TCP_MIN_HEADER_LEN) {
    return st.fail(o + TCP_MIN_HEADER_LEN, 'truncated_tcp_header', 'tcp_header_exceeds_ip_length');
  }
  const hl = (b[o + 12]! >> 4) << 2;
  if (hl < TCP_MIN_HEADER_LEN) return st.malformed('bad_tcp_data_offset');
  if (st.capEnd - o < hl) return st.fail(o + hl, 'truncated_tcp_header', 'tcp_header_exceeds_ip_length');

  const seg = st.seg;
  const segLen = st.wireEnd - o;
  const payloadLen = segLen - hl;
  const payloadStart = o + hl;
  const capturedEnd = st.capEnd < st.wireEnd ? st.capEnd : st.wireEnd;
  seg.srcPort = u16(b, o);
  seg.dstPort = u16(b, o + 2);
  seg.seq = u32(b, o + 4);
  seg.ack = u32(b, o + 8);
  seg.flags = ((b[o + 12]! & 1) << 8) | b[o + 13]!;
  seg.window = u16(b, o + 14);
  seg.urgent = u16(b, o + 18);
  seg.payloadLen = payloadLen;
  seg.payloadOffset = payloadStart;
  seg.payloadCaptured = capturedEnd - payloadStart;
  seg.truncated = capturedEnd < st.wireEnd;

  seg.mss = -1;
  seg.windowScale = -1;
  seg.sackPermitted = false;
  seg.hasTimestamps = false;
  seg.tsVal = 0;
  seg.tsEcr = 0;
  seg.sackCount = 0;
  if (hl > TCP_MIN_HEADER_LEN && !parseOptions(b, o + TCP_MIN_HEADER_LEN, payloadStart, seg)) {
    noteProblem(st.stats, 'bad_tcp_option_length', st.frame);
  }

  // Verifiable only when the whole segment is here and its length came from a trusted IP length.
  if (!st.lenTrusted || seg.truncated || !st.ckDstKnown || !st.verifyChecksums) seg.checksumOk = -1;
  else seg.checksumOk = (pseudoHeaderSum(st, segLen) + sumWords(b, o, o + segLen)) % 65535 === 0 ? 1 : 0;
  return DecodeOutcome.Tcp;
}

/** The pseudo-header's words (RFC 9293 §3.1, RFC 8200 §8.1), summed modulo 65535 like the segment. */
function pseudoHeaderSum(st: DecodeState, segLen: number): number {
  const s = st.src;
  if (st.ipVersion === 4) return wordHalves(s[0]!) + wordHalves(st.dst[0]!) + IpProto.Tcp + segLen;
  const d = st.ckDst;
  return (
    IpProto.Tcp +
    segLen +
    wordHalves(s[0]!) +
    wordHalves(s[1]!) +
    wordHalves(s[2]!) +
    wordHalves(s[3]!) +
    wordHalves(d[0]!) +
    wordHalves(d[1]!) +
    wordHalves(d[2]!) +
    wordHalves(d[3]!)
  );
}

/**
 * Options in b[p, end). Each turn moves at least one byte, so the loop is bounded by the 40 option bytes. A
 * length below 2 or past the header stops parsing (what came before is kept) and returns false; a known option
 * with the wrong length is skipped and also returns false.
 */
function parseOptions(b: Buffer, start: number, end: number, seg: TcpSegment): boolean {
  let ok = true;
  let p = start;
  while (p < end) {
    const kind = b[p]!;
    if (kind === OPT_EOL) break;
    if (kind === OPT_NOP) {
      p++;
      continue;
    }
    if (p + 2 > end) return false;
    const len = b[p + 1]!;
    if (len < 2 || p + len > end) return false;
    switch (kind) {
      case OPT_MSS:
        if (len === 4) seg.mss = u16(b, p + 2);
        else ok = false;
        break;
      case OPT_WINDOW_SCALE:
        if (len === 3) seg.windowScale = b[p + 2]!;
        else ok = false;
        break;
      case OPT_SACK_PERMITTED:
        if (len === 2) seg.sackPermitted = true;
        else ok = false;
        break;
      case OPT_SACK: {
        if ((len - 2) % 8 !== 0) {
          ok = false;
          break;
        }
        const blocks = seg.sackBlocks;
        const max = blocks.length >> 1;
        for (let q = p + 2; q < p + len && seg.sackCount < max; q += 8) {
          blocks[2 * seg.sackCount] = u32(b, q);
          blocks[2 * seg.sackCount + 1] = u32(b, q + 4);
          seg.sackCount++;
        }
        break;
      }
      case OPT_TIMESTAMPS:
        if (len === 10) {
          seg.hasTimestamps = true;
          seg.tsVal = u32(b, p + 2);
          seg.tsEcr = u32(b, p + 6);
        } else {
          ok = false;
        }
        break;
      default:
        break;
    }
    p += len;
  }
  return ok;
}
