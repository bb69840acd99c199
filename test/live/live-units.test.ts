/**
 * The parts of live capture that need neither root nor libpcap: loading the binding and explaining its failures,
 * the source's stamping and numbering (with a stand-in for cap), the savefile's rotation, the close-wait watcher,
 * the RST burst detector, the wall-clock sweep and the status line.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { DEFAULT_ANALYZER_OPTIONS, Analyzer } from '../../src/analysis/analyzer.js';
import { analyzeCaptures } from '../../src/analysis/run.js';
import { LiveCaptureError, LiveFailure, describeLoadError } from '../../src/capture/live-errors.js';
import { LiveSource, linkTypeOf, listInterfaces, loadCap, prefixLength, type CapDevice, type CapHandle, type CapModule } from '../../src/capture/live-source.js';
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

// ------------------------------------------------------------------------------------------------ loading cap

describe('loading the native module', () => {
  it('is lazy: importing the live command and source does not load cap (offline analysis never needs it)', () => {
    // This file imports src/cli/live-command.js and src/capture/live-source.js, and only ever calls loadCap with
    // a stand-in require.
    const loaded = Object.keys(require.cache).filter((k) => /[\\/]node_modules[\\/]cap[\\/]/.test(k));
    assert.deepEqual(loaded, []);
    assert.ok(Object.keys(require.cache).some((k) => k.endsWith(path.join('cli', 'live-command.js'))));
  });

  it('a missing module explains how to install it (npm skips a failed optional build)', () => {
    const req = (id: string): unknown => {
      throw Object.assign(new Error(`Cannot find module '${id}'\nRequire stack:\n- x.js`), { code: 'MODULE_NOT_FOUND' });
    };
    assert.throws(
      () => loadCap(req),
      (err: unknown) =>
        err instanceof LiveCaptureError &&
        err.kind === LiveFailure.NativeModuleMissing &&
        /libpcap-dev/.test(err.hint) &&
        /npm rebuild cap/.test(err.hint) &&
        /teardown analyze/.test(err.hint) &&
        !err.isUsage,
    );
  });

  it('a module that was never built, libpcap missing, a build for another Node: each says what to do', () => {
    const notBuilt = describeLoadError(Object.assign(new Error("Cannot find module '../build/Release/cap.node'"), { code: 'MODULE_NOT_FOUND' }));
    assert.equal(notBuilt.kind, LiveFailure.NativeModuleMissing);
    assert.match(notBuilt.message, /never built/);
    const noLib = describeLoadError(new Error('libpcap.so.0.8: cannot open shared object file: No such file or directory'));
    assert.equal(noLib.kind, LiveFailure.LibpcapMissing);
    assert.match(noLib.hint, /apt-get install libpcap0\.8/);
    const stale = describeLoadError(
      new Error("The module 'cap.node' was compiled against a different Node.js version using NODE_MODULE_VERSION 108. This version of Node.js requires NODE_MODULE_VERSION 115."),
    );
    assert.equal(stale.kind, LiveFailure.NativeModuleStale);
    assert.match(stale.hint, /npm rebuild cap/);
  });

  it('a module without the expected interface is refused', () => {
    assert.throws(() => loadCap(() => ({ notCap: true })), (err: unknown) => err instanceof LiveCaptureError && err.kind === LiveFailure.NativeModuleBroken);
  });

  it("cap's link type names map to LINKTYPE_* numbers", () => {
    assert.equal(linkTypeOf('ETHERNET'), 1);
    assert.equal(linkTypeOf('LINKTYPE_LINUX_SLL'), 113);
    assert.equal(linkTypeOf('RAW'), 101);
    assert.equal(linkTypeOf('Unknown linktype 276'), 276);
    assert.equal(linkTypeOf('whatever'), null);
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
  /** Thrown by open() with a filter (first) and without one (second), or null for success. */
  withFilter: string | null;
  withoutFilter: string | null;
}

interface FakeHandle extends CapHandle {
  closed: boolean;
  deliver(bytes: Buffer): void;
}

function fakeCap(devices: CapDevice[], b: FakeBehaviour): { cap: CapModule; handles: FakeHandle[] } {
  const handles: FakeHandle[] = [];
  class Fake implements FakeHandle {
    buffer: Buffer | null = null;
    listener: ((n: number, t: boolean) => void) | null = null;
    closed = false;
    constructor() {
      handles.push(this);
    }
    open(_device: string, filter: string, _size: number, buffer: Buffer): string {
      const fail = filter === '' ? b.withoutFilter : b.withFilter;
      if (fail !== null) throw new Error(fail);
      this.buffer = buffer;
      return 'ETHERNET';
    }
    close(): boolean {
      this.closed = true;
      return true;
    }
    on(_event: 'packet', listener: (n: number, t: boolean) => void): unknown {
      this.listener = listener;
      return this;
    }
    /** What cap does: copy the frame into the buffer, emit its length. */
    deliver(bytes: Buffer): void {
      bytes.copy(this.buffer!, 0);
      this.listener!(bytes.length, false);
    }
  }
  const cap = { Cap: Object.assign(Fake, { deviceList: () => devices }) } as unknown as CapModule;
  return { cap, handles };
}

