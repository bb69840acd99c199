/**
 * The parts of live capture that need neither root nor libpcap: loading the binding and explaining its failures,
 * the source's stamping and numbering (with a stand-in for the native module), the savefile's rotation, the close-wait watcher,
 * the RST burst detector, the wall-clock sweep and the status line.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { DEFAULT_ANALYZER_OPTIONS, Analyzer } from '../../src/analysis/analyzer.js';
import { analyzeCaptures } from '../../src/analysis/run.js';
import { LiveCaptureError, LiveFailure, NATIVE_MODULE, describeLoadError } from '../../src/capture/live-errors.js';
import {
  BATCH_TIMEOUT_MS,
  DELIVERY_LAG_MS,
  LiveSource,
  linkTypeOf,
  listInterfaces,
  loadBinding,
  prefixLength,
  type NativeCapture,
  type NativeDevice,
  type NativeModule,
  type NativeOpenResult,
  type NativeStats,
} from '../../src/capture/live-source.js';
import type { RawPacket } from '../../src/capture/raw-packet.js';
import type { ConnectionRecord } from '../../src/classify/record.js';
import { DEFAULT_TABLE_OPTIONS } from '../../src/conn/connection-table.js';
import { Connection } from '../../src/conn/connection.js';
import { renderInterfaces } from '../../src/cli/live-command.js';
import { CloseWaitWatcher } from '../../src/live/close-wait-watcher.js';
import { LiveSession } from '../../src/live/live-session.js';
import { RstBurstDetector } from '../../src/live/rst-burst.js';
import { parseFileSize, rotatedName, RotatingSavefile } from '../../src/live/savefile.js';
import { StatusLine, statusText } from '../../src/live/status-line.js';
import { SWEEP_INTERVAL_S as TABLE_SWEEP_INTERVAL_S } from '../../src/conn/connection-table.js';
import { ACK, FIN, LINKTYPE, PSH, SYN, build, ethernet, ipv4, packet, payload, tcp } from '../helpers/frames.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'teardown-live-units-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

// ------------------------------------------------------------------------------------------------ frames

const C = { ip: '192.0.2.1', port: 40000 };
const S = { ip: '192.0.2.2', port: 80 };
const T0 = 1_700_000_000;
const C_ISN = 1000;
const S_ISN = 5000;

/** A frame of the test connection at T0 + `t` seconds (microseconds kept exact). */
function frame(t: number, from: 'c' | 's', flags: number, seq: number, ack: number, data = 0): RawPacket {
  const [src, dst] = from === 'c' ? [C, S] : [S, C];
  const bytes = build(
    ethernet(),
    ipv4({ src: src.ip, dst: dst.ip }),
    tcp({ sport: src.port, dport: dst.port, flags, seq, ack }),
    ...(data > 0 ? [payload(Buffer.alloc(data, 0x61))] : []),
  );
  const us = Math.round(t * 1e6);
  return packet(bytes, LINKTYPE.ETHERNET, { tsSec: T0 + Math.floor(us / 1e6), tsNs: (us % 1e6) * 1000 });
}

/** Handshake, then the server closes and the client acknowledges: the client is in CLOSE_WAIT from t = 0.011. */
function closeWaitFrames(): RawPacket[] {
  return [
    frame(0.0, 'c', SYN, C_ISN, 0),
    frame(0.001, 's', SYN | ACK, S_ISN, C_ISN + 1),
    frame(0.002, 'c', ACK, C_ISN + 1, S_ISN + 1),
    frame(0.01, 's', FIN | ACK, S_ISN + 1, C_ISN + 1),
    frame(0.011, 'c', ACK, C_ISN + 1, S_ISN + 2),
  ];
}
const CLOSE_WAIT_FROM = 0.011;
const SERVER_FIN_FRAME = 4;

/** The client closes too: the connection is finished at t = `at` + 0.001. */
function closingFrames(at: number): RawPacket[] {
  return [frame(at, 'c', FIN | ACK, C_ISN + 1, S_ISN + 2), frame(at + 0.001, 's', ACK, S_ISN + 2, C_ISN + 2)];
}

