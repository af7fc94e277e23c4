import type { Command } from 'commander';

/** `cpe-agent dhcp` — not wired yet. */
export function registerDhcp(_program: Command): void {}
