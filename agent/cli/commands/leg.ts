import type { Command } from 'commander';

/** `cpe-agent leg` — not wired yet. */
export function registerLeg(_program: Command): void {}
