/**
 * Name resolution shared by losses, metrics and optimizers: `sparseCategoricalCrossentropy`,
 * `sparse_categorical_crossentropy` and `SparseCategoricalCrossentropy` are the same key.
 */
export function looseKey(name: string): string {
  return name.replace(/_/g, '').toLowerCase();
}

/** tfjs' toSnakeCase: `sparseCategoricalCrossentropy` → `sparse_categorical_crossentropy`, `MaxPooling2D` → `max_pooling2d`. */
export function toSnakeCase(name: string): string {
  const intermediate = name.replace(/(.)([A-Z][a-z0-9]+)/g, '$1_$2');
  const snake = intermediate.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
  return snake.startsWith('_') ? `private${snake}` : snake;
}

/** tfjs' toCamelCase: `kernel_size` → `kernelSize`; strings without underscores are unchanged. */
export function toCamelCase(name: string): string {
  if (name.length <= 1 || !name.includes('_')) return name;
  return name.replace(/[_]+(\w|$)/g, (_m, c: string) => c.toUpperCase());
}

/** Looks `name` up in a table keyed by loose keys; throws listing the valid names. */
export function resolveName<T>(kind: string, name: string, table: ReadonlyMap<string, T>, validNames: readonly string[]): T {
  const found = table.get(looseKey(name));
  if (found === undefined) {
    throw new Error(`Unknown ${kind} '${name}'. Valid ${kind} names: ${validNames.join(', ')}`);
  }
  return found;
}