// ------------------------------------------------------------------------------------------------ loading the binding

describe('loading the native module', () => {
  it('is lazy: importing the live command and source does not load it (offline analysis never needs it)', () => {
    // This file imports src/cli/live-command.js and src/capture/live-source.js, and only ever calls loadBinding
    // with a stand-in require.
    const loaded = Object.keys(require.cache).filter((k) => /teardown_libpcap\.node$|[\\/]native[\\/]index\.js$/.test(k));
    assert.deepEqual(loaded, []);
    assert.ok(Object.keys(require.cache).some((k) => k.endsWith(path.join('cli', 'live-command.js'))));
  });

  it('a missing module explains how to install it (npm skips a failed optional build)', () => {
    const req = (id: string): unknown => {
      throw Object.assign(new Error(`Cannot find module '${id}'\nRequire stack:\n- x.js`), { code: 'MODULE_NOT_FOUND' });
    };
    assert.throws(
      () => loadBinding(req),
      (err: unknown) =>
        err instanceof LiveCaptureError &&
        err.kind === LiveFailure.NativeModuleMissing &&
        err.message.includes(`"${NATIVE_MODULE}" is not installed`) &&
        /libpcap-dev/.test(err.hint) &&
        err.hint.includes(`npm rebuild ${NATIVE_MODULE}`) &&
        /teardown analyze/.test(err.hint) &&
        !err.isUsage,
    );
  });

  it('a module that was never built, libpcap missing, a build for another Node: each says what to do', () => {
    const notBuilt = describeLoadError(Object.assign(new Error("Cannot find module './build/Release/teardown_libpcap.node'"), { code: 'MODULE_NOT_FOUND' }));
    assert.equal(notBuilt.kind, LiveFailure.NativeModuleMissing);
    assert.match(notBuilt.message, /never built/);
    const noLib = describeLoadError(new Error('libpcap.so.0.8: cannot open shared object file: No such file or directory'));
    assert.equal(noLib.kind, LiveFailure.LibpcapMissing);
    assert.match(noLib.hint, /apt-get install libpcap0\.8/);
    const stale = describeLoadError(
      new Error("The module 'teardown_libpcap.node' was compiled against a different Node.js version using NODE_MODULE_VERSION 108. This version of Node.js requires NODE_MODULE_VERSION 115."),
    );
    assert.equal(stale.kind, LiveFailure.NativeModuleStale);
    assert.ok(stale.hint.includes(`npm rebuild ${NATIVE_MODULE}`));
  });

  it('a module without the expected interface is refused', () => {
    assert.throws(() => loadBinding(() => ({ notCap: true })), (err: unknown) => err instanceof LiveCaptureError && err.kind === LiveFailure.NativeModuleBroken);
  });

  it("libpcap's DLT values map to LINKTYPE_* numbers (raw IP differs by platform)", () => {
    assert.equal(linkTypeOf(1), 1);
    assert.equal(linkTypeOf(113), 113);
    assert.equal(linkTypeOf(276), 276);
    assert.equal(linkTypeOf(12), 101);
    assert.equal(linkTypeOf(14), 101);
    assert.equal(linkTypeOf(0), 0);
  });

  it('netmasks become prefix lengths', () => {
    assert.equal(prefixLength('255.255.255.0'), 24);
    assert.equal(prefixLength('255.0.0.0'), 8);
    assert.equal(prefixLength('ffff:ffff:ffff:ffff::'), 64);
    assert.equal(prefixLength('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'), 128);
    assert.equal(prefixLength('255.0.255.0'), null);
    assert.equal(prefixLength(undefined), null);
  });
});

// ------------------------------------------------------------------------------------------------ the source

interface FakeBehaviour {
  /** Thrown by open(): a message and the binding's code, or null for success. */
  fail: { message: string; code: string } | null;
}

interface FakeHandle extends NativeCapture {
  closed: boolean;
  /** What the binding does per frame: copy the bytes and the header in, call back. */
  deliver(bytes: Buffer, tsSec: number, tsUsec: number, origLen?: number): void;
  /** Frames delivered by the next dispatch(). */
  waiting: Array<{ bytes: Buffer; tsSec: number; tsUsec: number }>;
  counters: NativeStats;
}

