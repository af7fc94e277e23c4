/**
 * Entry point of `dist/cpe-agent`: builds the command tree; each command lives in
 * `agent/cli/commands/<name>.ts` and registers itself on the program.
 */
import { Command, CommanderError } from 'commander';
import { AgentError } from './errors.ts';
import { registerDecode } from './cli/commands/decode.ts';
import { registerDhcp } from './cli/commands/dhcp.ts';
import { registerRun } from './cli/commands/run.ts';
import { registerStatus } from './cli/commands/status.ts';
import { registerReboot } from './cli/commands/reboot.ts';
import { registerLeg } from './cli/commands/leg.ts';

export const VERSION = '0.1.0';

export function buildProgram(): Command {
  const program = new Command('cpe-agent')
    .description('Firmware agent for fiber CPEs: DHCP client with option 43, A/B upgrade, DHCP login event generator')
    .version(VERSION)
    .showHelpAfterError()
    .exitOverride();
  registerDecode(program);
  registerDhcp(program);
  registerRun(program);
  registerStatus(program);
  registerReboot(program);
  registerLeg(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    if (e instanceof AgentError) {
      process.stderr.write(`cpe-agent: error [${e.code}]: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`cpe-agent: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 70;
  }
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  () => {
    process.exitCode = 70;
  },
);
