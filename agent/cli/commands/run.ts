import type { Command } from 'commander';

/** `cpe-agent run` — not wired yet. */
export function registerRun(_program: Command): void {}
