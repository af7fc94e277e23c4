/**
 * ChildDigester: the digests come from a child process reading the bytes on its stdin, equal to
 * the in-process ones; a child that cannot start, dies, or answers wrong is replaced by an
 * in-process digest of a fresh read (with a warning); a failing source is the caller's error.
 * The child here is a small stand-in program with the same contract as `cpe-agent digest`
 * (that command itself: test/cli/commands/digest.test.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { ChildDigester } from '../../agent/transfer/digest-child.ts';
import { createLogger } from '../../agent/log.ts';

const dir = mkdtempSync(join(tmpdir(), 'digest-child-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `node prog.cjs MODE digest`: hashes stdin like `cpe-agent digest`, or misbehaves as MODE says */
const prog = join(dir, 'prog.cjs');
writeFileSync(
  prog,
  `const [mode, cmd] = process.argv.slice(2);
if (cmd !== 'digest') process.exit(9);
if (mode === 'hang') { setInterval(() => {}, 1000); return; } // neither reads nor answers
const c = require('crypto'); const md5 = c.createHash('md5'); const sha = c.createHash('sha256'); let bytes = 0;
process.stdin.on('data', (d) => { bytes += d.length; md5.update(d); sha.update(d); if (mode === 'die' && bytes > 100000) process.exit(1); });
process.stdin.on('end', () => {
  if (mode === 'fail') { process.stderr.write('boom\\nthe last line\\n'); process.exit(3); }
  if (mode === 'garbage') { process.stdout.write('hello\\n'); return; }
  if (mode === 'short') bytes -= 1;
  require('fs').appendFileSync(${JSON.stringify(join(dir, 'answered'))}, 'x');
  process.stdout.write(JSON.stringify({ bytes, md5: md5.digest('hex'), sha256: sha.digest('hex') }) + '\\n');
});
`,
);

/** answers given by stand-in children so far (proof the child, not the fallback, hashed) */
const answered = (): number => (existsSync(join(dir, 'answered')) ? readFileSync(join(dir, 'answered'), 'utf8').length : 0);
const data = randomBytes(3 * 1024 * 1024 + 17);
function chunks(b: Uint8Array, size = 65536): () => AsyncIterable<Uint8Array> {
  return async function* () {
    for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
  };
}
const want = { bytes: data.length, md5: createHash('md5').update(data).digest('hex'), sha256: createHash('sha256').update(data).digest('hex') };

function logged(): { lines: Array<Record<string, unknown>>; log: ReturnType<typeof createLogger> } {
  const lines: Array<Record<string, unknown>> = [];
  return { lines, log: createLogger({ format: 'json', level: 'info', destination: { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) } }) };
}

