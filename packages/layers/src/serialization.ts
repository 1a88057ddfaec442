/** The `{className, config}` form in which Keras and TensorFlow.js serialize layers, initializers and regularizers. */
export interface SerializedObject {
  /** The registered class name, e.g. 'Dense' or 'GlorotUniform' (Keras writes `class_name`). */
  className: string;
  /** The constructor arguments. */
  config: Record<string, unknown>;
}

/** True for `{className, config}` (TensorFlow.js) and `{class_name, config}` (Keras). */
export function isSerializedObject(value: unknown): value is SerializedObject {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.className === 'string' || typeof v.class_name === 'string';
}

/** The class name of a serialized object in either spelling. */
export function serializedClassName(value: SerializedObject): string {
  return value.className ?? (value as unknown as { class_name: string }).class_name;
}

/** `fan_in` → `fanIn`: Keras (Python) configs use snake_case keys, TensorFlow.js camelCase. */
export function snakeToCamel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Keras' to_snake_case: `MaxPooling2D` → `max_pooling2d`, `Dense` → `dense`. */
export function toSnakeCase(name: string): string {
  const intermediate = name.replace(/(.)([A-Z][a-z0-9]+)/g, '$1_$2');
  return intermediate.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
}

/** Converts the keys of a (Keras-style) config to camelCase, one level deep. */
export function camelCaseKeys(config: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config ?? {})) out[snakeToCamel(k)] = v;
  return out;
}

/** A lookup key that makes `glorot_uniform`, `glorotUniform` and `GlorotUniform` equal. */
export function looseKey(name: string): string {
  return name.replace(/_/g, '').toLowerCase();
}
