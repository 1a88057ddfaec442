/**
 * Weights-only files (Keras `model.save_weights` / `load_weights`): a directory holding
 * `weights.json` and the binary shards `group1-shard<i>of<n>.bin`. weights.json is
 * `{format: 'axon-weights', generatedBy, layers, weightsManifest}`: `layers` lists each layer's
 * name and its weights' names in order, and `weightsManifest` is the TensorFlow.js weights
 * manifest (`[{paths, weights: [{name, shape, dtype}]}]`, little-endian float32 or int32 values
 * concatenated in order), so the shards can be read as a tfjs model's. Loading matches layers by
 * name and each layer's weights by name and shape.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Tensor, Variable } from '@axon/tensor';
import type { Layer } from '@axon/layers';
import { localPath, recoverInterruptedSave, writeDirectoryAtomically } from './io.js';
import { GENERATED_BY, decodeWeightGroup, encodeWeights, type WeightsGroup } from './serialization.js';

/** The file a weights directory is recognised by. */
export const WEIGHTS_FILE = 'weights.json';

/** The content of weights.json, written by {@link Model.saveWeights}. */
export interface WeightsJSON {
  /** Always 'axon-weights'. */
  format: 'axon-weights';
  /** The writer, e.g. 'Axon @axon/models v0.1.0'. */
  generatedBy: string;
  /** Each layer with weights: its name and its weights' names, in the model's order. */
  layers: {
    /** The layer's name. */
    name: string;
    /** The full names of its weights (`dense_1/kernel`), as in the manifest. */
    weights: string[];
  }[];
  /** The TensorFlow.js weights manifest of the shards. */
  weightsManifest: WeightsGroup[];
}

/** Arguments of {@link Model.loadWeights}. */
export interface LoadWeightsArgs {
  /**
   * Skip, with a warning, each layer whose weights do not match the file's (missing from the file,
   * a different number of weights, or a different shape) instead of throwing, as Keras'
   * `skip_mismatch` (default false). Layers of the file the model lacks are then ignored too.
   */
  skipMismatch?: boolean;
}

/** The layers and weights a weights file is written from and loaded into. */
interface WeightsOwner {
  readonly name: string;
  readonly layers: readonly Layer[];
}

/** Writes `model`'s weights to directory `path`, atomically. */
export function writeWeights(model: WeightsOwner, path: string): void {
  const layers = model.layers.filter((l) => l.weights.length > 0);
  const named = layers.flatMap((l) => l.weights.map((w) => ({ name: w.name, tensor: w as Tensor })));
  const { manifest, shards } = encodeWeights(named);
  const json: WeightsJSON = {
    format: 'axon-weights',
    generatedBy: GENERATED_BY,
    layers: layers.map((l) => ({ name: l.name, weights: l.weights.map((w) => w.name) })),
    weightsManifest: manifest,
  };
  writeDirectoryAtomically(path, [...shards, { name: WEIGHTS_FILE, data: JSON.stringify(json, null, 1) }], WEIGHTS_FILE);
}

function readWeightsJson(path: string): { file: string; json: WeightsJSON } {
  const target = resolve(localPath(path));
  // A save killed between its renames left the weights aside (the path may name the folder or its weights.json).
  recoverInterruptedSave(basename(target) === WEIGHTS_FILE ? dirname(target) : target);
  const file = existsSync(target) && statSync(target).isDirectory() ? join(target, WEIGHTS_FILE) : target;
  if (!existsSync(file)) throw new Error(`loadWeights: ${file} does not exist (no weights saved at ${target})`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`loadWeights: ${file} is not valid JSON: ${(e as Error).message}`);
  }
  const j = json as Partial<WeightsJSON> | null;
  if (!j || typeof j !== 'object' || j.format !== 'axon-weights' || !Array.isArray(j.layers) || !Array.isArray(j.weightsManifest)) {
    throw new Error(
      `loadWeights: ${file} is not a weights file written by saveWeights (format 'axon-weights' with layers and weightsManifest)`,
    );
  }
  return { file, json: j as WeightsJSON };
}

function readTensors(file: string, manifest: WeightsGroup[]): Map<string, Tensor> {
  const dir = dirname(file);
  const all = new Map<string, Tensor>();
  for (const group of manifest) {
    const parts = group.paths.map((p) => {
      const path = join(dir, p);
      if (!existsSync(path)) throw new Error(`loadWeights: weight file ${path} (listed in ${file}) does not exist`);
      return readFileSync(path);
    });
    const bytes = new Uint8Array(Buffer.concat(parts));
    for (const [name, tensor] of decodeWeightGroup(group, bytes, `loadWeights: weight files of ${file}`)) all.set(name, tensor);
  }
  return all;
}

function formatShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/**
 * Reads the weights file at `path` into `model`'s layers, matching layers by name and each
 * layer's weights by name and shape. Nothing is assigned unless every (non-skipped) layer matches.
 *
 * @throws Error naming the layer and weight of the first mismatch (unless skipMismatch).
 */
export function readWeightsInto(model: WeightsOwner, path: string, args: LoadWeightsArgs = {}): void {
  const { file, json } = readWeightsJson(path);
  const tensors = readTensors(file, json.weightsManifest);
  const saved = new Map(json.layers.map((l) => [l.name, l.weights]));
  const skip = args.skipMismatch === true;
  const assignments: [Variable, Tensor][] = [];
  const problems: string[] = [];
  const mismatch = (message: string): void => {
    if (!skip) throw new Error(`loadWeights: ${file}: ${message}`);
    problems.push(message);
  };
  for (const layer of model.layers) {
    const own = layer.weights;
    const names = saved.get(layer.name);
    saved.delete(layer.name);
    if (own.length === 0) {
      if (names && names.length > 0) mismatch(`layer '${layer.name}' has no weights, but the file holds ${names.length} for it`);
      continue;
    }
    if (!names) {
      mismatch(`layer '${layer.name}' is not in the file (its layers: ${json.layers.map((l) => l.name).join(', ') || 'none'})`);
      continue;
    }
    const layerAssignments: [Variable, Tensor][] = [];
    let ok = true;
    for (const w of own) {
      const value = names.includes(w.name) ? tensors.get(w.name) : undefined;
      if (!value) {
        mismatch(
          `layer '${layer.name}': weight '${w.name}' is not in the file (the file has ${names.join(', ') || 'none'} for this layer)`,
        );
        ok = false;
        break;
      }
      if (value.rank !== w.rank || value.shape.some((d, i) => d !== w.shape[i])) {
        mismatch(
          `layer '${layer.name}': weight '${w.name}' has shape ${formatShape(value.shape)} in the file, but the model expects ${formatShape(w.shape)}`,
        );
        ok = false;
        break;
      }
      layerAssignments.push([w, value]);
    }
    const extra = names.filter((n) => !own.some((w) => w.name === n));
    if (ok && extra.length > 0) {
      mismatch(`layer '${layer.name}': the file holds weights the layer does not have: ${extra.join(', ')}`);
      ok = false;
    }
    if (ok) assignments.push(...layerAssignments);
  }
  const leftover = [...saved.keys()].filter((n) => (saved.get(n) ?? []).length > 0);
  if (leftover.length > 0) mismatch(`the file holds weights for layers the model ${model.name} does not have: ${leftover.join(', ')}`);
  for (const [variable, value] of assignments) variable.assign(value);
  if (problems.length > 0) console.warn(`loadWeights: ${file}: skipped (skipMismatch): ${problems.join('; ')}`);
}
