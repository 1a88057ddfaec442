export * from './shape.js';
export * from './serialization.js';
export * from './activations.js';
export * from './initializers.js';
export * from './regularizers.js';
export { checkOptions, closestOption } from './options.js';
export * from './layer.js';
export {
  InputLayer,
  inputLayer,
  input,
  Dense,
  dense,
  Flatten,
  flatten,
  Reshape,
  reshapeLayer as reshape,
  Dropout,
  dropout,
  ActivationLayer,
  activation,
  type InputLayerArgs,
  type DenseArgs,
  type FlattenArgs,
  type ReshapeArgs,
  type DropoutArgs,
  type ActivationArgs,
} from './layers/core.js';
export {
  Conv2D,
  conv2dLayer as conv2d,
  type Conv2DArgs,
  Conv1D,
  conv1d,
  type Conv1DArgs,
  type Padding1D,
  DepthwiseConv2D,
  depthwiseConv2d,
  type DepthwiseConv2DArgs,
  DEPTHWISE_DENSE_MAX_CHANNELS,
  type DepthwiseArgs,
  SeparableConv,
  SeparableConv2D,
  separableConv2d,
  SeparableConv1D,
  separableConv1d,
  type SeparableConvArgs,
  Conv2DTranspose,
  conv2dTranspose,
  type Conv2DTransposeArgs,
} from './layers/convolutional.js';
export {
  MaxPooling2D,
  maxPooling2d,
  AveragePooling2D,
  averagePooling2d,
  GlobalMaxPooling2D,
  globalMaxPooling2d,
  GlobalAveragePooling2D,
  globalAveragePooling2d,
  type Pooling2DArgs,
  type GlobalPooling2DArgs,
} from './layers/pooling.js';
export { BatchNormalization, batchNormalization, type BatchNormalizationArgs } from './layers/normalization.js';
export { Embedding, embedding, type EmbeddingArgs } from './layers/embeddings.js';
export { convOutputLength, type PaddingMode } from './layers/util.js';
/** Option parsing for layers defined outside this package (@axon/recurrent): errors name the layer and the option. */
export { named, positiveInteger, initializerOption, regularizerOption, rejectConstraint } from './layers/util.js';
