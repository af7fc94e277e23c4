import type { Command } from 'commander';

/** `cpe-agent status` — not wired yet. */
export function registerStatus(_program: Command): void {}
