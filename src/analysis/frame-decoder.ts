import type { RawPacket } from '../capture/raw-packet.js';
import { Decoder } from '../decode/decoder.js';
import { DecodeOutcome, newTcpSegment, type TcpSegment } from '../decode/segment.js';

/**
 * The first step of every pipeline (Analyzer, and a parallel run's reading thread): numbers each frame, keeps the
 * capture's first and latest timestamps, and decodes the frame into one reused TcpSegment. Frames get run-wide
 * numbers in the order they come: for one file that is Wireshark's frame number; for several merged files it is
 * the number mergecap's output would give.
 */
export class FrameDecoder {
  readonly decoder = new Decoder();
  protected readonly seg: TcpSegment = newTcpSegment();
  frames = 0;
  firstSec = -1;
  firstNs = 0;
  lastSec = -1;
  lastNs = 0;
  tsDigits = 6;

  /** Counts and decodes one frame; true when it holds a TCP segment (then in `seg`). */
  protected decodeFrame(pkt: RawPacket): boolean {
    const frame = ++this.frames;
    if (this.firstSec < 0) {
      this.firstSec = pkt.tsSec;
      this.firstNs = pkt.tsNs;
      this.tsDigits = pkt.tsDigits;
    }
    this.noteTimestamp(pkt.tsSec, pkt.tsNs);
    if (pkt.tsDigits > this.tsDigits) this.tsDigits = pkt.tsDigits;
    return this.decoder.decode(pkt, this.seg, frame) === DecodeOutcome.Tcp;
  }

  /** The capture's end is its latest timestamp (frames are not always in order). */
  noteTimestamp(sec: number, ns: number): void {
    if (sec > this.lastSec || (sec === this.lastSec && ns > this.lastNs)) {
      this.lastSec = sec;
      this.lastNs = ns;
    }
  }
}
