/**
 * One typed error for the whole agent. Every failure the agent can report carries a
 * stable `code` (SCREAMING_SNAKE, prefixed by the module: DHCP_, OPT43_, TFTP_, FTP_,
 * UPGRADE_, SLOT_, STATE_, CONFIG_, LEG_, RDR_, PCAP_, CLI_) and optional structured
 * `details` (never secrets). Callers branch on `code`, never on `message`.
 */
export type ErrorDetails = Readonly<Record<string, string | number | boolean | null | undefined>>;

export class AgentError extends Error {
  readonly code: string;
  readonly details: ErrorDetails;

  constructor(code: string, message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AgentError';
    this.code = code;
    this.details = details;
  }

  toJSON(): { code: string; message: string; details: ErrorDetails } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

export function isAgentError(e: unknown, code?: string): e is AgentError {
  return e instanceof AgentError && (code === undefined || e.code === code);
}

/** Wraps anything thrown by a dependency into an AgentError with the given code. */
export function asAgentError(e: unknown, code: string, what: string): AgentError {
  if (e instanceof AgentError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  const sys = (e as { code?: unknown } | null)?.code;
  return new AgentError(code, `${what}: ${msg}`, typeof sys === 'string' ? { cause: sys } : {}, { cause: e });
}
