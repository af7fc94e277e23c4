/**
 * Bad usage of every command through the built binary (dist/cpe-agent): exit 2 and one
 * `cpe-agent: error [CODE]: message` line (README contract), never commander's exit 1;
 * --help and --version exit 0. The table is checked against the commands `--help` lists,
 * so a new command without a row fails here.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT } from '../helpers/prereq.ts';
import { ensureBuiltAgent } from '../helpers/built-agent.ts';

const dir = mkdtempSync(join(tmpdir(), 'usage-cli-'));
const EMPTY = join(dir, 'empty.pcap');
const SD = join(dir, 'state');

beforeAll(() => {
  writeFileSync(EMPTY, '');
  ensureBuiltAgent();
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(AGENT, args, { encoding: 'utf8', timeout: 20_000, env: { ...process.env, CPE_AGENT_LOG_LEVEL: 'error' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Every leaf command, with bad invocations: [args, expected error code]. */
const BAD: Record<string, Array<[string[], string]>> = {
  'decode opt43': [
    [['decode', 'opt43'], 'CLI_MISSING_ARGUMENT'],
    [['decode', 'opt43', '010100', '--bogus'], 'CLI_UNKNOWN_OPTION'],
    [['decode', 'opt43', '010100', '--vendor-class'], 'CLI_MISSING_OPTION_VALUE'],
    [['decode', 'opt43', ''], 'OPT43_EMPTY'],
    [['decode', 'opt43', 'zz'], 'CLI_BAD_HEX'],
  ],
  'decode pcap': [
    [['decode', 'pcap'], 'CLI_MISSING_ARGUMENT'],
    [['decode', 'pcap', EMPTY, '--bogus'], 'CLI_UNKNOWN_OPTION'],
    [['decode', 'pcap', EMPTY, 'extra'], 'CLI_EXCESS_ARGUMENTS'],
    [['decode', 'pcap', EMPTY], 'PCAP_TRUNCATED'],
  ],
  'decode dhcp': [
    [['decode', 'dhcp'], 'CLI_MISSING_ARGUMENT'],
    [['decode', 'dhcp', '00', '--bogus'], 'CLI_UNKNOWN_OPTION'],
  ],
  dhcp: [
    [['dhcp', '--vendor-class', 'FS-0900E'], 'CLI_MISSING_OPTION'],
    [['dhcp', '--iface'], 'CLI_MISSING_OPTION_VALUE'],
    [['dhcp', '--iface', 'wan0', '--vendor-class', 'FS-0900E', '--bogus'], 'CLI_UNKNOWN_OPTION'],
    [['dhcp', '--iface', 'wan0', '--vendor-class', 'FS-0900E', '--timeout', 'soon'], 'CLI_BAD_ARGUMENT'],
    [['dhcp', '--iface', 'wan0', '--vendor-class', 'FS-0900E', '--log-format', 'xml'], 'CLI_BAD_ARGUMENT'],
  ],
  run: [
    [['run', '--bogus'], 'CLI_UNKNOWN_OPTION'],
    [['run', '--state-dir'], 'CLI_MISSING_OPTION_VALUE'],
    [['run', '--state-dir', SD, '--log-format', 'xml'], 'CLI_USAGE'],
    [['run', '--state-dir', SD, '--platform', 'mtd'], 'CONFIG_INVALID'],
    [['run', 'extra'], 'CLI_EXCESS_ARGUMENTS'],
  ],
  status: [
    [['status', '--bogus'], 'CLI_UNKNOWN_OPTION'],
    [['status', '--state-dir'], 'CLI_MISSING_OPTION_VALUE'],
    [['status', '--config', join(dir, 'missing.json')], 'CONFIG_READ'],
  ],
  reboot: [
    [['reboot', '--bogus'], 'CLI_UNKNOWN_OPTION'],
    [['reboot', '--state-dir'], 'CLI_MISSING_OPTION_VALUE'],
  ],
  'leg replay': [
    [['leg', 'replay'], 'CLI_MISSING_ARGUMENT'],
    [['leg', 'replay', EMPTY, '--bogus'], 'CLI_UNKNOWN_OPTION'],
    [['leg', 'replay', EMPTY, '--state-dir', SD], 'PCAP_TRUNCATED'],
  ],
  'leg run': [
    [['leg', 'run', '--state-dir', SD], 'CLI_INVALID'],
    [['leg', 'run', '--iface'], 'CLI_MISSING_OPTION_VALUE'],
    [['leg', 'run', '--bogus'], 'CLI_UNKNOWN_OPTION'],
  ],
  'leg show': [
    [['leg', 'show'], 'CLI_MISSING_ARGUMENT'],
    [['leg', 'show', 'x', '--bogus'], 'CLI_UNKNOWN_OPTION'],
  ],
  'leg list': [[['leg', 'list', '--bogus'], 'CLI_UNKNOWN_OPTION']],
  'leg counters': [[['leg', 'counters', '--state-dir'], 'CLI_MISSING_OPTION_VALUE']],
  'image keygen': [
    [['image', 'keygen'], 'CLI_MISSING_OPTION'],
    [['image', 'keygen', '--out', join(dir, 'k'), '--bogus'], 'CLI_UNKNOWN_OPTION'],
  ],
  'image sign': [
    [['image', 'sign', EMPTY], 'CLI_MISSING_OPTION'],
    [['image', 'sign', EMPTY, '--key', join(dir, 'missing.key'), '--fw-version', '1.0.0', '--model', 'X', '--out', join(dir, 'o.bin')], 'CLI_FILE'],
    [['image', 'sign', EMPTY, '--key', EMPTY, '--fw-version', '1.0.0', '--model', 'X', '--out', join(dir, 'o.bin'), '--signed-at', 'soon'], 'CLI_BAD_ARGUMENT'],
  ],
  'image verify': [
    [['image', 'verify', EMPTY], 'CLI_MISSING_OPTION'],
    [['image', 'verify', EMPTY, '--key', 'ed25519:nope'], 'IMAGE_KEY_INVALID'],
  ],
  'image inspect': [
    [['image', 'inspect'], 'CLI_MISSING_ARGUMENT'],
    [['image', 'inspect', join(dir, 'missing.bin')], 'CLI_FILE'],
  ],
  digest: [
    [['digest', join(dir, 'missing.bin')], 'DIGEST_READ'],
    [['digest', EMPTY, EMPTY], 'CLI_EXCESS_ARGUMENTS'],
    [['digest', '--bogus'], 'CLI_UNKNOWN_OPTION'],
  ],
  '(none)': [
    [[], 'CLI_MISSING_COMMAND'],
    [['frobnicate'], 'CLI_UNKNOWN_COMMAND'],
    [['--bogus'], 'CLI_UNKNOWN_OPTION'],
    [['decode'], 'CLI_MISSING_COMMAND'],
    [['decode', 'frob'], 'CLI_UNKNOWN_COMMAND'],
    [['leg'], 'CLI_MISSING_COMMAND'],
    [['image'], 'CLI_MISSING_COMMAND'],
  ],
};

