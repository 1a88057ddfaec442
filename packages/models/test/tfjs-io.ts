/**
 * Reading and writing model directories with TensorFlow.js in tests (tfjs-core + tfjs-backend-cpu;
 * the file:// handler needs tfjs-node, so these IOHandlers read and write the files it would).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Tensor } from '@axon/tensor';
import { expect } from 'vitest';

/** A tfjs load handler over an Axon model directory: model.json + its weight shards. */
export function axonDirHandler(modelDir: string): tf.io.IOHandler {
  return {
    load: async () => {
      const json = JSON.parse(readFileSync(join(modelDir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const buffers = manifest.flatMap((group) => group.paths.map((p) => readFileSync(join(modelDir, p))));
        const all = Buffer.concat(buffers);
        return [tf.io.getWeightSpecs(manifest), all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength)];
      });
    },
  };
}

/** A tfjs save handler writing what tfjs-node's file:// handler writes: model.json + weights.bin. */
export function tfjsNodeStyleSaver(modelDir: string): tf.io.IOHandler {
  return {
    save: async (artifacts) => {
      mkdirSync(modelDir, { recursive: true });
      const data = artifacts.weightData as ArrayBuffer;
      writeFileSync(join(modelDir, 'weights.bin'), Buffer.from(data));
      const json = {
        ...artifacts,
        weightData: undefined,
        weightSpecs: undefined,
        weightsManifest: [{ paths: ['./weights.bin'], weights: artifacts.weightSpecs }],
      };
      writeFileSync(join(modelDir, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    },
  };
}

export function maxAbsDiff(a: Float32Array | number[], b: Float32Array | number[]): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

export function tfPredict(model: tfl.LayersModel, x: Tensor): Float32Array {
  const out = model.predict(tf.tensor(Array.from(x.dataSync()), [...x.shape])) as tf.Tensor;
  return out.dataSync() as Float32Array;
}
