import { AgentError } from '../../agent/errors.ts';

/** Runs `f` and returns the AgentError it throws; fails on no error or any other error. */
export function errorOf(f: () => unknown): AgentError {
  try {
    f();
  } catch (e) {
    if (e instanceof AgentError) return e;
    throw e;
  }
  throw new Error('expected an AgentError');
}