function fakeBinding(devices: NativeDevice[], b: FakeBehaviour): { native: NativeModule; handles: FakeHandle[] } {
  const handles: FakeHandle[] = [];
  class Fake implements FakeHandle {
    frame: Buffer | null = null;
    header: Float64Array | null = null;
    onPacket: (() => void) | null = null;
    closed = false;
    waiting: Array<{ bytes: Buffer; tsSec: number; tsUsec: number }> = [];
    counters: NativeStats = { recv: 0, drop: 0, ifDrop: 0 };
    constructor() {
      handles.push(this);
    }
    open(_d: string, _f: string, _b: number, snapLen: number, _t: number, frame: Buffer, header: Float64Array, onPacket: () => void): NativeOpenResult {
      if (b.fail !== null) throw Object.assign(new Error(b.fail.message), { code: b.fail.code });
      assert.ok(frame.length >= snapLen);
      this.frame = frame;
      this.header = header;
      this.onPacket = onPacket;
      return { linkType: 1, linkTypeName: 'EN10MB' };
    }
    deliver(bytes: Buffer, tsSec: number, tsUsec: number, origLen = bytes.length): void {
      if (this.closed) return;
      bytes.copy(this.frame!, 0);
      this.header!.set([tsSec, tsUsec, bytes.length, origLen]);
      this.onPacket!();
    }
    dispatch(): number {
      const n = this.waiting.length;
      for (const w of this.waiting.splice(0)) this.deliver(w.bytes, w.tsSec, w.tsUsec);
      return n;
    }
    stats(): NativeStats {
      return { ...this.counters };
    }
    close(): void {
      this.closed = true;
    }
  }
  const native = { Capture: Fake, deviceList: () => devices, libVersion: () => 'libpcap (stand-in)' } as unknown as NativeModule;
  return { native, handles };
}

const DEVICES: NativeDevice[] = [
  { name: 'veth-c', addresses: [{ addr: '192.0.2.1', netmask: '255.255.255.0' }, { addr: '2001:db8::1', netmask: 'ffff:ffff:ffff:ffff::' }], loopback: false },
  { name: 'any', description: 'Pseudo-device that captures on all interfaces', addresses: [], loopback: false },
  { name: 'lo', addresses: [{ addr: '127.0.0.1', netmask: '255.0.0.0' }], loopback: true },
];
const OK: FakeBehaviour = { fail: null };

