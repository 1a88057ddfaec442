/**
 * loadModel: reads a TensorFlow.js layers-model directory (model.json +
 * weight shards) written by Axon, by tfjs-layers, or converted from Keras.
 * Every failure names the file and what is wrong with it.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Tensor } from '@axon/tensor';
import { checkOptions, deserializeLayer, registeredLayerNames, type Layer } from '@axon/layers';
import { localPath, recoverInterruptedSave } from './io.js';
import { Sequential } from './sequential.js';
import { Functional } from './functional.js';
import type { Model } from './model.js';
import {
  decodeWeightGroup,
  fromPythonic,
  type JsonObject,
  type JsonValue,
  type ModelJSON,
  type TrainingConfig,
  type WeightsGroup,
} from './serialization.js';
import { getLoss } from './losses.js';
import { getOptimizer } from './optimizers.js';
import { restoreOptimizerWeights } from './optimizer-state.js';
import { toCamelCase } from './names.js';

/** Arguments of {@link loadModel}. */
export interface LoadArgs {
  /** Compile the model from its trainingConfig when there is one (default true). */
  compile?: boolean;
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readModelJson(path: string): { file: string; json: ModelJSON } {
  const target = resolve(localPath(path));
  // A save killed between its renames left the model aside (the path may name the folder or its model.json).
  recoverInterruptedSave(basename(target) === 'model.json' ? dirname(target) : target);
  const file = existsSync(target) && statSync(target).isDirectory() ? join(target, 'model.json') : target;
  if (!existsSync(file)) {
    throw new Error(`loadModel: ${file} does not exist${existsSync(target) ? '' : ` (no model saved at ${target})`}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`loadModel: ${file} is not valid JSON: ${(e as Error).message}`);
  }
  if (!isObject(json)) throw new Error(`loadModel: ${file} must hold a JSON object, got ${Array.isArray(json) ? 'an array' : typeof json}`);
  if (json.format === 'graph-model') {
    throw new Error(`loadModel: ${file} is a TensorFlow.js graph model (format 'graph-model'); only layers models can be loaded`);
  }
  if (!isObject(json.modelTopology)) throw new Error(`loadModel: ${file} has no modelTopology object`);
  if (json.weightsManifest !== undefined && !Array.isArray(json.weightsManifest)) {
    throw new Error(`loadModel: ${file}: weightsManifest must be an array of {paths, weights}`);
  }
  return { file, json: json as unknown as ModelJSON };
}

/** The model inside a topology ({class_name, config}), accepting Keras' older forms. */
function modelEntry(file: string, topology: JsonObject): { className: string; config: JsonValue } {
  const model = isObject(topology.model_config) ? topology.model_config : topology;
  const className = model.class_name;
  if (className !== 'Sequential' && className !== 'Functional' && className !== 'Model') {
    throw new Error(
      `loadModel: ${file}: the model is a '${String(className)}'; Axon loads Sequential and functional ('Functional', 'Model') models`,
    );
  }
  return { className, config: model.config ?? null };
}

/** The Sequential config: {name, layers}, accepting Keras 1's bare list of layers. */
function sequentialConfig(file: string, config: JsonValue): { name?: string; layers: JsonObject[] } {
  if (Array.isArray(config)) return { layers: config as JsonObject[] }; // Keras 1 / early Keras 2
  if (!isObject(config) || !Array.isArray(config.layers))
    throw new Error(`loadModel: ${file}: modelTopology.config.layers must be an array`);
  return { name: typeof config.name === 'string' ? config.name : undefined, layers: config.layers as JsonObject[] };
}

/**
 * A functional model from its config: every layer made from its (camel-cased) config, then the
 * saved graph replayed. Layers of unknown classes are named with the classes there are.
 */
function functionalModel(file: string, config: JsonValue): Functional {
  if (!isObject(config) || !Array.isArray(config.layers))
    throw new Error(`loadModel: ${file}: modelTopology.config.layers must be an array of {class_name, config, inbound_nodes}`);
  for (const [i, entry] of (config.layers as JsonValue[]).entries()) {
    if (!isObject(entry) || typeof entry.class_name !== 'string')
      throw new Error(`loadModel: ${file}: layer ${i} must be {class_name, config, inbound_nodes}, got ${JSON.stringify(entry)}`);
    checkClassKnown(file, i, entry.class_name, isObject(entry.config) ? entry.config.name : undefined);
  }
  try {
    return Functional.fromConfig(fromPythonic(config) as Record<string, unknown>);
  } catch (e) {
    throw new Error(`loadModel: ${file}: cannot rebuild the functional model: ${(e as Error).message}`);
  }
}

function checkClassKnown(file: string, index: number, className: string, name: unknown): void {
  if (!registeredLayerNames().includes(className)) {
    throw new Error(
      `loadModel: ${file}: layer ${index} ('${String(name ?? '?')}') has unknown class '${className}'. ` +
        `Known layer classes: ${registeredLayerNames().join(', ')}`,
    );
  }
}

function buildLayers(file: string, entries: JsonObject[]): { layers: Layer[]; inputShape: unknown } {
  const layers: Layer[] = [];
  let inputShape: unknown = null;
  entries.forEach((entry, i) => {
    if (!isObject(entry) || typeof entry.class_name !== 'string') {
      throw new Error(`loadModel: ${file}: layer ${i} must be {class_name, config}, got ${JSON.stringify(entry)}`);
    }
    const className = entry.class_name;
    const config = (fromPythonic(isObject(entry.config) ? entry.config : {}) ?? {}) as Record<string, unknown>;
    // Keras 3 writes batch_shape; tfjs and Keras 2 batch_input_shape.
    if (config.batchShape !== undefined && config.batchInputShape === undefined) {
      config.batchInputShape = config.batchShape;
      delete config.batchShape;
    }
    if (className === 'InputLayer') {
      inputShape = config.batchInputShape;
      return;
    }
    checkClassKnown(file, i, className, config.name);
    if (layers.length === 0 && inputShape !== null && config.batchInputShape === undefined) config.batchInputShape = inputShape;
    try {
      layers.push(deserializeLayer({ className, config }));
    } catch (e) {
      throw new Error(
        `loadModel: ${file}: cannot create layer ${i} ('${String(config.name ?? '?')}', ${className}): ${(e as Error).message}`,
      );
    }
  });
  return { layers, inputShape };
}

function readWeights(file: string, manifest: WeightsGroup[], optimizerWeights?: Map<string, Tensor>): Map<string, Tensor> {
  const dir = dirname(file);
  const all = new Map<string, Tensor>();
  manifest.forEach((group, g) => {
    if (!isObject(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights)) {
      throw new Error(`loadModel: ${file}: weightsManifest[${g}] must be {paths: [...], weights: [...]}`);
    }
    const parts = group.paths.map((p) => {
      const path = join(dir, p);
      if (!existsSync(path)) throw new Error(`loadModel: weight file ${path} (listed in ${file}) does not exist`);
      return readFileSync(path);
    });
    const bytes = parts.length === 1 ? new Uint8Array(parts[0]!) : new Uint8Array(Buffer.concat(parts));
    const source =
      group.paths.length === 1
        ? `loadModel: weight file ${join(dir, group.paths[0]!)}`
        : `loadModel: weight files ${group.paths.map((p) => join(dir, p)).join(', ')}`;
    for (const [name, tensor] of decodeWeightGroup(group, bytes, source, optimizerWeights)) all.set(name, tensor);
  });
  return all;
}

/** Weight names match exactly, except for TensorFlow's ':0' tensor suffix, which some Keras exports keep. */
function weightKey(name: string): string {
  return name.endsWith(':0') ? name.slice(0, -2) : name;
}

/**
 * Keras 2 names a recurrent layer's weights after its cell's scope
 * (`lstm/lstm_cell/kernel`, and inside Bidirectional
 * `bidirectional/forward_lstm/lstm_cell/kernel`, numbered `lstm_cell_1` when a
 * model has several); Axon names them `lstm/kernel` and
 * `bidirectional/forward_lstm/kernel`. A fallback for file names that match no
 * weight: every `*_cell` / `*_cell_<n>` path segment (and a ':0' suffix) is dropped, and the
 * result is used when it is exactly a weight's name that no other file name has
 * or maps to.
 */
function mapScopedNames(byName: Map<string, Tensor>, targetNames: readonly string[]): Map<string, Tensor> {
  const wanted = new Set(targetNames);
  const candidates = new Map<string, string[]>();
  for (const key of byName.keys()) {
    if (wanted.has(key)) continue;
    const base = key.endsWith(':0') ? key.slice(0, -2) : key;
    const parts = base.split('/');
    const short = parts.filter((p, i) => i === parts.length - 1 || !/_cell(_\d+)?$/.test(p)).join('/');
    if (short === key) continue;
    candidates.set(short, [...(candidates.get(short) ?? []), key]);
  }
  const mapped = new Map(byName);
  for (const [short, keys] of candidates) {
    if (keys.length !== 1 || !wanted.has(short) || byName.has(short)) continue;
    mapped.set(short, byName.get(keys[0]!)!);
    mapped.delete(keys[0]!);
  }
  return mapped;
}

function assignWeights(file: string, model: Model, weights: Map<string, Tensor>): void {
  const targets = model.weights;
  const byName = mapScopedNames(
    new Map([...weights].map(([k, v]) => [weightKey(k), v])),
    targets.map((w) => w.name),
  );
  const missing = targets.filter((w) => !byName.has(w.name)).map((w) => w.name);
  const unused = [...byName.keys()].filter((k) => !targets.some((w) => w.name === k));
  if (missing.length || unused.length) {
    throw new Error(
      `loadModel: ${file}: the weights do not match the model: ` +
        [missing.length ? `missing ${missing.join(', ')}` : '', unused.length ? `unexpected ${unused.join(', ')}` : '']
          .filter(Boolean)
          .join('; '),
    );
  }
  for (const w of targets) {
    const value = byName.get(w.name)!;
    if (value.rank !== w.rank || value.shape.some((d, i) => d !== w.shape[i])) {
      throw new Error(
        `loadModel: ${file}: weight ${w.name} has shape [${value.shape.join(',')}] in the file, but the model expects [${w.shape.join(',')}]`,
      );
    }
  }
  model.setWeights(targets.map((w) => byName.get(w.name)!));
}

/** A per-output setting of a training config: one value, a list in output order, or an object by output name. */
function perOutputValues<T>(value: unknown, convert: (v: unknown) => T): T | T[] | Record<string, T> {
  if (Array.isArray(value)) return value.map(convert);
  if (isObject(value as JsonValue)) return Object.fromEntries(Object.entries(value as JsonObject).map(([k, v]) => [k, convert(v)]));
  return convert(value);
}

function compileFrom(file: string, model: Model, training: TrainingConfig): void {
  try {
    const optimizerConfig = training.optimizer_config;
    if (!isObject(optimizerConfig as unknown as JsonValue) || typeof optimizerConfig.class_name !== 'string') {
      throw new Error('optimizer_config must be {class_name, config}');
    }
    const optimizer = getOptimizer(optimizerConfig.class_name, (optimizerConfig.config ?? {}) as Record<string, unknown>);
    const configs = training.loss_config as JsonObject | undefined;
    // loss_config is one config for one loss, or an object by output name for several.
    const configOf = (output?: string): Record<string, unknown> => {
      const c = output !== undefined && configs && isObject(configs[output] as JsonValue) ? configs[output] : configs;
      return c ? (fromPythonic(c as JsonValue) as Record<string, unknown>) : {};
    };
    const lossOf = (name: unknown, output?: string) => {
      if (typeof name !== 'string') throw new Error(`a loss must be a name, got ${JSON.stringify(name)}`);
      return getLoss(toCamelCase(name), typeof training.loss === 'string' ? configOf() : configOf(output));
    };
    const loss =
      typeof training.loss === 'string'
        ? lossOf(training.loss)
        : Array.isArray(training.loss)
          ? (training.loss as unknown[]).map((l, k) => lossOf(l, model.outputNames[k]))
          : Object.fromEntries(Object.entries(training.loss as Record<string, unknown>).map(([k, l]) => [k, lossOf(l, k)]));
    const metricNames = (v: unknown): string[] => (Array.isArray(v) ? (v as string[]) : v === undefined || v === null ? [] : [v as string]);
    // A list applies to every output (as tfjs); an object names each output's.
    const metrics = Array.isArray(training.metrics)
      ? training.metrics
      : isObject(training.metrics as JsonValue)
        ? perOutputValues(training.metrics, metricNames)
        : [];
    model.compile({
      optimizer,
      loss,
      metrics: metrics as never,
      ...(training.loss_weights ? { lossWeights: perOutputValues(training.loss_weights, Number) as never } : {}),
    });
  } catch (e) {
    throw new Error(
      `loadModel: ${file}: cannot compile from its training config: ${(e as Error).message} (load with {compile: false} to skip it)`,
    );
  }
}

/**
 * Loads a model saved by model.save() or by TensorFlow.js (`path` is the
 * directory or its model.json). Compiles it from trainingConfig when present, and restores the
 * optimizer's state (weights of group 'optimizer', written by model.save() or tfjs'
 * `includeOptimizer`) so training continues where it stopped; a state that does not fit the
 * optimizer is skipped with a warning.
 * Sequential and functional models ('Functional' / 'Model', nested models included) load, and
 * Keras models converted to the TensorFlow.js layers format too; weights are matched by name. A
 * `file://` prefix is accepted. The layers of `@axon/recurrent` are known once that package is
 * imported. The result is a {@link Sequential} or a {@link Functional} (check with `instanceof`).
 *
 * @throws Error naming the file and the problem: a missing file or weight file, invalid JSON, a
 *   graph model or another topology, an unknown layer class, weights missing, unexpected
 *   or of the wrong shape, or a training config it cannot compile from (load with
 *   `{ compile: false }` to skip it).
 *
 * @example
 * ```ts
 * import '@axon/kernels-native';
 * import '@axon/recurrent'; // when the model has recurrent layers
 * import { loadModel } from '@axon/models';
 *
 * const model = await loadModel('./fashion-cnn');
 * const predictions = model.predict(x) as Tensor; // an array of Tensors for a model of several outputs
 * const [loss, accuracy] = model.evaluate(x, y) as number[]; // compiled from the saved training config
 * ```
 */
export async function loadModel(path: string, args: LoadArgs = {}): Promise<Model> {
  checkOptions('loadModel', args, ['compile']);
  const { file, json } = readModelJson(path);
  const { className, config } = modelEntry(file, json.modelTopology);
  const model = className === 'Sequential' ? sequentialModel(file, config) : functionalModel(file, config);
  const optimizerState = new Map<string, Tensor>();
  const weights = json.weightsManifest ? readWeights(file, json.weightsManifest, optimizerState) : new Map<string, Tensor>();
  assignWeights(file, model, weights);
  const training = json.trainingConfig ?? (json.userDefinedMetadata?.axonTrainingConfig as TrainingConfig | undefined);
  if ((args.compile ?? true) && training) {
    compileFrom(file, model, training);
    if (optimizerState.size > 0) {
      const problem = restoreOptimizerWeights(model.optimizer!, model.trainableWeights, optimizerState);
      // As Keras: a mismatched optimizer state is skipped with a warning, the optimizer left fresh.
      if (problem) console.warn(`loadModel: ${file}: the optimizer state was not restored (training starts a fresh optimizer): ${problem}`);
    }
  }
  return model;
}

function sequentialModel(file: string, config: JsonValue): Sequential {
  const { name, layers: entries } = sequentialConfig(file, config);
  const { layers, inputShape } = buildLayers(file, entries);
  if (layers.length === 0) throw new Error(`loadModel: ${file}: the model has no layers`);
  const model = new Sequential({ name, layers });
  if (!model.built) {
    if (!Array.isArray(inputShape)) {
      throw new Error(`loadModel: ${file}: the first layer has no batch_input_shape, so the weights cannot be created`);
    }
    model.build(inputShape as (number | null)[]);
  }
  return model;
}
