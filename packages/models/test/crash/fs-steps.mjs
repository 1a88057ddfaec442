/**
 * Test preload (`node --import`): wraps every mutating `node:fs` call so a child process can be
 * killed (SIGKILL, as a crash or power loss) right before its Nth file system step, or have a
 * removal fail with EACCES. ESM named imports of node:fs are bound when imported, so the patched
 * functions are published to them with syncBuiltinESMExports(). Nothing is counted until
 * {@link runCounted} runs.
 */
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { basename } from 'node:path';

const MUTATING = ['mkdirSync', 'openSync', 'writeSync', 'writeFileSync', 'fsyncSync', 'renameSync', 'rmSync', 'rmdirSync', 'unlinkSync'];

/** What runCounted does: kill before step `killAt` (1-based; 0 never), fail removals of paths containing `failRemove`. */
let plan = null;
const steps = [];

function describe(name, args) {
  return typeof args[0] === 'string' ? `${name} ${basename(args[0])}` : name;
}

for (const name of MUTATING) {
  const original = fs[name];
  fs[name] = function counted(...args) {
    // Opening for reading changes nothing on disk (fsync of a directory opens it so).
    const mutates = name !== 'openSync' || (args[1] !== undefined && args[1] !== 'r');
    if (plan && mutates) {
      steps.push(describe(name, args));
      if (steps.length === plan.killAt) process.kill(process.pid, 'SIGKILL');
      if (plan.failRemove && name === 'rmSync' && String(args[0]).includes(plan.failRemove)) {
        throw Object.assign(new Error(`EACCES: permission denied, rm '${args[0]}'`), { code: 'EACCES' });
      }
    }
    return original.apply(this, args);
  };
}
syncBuiltinESMExports();

/** Runs `action` with the plan in force; returns the mutating steps it made, in order. */
export async function runCounted(killAt, failRemove, action) {
  plan = { killAt, failRemove };
  try {
    await action();
  } finally {
    plan = null;
  }
  return steps;
}
