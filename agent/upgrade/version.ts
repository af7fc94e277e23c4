/**
 * Firmware versions parsed from image file names. CTS names carry the version as
 * `_FW_<major>_<minor>_<patch>`: `ESH-3105_FW_1_02_00_20081006` is 1.2.0 and
 * `2108-2109SERIES_FW_1_06_10_ALU-EWZ_20080808` is 1.6.10. The pattern is configurable
 * (a regular expression whose capture groups are the numeric components, most significant
 * first). Pure: no I/O.
 */
import { AgentError } from '../errors.ts';

/** Default: the numeric groups after `_FW_` (case-insensitive). */
export const DEFAULT_VERSION_PATTERN = '_FW_(\\d+)_(\\d+)_(\\d+)';

export interface Version {
  /** numeric components, most significant first */
  parts: number[];
  /** dotted form, e.g. "1.2.0" */
  text: string;
}

/** Compiles a version pattern; a bad pattern is a CONFIG_INVALID error. */
export function compileVersionPattern(pattern: string): RegExp {
  let re: RegExp;
  try {
    re = new RegExp(pattern, 'i');
  } catch (e) {
    throw new AgentError('CONFIG_INVALID', `policy.versionPattern is not a valid regular expression: ${e instanceof Error ? e.message : String(e)}`, {
      path: 'policy.versionPattern',
    });
  }
  // Number of capture groups: match the pattern OR the empty string against "".
  const groups = (new RegExp(`${pattern}|`).exec('')?.length ?? 1) - 1;
  if (groups < 1) {
    throw new AgentError('CONFIG_INVALID', 'policy.versionPattern needs at least one capture group (the version components)', {
      path: 'policy.versionPattern',
    });
  }
  return re;
}

/** Parses the version out of an image file name; undefined when the name does not match. */
export function versionFromFileName(fileName: string, pattern: string | RegExp = DEFAULT_VERSION_PATTERN): Version | undefined {
  const re = typeof pattern === 'string' ? compileVersionPattern(pattern) : pattern;
  // Only the base name: a path prefix on the server must not change the version.
  const base = fileName.slice(fileName.lastIndexOf('/') + 1);
  const m = re.exec(base);
  if (!m) return undefined;
  const groups = m.slice(1).filter((g): g is string => g !== undefined);
  if (groups.length === 0 || groups.some((g) => !/^\d{1,9}$/.test(g))) return undefined;
  const parts = groups.map((g) => Number.parseInt(g, 10));
  return { parts, text: parts.join('.') };
}

/** Parses a dotted version ("1.2.0", "v1.6.10"); undefined when it is not one. */
export function parseVersion(text: string | null | undefined): Version | undefined {
  if (!text) return undefined;
  const m = /^v?(\d{1,9}(?:\.\d{1,9})*)$/i.exec(text.trim());
  if (!m?.[1]) return undefined;
  const parts = m[1].split('.').map((p) => Number.parseInt(p, 10));
  return { parts, text: parts.join('.') };
}

/** -1, 0, 1; missing trailing components count as 0 (1.2 == 1.2.0). */
export function compareVersions(a: Version, b: Version): -1 | 0 | 1 {
  const n = Math.max(a.parts.length, b.parts.length);
  for (let i = 0; i < n; i++) {
    const x = a.parts[i] ?? 0;
    const y = b.parts[i] ?? 0;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}
