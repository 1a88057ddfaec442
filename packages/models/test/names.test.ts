import { describe, expect, it } from 'vitest';
import * as layers from '@axon/layers';
import { looseKey, toCamelCase, toSnakeCase } from '../src/names.js';

describe('names', () => {
  it("uses @axon/layers' looseKey rather than a copy", () => {
    expect(looseKey).toBe(layers.looseKey);
    expect(looseKey('Sparse_Categorical_Crossentropy')).toBe(looseKey('sparseCategoricalCrossentropy'));
  });

  it("converts to snake_case as tfjs does: layers' toSnakeCase plus tfjs' private_ prefix", () => {
    for (const name of ['sparseCategoricalCrossentropy', 'MaxPooling2D', 'kernelSize', 'Dense', 'batchInputShape']) {
      expect(toSnakeCase(name)).toBe(layers.toSnakeCase(name));
    }
    expect(toSnakeCase('MaxPooling2D')).toBe('max_pooling2d');
    expect(toSnakeCase('_private')).toBe('private_private');
    expect(toCamelCase('kernel_size')).toBe('kernelSize');
    expect(toCamelCase('relu')).toBe('relu');
  });
});
