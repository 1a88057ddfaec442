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
export { Conv2D, conv2dLayer as conv2d, type Conv2DArgs } from './layers/convolutional.js';
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
  MaxPooling1D,
  maxPooling1d,
  AveragePooling1D,
  averagePooling1d,
  GlobalMaxPooling1D,
  globalMaxPooling1d,
  GlobalAveragePooling1D,
  globalAveragePooling1d,
  type Pooling1DArgs,
  type GlobalPooling1DArgs,
} from './layers/pooling.js';
export {
  UpSampling1D,
  upSampling1d,
  UpSampling2D,
  upSampling2d,
  ZeroPadding1D,
  zeroPadding1d,
  ZeroPadding2D,
  zeroPadding2d,
  Cropping1D,
  cropping1d,
  Cropping2D,
  cropping2d,
  Permute,
  permute,
  RepeatVector,
  repeatVector,
  type UpSampling1DArgs,
  type UpSampling2DArgs,
  type ZeroPadding1DArgs,
  type ZeroPadding2DArgs,
  type Cropping1DArgs,
  type Cropping2DArgs,
  type PermuteArgs,
  type RepeatVectorArgs,
} from './layers/reshaping.js';
export {
  BatchNormalization,
  batchNormalization,
  LayerNormalization,
  layerNormalization,
  type BatchNormalizationArgs,
  type LayerNormalizationArgs,
} from './layers/normalization.js';
export {
  ReLU,
  reLU,
  LeakyReLU,
  leakyReLU,
  PReLU,
  prelu,
  pReLU,
  ELU,
  eluLayer as elu,
  eluLayer as eLU,
  Softmax,
  softmaxLayer as softmax,
  type ReLULayerArgs,
  type LeakyReLULayerArgs,
  type PReLULayerArgs,
  type ELULayerArgs,
  type SoftmaxLayerArgs,
} from './layers/advanced-activations.js';
export {
  SpatialDropout1D,
  spatialDropout1d,
  SpatialDropout2D,
  spatialDropout2d,
  GaussianNoise,
  gaussianNoise,
  GaussianDropout,
  gaussianDropout,
  AlphaDropout,
  alphaDropout,
  type SpatialDropout1DArgs,
  type SpatialDropout2DArgs,
  type GaussianNoiseArgs,
  type GaussianDropoutArgs,
  type AlphaDropoutArgs,
} from './layers/noise.js';
export { Embedding, embedding, type EmbeddingArgs } from './layers/embeddings.js';
export {
  TextVectorization,
  textVectorization,
  type TextVectorizationArgs,
  type TextStandardizeMode,
  type TextSplitMode,
  type TextOutputMode,
} from './layers/text.js';
export { convOutputLength, type PaddingMode } from './layers/util.js';
/** Option parsing for layers defined outside this package (@axon/recurrent): errors name the layer and the option. */
export { named, positiveInteger, initializerOption, regularizerOption, rejectConstraint } from './layers/util.js';
