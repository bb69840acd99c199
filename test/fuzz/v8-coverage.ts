/**
 * Line and function coverage from V8's own coverage output (NODE_V8_COVERAGE), for the compiled files of src/:
 * every range V8 reports is painted over the source, innermost last, so that each character carries the count
 * of the innermost block around it. A line of code is covered when all its non-blank characters ran; a function
 * when its body ran at least once. Lines holding only comments or punctuation are not counted.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

interface V8Range {
  startOffset: number;
  endOffset: number;
  count: number;
}
interface V8Function {
  functionName: string;
  ranges: V8Range[];
}
interface V8Script {
  url: string;
  functions: V8Function[];
}

export interface CoverageFigures {
  lines: number;
  linesCovered: number;
  functions: number;
  functionsCovered: number;
}

const CODE = /[A-Za-z0-9_$]/;

function fileFigures(source: string, fns: V8Function[]): CoverageFigures {
  const counts = new Int32Array(source.length).fill(-1);
  const ranges = fns.flatMap((f) => f.ranges).sort((a, b) => b.endOffset - b.startOffset - (a.endOffset - a.startOffset));
  for (const r of ranges) counts.fill(r.count > 0 ? 1 : 0, r.startOffset, Math.min(r.endOffset, source.length));
  let lines = 0;
  let linesCovered = 0;
  let at = 0;
  for (const text of source.split('\n')) {
    const trimmed = text.trim();
    const isCode = trimmed !== '' && !trimmed.startsWith('//') && !trimmed.startsWith('*') && !trimmed.startsWith('/*') && CODE.test(trimmed) && !trimmed.startsWith('//# sourceMappingURL');
    if (isCode) {
      lines++;
      let ok = true;
      for (let i = 0; i < text.length; i++) if (text[i] !== ' ' && counts[at + i] === 0) ok = false;
      if (ok) linesCovered++;
    }
    at += text.length + 1;
  }
  const named = fns.filter((f) => f.ranges[0]!.startOffset > 0);
  return { lines, linesCovered, functions: named.length, functionsCovered: named.filter((f) => f.ranges[0]!.count > 0).length };
}

/**
 * Figures per folder of src/ (and "src (all)") from the coverage files in `dir`, for files under `distSrc`; with
 * `perFile`, per file too (keys "src/capture/pcap-reader.js", …).
 */
export function coverageOf(dir: string, distSrc: string, perFile = false): Record<string, CoverageFigures & { linePct: number; funcPct: number }> {
  const byFile = new Map<string, V8Function[]>();
  for (const f of fs.readdirSync(dir)) {
    if (!f.endsWith('.json')) continue;
    const data = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as { result: V8Script[] };
    for (const s of data.result) {
      if (!s.url.startsWith('file://')) continue;
      const file = fileURLToPath(s.url);
      if (!file.startsWith(distSrc + path.sep)) continue;
      byFile.set(file, [...(byFile.get(file) ?? []), ...s.functions]);
    }
  }
  const agg = new Map<string, CoverageFigures>();
  // Files never loaded count as wholly uncovered.
  const walk = (d: string): string[] => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : e.name.endsWith('.js') ? [path.join(d, e.name)] : []));
  for (const file of walk(distSrc)) {
    const src = fs.readFileSync(file, 'utf8');
    const fig = fileFigures(src, byFile.get(file) ?? [{ functionName: '', ranges: [{ startOffset: 0, endOffset: src.length, count: 0 }] }]);
    const rel = path.relative(distSrc, file).split(path.sep);
    const folder = `src/${rel[0]}`;
    const keys = [folder.endsWith('.js') ? 'src (top)' : folder, 'src (all)'];
    if (perFile) keys.push(`src/${rel.join('/')}`);
    for (const key of keys) {
      const a = agg.get(key) ?? { lines: 0, linesCovered: 0, functions: 0, functionsCovered: 0 };
      a.lines += fig.lines;
      a.linesCovered += fig.linesCovered;
      a.functions += fig.functions;
      a.functionsCovered += fig.functionsCovered;
      agg.set(key, a);
    }
  }
  const out: Record<string, CoverageFigures & { linePct: number; funcPct: number }> = {};
  for (const [k, a] of [...agg].sort()) {
    out[k] = { ...a, linePct: Number(((100 * a.linesCovered) / Math.max(1, a.lines)).toFixed(1)), funcPct: Number(((100 * a.functionsCovered) / Math.max(1, a.functions)).toFixed(1)) };
  }
  return out;
}
