/**
 * Name resolution shared by losses, metrics and optimizers: `sparseCategoricalCrossentropy`,
 * `sparse_categorical_crossentropy` and `SparseCategoricalCrossentropy` are the same key
 * (`looseKey`, from @axon/layers, which resolves initializer and activation names the same way).
 */
import { looseKey, toSnakeCase as kerasToSnakeCase } from '@axon/layers';

export { looseKey };

/**
 * tfjs' toSnakeCase: `sparseCategoricalCrossentropy` → `sparse_categorical_crossentropy`,
 * `MaxPooling2D` → `max_pooling2d`. This is @axon/layers' (Keras') toSnakeCase plus one case
 * tfjs adds and models needs: toPythonic converts config keys and string values exactly as
 * tfjs' convertTsToPythonic does, and tfjs turns a result with a leading underscore
 * (`_foo`) into `private_foo`. Files written by Axon must convert the same way to load in tfjs.
 */
export function toSnakeCase(name: string): string {
  const snake = kerasToSnakeCase(name);
  return snake.startsWith('_') ? `private${snake}` : snake;
}

/**
 * tfjs' toCamelCase: `kernel_size` → `kernelSize`; strings without underscores are unchanged.
 * (Not @axon/layers' snakeToCamel: tfjs also collapses repeated underscores and upper-cases the
 * character after any of them, and fromPythonic must mirror tfjs' convertPythonicToTs.)
 */
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