/** Command names of a `--help` listing (without `help`). */
function listed(args: string[]): string[] {
  const out = run([...args, '--help']).out;
  const section = out.slice(out.indexOf('Commands:'));
  return [...section.matchAll(/^ {2}(\S+)/gm)].map((m) => m[1] ?? '').filter((c) => c !== 'help');
}

describe('usage errors: exit 2 with cpe-agent: error [CODE]: message', () => {
  it('the table covers every command --help lists', () => {
    const leaves: string[] = [];
    for (const c of listed([])) {
      const sub = c === 'decode' || c === 'leg' || c === 'image' ? listed([c]) : [];
      if (sub.length === 0) leaves.push(c);
      for (const s of sub) leaves.push(`${c} ${s}`);
    }
    expect(leaves.length).toBeGreaterThan(8);
    expect(Object.keys(BAD).filter((k) => k !== '(none)').sort()).toEqual(leaves.sort());
  });

  const rows = Object.entries(BAD).flatMap(([cmd, cases]) => cases.map(([args, code]) => [cmd, args, code] as const));
  it.each(rows)('%s: %j → exit 2 [%s]', (_cmd, args, code) => {
    const r = run([...args]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(new RegExp(`^cpe-agent: error \\[${code}\\]: \\S`, 'm'));
    expect(r.err).not.toMatch(/^error: /m); // commander's own line is replaced
    expect(r.out).toBe('');
  });

  it.each([[['--help']], [['--version']], [['decode', 'opt43', '--help']], [['leg', 'show', '--help']], [['run', '--help']], [['help', 'dhcp']]])('%j exits 0', (args) => {
    const r = run(args);
    expect(r.code).toBe(0);
    expect(r.out.length).toBeGreaterThan(0);
  });
});