const DEVICES: CapDevice[] = [
  { name: 'veth-c', addresses: [{ addr: '192.0.2.1', netmask: '255.255.255.0' }, { addr: '2001:db8::1', netmask: 'ffff:ffff:ffff:ffff::' }] },
  { name: 'any', description: 'Pseudo-device that captures on all interfaces', addresses: [] },
  { name: 'lo', addresses: [{ addr: '127.0.0.1', netmask: '255.0.0.0' }], flags: 'PCAP_IF_LOOPBACK' },
];
const OK: FakeBehaviour = { withFilter: null, withoutFilter: null };

describe('the live source (cap stood in for)', () => {
  it('an unknown interface is refused before libpcap is asked, with the available ones listed', () => {
    const { cap, handles } = fakeCap(DEVICES, OK);
    assert.throws(
      () => LiveSource.open({ iface: 'eth9', filter: '', bufferBytes: 1 << 20 }, () => undefined, cap),
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
    const { cap } = fakeCap(DEVICES, { withFilter: 'socket: Operation not permitted', withoutFilter: 'socket: Operation not permitted' });
    assert.throws(
      () => LiveSource.open({ iface: 'veth-c', filter: 'tcp', bufferBytes: 1 << 20 }, () => undefined, cap),
      (err: unknown) => err instanceof LiveCaptureError && err.kind === LiveFailure.Permission && /CAP_NET_RAW/.test(err.hint) && /setcap/.test(err.hint),
    );
  });

  it('a filter libpcap rejects is told apart from a device problem by opening once more without it', () => {
    const msg = "can't parse filter expression: syntax error";
    const bad = fakeCap(DEVICES, { withFilter: msg, withoutFilter: null });
    assert.throws(
      () => LiveSource.open({ iface: 'veth-c', filter: 'tcp port', bufferBytes: 1 << 20 }, () => undefined, bad.cap),
      (err: unknown) => err instanceof LiveCaptureError && err.kind === LiveFailure.BadFilter && err.message.includes(msg) && err.isUsage,
    );
    // The probe without the filter succeeded and was closed again.
    assert.equal(bad.handles.length, 2);
    assert.equal(bad.handles[1]!.closed, true);
    const down = fakeCap(DEVICES, { withFilter: 'That device is not up', withoutFilter: 'That device is not up' });
    assert.throws(
      () => LiveSource.open({ iface: 'veth-c', filter: 'tcp', bufferBytes: 1 << 20 }, () => undefined, down.cap),
      (err: unknown) => err instanceof LiveCaptureError && err.kind === LiveFailure.CaptureFailed && /not up/.test(err.message) && !err.isUsage,
    );
  });

  it('frames are numbered in arrival order and stamped in strictly increasing microseconds', () => {
    const { cap, handles } = fakeCap(DEVICES, OK);
    // The clock returns the same instant three times, then moves on by 2.5 µs.
    const clock = [T0 * 1000 + 0.5, T0 * 1000 + 0.5, T0 * 1000 + 0.5, T0 * 1000 + 0.5025];
    let tick = 0;
    const seen: Array<{ frame: number; sec: number; ns: number; len: number; first: number; linkType: number; digits: number }> = [];
    const src = LiveSource.open(
      { iface: 'veth-c', filter: '', bufferBytes: 1 << 20 },
      (p) => seen.push({ frame: p.frame, sec: p.tsSec, ns: p.tsNs, len: p.capLen, first: p.data[p.offset]!, linkType: p.linkType, digits: p.tsDigits }),
      cap,
      () => clock[Math.min(tick++, clock.length - 1)]!,
    );
    const h = handles[0]!;
    for (let i = 0; i < 4; i++) h.deliver(Buffer.alloc(60 + i, 0xa0 + i));
    assert.deepEqual(
      seen.map((s) => s.frame),
      [1, 2, 3, 4],
    );
    assert.deepEqual(
      seen.map((s) => s.len),
      [60, 61, 62, 63],
    );
    assert.deepEqual(
      seen.map((s) => s.first),
      [0xa0, 0xa1, 0xa2, 0xa3],
    );
    // 0.5 ms past T0 is 500 µs; repeated instants get 501, 502; 0.5025 ms is 502 µs → bumped to 503.
    assert.deepEqual(
      seen.map((s) => [s.sec, s.ns]),
      [[T0, 500_000], [T0, 501_000], [T0, 502_000], [T0, 503_000]],
    );
    assert.ok(seen.every((s) => s.linkType === 1 && s.digits === 6));
    src.close();
    assert.equal(h.closed, true);
    h.deliver(Buffer.alloc(60));
    assert.equal(seen.length, 4, 'no frame after close');
    assert.deepEqual(src.stats(), { frames: 4, bytes: 60 + 61 + 62 + 63, dropped: null, ifDropped: null });
  });

  it('the interfaces listing shows addresses with prefixes', () => {
    const { cap } = fakeCap(DEVICES, OK);
    const ifaces = listInterfaces(cap);
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
});
