import { openCapture } from '../../src/capture/open-capture.js';
import type { RawPacket } from '../../src/capture/raw-packet.js';
import { NEED_MORE, type CaptureReader } from '../../src/capture/reader.js';

/**
 * Calls `fn` with every packet of a capture file, in order (the packet is reused: copy what you keep). Resolves to
 * the reader's error: null when the file was read to its end.
 */
export async function eachPacket(file: string, fn: (p: RawPacket) => void): Promise<CaptureReader['error']> {
  const r = await openCapture(file, 0);
  try {
    for (;;) {
      const p = r.next();
      if (p === null) break;
      if (p === NEED_MORE) {
        await r.fill();
        continue;
      }
      fn(p);
    }
    return r.error;
  } finally {
    r.close();
  }
}
