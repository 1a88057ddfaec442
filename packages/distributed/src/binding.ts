/**
 * Loading the MPI binding (build/Release/axon_mpi.node, built from source at install or by
 * `pnpm build`; no prebuild: it must match the machine's MPI). Loading never throws: without the
 * binding, the reason is kept and every function that needs MPI says it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The functions of native/mpi.cc. */
export interface MpiBinding {
  init(): void;
  rank(): number;
  size(): number;
  allReduce(values: Float32Array, op?: 'sum' | 'max' | 'min'): void;
  allReduceStart(values: Float32Array, op?: 'sum' | 'max' | 'min'): number;
  wait(id?: number): void;
  broadcast(values: Float32Array, root?: number): void;
  barrier(): void;
  abort(code?: number): void;
  finalize(): void;
  libraryVersion(): string;
}

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);

function load(): { binding: MpiBinding; reason?: undefined } | { binding?: undefined; reason: string } {
  try {
    const path = (require('node-gyp-build') as { path(dir: string): string }).path(packageDir);
    return { binding: require(path) as MpiBinding };
  } catch (e) {
    const marker = join(packageDir, 'build', 'UNAVAILABLE.txt');
    if (existsSync(marker)) return { reason: `the MPI binding was not built: ${readFileSync(marker, 'utf8').trim()}` };
    return { reason: `the MPI binding does not load: ${(e as Error).message.split('\n')[0]}` };
  }
}

export const loaded = load();