describe('the live source (the binding stood in for)', () => {
  it('an unknown interface is refused before libpcap is asked, with the available ones listed', () => {
    const { native, handles } = fakeBinding(DEVICES, OK);
    assert.throws(
      () => LiveSource.open({ iface: 'eth9', filter: '', bufferBytes: 1 << 20 }, () => undefined, native),
      (err: unknown) =>
        err instanceof LiveCaptureError &&
        err.kind === LiveFailure.NoSuchInterface &&
        err.isUsage &&
        err.describe().includes('veth-c (192.0.2.1, 2001:db8::1)') &&
        err.describe().includes('lo (127.0.0.1)'),
    );
    assert.equal(handles.length, 0);
  });

  it("libpcap's permission failure says how to get the permission", () => {
    const { native } = fakeBinding(DEVICES, { fail: { message: "You don't have permission to perform this capture on that device (socket: Operation not permitted)", code: 'ERR_PCAP_PERM' } });
    assert.throws(
      () => LiveSource.open({ iface: 'veth-c', filter: 'tcp', bufferBytes: 1 << 20 }, () => undefined, native),
      (err: unknown) => err instanceof LiveCaptureError && err.kind === LiveFailure.Permission && /CAP_NET_RAW/.test(err.hint) && /setcap/.test(err.hint),
    );
  });

  it('the step that failed decides: a filter libpcap rejects is a usage error, a device problem is not', () => {
    const msg = "can't parse filter expression: syntax error";
    const bad = fakeBinding(DEVICES, { fail: { message: msg, code: 'ERR_PCAP_FILTER' } });
    assert.throws(
      () => LiveSource.open({ iface: 'veth-c', filter: 'tcp port', bufferBytes: 1 << 20 }, () => undefined, bad.native),
      (err: unknown) => err instanceof LiveCaptureError && err.kind === LiveFailure.BadFilter && err.message.includes(msg) && err.isUsage,
    );
    // No second open is needed to tell them apart.
    assert.equal(bad.handles.length, 1);
    const down = fakeBinding(DEVICES, { fail: { message: 'That device is not up', code: 'ERR_PCAP_IFACE_NOT_UP' } });
    assert.throws(
      () => LiveSource.open({ iface: 'veth-c', filter: 'tcp', bufferBytes: 1 << 20 }, () => undefined, down.native),
      (err: unknown) => err instanceof LiveCaptureError && err.kind === LiveFailure.CaptureFailed && /not up/.test(err.message) && !err.isUsage,
    );
    const gone = fakeBinding(DEVICES, { fail: { message: 'No such device exists', code: 'ERR_PCAP_NO_SUCH_DEVICE' } });
    assert.throws(
      () => LiveSource.open({ iface: 'veth-c', filter: '', bufferBytes: 1 << 20 }, () => undefined, gone.native),
      (err: unknown) => err instanceof LiveCaptureError && err.kind === LiveFailure.NoSuchInterface,
    );
  });

  it("frames carry libpcap's stamps and wire lengths, numbered in delivery order; a stamp never goes back", () => {
    const { native, handles } = fakeBinding(DEVICES, OK);
    const seen: Array<{ frame: number; sec: number; ns: number; len: number; orig: number; first: number; linkType: number; digits: number }> = [];
    const src = LiveSource.open({ iface: 'veth-c', filter: '', bufferBytes: 1 << 20 }, (p) =>
      seen.push({ frame: p.frame, sec: p.tsSec, ns: p.tsNs, len: p.capLen, orig: p.origLen, first: p.data[p.offset]!, linkType: p.linkType, digits: p.tsDigits }),
    native);
    const h = handles[0]!;
    h.deliver(Buffer.alloc(60, 0xa0), T0, 500);
    h.deliver(Buffer.alloc(61, 0xa1), T0, 500); // the same microsecond: kept
    h.deliver(Buffer.alloc(62, 0xa2), T0, 499); // a step back: raised to the frame before
    h.deliver(Buffer.alloc(63, 0xa3), T0 + 1, 7, 9000); // cut by the snap length: the wire length is kept
    assert.deepEqual(
      seen.map((s) => [s.frame, s.sec, s.ns, s.len, s.orig, s.first]),
      [
        [1, T0, 500_000, 60, 60, 0xa0],
        [2, T0, 500_000, 61, 61, 0xa1],
        [3, T0, 500_000, 62, 62, 0xa2],
        [4, T0 + 1, 7_000, 63, 9000, 0xa3],
      ],
    );
    assert.equal(src.reordered, 1);
    assert.ok(seen.every((s) => s.linkType === 1 && s.digits === 6));
    // drain() hands over what libpcap holds, at once.
    h.waiting.push({ bytes: Buffer.alloc(64, 0xa4), tsSec: T0 + 2, tsUsec: 0 });
    src.drain();
    assert.equal(seen.length, 5);
    h.counters = { recv: 9, drop: 3, ifDrop: 1 };
    assert.deepEqual(src.stats(), { frames: 5, bytes: 60 + 61 + 62 + 63 + 64, dropped: 3, ifDropped: 1 });
    src.close();
    assert.equal(h.closed, true);
    h.closed = false; // a frame the binding would still hand over is ignored
    h.deliver(Buffer.alloc(60), T0 + 3, 0);
    assert.equal(seen.length, 5, 'no frame after close');
    h.counters = { recv: 99, drop: 99, ifDrop: 99 };
    assert.deepEqual(src.stats(), { frames: 5, bytes: 60 + 61 + 62 + 63 + 64, dropped: 3, ifDropped: 1 }, 'the counts as they were at the close');
  });

  it('its clock is the wall clock less the time a frame may wait in a batch', () => {
    const { native } = fakeBinding(DEVICES, OK);
    const src = LiveSource.open({ iface: 'veth-c', filter: '', bufferBytes: 1 << 20 }, () => undefined, native, () => T0 * 1000);
    assert.equal(src.nowSeconds(), T0 - DELIVERY_LAG_MS / 1000);
    assert.ok(DELIVERY_LAG_MS > BATCH_TIMEOUT_MS);
    src.close();
  });

  it('the interfaces listing shows addresses with prefixes', () => {
    const { native } = fakeBinding(DEVICES, OK);
    const ifaces = listInterfaces(native);
    assert.deepEqual(ifaces[0], {
      name: 'veth-c',
      description: null,
      addresses: [{ addr: '192.0.2.1', prefix: 24 }, { addr: '2001:db8::1', prefix: 64 }],
      loopback: false,
    });
    assert.equal(ifaces[2]!.loopback, true);
    const text = renderInterfaces(ifaces, 'table', true);
    assert.match(text, /veth-c +\| 192\.0\.2\.1\/24, 2001:db8::1\/64/);
    assert.match(text, /lo +\| 127\.0\.0\.1\/8 +\| loopback/);
    assert.match(text, /any +\| +\| Pseudo-device/);
  });
});

