/**
 * The HTML report of the mixed sample in headless Chromium (Debian's chromium, driven by playwright-core): it
 * loads from disk with no console error, no page error and no request beyond the file itself; every chart and
 * every ladder is a non-empty SVG; each ladder draws one arrow per packet its record kept. A screenshot is written
 * to a temporary folder (and to $TEARDOWN_SCREENSHOT when set, from the top down to the element that
 * $TEARDOWN_SCREENSHOT_UNTIL selects when that is set too) for people to look at.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runReport } from '../../src/cli/report-command.js';
import { isAbnormal } from '../../src/classify/labels.js';
import type { ConnectionRecord } from '../../src/classify/record.js';
import { SAMPLES } from '../helpers/paths.js';
import { analyzeFiles } from './report-helpers.js';

const CHROMIUM = '/usr/bin/chromium';
/** Relative to the repository root the tests run from, as a user would type it (it shows in the report). */
const MIXED = path.relative(process.cwd(), path.join(SAMPLES, 'mixed.pcap')) || path.join(SAMPLES, 'mixed.pcap');

function playwrightMissing(): string | false {
  try {
    require.resolve('playwright-core');
    return false;
  } catch {
    return 'playwright-core is not installed (npm install)';
  }
}

const skip = !fs.existsSync(CHROMIUM) ? `${CHROMIUM} is not installed (apt-get install chromium)` : playwrightMissing();

/**
 * The part of playwright-core's API this test uses. Declared here rather than imported: its type declarations need
 * the DOM library, which this Node project does not compile with.
 */
interface PwPage {
  on(event: 'console', listener: (m: { type(): string; text(): string }) => void): void;
  on(event: 'pageerror', listener: (e: Error) => void): void;
  on(event: 'request', listener: (r: { url(): string }) => void): void;
  goto(url: string, opts: { waitUntil: 'load' }): Promise<unknown>;
  title(): Promise<string>;
  $$eval<R>(selector: string, fn: (els: unknown[]) => R): Promise<R>;
  $eval<R>(selector: string, fn: (el: unknown) => R): Promise<R>;
  screenshot(opts: { path: string; fullPage: boolean; clip?: { x: number; y: number; width: number; height: number } }): Promise<unknown>;
}
interface PwContext {
  pages(): PwPage[];
  newPage(): Promise<PwPage>;
  close(): Promise<void>;
}
interface PwChromium {
  launchPersistentContext(
    userDataDir: string,
    opts: { executablePath: string; headless: boolean; viewport: { width: number; height: number }; args: string[] },
  ): Promise<PwContext>;
}

interface SvgFacts {
  cls: string;
  id: string;
  shapes: number;
  width: number;
  height: number;
  bboxW: number;
  bboxH: number;
  arrows: number;
}

