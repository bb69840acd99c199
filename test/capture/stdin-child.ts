/**
 * Child process for the standard-input tests: reads a capture from "-" and prints what it saw as JSON.
 * It does nothing unless started with --stdin-child (the test runner also loads every file under test/).
 */
import { openCapture } from '../../src/capture/open-capture.js';
import { CaptureError } from '../../src/capture/raw-packet.js';
import { drain } from './capture-helpers.js';

async function main(): Promise<void> {
  try {
    const reader = await openCapture('-', 3);
    const frames = await drain(reader);
    const e = reader.error;
    const { format, totalBytes, bytesRead, linkTypes } = reader.info;
    const out = {
      frames,
      error: e === null ? null : { file: e.file, offset: e.offset, reason: e.reason },
      info: { format, totalBytes, bytesRead, linkTypes, frames: reader.info.frames },
    };
    process.stdout.write(JSON.stringify(out));
  } catch (err) {
    if (!(err instanceof CaptureError)) throw err;
    process.stdout.write(JSON.stringify({ rejected: { file: err.file, offset: err.offset, reason: err.reason } }));
  }
}

if (process.argv.includes('--stdin-child')) void main();