// ------------------------------------------------------------------------------------------------ savefile

describe('the savefile', () => {
  it('sizes parse as tcpdump -C takes them', () => {
    assert.equal(parseFileSize('1'), 1_000_000);
    assert.equal(parseFileSize('0.5'), 500_000);
    assert.equal(parseFileSize('10k'), 10 * 1024);
    assert.equal(parseFileSize('2M'), 2 * 1024 * 1024);
    assert.equal(parseFileSize('1g'), 1024 ** 3);
    assert.equal(parseFileSize('ten'), null);
    assert.equal(parseFileSize('0'), null);
  });

  it('rotates like tcpdump -C (FILE, FILE1, FILE2 …) and the files merged give the records of the whole', async () => {
    const frames = [...closeWaitFrames(), frame(0.5, 'c', PSH | ACK, C_ISN + 1, S_ISN + 2, 400), ...closingFrames(1)];
    const base = path.join(dir, 'rot.pcap');
    // Each frame is 16 + 54..454 bytes: with a 200-byte limit a file takes frames until it is past 200 bytes.
    const sf = new RotatingSavefile({ path: base, linkType: 1, snapLen: 65535, rotateBytes: 200 });
    let expectFiles = 1;
    let size = 24;
    for (const f of frames) {
      if (size > 200) {
        expectFiles++;
        size = 24;
      }
      sf.write(f);
      size += 16 + f.capLen;
    }
    sf.end();
    assert.equal(sf.files.length, expectFiles);
    assert.ok(expectFiles >= 3, `${expectFiles} files`);
    assert.deepEqual(
      sf.files,
      Array.from({ length: expectFiles }, (_, i) => rotatedName(base, i)),
    );
    assert.equal(rotatedName(base, 2), `${base}2`);
    const whole: ConnectionRecord[] = [];
    const a = new Analyzer(DEFAULT_ANALYZER_OPTIONS, (r) => whole.push(r));
    for (const f of frames) a.ingest(f);
    a.finish();
    const merged: ConnectionRecord[] = [];
    const res = await analyzeCaptures(sf.files, DEFAULT_ANALYZER_OPTIONS, { onRecord: (r) => void merged.push(r) });
    assert.deepEqual(res.errors, []);
    assert.equal(res.summary.packetsRead, frames.length);
    assert.deepEqual(merged, whole);
  });

  it('a part that cannot be opened at rotation stops the savefile with its error, and the capture goes on', () => {
    const sub = fs.mkdtempSync(path.join(dir, 'gone-'));
    const base = path.join(sub, 'gone.pcap');
    const frames = [...closeWaitFrames(), ...closingFrames(1)];
    const sf = new RotatingSavefile({ path: base, linkType: 1, snapLen: 65535, rotateBytes: 30 });
    sf.write(frames[0]!);
    // The folder goes away: the next part cannot be created.
    fs.rmSync(sub, { recursive: true, force: true });
    for (const f of frames.slice(1)) assert.doesNotThrow(() => sf.write(f));
    assert.doesNotThrow(() => sf.end());
    assert.ok(sf.error !== null, 'the error is kept for the summary');
    assert.equal(sf.files.length, 1);
  });

  it('a new part never starts at the stamp of the frame before: merged in the shell\'s order (FILE10 before FILE2), the parts give the records of the whole', async () => {
    // Twelve frames in the same microsecond, one part each: without a raise, a merge by time would give the
    // tie to the part named first, FILE10 before FILE2, and reorder the connection.
    const frames = [frame(0, 'c', SYN, C_ISN, 0), frame(0, 's', SYN | ACK, S_ISN, C_ISN + 1), frame(0, 'c', ACK, C_ISN + 1, S_ISN + 1)];
    for (let k = 0; k < 8; k++) frames.push(frame(0, 'c', PSH | ACK, C_ISN + 1 + 10 * k, S_ISN + 1, 10));
    frames.push(frame(0, 'c', FIN | ACK, C_ISN + 81, S_ISN + 1));
    const base = path.join(dir, 'ties.pcap');
    const sf = new RotatingSavefile({ path: base, linkType: 1, snapLen: 65535, rotateBytes: 30 });
    for (const f of frames) sf.write(f);
    sf.end();
    assert.equal(sf.files.length, frames.length);
    assert.equal(sf.raisedStamps, frames.length - 1);
    // Each frame opened a part, and each is one microsecond after the one before.
    assert.deepEqual(
      frames.map((f) => (f.tsSec - T0) * 1e6 + f.tsNs / 1000),
      frames.map((_, i) => i),
    );
    const whole: ConnectionRecord[] = [];
    const a = new Analyzer(DEFAULT_ANALYZER_OPTIONS, (r) => whole.push(r));
    for (const f of frames) a.ingest(f);
    a.finish();
    const shellOrder = [...sf.files].sort();
    assert.ok(shellOrder.indexOf(`${base}10`) < shellOrder.indexOf(`${base}2`));
    const merged: ConnectionRecord[] = [];
    const res = await analyzeCaptures(shellOrder, DEFAULT_ANALYZER_OPTIONS, { onRecord: (r) => void merged.push(r) });
    assert.deepEqual(res.errors, []);
    assert.deepEqual(merged, whole);
  });
});

