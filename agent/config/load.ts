/**
 * Config loading: defaults ← file (JSON) ← command-line overrides, then zod validation.
 * Relative paths in the file are relative to the file's directory. Errors are
 * CONFIG_INVALID naming the key path (`retry.maxAttempts: …`) or CONFIG_READ.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { AgentError } from '../errors.ts';
import { compileVersionPattern } from '../upgrade/version.ts';
import { configSchema, type AgentConfig } from './schema.ts';

/** Overrides by dotted key path, e.g. { 'platform.backend': 'sim', iface: 'wan0' }. */
export type ConfigOverrides = Record<string, string | number | boolean | undefined>;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let cur = obj;
  for (const k of keys.slice(0, -1)) {
    const next = cur[k];
    if (!isRecord(next)) cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  cur[keys[keys.length - 1] as string] = value;
}

export function readConfigFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new AgentError('CONFIG_READ', `cannot read config file ${path}: ${e instanceof Error ? e.message : String(e)}`, { path });
  }
  try {
    return JSON.parse(text) as Json;
  } catch (e) {
    throw new AgentError('CONFIG_INVALID', `config file ${path} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`, { file: path });
  }
}

/** Validates raw config data (already merged) into the typed config. */
export function parseConfig(raw: unknown, source = 'config'): AgentConfig {
  const r = configSchema.safeParse(raw ?? {});
  if (!r.success) {
    const msgs = r.error.issues.map((i) => {
      const key = i.path.map(String).join('.') || '(root)';
      const extra = i.code === 'unrecognized_keys' ? `${i.message}` : i.message;
      return `${key}: ${extra}`;
    });
    const first = r.error.issues[0];
    throw new AgentError('CONFIG_INVALID', `${source}: ${msgs.join('; ')}`, { path: first ? first.path.map(String).join('.') : '' });
  }
  const cfg = r.data;
  compileVersionPattern(cfg.policy.versionPattern);
  if (cfg.retry.maxSeconds < cfg.retry.baseSeconds) {
    throw new AgentError('CONFIG_INVALID', `${source}: retry.maxSeconds must be ≥ retry.baseSeconds`, { path: 'retry.maxSeconds' });
  }
  return cfg;
}

export interface LoadConfigOptions {
  /** JSON config file; omitted: defaults + overrides only */
  file?: string;
  overrides?: ConfigOverrides;
  /** base for relative paths given on the command line (default: cwd) */
  cwd?: string;
}

const PATH_KEYS = ['stateDir', 'platform.sim.dir', 'platform.sim.factoryImage', 'net.resolvConf'] as const;

function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const k of path.split('.')) {
    if (!isRecord(cur)) return undefined;
    cur = cur[k];
  }
  return cur;
}

export function loadConfig(opts: LoadConfigOptions = {}): AgentConfig {
  const cwd = opts.cwd ?? process.cwd();
  const raw: unknown = opts.file ? readConfigFile(opts.file) : {};
  if (!isRecord(raw)) throw new AgentError('CONFIG_INVALID', `config file ${opts.file ?? ''}: (root): expected an object`, { path: '' });
  const merged: Record<string, unknown> = structuredClone(raw);
  // Relative paths in the file: relative to the file.
  if (opts.file) {
    const base = dirname(resolve(cwd, opts.file));
    for (const k of PATH_KEYS) {
      const v = getPath(merged, k);
      if (typeof v === 'string' && !isAbsolute(v)) setPath(merged, k, join(base, v));
    }
  }
  for (const [k, v] of Object.entries(opts.overrides ?? {})) {
    if (v === undefined) continue;
    setPath(merged, k, typeof v === 'string' && (PATH_KEYS as readonly string[]).includes(k) ? resolve(cwd, v) : v);
  }
  const cfg = parseConfig(merged, opts.file ? `config file ${opts.file}` : 'config');
  if (!cfg.platform.sim.dir) cfg.platform.sim.dir = join(cfg.stateDir, 'sim');
  // the sim platform is a lab: its DNS goes into the state dir, never the host's /etc
  // (`ip netns exec` shares /etc with the host); a board backend keeps /etc/resolv.conf
  if (getPath(merged, 'net.resolvConf') === undefined && cfg.platform.backend === 'sim') cfg.net.resolvConf = join(cfg.stateDir, 'resolv.conf');
  return cfg;
}
