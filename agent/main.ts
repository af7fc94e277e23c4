/**
 * Entry point of `dist/cpe-agent`: builds the command tree; each command lives in
 * `agent/cli/commands/<name>.ts` and registers itself on the program.
 *
 * Exit codes (README contract): 0 done (also --help, --version); 2 bad input, usage errors
 * included (unknown command or flag, missing argument or option, bad option value), printed
 * as `cpe-agent: error [CODE]: message`; 70 internal error; commands document their others.
 */
import { Command, CommanderError } from 'commander';
import { AgentError } from './errors.ts';
import { registerDecode } from './cli/commands/decode.ts';
import { registerDhcp } from './cli/commands/dhcp.ts';
import { registerRun } from './cli/commands/run.ts';
import { registerStatus } from './cli/commands/status.ts';
import { registerReboot } from './cli/commands/reboot.ts';
import { registerLeg } from './cli/commands/leg.ts';
import { registerImage } from './cli/commands/image.ts';

export const VERSION = '0.1.0';

export function buildProgram(): Command {
  const program = new Command('cpe-agent')
    .description('Firmware agent for fiber CPEs: DHCP client with option 43, A/B upgrade, DHCP login event generator')
    .version(VERSION)
    // commander's own error line is replaced by ours (main); inherited by every subcommand
    .configureOutput({ outputError: () => undefined })
    .exitOverride();
  registerDecode(program);
  registerDhcp(program);
  registerRun(program);
  registerStatus(program);
  registerReboot(program);
  registerLeg(program);
  registerImage(program);
  return program;
}

/** Commander's error codes → ours (all usage errors, exit 2). */
const USAGE_CODES: Readonly<Record<string, string>> = {
  'commander.unknownCommand': 'CLI_UNKNOWN_COMMAND',
  'commander.unknownOption': 'CLI_UNKNOWN_OPTION',
  'commander.missingArgument': 'CLI_MISSING_ARGUMENT',
  'commander.optionMissingArgument': 'CLI_MISSING_OPTION_VALUE',
  'commander.missingMandatoryOptionValue': 'CLI_MISSING_OPTION',
  'commander.excessArguments': 'CLI_EXCESS_ARGUMENTS',
  'commander.invalidArgument': 'CLI_BAD_ARGUMENT',
  'commander.conflictingOption': 'CLI_CONFLICTING_OPTIONS',
  'commander.help': 'CLI_MISSING_COMMAND',
};

function usageCode(code: string): string {
  return USAGE_CODES[code] ?? 'CLI_USAGE';
}

function usageMessage(e: CommanderError): string {
  // commander.help: a command group was given no subcommand; its help went to stderr already
  if (e.code === 'commander.help') return 'missing command (see the list above)';
  return `${e.message.replace(/^error: /, '')} (see --help)`;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.exitCode === 0) return 0; // --help, --version
      process.stderr.write(`cpe-agent: error [${usageCode(e.code)}]: ${usageMessage(e)}\n`);
      return 2;
    }
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