// ------------------------------------------------------------------------------------------------ watcher

describe('the close-wait watcher', () => {
  it('alerts once when the waiting end has been silent past the threshold, by the clock', () => {
    const a = new Analyzer(DEFAULT_ANALYZER_OPTIONS, () => undefined);
    for (const f of closeWaitFrames()) a.ingest(f);
    const w = new CloseWaitWatcher(5);
    const alerts: Array<{ side: string; finFrame: number; id: number; closeWaitS: number }> = [];
    const at = (s: number) => T0 + CLOSE_WAIT_FROM + s;
    assert.deepEqual(w.check(a, at(4.9), (x) => alerts.push(x)), { inCloseWait: 1 });
    assert.equal(alerts.length, 0);
    w.check(a, at(5.1), (x) => alerts.push(x));
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]!.side, 'client');
    assert.equal(alerts[0]!.finFrame, SERVER_FIN_FRAME);
    assert.equal(alerts[0]!.id, 1);
    assert.ok(Math.abs(alerts[0]!.closeWaitS - 5.1) < 1e-6);
    w.check(a, at(9), (x) => alerts.push(x));
    assert.equal(alerts.length, 1, 'one alert per connection');
  });

  it('data sent by the waiting end counts as work; a closed connection is no longer watched', () => {
    const a = new Analyzer(DEFAULT_ANALYZER_OPTIONS, () => undefined);
    for (const f of closeWaitFrames()) a.ingest(f);
    a.ingest(frame(3, 'c', PSH | ACK, C_ISN + 1, S_ISN + 2, 10));
    const w = new CloseWaitWatcher(5);
    let n = 0;
    w.check(a, T0 + CLOSE_WAIT_FROM + 5.1, () => n++);
    assert.equal(n, 0, 'silent only 2.1 s since its data at t = 3');
    w.check(a, T0 + 3 + 5.1, () => n++);
    assert.equal(n, 1);
    const b = new Analyzer(DEFAULT_ANALYZER_OPTIONS, () => undefined);
    for (const f of [...closeWaitFrames(), ...closingFrames(1)]) b.ingest(f);
    assert.deepEqual(new CloseWaitWatcher(5).check(b, T0 + 60, () => n++), { inCloseWait: 0 });
  });
});

