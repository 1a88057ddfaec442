import { defineConfig } from 'vitest/config';

// Tests assert results, not speed (that is benchmarks/): vitest's 5 s default would fail them on a
// loaded 2-core machine, where a 240 MB memory test or a threaded convolution can take 5-10 s.
export default defineConfig({ test: { testTimeout: 60_000 } });
