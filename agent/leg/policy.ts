/**
 * Policy rule (seeds/003 "Policy"): package information from configurable options, mapped
 * to a package by a table. Pure.
 */
import type { LegTransaction } from './transaction.ts';
import type { LegConfig } from './config.ts';
import { optionText } from './format.ts';

export type PackageResult =
  | { kind: 'package'; package: string; option: string; value: string }
  /** options present but no value in the table: the value is reported */
  | { kind: 'unmapped'; option: string; value: string }
  | { kind: 'none' };

const NONE: PackageResult = Object.freeze({ kind: 'none' });

/** The first configured option present whose value is in the table wins. */
export function packageFromOptions(tx: LegTransaction, policy: LegConfig['policy']): PackageResult {
  let unmapped: PackageResult = NONE;
  for (const sel of policy.options) {
    const data = tx.options.get(sel.trim());
    if (data === undefined || data.length === 0) continue;
    const value = optionText(data);
    const pkg = Object.hasOwn(policy.packages, value) ? policy.packages[value] : undefined;
    if (pkg !== undefined) return { kind: 'package', package: pkg, option: sel, value };
    if (unmapped.kind === 'none') unmapped = { kind: 'unmapped', option: sel, value };
  }
  return unmapped;
}

/**
 * The package of a logon: from the packet; else, for a subscriber the SM already knows
 * (extension), its current package; else the default (null = log on without package).
 */
export function choosePackage(found: PackageResult, known: { package: string | null } | undefined, defaultPackage: string | null): string | null {
  if (found.kind === 'package') return found.package;
  if (known !== undefined) return known.package;
  return defaultPackage;
}