// ------------------------------------------------------------------------------------------------ RST bursts

function service(ip4: number, port: number, clientPort: number): Connection {
  const c = new Connection();
  c.ipVersion = 4;
  c.serverAddr[0] = ip4;
  c.serverPort = port;
  c.clientPort = clientPort;
  return c;
}

describe('the RST burst detector', () => {
  it('N RSTs on one service within the window make one alert; the window must pass before the next', () => {
    const d = new RstBurstDetector({ count: 3, windowS: 1 });
    const svc = 0xc0000202; // 192.0.2.2
    const got: Array<ReturnType<RstBurstDetector['onRst']>> = [];
    got.push(d.onRst(service(svc, 9999, 40001), true, 10.0, 1));
    got.push(d.onRst(service(svc, 9999, 40002), false, 10.2, 2));
    // Another service's RSTs do not count towards this one.
    got.push(d.onRst(service(svc, 9998, 40003), true, 10.3, 3));
    got.push(d.onRst(service(svc, 9999, 40004), true, 10.4, 4));
    assert.deepEqual(
      got.map((g) => g !== null),
      [false, false, false, true],
    );
    const alert = got[3]!;
    assert.deepEqual(alert.service, { ip: '192.0.2.2', port: 9999 });
    assert.equal(alert.rsts, 3);
    assert.ok(Math.abs(alert.spanS - 0.4) < 1e-9);
    assert.equal(alert.fromServer, 2);
    assert.equal(alert.fromClient, 1);
    assert.equal(alert.firstFrame, 1);
    assert.equal(alert.lastFrame, 4);
    // Still bursting within the window: no second alert; after it, a new one with the running total.
    assert.equal(d.onRst(service(svc, 9999, 40005), true, 10.9, 5), null);
    assert.equal(d.onRst(service(svc, 9999, 40006), true, 11.3, 6), null, 'a burst, but within a window of the last alert');
    const later = d.onRst(service(svc, 9999, 40007), true, 11.5, 7);
    assert.ok(later !== null);
    assert.equal(later.total, 6);
    assert.equal(later.firstFrame, 5);
  });

  it('RSTs spread wider than the window are no burst, and quiet services are forgotten', () => {
    const d = new RstBurstDetector({ count: 2, windowS: 1 });
    const svc = 0xc0000202;
    assert.equal(d.onRst(service(svc, 80, 1), true, 0, 1), null);
    assert.equal(d.onRst(service(svc, 80, 2), true, 1.5, 2), null);
    assert.equal(d.trackedServices, 1);
    d.prune(3);
    assert.equal(d.trackedServices, 0);
  });
});

// ------------------------------------------------------------------------------------------------ session

