import type { Command } from 'commander';

/** `cpe-agent decode` — not wired yet. */
export function registerDecode(_program: Command): void {}