describe('ChildDigester', () => {
  it('hashes a multi-chunk stream in the child: the same digests as in-process, no warning', async () => {
    const { lines, log } = logged();
    const d = new ChildDigester([process.execPath, prog, 'ok'], { log });
    const before = answered();
    try {
      expect(await d.digest(chunks(data))).toEqual(want);
      expect(answered()).toBe(before + 1);
      expect(await d.digest(chunks(new Uint8Array(0)))).toEqual({ bytes: 0, md5: 'd41d8cd98f00b204e9800998ecf8427e', sha256: createHash('sha256').digest('hex') });
    } finally {
      d.close();
    }
    expect(lines).toEqual([]);
  });

  it('a source that reuses one buffer (the slot readers do): each chunk reaches the child before the next is read', async () => {
    const big = randomBytes(24 * 1024 * 1024);
    const reused = Buffer.alloc(16 * 1024);
    const source = async function* (): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < big.length; i += reused.length) {
        const n = big.copy(reused, 0, i, i + reused.length);
        yield reused.subarray(0, n);
      }
    };
    const d = new ChildDigester([process.execPath, prog, 'ok']);
    try {
      expect(await d.digest(source)).toEqual({ bytes: big.length, md5: createHash('md5').update(big).digest('hex'), sha256: createHash('sha256').update(big).digest('hex') });
    } finally {
      d.close();
    }
  });

  it('prepare(): the spare child started ahead serves the next digest', async () => {
    const { lines, log } = logged();
    const d = new ChildDigester([process.execPath, prog, 'ok'], { log });
    d.prepare();
    d.prepare(); // one spare at most
    const spares = (d as unknown as { children: Set<unknown> }).children;
    expect(spares.size).toBe(1);
    const before = answered();
    try {
      expect(await d.digest(chunks(data))).toEqual(want);
      expect(answered()).toBe(before + 1);
      expect(spares.size).toBe(0);
    } finally {
      d.close();
    }
    expect(lines).toEqual([]);
  });

  it('an unused spare ends by itself after spareMs', async () => {
    const d = new ChildDigester([process.execPath, prog, 'ok'], { spareMs: 50 });
    d.prepare();
    const spare = (d as unknown as { children: Set<{ exitCode: number | null; once(e: string, f: () => void): void }> }).children;
    expect(spare.size).toBe(1);
    const [proc] = [...spare];
    await new Promise<void>((r) => (proc && proc.exitCode === null ? proc.once('close', () => r()) : r()));
    expect(spare.size).toBe(0);
    d.close();
  });

  for (const [mode, why] of [
    ['fail', /exit 3: the last line/],
    ['garbage', /unexpected answer "hello/],
    ['short', /hashed \d+ bytes of \d+/],
    ['die', /exit 1/],
  ] as const) {
    it(`a child that ${mode === 'die' ? 'dies half-way' : `answers ${mode}`} → in-process digest of a fresh read, with a warning`, async () => {
      const { lines, log } = logged();
      const d = new ChildDigester([process.execPath, prog, mode], { log });
      let opened = 0;
      const open = chunks(data);
      try {
        expect(
          await d.digest(() => {
            opened++;
            return open();
          }),
        ).toEqual(want);
      } finally {
        d.close();
      }
      expect(opened).toBe(2);
      expect(lines.map((l) => l.event)).toEqual(['digest.child-failed']);
      expect(String(lines[0]?.err)).toMatch(why);
    });
  }

  it('a child that stalls (reads nothing, never answers) is killed after stallMs → in-process digest, with a warning', async () => {
    const { lines, log } = logged();
    const d = new ChildDigester([process.execPath, prog, 'hang'], { log, stallMs: 300 });
    try {
      expect(await d.digest(chunks(data))).toEqual(want);
    } finally {
      d.close();
    }
    expect(lines.map((l) => l.event)).toEqual(['digest.child-failed']);
    expect(String(lines[0]?.err)).toMatch(/no progress for 300 ms: killed/);
  });

  it('a program that cannot be started → in-process digest, with a warning', async () => {
    const { lines, log } = logged();
    const d = new ChildDigester([join(dir, 'no-such-program')], { log });
    d.prepare(); // the spare fails to spawn too
    try {
      expect(await d.digest(chunks(data))).toEqual(want);
    } finally {
      d.close();
    }
    expect(lines.map((l) => l.event)).toEqual(['digest.child-failed']);
    expect(String(lines[0]?.err)).toMatch(/cannot start .*no-such-program: .*ENOENT/);
  });

  it("a source that fails is the caller's error (no in-process retry), and the child is killed", async () => {
    const { lines, log } = logged();
    const d = new ChildDigester([process.execPath, prog, 'ok'], { log });
    let opened = 0;
    const failing = async function* (): AsyncGenerator<Uint8Array> {
      opened++;
      yield data.subarray(0, 1000);
      throw new Error('slot read error');
    };
    await expect(d.digest(failing)).rejects.toThrow('slot read error');
    expect(opened).toBe(1);
    expect(lines).toEqual([]);
    // killed by the digest itself (close() not called yet)
    await vi.waitFor(() => expect((d as unknown as { children: Set<unknown> }).children.size).toBe(0));
    d.close();
  });
});
