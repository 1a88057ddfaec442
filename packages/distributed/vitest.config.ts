import { defineConfig } from 'vitest/config';

// mpirun jobs train small models: give them time on a 2-core machine.
export default defineConfig({ test: { testTimeout: 180_000, hookTimeout: 60_000 } });
