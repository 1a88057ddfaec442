/**
 * The TensorFlow.js layers-model format: model.json holding `modelTopology`
 * (Keras' snake_case model config), `weightsManifest` (weight names, shapes
 * and dtypes, grouped into binary shard files), `format`, `generatedBy`,
 * `convertedBy` and optionally `trainingConfig`. Weights are little-endian
 * float32 (or int32) values concatenated in manifest order.
 */
import { createRequire } from 'node:module';

import { Tensor } from '@axon/tensor';
import { toCamelCase, toSnakeCase } from './names.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** One weight in model.json's weightsManifest. */
export interface WeightSpec {
  /** The weight's name (`dense_1/kernel`), matched against the model's weights on load. */
  name: string;
  /** Its shape. */
  shape: number[];
  /** Its element type (4 bytes each, little-endian). */
  dtype: 'float32' | 'int32';
  /** tfjs marks optimizer weights with group 'optimizer'; those are skipped on load. */
  group?: string;
  /** tfjs' weight quantization; Axon neither writes nor reads quantized weights (loading one is an error). */
  quantization?: unknown;
}

/** A group of weights stored across one or more shard files, concatenated in order. */
export interface WeightsGroup {
  /** The shard files, relative to model.json, in order. */
  paths: string[];
  /** The weights, in the order their bytes appear. */
  weights: WeightSpec[];
}

/** model.json's trainingConfig, as tfjs writes it (Keras snake_case keys): what loadModel compiles from. */
export interface TrainingConfig {
  /** The loss's Keras name ('sparse_categorical_crossentropy'), or one per output name for a model of several outputs. */
  loss: string | Record<string, string>;
  /** The metric names given to compile, or a list per output name for a model of several outputs. */
  metrics: string[] | Record<string, string[]>;
  /** Each output's loss weight, by output name (a model of several outputs compiled with lossWeights). */
  loss_weights?: Record<string, number>;
  /** The optimizer, in TensorFlow.js' class names and keys. */
  optimizer_config: {
    /** 'SGD', 'Momentum', 'Adam', 'RMSProp', 'Adagrad' (or 'AdamW', written to userDefinedMetadata only). */
    class_name: string;
    /** Its hyper-parameters. */
    config: Record<string, number | boolean>;
  };
  /**
   * Axon extension (tfjs ignores unknown keys): non-default loss options, snake_case
   * ({from_logits: true}); by output name for a model of several outputs.
   */
  loss_config?: Record<string, number | boolean> | Record<string, Record<string, number | boolean>>;
}

/** The content of a TensorFlow.js layers-model model.json. */
export interface ModelJSON {
  /** The model's Keras config: `{class_name: 'Sequential', config: {name, layers}, ...}` (snake_case). */
  modelTopology: JsonObject;
  /** Always 'layers-model' (a 'graph-model' cannot be loaded). */
  format: 'layers-model';
  /** The writer, e.g. 'Axon @axon/models v0.1.0'. */
  generatedBy: string;
  /** The converter that produced the file, or null. */
  convertedBy: string | null;
  /** The weights and the shard files holding them. */
  weightsManifest: WeightsGroup[];
  /** How the model was compiled, when tfjs can read it. */
  trainingConfig?: TrainingConfig;
  /** Free-form metadata; Axon writes `axonTrainingConfig` here when tfjs could not compile from it. */
  userDefinedMetadata?: JsonObject;
}

/** This package's version (from its package.json, so a release cannot forget it), written into saved models. */
export const AXON_MODELS_VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
export const GENERATED_BY = `Axon @axon/models v${AXON_MODELS_VERSION}`;
/** tfjs converters shard weights at 4 MiB; so do we. */
export const SHARD_BYTES = 4 * 1024 * 1024;

/**
 * A layer name in a functional model's graph (`inbound_nodes`, `input_layers`, `output_layers`
 * entries are `[layerName, node, output, ...]`): kept as written, as tfjs does.
 */
function isGraphReference(key: string | undefined, index: number, value: unknown): boolean {
  return (key === 'inboundNodes' || key === 'inputLayers' || key === 'outputLayers') && index === 0 && typeof value === 'string';
}

/**
 * camelCase config → Keras snake_case, exactly as tfjs' convertTsToPythonic:
 * keys and string values are snake-cased, except the values of `name` and
 * `className` keys and the layer names of a functional model's graph.
 */
export function toPythonic(value: unknown, key?: string): JsonValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return key === 'name' || key === 'className' ? value : toSnakeCase(value);
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  if (Array.isArray(value)) return value.map((v, i) => (isGraphReference(key, i, v) ? v : toPythonic(v, key)));
  if (typeof value === 'object') {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[toSnakeCase(k)] = toPythonic(v, k);
    return out;
  }
  throw new Error(`Cannot serialize a ${typeof value} in a model config${key ? ` (key '${key}')` : ''}`);
}

