import type { Command } from 'commander';

/** `cpe-agent reboot` — not wired yet. */
export function registerReboot(_program: Command): void {}
