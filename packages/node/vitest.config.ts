import { defineConfig } from 'vitest/config';

// The README blocks train small models in child processes: give them time on a 2-core machine.
export default defineConfig({ test: { testTimeout: 120_000, hookTimeout: 120_000 } });