describe('HTML report in headless Chromium', { skip }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'teardown-report-html-'));
  const file = path.join(dir, 'review.html');
  let records: ConnectionRecord[] = [];
  let consoleErrors: string[] = [];
  let requests: string[] = [];
  let svgs: SvgFacts[] = [];
  let title = '';

  before(async () => {
    records = (await analyzeFiles([MIXED])).records;
    let stderr = '';
    const status = await runReport(
      { files: [MIXED], output: file, title: 'Incident 2026-11-21: resets & stuck sockets on 192.0.2.2', closeWaitThreshold: 5, finTimeout: 60, maxConnections: 100_000, examples: 3, limit: 500, top: 10 },
      { stderr: { write: (s: string) => (stderr += s) }, env: {} },
    );
    assert.equal(status, 0, stderr);

    // Loaded here, so that a machine without it skips above instead of failing to import.
    const { chromium } = require('playwright-core') as { chromium: PwChromium };
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'teardown-chromium-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1100, height: 900 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      consoleErrors = [];
      requests = [];
      page.on('console', (m) => {
        if (m.type() === 'error') consoleErrors.push(m.text());
      });
      page.on('pageerror', (e) => consoleErrors.push(`page error: ${e.message}`));
      page.on('request', (r) => requests.push(r.url()));
      await page.goto(`file://${file}`, { waitUntil: 'load' });
      title = await page.title();
      svgs = await page.$$eval('svg.chart, svg.ladder', (els) =>
        els.map((el) => {
          // The test compiles without the DOM library: the few members used, typed here.
          const svg = el as unknown as {
            getAttribute(n: string): string | null;
            closest(sel: string): { id: string } | null;
            getBoundingClientRect(): { width: number; height: number };
            getBBox(): { width: number; height: number };
            querySelectorAll(sel: string): { length: number };
          };
          const r = svg.getBoundingClientRect();
          const box = svg.getBBox();
          return {
            cls: svg.getAttribute('class') ?? '',
            id: svg.closest('figure')?.id ?? '',
            shapes: svg.querySelectorAll('rect, line, circle, polygon, path, text').length,
            width: r.width,
            height: r.height,
            bboxW: box.width,
            bboxH: box.height,
            arrows: svg.querySelectorAll('g.pkt').length,
          };
        }),
      );
      const shot = path.join(dir, 'report.png');
      await page.screenshot({ path: shot, fullPage: true });
      assert.ok(fs.statSync(shot).size > 10_000, 'a screenshot with something in it');
      process.stderr.write(`teardown report test: screenshot of the HTML report at ${shot}\n`);
      const wanted = process.env['TEARDOWN_SCREENSHOT'];
      if (wanted !== undefined && wanted !== '') {
        // TEARDOWN_SCREENSHOT_UNTIL=#timeline: from the top down to the end of that element (docs/report.png).
        const until = process.env['TEARDOWN_SCREENSHOT_UNTIL'];
        const bottom =
          until === undefined || until === ''
            ? null
            : await page.$eval(until, (el) => (el as unknown as { getBoundingClientRect(): { bottom: number } }).getBoundingClientRect().bottom);
        if (bottom !== null) await page.screenshot({ path: wanted, fullPage: true, clip: { x: 0, y: 0, width: 1100, height: Math.ceil(bottom) + 28 } });
        else await page.screenshot({ path: wanted, fullPage: true });
      }
    } finally {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    }
  });
  after(() => {
    // Keep the screenshot for people to look at unless asked to clean up.
    if (process.env['CI'] === 'true') fs.rmSync(dir, { recursive: true, force: true });
  });

  it('loads with no console error, no page error and no request but the file', () => {
    assert.deepEqual(consoleErrors, []);
    assert.deepEqual(requests, [`file://${file}`]);
    assert.equal(title, 'Incident 2026-11-21: resets & stuck sockets on 192.0.2.2');
  });

  it('draws the two charts and a ladder for every abnormal ending present', () => {
    const charts = svgs.filter((s) => s.cls.includes('chart'));
    assert.equal(charts.length, 2, 'endings at a glance and the timeline');
    const endings = new Set(records.filter((r) => isAbnormal(r.ending)).map((r) => r.ending));
    const ladders = svgs.filter((s) => s.cls.includes('ladder'));
    assert.ok(ladders.length >= endings.size, `${ladders.length} ladders for ${endings.size} abnormal endings`);
    assert.ok(ladders.length <= endings.size * 3, 'at most 3 examples per ending');
  });

  it('every chart and ladder is a non-empty SVG with a real size', () => {
    for (const s of svgs) {
      assert.ok(s.shapes > 3, `${s.cls} ${s.id}: ${s.shapes} shapes`);
      assert.ok(s.width > 100 && s.height > 50, `${s.cls} ${s.id}: ${s.width}×${s.height}`);
      assert.ok(s.bboxW > 100 && s.bboxH > 50, `${s.cls} ${s.id}: bbox ${s.bboxW}×${s.bboxH}`);
    }
  });

  it('each ladder draws one arrow per packet its record kept', () => {
    const byId = new Map(records.map((r) => [r.id, r]));
    for (const s of svgs.filter((x) => x.cls.includes('ladder'))) {
      const id = Number(/^ladder-(\d+)$/.exec(s.id)?.[1]);
      const r = byId.get(id);
      assert.ok(r, `figure ${s.id} names a connection of the capture`);
      assert.ok(isAbnormal(r.ending));
      assert.equal(s.arrows, Math.min(r.ladder.length, 40), `#${id}`);
    }
  });
});
