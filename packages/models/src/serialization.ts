/**
 * The TensorFlow.js layers-model format: model.json holding `modelTopology`
 * (Keras' snake_case model config), `weightsManifest` (weight names, shapes
 * and dtypes, grouped into binary shard files), `format`, `generatedBy`,
 * `convertedBy` and optionally `trainingConfig`. Weights are little-endian
 * float32 (or int32) values concatenated in manifest order.
 */
import { Tensor } from '@axon/tensor';
import { toCamelCase, toSnakeCase } from './names.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  /** tfjs marks optimizer weights with group 'optimizer'; those are skipped on load. */
  group?: string;
  quantization?: unknown;
}

export interface WeightsGroup {
  paths: string[];
  weights: WeightSpec[];
}

export interface TrainingConfig {
  loss: string;
  metrics: string[];
  optimizer_config: { class_name: string; config: Record<string, number | boolean> };
  /** Axon extension (tfjs ignores unknown keys): non-default loss options, snake_case ({from_logits: true}). */
  loss_config?: Record<string, number | boolean>;
}

export interface ModelJSON {
  modelTopology: JsonObject;
  format: 'layers-model';
  generatedBy: string;
  convertedBy: string | null;
  weightsManifest: WeightsGroup[];
  trainingConfig?: TrainingConfig;
  userDefinedMetadata?: JsonObject;
}

export const AXON_MODELS_VERSION = '0.0.0';
export const GENERATED_BY = `Axon @axon/models v${AXON_MODELS_VERSION}`;
/** tfjs converters shard weights at 4 MiB; so do we. */
export const SHARD_BYTES = 4 * 1024 * 1024;

/**
 * camelCase config → Keras snake_case, exactly as tfjs' convertTsToPythonic:
 * keys and string values are snake-cased, except the values of `name` and
 * `className` keys.
 */
export function toPythonic(value: unknown, key?: string): JsonValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return key === 'name' || key === 'className' ? value : toSnakeCase(value);
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  if (Array.isArray(value)) return value.map((v) => toPythonic(v, key));
  if (typeof value === 'object') {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[toSnakeCase(k)] = toPythonic(v, k);
    return out;
  }
  throw new Error(`Cannot serialize a ${typeof value} in a model config${key ? ` (key '${key}')` : ''}`);
}

/**
 * Keras snake_case config → camelCase, exactly as tfjs' convertPythonicToTs:
 * keys and string values are camel-cased, except string values of `name`.
 */
export function fromPythonic(value: JsonValue, key?: string): unknown {
  if (value === null) return null;
  if (typeof value === 'string') return key === 'name' ? value : toCamelCase(value);
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  if (Array.isArray(value)) return value.map((v) => fromPythonic(v, key));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === 'name' && typeof v === 'string') out[k] = v;
    else out[toCamelCase(k)] = fromPythonic(v, toCamelCase(k));
  }
  return out;
}

/** Bytes of the weights in order, and their manifest, split into shards of at most SHARD_BYTES. */
export function encodeWeights(named: readonly { name: string; tensor: Tensor }[]): {
  manifest: WeightsGroup[];
  shards: { name: string; data: Uint8Array }[];
} {
  const total = named.reduce((n, w) => n + w.tensor.size * 4, 0);
  const buffer = new Uint8Array(total);
  const view = new DataView(buffer.buffer);
  let offset = 0;
  const weights: WeightSpec[] = named.map(({ name, tensor }) => {
    const values = tensor.dtype === 'int32' ? tensor.intDataSync() : tensor.dataSync();
    for (let i = 0; i < values.length; i++) {
      if (tensor.dtype === 'int32') view.setInt32(offset, values[i]!, true);
      else view.setFloat32(offset, values[i]!, true);
      offset += 4;
    }
    return { name, shape: [...tensor.shape], dtype: tensor.dtype };
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
 * Decodes one manifest group's concatenated bytes into named tensors.
 * `source` names the files in errors.
 */
export function decodeWeightGroup(group: WeightsGroup, bytes: Uint8Array, source: string): Map<string, Tensor> {
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
      if (spec.group !== 'optimizer') out.set(spec.name, new Tensor(values, spec.shape, 'int32'));
    } else {
      const values = new Float32Array(n);
      for (let i = 0; i < n; i++, offset += 4) values[i] = view.getFloat32(offset, true);
      if (spec.group !== 'optimizer') out.set(spec.name, new Tensor(values, spec.shape));
    }
  }
  return out;
}
