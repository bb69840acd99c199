import { runOk, runSync, run, sleep } from './proc.js';

/**
 * Two network namespaces joined by a veth pair, one pair per scenario so scenarios run side by side. Addresses
 * come from the documentation ranges only; nothing is routed anywhere else, so traffic never leaves the pair.
 */

export const CLIENT_V4 = '192.0.2.1';
export const SERVER_V4 = '192.0.2.2';
export const CLIENT_V6 = '2001:db8::1';
export const SERVER_V6 = '2001:db8::2';
/** Interface names are per namespace, so every pair can use the same two. */
export const CLIENT_IF = 'veth-c';
export const SERVER_IF = 'veth-s';
/** Every namespace the lab creates starts with this, which is what `--cleanup` removes. */
export const NS_PREFIX = 'td-';

export type NsSide = 'client' | 'server';
export type NftChain = 'input' | 'output';

const NFT_TABLE = 'td';

export class NetnsPair {
  readonly client: string;
  readonly server: string;
  private created: string[] = [];
  /** Every nft rule the scenario added or removed, in words, for the manifest. */
  readonly nftLog: string[] = [];

  constructor(runId: string, scenario: string) {
    this.client = `${NS_PREFIX}${runId}-${scenario}-c`;
    this.server = `${NS_PREFIX}${runId}-${scenario}-s`;
  }

  ns(side: NsSide): string {
    return side === 'client' ? this.client : this.server;
  }