describe('the live session', () => {
  it('classifies a finished connection by the wall clock once its grace period is over, with no packet arriving', () => {
    const records: ConnectionRecord[] = [];
    const s = new LiveSession({ analyzer: DEFAULT_ANALYZER_OPTIONS, rstBurst: null, savefile: null, maxFrames: null }, {
      onRecord: (r) => records.push(r),
      onAlert: () => undefined,
    });
    const frames = [...closeWaitFrames(), ...closingFrames(1)];
    for (const f of frames) assert.equal(s.push(f), true);
    const finishedAt = T0 + 1.001;
    const due = finishedAt + DEFAULT_TABLE_OPTIONS.graceSeconds + TABLE_SWEEP_INTERVAL_S;
    s.tick(due - 0.01);
    assert.equal(records.length, 0);
    s.tick(due + 0.01);
    assert.equal(records.length, 1);
    assert.equal(records[0]!.ending, 'graceful-fin');
    // The same record as offline analysis, which only emits it at the end.
    const offline: ConnectionRecord[] = [];
    const a = new Analyzer(DEFAULT_ANALYZER_OPTIONS, (r) => offline.push(r));
    for (const f of frames) a.ingest(f);
    a.finish();
    assert.deepEqual(records, offline);
    s.finish();
    assert.equal(records.length, 1);
  });

  it('--count stops taking frames at N', () => {
    const s = new LiveSession({ analyzer: DEFAULT_ANALYZER_OPTIONS, rstBurst: null, savefile: null, maxFrames: 3 }, {
      onRecord: () => undefined,
      onAlert: () => undefined,
    });
    const answers = closeWaitFrames().map((f) => s.push(f));
    assert.deepEqual(answers, [true, true, false, false, false]);
    assert.equal(s.analyzer.frames, 3);
  });

  it('RSTs reach the burst detector with the connection the table gave them', () => {
    const alerts: unknown[] = [];
    const s = new LiveSession({ analyzer: DEFAULT_ANALYZER_OPTIONS, rstBurst: { count: 2, windowS: 5 }, savefile: null, maxFrames: null }, {
      onRecord: () => undefined,
      onAlert: (a) => alerts.push(a),
    });
    // Two refused connections to 192.0.2.2:80 (SYN, RST+ACK from the server).
    const RST = 0x04;
    for (const [i, port] of [40001, 40002].entries()) {
      const t = 0.1 * i;
      const syn = build(ethernet(), ipv4({ src: C.ip, dst: S.ip }), tcp({ sport: port, dport: S.port, flags: SYN, seq: 7000 }));
      const rst = build(ethernet(), ipv4({ src: S.ip, dst: C.ip }), tcp({ sport: S.port, dport: port, flags: RST | ACK, seq: 0, ack: 7001 }));
      const us = Math.round(t * 1e6);
      s.push(packet(syn, LINKTYPE.ETHERNET, { tsSec: T0, tsNs: us * 1000 }));
      s.push(packet(rst, LINKTYPE.ETHERNET, { tsSec: T0, tsNs: (us + 100) * 1000 }));
    }
    assert.equal(alerts.length, 1);
    assert.deepEqual(alerts[0], {
      alert: 'rst-burst',
      time: new Date((T0 + 0.1001) * 1000).toISOString(),
      service: { ip: S.ip, port: S.port },
      rsts: 2,
      spanS: (alerts[0] as { spanS: number }).spanS,
      fromServer: 2,
      fromClient: 0,
      total: 2,
      firstFrame: 2,
      lastFrame: 4,
    });
    assert.ok(Math.abs((alerts[0] as { spanS: number }).spanS - 0.1) < 1e-6);
  });
});

// ------------------------------------------------------------------------------------------------ status line

describe('the status line', () => {
  it('is drawn only on a terminal, and other lines go above it', () => {
    const tty: string[] = [];
    const line = new StatusLine({ write: (s) => tty.push(s), isTTY: true, columns: 200 });
    const text = statusText({ iface: 'veth-c', frames: 1234, dropped: null, active: 3, inCloseWait: 1, endings: 10, abnormal: 2, alerts: 1, elapsedS: 75 });
    assert.equal(text, 'veth-c 1:15 · 1,234 packets · kernel drops n/a · 3 active · 1 in CLOSE_WAIT · 10 endings (2 abnormal) · 1 alert');
    line.show(text);
    line.print('teardown: ALERT');
    line.clear();
    assert.deepEqual(tty, [`\r\u001b[K${text}`, `\r\u001b[Kteardown: ALERT\n${text}`, '\r\u001b[K']);
    const log: string[] = [];
    const plain = new StatusLine({ write: (s) => log.push(s), isTTY: false });
    plain.show(text);
    plain.print('teardown: ALERT');
    plain.clear();
    assert.deepEqual(log, ['teardown: ALERT\n']);
  });

  it("shows libpcap's drop count when the source has one", () => {
    const text = statusText({ iface: 'eth0', frames: 20_000, dropped: 1234, active: 0, inCloseWait: 0, endings: 0, abnormal: 0, alerts: 0, elapsedS: 5 });
    assert.match(text, /· kernel drops 1,234 ·/);
  });
});
