// The scanner that fails the sanitized integration stages must find each kind of report, name the
// suite and file, and pass a clean log. scripts/test.sh runs this before it trusts the scanner.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { scanText, scanLogs } from './sanitizer-scan.mjs';

const SCANNER = fileURLToPath(new URL('./sanitizer-scan.mjs', import.meta.url));

const HEADER = '===== 2026-11-30T08:00:00.000Z /x/chat-relayd --config-file=/tmp/a.ini test-file=features.test.mjs\n';
const CLEAN = `${HEADER}2026-11-30T08:00:01.000Z INFO  relay: ready\n` +
  '2026-11-30T08:00:02.000Z DEBUG registry: chat {"text":"a runtime error: in text"}\n' +
  '2026-11-30T08:00:03.000Z INFO  relay: stopped\n';
const REPORTS = {
  AddressSanitizer: '=================================================================\n' +
    '==4242==ERROR: AddressSanitizer: heap-use-after-free on address 0x602000000010 at pc 0x1 bp 0x2 sp 0x3\n' +
    'READ of size 4 at 0x602000000010 thread T0\n    #0 0x55 in main app/main.cpp:10\n' +
    'SUMMARY: AddressSanitizer: heap-use-after-free app/main.cpp:10 in main\n',
  LeakSanitizer: '\n=================================================================\n' +
    '==4242==ERROR: LeakSanitizer: detected memory leaks\n\nDirect leak of 64 byte(s) in 1 object(s) allocated from:\n' +
    '    #0 0x7f in operator new(unsigned long)\nSUMMARY: AddressSanitizer: 64 byte(s) leaked in 1 allocation(s).\n',
  UndefinedBehaviorSanitizer: 'actors/registry_actor.cpp:120:15: runtime error: signed integer overflow: ' +
    '2147483647 + 1 cannot be represented in type \'int\'\n' +
    'SUMMARY: UndefinedBehaviorSanitizer: undefined-behavior actors/registry_actor.cpp:120:15 in\n',
  ThreadSanitizer: '==================\nWARNING: ThreadSanitizer: data race (pid=4242)\n' +
    '  Write of size 8 at 0x7b04 by thread T2:\n    #0 f broker/amqp_client.cpp:50\n==================\n' +
    'ThreadSanitizer: reported 1 warnings\n',
};

test('a clean relay log has no report (also with "runtime error:" inside a logged body)', () => {
  assert.deepEqual(scanText(CLEAN), []);
});

for (const [kind, report] of Object.entries(REPORTS)) {
  test(`a ${kind} report is found once, at its line`, () => {
    const found = scanText(CLEAN + report + '2026-11-30T08:00:04.000Z INFO  relay: after\n');
    assert.equal(found.length, 1, JSON.stringify(found));
    assert.equal(found[0].kind, kind);
    assert.match(found[0].excerpt, /Sanitizer|runtime error/);
  });
}

test('a SUMMARY line alone (report without its header) still counts', () => {
  assert.equal(scanText(`${CLEAN}SUMMARY: ThreadSanitizer: data race x.cpp:1 in f\n`).length, 1);
});

test('the CLI fails on a directory with a report, naming suite and file, and passes a clean one', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sanitizer-scan-'));
  try {
    fs.writeFileSync(path.join(dir, 'features-it-features-abc.log'), CLEAN);
    const ok = execFileSync(process.execPath, [SCANNER, dir], { encoding: 'utf8' });
    assert.match(ok, /no sanitizer report in 1 relay logs/);

    const bad = path.join(dir, 'nested', 'restart-it-restart-def.log');
    fs.mkdirSync(path.dirname(bad));
    fs.writeFileSync(bad, CLEAN + REPORTS.LeakSanitizer);
    let out = '';
    let status = 0;
    try {
      execFileSync(process.execPath, [SCANNER, dir], { encoding: 'utf8' });
    } catch (e) {
      status = e.status;
      out = e.stdout;
    }
    assert.equal(status, 1, 'exit status 1 on a report');
    assert.match(out, /LeakSanitizer report in suite features\.test\.mjs, .*restart-it-restart-def\.log:\d+/);
    assert.equal(scanLogs([dir]).length, 1);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
