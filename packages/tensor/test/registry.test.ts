import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Backend } from '../src/backend.js';
import { cpuDevice } from '../src/device.js';

// A fresh module instance per test: the registry is process-global state.
async function freshRegistry() {
  vi.resetModules();
  return import('../src/registry.js');
}

const fake = (name: string): Backend => ({ name, device: cpuDevice }) as unknown as Backend;

// The registry reads AXON_BACKEND: these tests set it themselves (the suite may run under AXON_BACKEND=sim).
const fromEnvironment = process.env.AXON_BACKEND;
beforeEach(() => {
  delete process.env.AXON_BACKEND;
});
afterEach(() => {
  if (fromEnvironment === undefined) delete process.env.AXON_BACKEND;
  else process.env.AXON_BACKEND = fromEnvironment;
});

describe('backend registry', () => {
  it('defaults to the highest-priority backend and instantiates it once', async () => {
    const r = await freshRegistry();
    const slow = vi.fn(() => fake('slow'));
    r.registerBackend('slow', slow, 1);
    r.registerBackend('fast', () => fake('fast'), 5);
    expect(r.getBackend().name).toBe('fast');
    expect(r.listBackends()).toEqual(['fast', 'slow']);
    r.setBackend('slow');
    r.setBackend('slow');
    expect(r.getBackend().name).toBe('slow');
    expect(slow).toHaveBeenCalledTimes(1);
  });

  it('honours AXON_BACKEND at start-up', async () => {
    const r = await freshRegistry();
    r.registerBackend('a', () => fake('a'), 1);
    r.registerBackend('b', () => fake('b'), 2);
    process.env.AXON_BACKEND = 'a';
    expect(r.getBackend().name).toBe('a');
  });

  it('names the unknown backend and the registered ones', async () => {
    const r = await freshRegistry();
    r.registerBackend('js', () => fake('js'), 1);
    expect(() => r.setBackend('cuda')).toThrow("Backend 'cuda' is not registered. Registered backends: 'js'");
  });

  it('explains why a backend is unavailable', async () => {
    const r = await freshRegistry();
    r.markBackendUnavailable('native', 'the addon was not built (OpenBLAS missing)');
    r.registerBackend('js', () => fake('js'), 1);
    expect(() => r.setBackend('native')).toThrow(/not registered: the addon was not built \(OpenBLAS missing\)/);
    expect(r.backendStatus()).toEqual([
      { name: 'js', available: true },
      { name: 'native', available: false, reason: 'the addon was not built (OpenBLAS missing)' },
    ]);
  });

  it('says what to import when no backend is registered', async () => {
    const r = await freshRegistry();
    expect(() => r.getBackend()).toThrow(/No Axon backend is registered: import '@axon\/kernels-js'/);
  });

  it('withBackend restores the previous backend even on error', async () => {
    const r = await freshRegistry();
    r.registerBackend('a', () => fake('a'), 1);
    r.registerBackend('b', () => fake('b'), 2);
    expect(r.withBackend('a', () => r.getBackend().name)).toBe('a');
    expect(r.getBackend().name).toBe('b');
    expect(() =>
      r.withBackend('a', () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(r.getBackend().name).toBe('b');
  });
});

describe('two copies of @axon/tensor in one process', () => {
  // In child processes against the built dist/ and a copy of it, as npm would install a second copy.
  const dist = fileURLToPath(new URL('../dist', import.meta.url));
  const run = (code: string) =>
    spawnSync(process.execPath, ['--input-type=module', '-e', code], {
      encoding: 'utf8',
      env: { ...process.env, AXON_BACKEND: undefined },
    });

  it('says so on stderr, naming both, and repeats it in a "no backend" error', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'axon-two-copies-'));
    try {
      cpSync(dist, join(tmp, 'dist'), { recursive: true });
      writeFileSync(join(tmp, 'package.json'), '{"type": "module"}');
      const r = run(`
        const first = await import(${JSON.stringify(join(dist, 'index.js'))});
        const second = await import(${JSON.stringify(join(tmp, 'dist', 'index.js'))});
        try { second.getBackend(); } catch (e) { console.log(e.message); }
      `);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain('2 copies of @axon/tensor are loaded');
      expect(r.stderr).toContain(join(dist, 'registry.js'));
      expect(r.stderr).toContain(join(tmp, 'dist', 'registry.js'));
      expect(r.stdout).toMatch(/No Axon backend is registered.*2 copies of @axon\/tensor are loaded/);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('stays silent when the same copy is evaluated again (a test runner, a query string)', () => {
    const index = join(dist, 'index.js');
    const r = run(`await import(${JSON.stringify(index)}); await import(${JSON.stringify(`${index}?again`)});`);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
  });
});