/**
 * Keras snake_case config → camelCase, exactly as tfjs' convertPythonicToTs:
 * keys and string values are camel-cased, except string values of `name` and the layer names
 * of a functional model's graph.
 */
export function fromPythonic(value: JsonValue, key?: string): unknown {
  if (value === null) return null;
  if (typeof value === 'string') return key === 'name' ? value : toCamelCase(value);
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  if (Array.isArray(value)) return value.map((v, i) => (isGraphReference(key, i, v) ? v : fromPythonic(v, key)));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === 'name' && typeof v === 'string') out[k] = v;
    else out[toCamelCase(k)] = fromPythonic(v, toCamelCase(k));
  }
  return out;
}

/** Bytes of the weights in order, and their manifest, split into shards of at most SHARD_BYTES (4 MiB). */
export function encodeWeights(named: readonly { name: string; tensor: Tensor; group?: string }[]): {
  /** One group listing every weight and every shard. */
  manifest: WeightsGroup[];
  /** The shard files. */
  shards: {
    /** `group1-shard<i>of<n>.bin`. */
    name: string;
    /** The file's bytes. */
    data: Uint8Array;
  }[];
} {
  const total = named.reduce((n, w) => n + w.tensor.size * 4, 0);
  const buffer = new Uint8Array(total);
  const view = new DataView(buffer.buffer);
  let offset = 0;
  const weights: WeightSpec[] = named.map(({ name, tensor, group }) => {
    const values = tensor.dtype === 'int32' ? tensor.intDataSync() : tensor.dataSync();
    for (let i = 0; i < values.length; i++) {
      if (tensor.dtype === 'int32') view.setInt32(offset, values[i]!, true);
      else view.setFloat32(offset, values[i]!, true);
      offset += 4;
    }
    return group === undefined
      ? { name, shape: [...tensor.shape], dtype: tensor.dtype }
      : { name, shape: [...tensor.shape], dtype: tensor.dtype, group };
  });
  const count = Math.max(1, Math.ceil(total / SHARD_BYTES));
  const shards = Array.from({ length: count }, (_, i) => ({
    name: `group1-shard${i + 1}of${count}.bin`,
    data: buffer.subarray(i * SHARD_BYTES, Math.min(total, (i + 1) * SHARD_BYTES)),
  }));
  return { manifest: [{ paths: shards.map((s) => s.name), weights }], shards };
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4 };

/**
 * Decodes one manifest group's concatenated bytes into named tensors. Weights in tfjs' optimizer
 * group are not returned: they go to `optimizerWeights` when given (in file order), else are
 * skipped. `source` names the files in errors.
 *
 * @throws Error if a weight is quantized or of an unsupported dtype, or the byte count does not
 *   match the manifest.
 */
export function decodeWeightGroup(
  group: WeightsGroup,
  bytes: Uint8Array,
  source: string,
  optimizerWeights?: Map<string, Tensor>,
): Map<string, Tensor> {
  let expected = 0;
  for (const spec of group.weights) {
    if (spec.quantization) throw new Error(`${source}: weight '${spec.name}' is quantized, which Axon does not support`);
    if (!(spec.dtype in DTYPE_BYTES))
      throw new Error(`${source}: weight '${spec.name}' has dtype '${spec.dtype}'; Axon reads float32 and int32`);
    expected += spec.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[spec.dtype]!;
  }
  if (bytes.byteLength !== expected) {
    throw new Error(
      `${source}: the weights listed in the manifest (${group.weights.map((w) => `${w.name} [${w.shape.join(',')}]`).join(', ')}) ` +
        `need ${expected} bytes, but the file${group.paths.length > 1 ? 's hold' : ' holds'} ${bytes.byteLength}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Map<string, Tensor>();
  let offset = 0;
  for (const spec of group.weights) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    if (spec.dtype === 'int32') {
      const values = new Int32Array(n);
      for (let i = 0; i < n; i++, offset += 4) values[i] = view.getInt32(offset, true);
      (spec.group === 'optimizer' ? optimizerWeights : out)?.set(spec.name, new Tensor(values, spec.shape, 'int32'));
    } else {
      const values = new Float32Array(n);
      for (let i = 0; i < n; i++, offset += 4) values[i] = view.getFloat32(offset, true);
      (spec.group === 'optimizer' ? optimizerWeights : out)?.set(spec.name, new Tensor(values, spec.shape));
    }
  }
  return out;
}
