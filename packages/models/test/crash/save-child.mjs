/**
 * Child process of crash-safe-save.test.ts, run with `--import ./fs-steps.mjs`: loads the model
 * at argv[2] and saves it (kind 'model') or its weights (kind 'weights') to argv[3] under the
 * plan KILL_AT / FAIL_REMOVE, then prints the file system steps the save made as JSON.
 */
import { runCounted } from './fs-steps.mjs';
import '@axon/kernels-native';
import { createJsBackend } from '@axon/kernels-js';
import { registerSimulatedBackend } from '@axon/tensor/testing';
import { loadModel } from '@axon/models';

registerSimulatedBackend(createJsBackend);
const [source, target, kind] = process.argv.slice(2);
const model = await loadModel(source, { compile: false });
const steps = await runCounted(Number(process.env.KILL_AT ?? 0), process.env.FAIL_REMOVE, () =>
  kind === 'weights' ? model.saveWeights(target) : model.save(target),
);
process.stdout.write(JSON.stringify(steps));
