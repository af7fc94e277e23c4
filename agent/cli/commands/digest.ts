/**
 * `cpe-agent digest [FILE]` — MD5 and SHA-256 of a file, or of stdin without FILE, as one JSON
 * line: {"bytes":N,"md5":"…","sha256":"…"} (what `md5sum` and `sha256sum` say, in one pass).
 * The daemon hashes its slots through it (agent/transfer/digest-child.ts), so this command
 * loads nothing but the hashing.
 */
import type { Command } from 'commander';
import { createReadStream } from 'node:fs';
import { AgentError } from '../../errors.ts';
import { digestStream } from '../../transfer/hashing-sink.ts';

export function registerDigest(program: Command): void {
  program
    .command('digest')
    .description('MD5 and SHA-256 of FILE (or of stdin) as JSON: {"bytes","md5","sha256"}')
    .argument('[file]', 'file or device to read (default: stdin)')
    .action(async (file: string | undefined) => {
      let d;
      try {
        d = await digestStream(file === undefined ? process.stdin : createReadStream(file));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new AgentError('DIGEST_READ', `cannot read ${file ?? 'stdin'}: ${code ?? (e instanceof Error ? e.message : String(e))}`, { ...(file ? { file } : {}) });
      }
      process.stdout.write(`${JSON.stringify(d)}\n`);
    });
}
