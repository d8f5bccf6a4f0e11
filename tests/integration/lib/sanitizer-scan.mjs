// Reads sanitizer reports out of the relays' logs, so that a sanitized integration run fails on a
// report even when no assertion broke (a leak, a race or UB seldom breaks one).
//
//   node lib/sanitizer-scan.mjs DIR [DIR...]   exit 1 and print each report (suite, log file, first
//                                              lines) when any *.log under DIR holds one; 0 otherwise
//
// scripts/test.sh runs it after each integration stage over that stage's log directory.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// A report starts on its own line (the daemon's log lines start with a timestamp, and logged
// message bodies are JSON-escaped, so user text cannot forge one at the start of a line).
const PATTERNS = [
  { kind: 'AddressSanitizer', re: /^(==\d+==)?ERROR: AddressSanitizer\b/ },
  { kind: 'LeakSanitizer', re: /^(==\d+==)?ERROR: LeakSanitizer\b/ },
  { kind: 'ThreadSanitizer', re: /^(==\d+==)?(WARNING|ERROR|FATAL): ThreadSanitizer\b/ },
  { kind: 'UndefinedBehaviorSanitizer', re: /^(\S+:\d+(:\d+)?|<unknown>): runtime error: / },
  { kind: 'sanitizer summary', re: /^SUMMARY: \w*Sanitizer: / },
];
const REPORT_LINES = 25; // lines of context printed per report

/** Reports in one log's text: [{ kind, line (1-based), excerpt }]. A SUMMARY that closes an
 *  already-found report is not counted again. */
export function scanText(text) {
  const lines = text.split('\n');
  const found = [];
  let lastReportLine = -Infinity;
  lines.forEach((line, i) => {
    const hit = PATTERNS.find((p) => p.re.test(line));
    if (!hit) return;
    if (hit.kind === 'sanitizer summary' && i - lastReportLine < 400) return;
    lastReportLine = i;
    found.push({ kind: hit.kind, line: i + 1, excerpt: lines.slice(i, i + REPORT_LINES).join('\n') });
  });
  return found;
}

/** The test file that started the relay, from the header relay.mjs writes (else the file name). */
export function suiteOf(file, text) {
  const m = /^===== .* test-file=(\S+)/m.exec(text);
  return m ? m[1] : path.basename(file).replace(/-it-.*$|\.log$/g, '');
}

function logFiles(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return logFiles(p);
    return e.isFile() && e.name.endsWith('.log') ? [p] : [];
  });
}

/** Every report in every *.log under `dirs`: [{ file, suite, kind, line, excerpt }]. */
export function scanLogs(dirs) {
  const out = [];
  for (const file of dirs.flatMap(logFiles).sort()) {
    const text = fs.readFileSync(file, 'utf8');
    for (const r of scanText(text)) out.push({ file, suite: suiteOf(file, text), ...r });
  }
  return out;
}

export function formatReports(reports) {
  return reports
    .map((r) => `---- ${r.kind} report in suite ${r.suite}, ${r.file}:${r.line}\n${r.excerpt}`)
    .join('\n');
}

function main(dirs) {
  if (!dirs.length) {
    console.error('usage: node lib/sanitizer-scan.mjs DIR [DIR...]');
    return 2;
  }
  const files = dirs.flatMap(logFiles);
  const reports = scanLogs(dirs);
  if (!reports.length) {
    console.log(`sanitizer-scan: no sanitizer report in ${files.length} relay logs (${dirs.join(', ')})`);
    return 0;
  }
  console.log(formatReports(reports));
  const where = [...new Set(reports.map((r) => `${r.suite}: ${r.file}`))];
  console.log(`sanitizer-scan: ${reports.length} sanitizer report(s) in ${where.length} log(s):\n  ${where.join('\n  ')}`);
  return 1;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
