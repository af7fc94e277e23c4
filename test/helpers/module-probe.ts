/**
 * Which Node built-ins a process loaded: a preload (`node -r FILE` or NODE_OPTIONS=--require=FILE)
 * that prints `LOADED a,b,…` (process.moduleLoadList's NativeModules) on stderr at exit, and the
 * reader of that line. Used by test/cli/lazy-load.test.ts and the upgrade lab's idle-daemon case.
 */
import { writeFileSync } from 'node:fs';

/** Writes the preload to `path`. */
export function writeModuleProbe(path: string): void {
  writeFileSync(
    path,
    `process.on('exit', () => require('fs').writeSync(2, '\\nLOADED ' + process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13)).join(',') + '\\n'));\n`,
  );
}

/** The built-ins named by the probe's line in `stderr`; undefined when there is no such line. */
export function loadedModules(stderr: string): string[] | undefined {
  const line = stderr.split('\n').find((l) => l.startsWith('LOADED '));
  return line === undefined ? undefined : line.slice(7).split(',');
}
