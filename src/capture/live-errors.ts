/**
 * Why live capture could not start, in words an operator can act on. libpcap and the native binding report
 * failures as bare strings ("socket: Operation not permitted", "can't parse filter expression: syntax error");
 * these helpers turn them into a kind, a message and a hint, so the CLI never shows a stack trace.
 */

/** The project's optional native module (native/): libpcap for Node.js, built by node-gyp at install. */
export const NATIVE_MODULE = 'teardown-libpcap';

export const LiveFailure = {
  /** The optional native module is not installed or was never built (npm skips it when the build fails). */
  NativeModuleMissing: 'native-module-missing',
  /** The module is built, but libpcap's shared library cannot be loaded. */
  LibpcapMissing: 'libpcap-missing',
  /** The module was built for another Node.js version (or platform). */
  NativeModuleStale: 'native-module-stale',
  /** Any other failure to load the binding. */
  NativeModuleBroken: 'native-module-broken',
  /** No permission to open a packet socket. */
  Permission: 'permission',
  /** No interface by that name. */
  NoSuchInterface: 'no-such-interface',
  /** libpcap rejected the capture filter. */
  BadFilter: 'bad-filter',
  /** Anything else libpcap refused (interface down, unsupported link type, …), or a failure while capturing. */
  CaptureFailed: 'capture-failed',
} as const;
export type LiveFailureKind = (typeof LiveFailure)[keyof typeof LiveFailure];

export class LiveCaptureError extends Error {
  constructor(
    readonly kind: LiveFailureKind,
    message: string,
    /** What to do about it (may be empty). */
    readonly hint: string,
  ) {
    super(message);
    this.name = 'LiveCaptureError';
  }

  /** The message and the hint, as the CLI prints them. */
  describe(): string {
    return this.hint === '' ? this.message : `${this.message}\n${this.hint}`;
  }

  /** True when the command line can fix it (unknown interface, bad filter): the CLI exits with the usage status. */
  get isUsage(): boolean {
    return this.kind === LiveFailure.NoSuchInterface || this.kind === LiveFailure.BadFilter;
  }
}

export const INSTALL_HINT =
  `Live capture uses the optional native module "${NATIVE_MODULE}", built against libpcap when teardown is installed.\n` +
  'Install libpcap and its headers, then rebuild it in the teardown directory:\n' +
  `  Debian/Ubuntu: apt-get install libpcap0.8 libpcap-dev gcc make python3 && npm rebuild ${NATIVE_MODULE}\n` +
  `  Fedora/RHEL:   dnf install libpcap libpcap-devel gcc make python3 && npm rebuild ${NATIVE_MODULE}\n` +
  `(if "npm rebuild ${NATIVE_MODULE}" finds nothing to build, run "npm install" again). Offline analysis (teardown analyze) does not need it.`;

export const PERMISSION_HINT =
  'Capturing needs root, or the CAP_NET_RAW and CAP_NET_ADMIN capabilities: run it as root (sudo teardown live …),\n' +
  'or grant them to the node binary once: sudo setcap cap_net_raw,cap_net_admin=eip "$(readlink -f "$(command -v node)")"\n' +
  '(every script run by that node binary then has them).';

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** Interprets a failure to require the native module. */
export function describeLoadError(err: unknown): LiveCaptureError {
  const msg = messageOf(err);
  const code = (err as { code?: unknown } | null)?.code;
  const first = msg.split('\n')[0] ?? msg;
  if (/lib(w?)pcap[^:\s]*\.so[^:]*: cannot open shared object file/i.test(msg) || /libpcap[^\s]*\.dylib/i.test(msg)) {
    return new LiveCaptureError(
      LiveFailure.LibpcapMissing,
      `live capture is unavailable: libpcap is not installed (${first})`,
      'Install it: apt-get install libpcap0.8 (Debian/Ubuntu), dnf install libpcap (Fedora/RHEL).',
    );
  }
  if (/NODE_MODULE_VERSION|compiled against a different Node\.js version/i.test(msg)) {
    return new LiveCaptureError(
      LiveFailure.NativeModuleStale,
      `live capture is unavailable: the native module "${NATIVE_MODULE}" was built for another Node.js version`,
      `Rebuild it for this one: npm rebuild ${NATIVE_MODULE} (in the teardown directory; it needs libpcap-dev and a compiler).`,
    );
  }
  if (code === 'MODULE_NOT_FOUND') {
    const notBuilt = /teardown_libpcap\.node/.test(msg);
    return new LiveCaptureError(
      LiveFailure.NativeModuleMissing,
      notBuilt
        ? `live capture is unavailable: the native module "${NATIVE_MODULE}" is installed but was never built`
        : `live capture is unavailable: the optional native module "${NATIVE_MODULE}" is not installed`,
      INSTALL_HINT,
    );
  }
  return new LiveCaptureError(LiveFailure.NativeModuleBroken, `live capture is unavailable: the native module "${NATIVE_MODULE}" failed to load: ${first}`, INSTALL_HINT);
}

/** Is libpcap's message about permissions (Linux: socket(AF_PACKET) without CAP_NET_RAW)? */
export function isPermissionMessage(msg: string): boolean {
  return /permission|not permitted|EPERM|EACCES/i.test(msg);
}

export function isNoSuchDeviceMessage(msg: string): boolean {
  return /no such device|doesn't exist|does not exist|no such interface/i.test(msg);
}

export function permissionError(iface: string, msg: string): LiveCaptureError {
  return new LiveCaptureError(LiveFailure.Permission, `no permission to capture on ${iface} (libpcap: ${msg})`, PERMISSION_HINT);
}

/** "veth-c (192.0.2.1, 2001:db8::1), lo (127.0.0.1, ::1), any" */
export function interfaceListText(ifaces: ReadonlyArray<{ name: string; addresses: ReadonlyArray<{ addr: string }> }>): string {
  if (ifaces.length === 0) return 'none (libpcap lists no interface this process may open)';
  return ifaces
    .map((i) => (i.addresses.length === 0 ? i.name : `${i.name} (${i.addresses.map((a) => a.addr).join(', ')})`))
    .join(', ');
}

export function noSuchInterfaceError(iface: string, available: ReadonlyArray<{ name: string; addresses: ReadonlyArray<{ addr: string }> }>): LiveCaptureError {
  return new LiveCaptureError(
    LiveFailure.NoSuchInterface,
    `no interface named "${iface}"`,
    `Available: ${interfaceListText(available)}.\n("teardown interfaces" lists them with their addresses; "-i any" captures on all of them.)`,
  );
}

export function badFilterError(filter: string, msg: string): LiveCaptureError {
  return new LiveCaptureError(
    LiveFailure.BadFilter,
    `bad capture filter "${filter}": ${msg}`,
    'The filter uses libpcap\'s syntax, as tcpdump does (man 7 pcap-filter), e.g. -f "tcp port 443".',
  );
}

export function captureFailedError(iface: string, msg: string): LiveCaptureError {
  return new LiveCaptureError(LiveFailure.CaptureFailed, `cannot capture on ${iface}: ${msg}`, '');
}
