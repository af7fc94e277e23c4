/**
 * Entry point of `dist/cpe-agent`: builds the command tree; each command lives in
 * `agent/cli/commands/<name>.ts` and registers itself on the program. Only the named command's
 * module is loaded (`run` never loads the LEG, pcap or sqlite code; `leg` never loads the
 * daemon); help and unknown commands load them all.
 *
 * Exit codes (README contract): 0 done (also --help, --version); 2 bad input, usage errors
 * included (unknown command or flag, missing argument or option, bad option value), printed
 * as `cpe-agent: error [CODE]: message`; 70 internal error; commands document their others.
 */
import { Command, CommanderError } from 'commander';
import { isSea } from 'node:sea';
import { AgentError } from './errors.ts';
import { RELAUNCHED_ENV, serverRelaunch } from './runtime-flags.ts';

type Register = (program: Command) => void;
const COMMANDS: Record<string, () => Promise<Register>> = {
  decode: async () => (await import('./cli/commands/decode.ts')).registerDecode,
  dhcp: async () => (await import('./cli/commands/dhcp.ts')).registerDhcp,
  run: async () => (await import('./cli/commands/run.ts')).registerRun,
  status: async () => (await import('./cli/commands/status.ts')).registerStatus,
  reboot: async () => (await import('./cli/commands/reboot.ts')).registerReboot,
  leg: async () => (await import('./cli/commands/leg.ts')).registerLeg,
  image: async () => (await import('./cli/commands/image.ts')).registerImage,
  digest: async () => (await import('./cli/commands/digest.ts')).registerDigest,
};

/** the command modules argv needs: the named one; none for --version; all otherwise */
export function commandsFor(argv: readonly string[]): string[] {
  const first = argv[2];
  if (first !== undefined && first in COMMANDS) return [first];
  if (first === '--version' || first === '-V') return [];
  return Object.keys(COMMANDS);
}

export const VERSION = '0.1.0';

export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
  const program = new Command('cpe-agent')
    .description('Firmware agent for fiber CPEs: DHCP client with option 43, A/B upgrade, DHCP login event generator')
    .version(VERSION)
    // commander's own error line is replaced by ours (main); inherited by every subcommand
    .configureOutput({ outputError: () => undefined })
    .exitOverride();
  const wanted = argv.length > 0 ? commandsFor(argv) : Object.keys(COMMANDS);
  for (const name of Object.keys(COMMANDS)) {
    const load = COMMANDS[name];
    if (load && wanted.includes(name)) (await load())(program);
  }
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
  // the LEG does not run under the modem's V8 flags: the process becomes itself with the server flags
  const relaunch = serverRelaunch(argv, process.execArgv, process.execPath, isSea(), process.env);
  if (relaunch !== undefined) process.execve?.(relaunch.file, relaunch.args, { ...process.env, [RELAUNCHED_ENV]: '1' });
  try {
    const program = await buildProgram(argv);
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
