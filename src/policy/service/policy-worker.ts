/**
 * An evaluation thread (see policy-threads.ts): compiles the programs it is sent, keeps the most
 * recent ones, and evaluates one request at a time under the request's deadline.
 */
import { constants, setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { fromJS, RegoError } from '../rego/index.ts';
import { compileProgram, runProgram, type CompiledProgram } from './policy-run.ts';
import type { ThreadReply, ThreadRequest } from './policy-threads.ts';

// Requests come first: a policy that spins to its deadline yields the CPU to the event loop. On
// Linux, priorities are per thread, so this lowers this thread only; elsewhere it may not apply.
try {
  setPriority(constants.priority.PRIORITY_BELOW_NORMAL);
} catch {
  // Not permitted or not supported: the thread runs at normal priority.
}

/** Compiled programs kept; policies change rarely, so this holds every one in use. */
const MAX_PROGRAMS = 256;
const programs = new Map<string, CompiledProgram>();

function programFor(request: ThreadRequest): CompiledProgram {
  let program = programs.get(request.program.key);
  if (program) {
    // Most recently used last, so the oldest is dropped first.
    programs.delete(request.program.key);
  } else {
    program = compileProgram(request.program);
    if (programs.size >= MAX_PROGRAMS) programs.delete(programs.keys().next().value!);
  }
  programs.set(request.program.key, program);
  return program;
}

parentPort!.on('message', (request: ThreadRequest) => {
  let reply: ThreadReply;
  try {
    const outcome = runProgram(programFor(request), fromJS(request.input), { deadline: request.deadline, maxSteps: request.maxSteps });
    reply = { id: request.id, outcome };
  } catch (error) {
    reply = { id: request.id, error: error instanceof RegoError ? error.message : String((error as Error)?.message ?? error) };
  }
  parentPort!.postMessage(reply);
});

parentPort!.postMessage({ ready: true } satisfies ThreadReply);
