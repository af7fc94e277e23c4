import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkSource } from '../../scripts/check-tests.ts';

/** `line: kind` of each finding: `empty catch` or the fast-check call (`fc.array`). */
const problems = (text: string): string[] => checkSource('f.test.ts', text).map((f) => `${f.line}: ${f.problem.startsWith('empty catch') ? 'empty catch' : f.problem.split(' ')[0]}`);

describe('check-tests guard: empty catch blocks', () => {
  it('flags `catch {}` and `catch (e) {}` (comments only) in a file that uses expect', () => {
    const src = [
      "import { expect, it } from 'vitest';",
      'try { expect(1).toBe(2); } catch { /* does not fit */ }',
      'try { f(); } catch (e) {',
      '  // ignored',
      '}',
    ].join('\n');
    expect(problems(src)).toEqual(['2: empty catch', '3: empty catch']);
  });
  it('passes a catch that rethrows or asserts, and an empty catch in a file without expect', () => {
    expect(problems("import { expect } from 'vitest';\ntry { f(); } catch (e) { if (!ok(e)) throw e; }\ntry { g(); } catch (e) { expect(e).toBeDefined(); }")).toEqual([]);
    expect(problems('try { f(); } catch { /* helper */ }')).toEqual([]);
  });
});

describe('check-tests guard: fast-check lengths', () => {
  it('flags maxLength above 10 without size, wherever the call is', () => {
    const src = [
      'fc.array(fc.nat(), { maxLength: 60 });',
      'fc.uint8Array({ minLength: 1, maxLength: 64 * 1024 });',
      'fc.property(fc.string({ maxLength: 11 }), (s) => s);',
      'fc.uniqueArray(x, { selector: (o) => o.code, maxLength: n });',
    ].join('\n');
    expect(problems(src)).toEqual(['1: fc.array', '2: fc.uint8Array', '3: fc.string', '4: fc.uniqueArray']);
  });
  it('passes maxLength up to 10, a size setting, and fixed lengths', () => {
    const src = [
      'fc.array(fc.nat(), { maxLength: 10 });',
      "fc.uint8Array({ maxLength: 700, size: 'max' });",
      "fc.array(fc.nat(), { maxLength: 5000, size: '+1' });",
      'fc.uint8Array({ minLength: 16, maxLength: 16 });',
      'fc.nat(100_000);',
    ].join('\n');
    expect(problems(src)).toEqual([]);
  });
});

describe('check-tests guard: the command', () => {
  const node = process.execPath;
  const script = new URL('../../scripts/check-tests.ts', import.meta.url).pathname;
  const run = (files: string[]): { code: number; out: string } => {
    try {
      return { code: 0, out: execFileSync(node, [script, ...files], { encoding: 'utf8', stdio: 'pipe' }) };
    } catch (e) {
      const x = e as { status: number; stderr: string };
      return { code: x.status, out: x.stderr };
    }
  };
  it('exits 1 naming file and line for a bad file, 0 for a clean one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'check-tests-'));
    try {
      const bad = join(dir, 'bad.test.ts');
      const good = join(dir, 'good.test.ts');
      writeFileSync(bad, "import { expect } from 'vitest';\n\ntry { expect(1).toBe(2); } catch {}\n");
      writeFileSync(good, "import { expect } from 'vitest';\nexpect(fc.array(fc.nat(), { maxLength: 3 })).toBeDefined();\n");
      const r = run([bad, good]);
      expect(r.code).toBe(1);
      expect(r.out).toContain(`${bad}:3: empty catch`);
      expect(r.out).not.toContain(good);
      expect(run([good])).toEqual({ code: 0, out: 'check-tests: 1 files clean\n' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000); // two node starts loading typescript
});
