export { Model, type LayerOutputHook, type SummaryArgs, type SaveArgs, type SummaryRow } from './model.js';
export { Sequential, sequential, type SequentialArgs } from './sequential.js';
export type {
  BatchStream,
  DatasetBatch,
  BatchOfInputsAndTargets,
  FitDatasetArgs,
  EvaluateDatasetArgs,
  PredictDatasetArgs,
} from './training-dataset.js';
export type { CompileArgs, FitArgs, EvaluateArgs, PredictArgs, TrainOnBatchArgs, ModelData, TrainingHost } from './training.js';
export type { DistributedStrategy } from './distributed.js';
export { loadModel, type LoadArgs } from './load.js';
export { Functional, model, type FunctionalArgs } from './functional.js';
export {
  Loss,
  MeanSquaredError,
  MeanAbsoluteError,
  Huber,
  BinaryCrossentropy,
  CategoricalCrossentropy,
  SparseCategoricalCrossentropy,
  getLoss,
  losses,
  LOSS_NAMES,
  EPSILON,
  type LossIdentifier,
  type LossFunction,
} from './losses.js';
export {
  MeanMetric,
  BinaryAccuracy,
  CategoricalAccuracy,
  SparseCategoricalAccuracy,
  Precision,
  Recall,
  getMetric,
  metrics,
  METRIC_NAMES,
  binaryAccuracy,
  categoricalAccuracy,
  sparseCategoricalAccuracy,
  type Metric,
  type MetricFunction,
  type MetricIdentifier,
} from './metrics.js';
export {
  Optimizer,
  SGD,
  Adam,
  AdamW,
  RMSprop,
  Adagrad,
  getOptimizer,
  train,
  OPTIMIZER_NAMES,
  type OptimizerIdentifier,
  type OptimizerConfig,
  type ClipArgs,
  type SgdArgs,
  type AdamArgs,
  type RmspropArgs,
  type AdagradArgs,
} from './optimizers.js';
export {
  Callback,
  CallbackList,
  History,
  EarlyStopping,
  TerminateOnNaN,
  terminateOnNaN,
  ModelCheckpoint,
  ReduceLROnPlateau,
  LearningRateScheduler,
  CSVLogger,
  JSONLinesLogger,
  formatPath,
  type CallbackHooks,
  type Logs,
  type TrainingParams,
  type TrainableModel,
  type Mode,
  type EarlyStoppingArgs,
  type ModelCheckpointArgs,
  type ReduceLROnPlateauArgs,
} from './callbacks.js';
export { ProgbarLogger, type OutputStream } from './progbar.js';
export {
  toPythonic,
  fromPythonic,
  encodeWeights,
  decodeWeightGroup,
  type ModelJSON,
  type WeightsGroup,
  type WeightSpec,
  type TrainingConfig,
} from './serialization.js';
export { writeDirectoryAtomically } from './io.js';
export type { LoadWeightsArgs, WeightsJSON } from './weights-file.js';