  async create(): Promise<void> {
    for (const ns of [this.client, this.server]) {
      await runOk('ip', ['netns', 'add', ns]);
      this.created.push(ns);
      // No duplicate address detection for the link-local addresses either (the veth takes the namespace's
      // default when it is created), so that waitIpv6Ready() below is not held up by it.
      await runOk('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.default.accept_dad=0']);
    }
    await runOk('ip', ['-n', this.client, 'link', 'add', CLIENT_IF, 'type', 'veth', 'peer', 'name', SERVER_IF, 'netns', this.server]);
    const plan: Array<[string, string, string, string]> = [
      [this.client, CLIENT_IF, CLIENT_V4, CLIENT_V6],
      [this.server, SERVER_IF, SERVER_V4, SERVER_V6],
    ];
    for (const [ns, dev, v4, v6] of plan) {
      await runOk('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      await runOk('ip', ['-n', ns, 'addr', 'add', `${v4}/24`, 'dev', dev]);
      // nodad: the address is usable at once instead of after duplicate address detection (about 1 s).
      await runOk('ip', ['-n', ns, 'addr', 'add', `${v6}/64`, 'dev', dev, 'nodad']);
      await runOk('ip', ['-n', ns, 'link', 'set', dev, 'up']);
      await runOk('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], {
        input:
          `table inet ${NFT_TABLE} {\n` +
          `  chain input {\n    type filter hook input priority 0; policy accept;\n  }\n` +
          `  chain output {\n    type filter hook output priority 0; policy accept;\n  }\n` +
          `}\n`,
      });
    }
    await this.waitIpv6Ready(plan.map(([ns, dev]) => [ns, dev] as const));
  }

  /**
   * Waits until IPv6 is up on both ends. The kernel brings a new link into service through its link-watch work,
   * which can lag up to a second behind `link set up` (it is rate-limited, and busier with many pairs made at
   * once); IPv6 adds the link-local address only then. A connect before that stalled in neighbour resolution:
   * the first SYN left 1.0 s after connect() (measured), so the IPv6 captures' timing depended on how soon after
   * setup they started.
   */
  private async waitIpv6Ready(ends: ReadonlyArray<readonly [string, string]>, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const [ns, dev] of ends) {
      for (;;) {
        const out = await runOk('ip', ['-n', ns, '-6', 'addr', 'show', 'dev', dev, 'scope', 'link']);
        if (/inet6 fe80::/.test(out) && !/tentative/.test(out)) break;
        if (Date.now() > deadline) throw new Error(`${dev} in ${ns}: no usable IPv6 link-local address after ${timeoutMs} ms: ${out.trim()}`);
        await sleep(20);
      }
    }
  }

  /**
   * Sets namespaced sysctls, then reads them back together with `context` keys that are only read (the values in
   * force are what the manifest records; a context key this kernel lacks is left out).
   */
  async sysctls(side: NsSide, values: Record<string, number>, context: readonly string[] = []): Promise<Record<string, number>> {
    const ns = this.ns(side);
    const keys = Object.keys(values);
    if (keys.length > 0) await runOk('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', ...keys.map((k) => `${k}=${values[k]}`)]);
    const out = (await run('ip', ['netns', 'exec', ns, 'sysctl', '-e', ...keys, ...context])).stdout;
    const read: Record<string, number> = {};
    for (const line of out.split('\n')) {
      const m = /^(\S+)\s*=\s*(-?\d+)\s*$/.exec(line);
      if (m) read[m[1]!] = Number(m[2]);
    }
    for (const k of keys) {
      if (read[k] !== values[k]) throw new Error(`sysctl ${k} in ${ns} reads ${read[k]}, wanted ${values[k]}`);
    }
    return read;
  }

  /**
   * Adds one rule (nft syntax as after `add rule inet td <chain>`, ending in its verdict), with a counter so the
   * lab can see it hit. Returns the rule's handle.
   */
  async nftAdd(side: NsSide, chain: NftChain, rule: string, when: string): Promise<number> {
    const words = rule.split(/\s+/).filter((w) => w.length > 0);
    const verdict = words.pop()!;
    const out = await runOk('ip', [
      'netns', 'exec', this.ns(side), 'nft', '--echo', '--handle',
      'add', 'rule', 'inet', NFT_TABLE, chain, ...words, 'counter', verdict,
    ]);
    const m = /# handle (\d+)/.exec(out);
    if (m === null) throw new Error(`nft did not report a handle for "${rule}": ${out}`);
    this.nftLog.push(`${when}: ${side} namespace, ${chain}: ${rule}`);
    return Number(m[1]);
  }

  async nftDelete(side: NsSide, chain: NftChain, handle: number, when: string): Promise<void> {
    await runOk('ip', ['netns', 'exec', this.ns(side), 'nft', 'delete', 'rule', 'inet', NFT_TABLE, chain, 'handle', String(handle)]);
    this.nftLog.push(`${when}: ${side} namespace, ${chain}: that rule removed`);
  }

  /** Packets the rule with this handle has matched so far. */
  async nftRulePackets(side: NsSide, chain: NftChain, handle: number): Promise<number> {
    const out = await runOk('ip', ['netns', 'exec', this.ns(side), 'nft', '-j', 'list', 'chain', 'inet', NFT_TABLE, chain]);
    const doc = JSON.parse(out) as {
      nftables: Array<{ rule?: { handle: number; expr: Array<{ counter?: { packets: number } }> } }>;
    };
    for (const item of doc.nftables) {
      if (item.rule?.handle !== handle) continue;
      let packets = 0;
      for (const e of item.rule.expr) packets += e.counter?.packets ?? 0;
      return packets;
    }
    throw new Error(`no nft rule with handle ${handle} in the ${side} namespace (${chain})`);
  }

  /** Processes still running inside the namespaces (none should be, by the time the pair is deleted). */
  async pids(): Promise<number[]> {
    const pids: number[] = [];
    for (const ns of this.created) {
      const r = await run('ip', ['netns', 'pids', ns]);
      for (const p of r.stdout.split(/\s+/)) if (/^\d+$/.test(p)) pids.push(Number(p));
    }
    return pids;
  }

  /** Deletes both namespaces (the veth pair goes with them). Safe to call twice. */
  async destroy(): Promise<void> {
    for (const pid of await this.pids()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    const names = this.created;
    this.created = [];
    for (const ns of names) await run('ip', ['netns', 'del', ns]);
  }

  /** Synchronous variant for a signal handler. */
  destroyNow(): void {
    for (const ns of this.created) {
      const r = runSync('ip', ['netns', 'pids', ns]);
      for (const p of r.stdout.split(/\s+/)) {
        if (!/^\d+$/.test(p)) continue;
        try {
          process.kill(Number(p), 'SIGKILL');
        } catch {
          // already gone
        }
      }
      runSync('ip', ['netns', 'del', ns]);
    }
    this.created = [];
  }
}

/** Names of lab namespaces left behind by an earlier run that crashed. */
export function staleNamespaces(): string[] {
  const r = runSync('ip', ['netns', 'list']);
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => n.startsWith(NS_PREFIX));
}

/** `--cleanup`: kill what still runs in stale td-* namespaces (lab processes), then delete the namespaces. */
export function cleanupStale(): string[] {
  const names = staleNamespaces();
  for (const ns of names) {
    const r = runSync('ip', ['netns', 'pids', ns]);
    for (const p of r.stdout.split(/\s+/)) {
      if (!/^\d+$/.test(p)) continue;
      try {
        process.kill(Number(p), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    runSync('ip', ['netns', 'del', ns]);
  }
  return names;
}
