export { Sequential, sequential, type SequentialArgs, type CompileArgs, type FitArgs, type EvaluateArgs, type SummaryArgs, type SaveArgs } from './sequential.js';
export { loadModel, type LoadArgs } from './load.js';
export {
  Loss, MeanSquaredError, MeanAbsoluteError, Huber, BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy,
  getLoss, losses, LOSS_NAMES, EPSILON, type LossIdentifier, type LossFunction,
} from './losses.js';
export {
  MeanMetric, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, Precision, Recall,
  getMetric, metrics, METRIC_NAMES, binaryAccuracy, categoricalAccuracy, sparseCategoricalAccuracy,
  type Metric, type MetricFunction, type MetricIdentifier,
} from './metrics.js';
export {
  Optimizer, SGD, Adam, AdamW, RMSprop, Adagrad, getOptimizer, train, OPTIMIZER_NAMES,
  type OptimizerIdentifier, type OptimizerConfig, type SgdArgs, type AdamArgs, type RmspropArgs, type AdagradArgs,
} from './optimizers.js';
export {
  Callback, CallbackList, History, EarlyStopping, TerminateOnNaN, terminateOnNaN, ModelCheckpoint, ReduceLROnPlateau, LearningRateScheduler, CSVLogger, JSONLinesLogger,
  formatPath, type CallbackHooks, type Logs, type TrainingParams, type TrainableModel, type Mode,
  type EarlyStoppingArgs, type ModelCheckpointArgs, type ReduceLROnPlateauArgs,
} from './callbacks.js';
export { ProgbarLogger, type OutputStream } from './progbar.js';
export { toPythonic, fromPythonic, encodeWeights, decodeWeightGroup, type ModelJSON, type WeightsGroup, type WeightSpec, type TrainingConfig } from './serialization.js';
export { writeDirectoryAtomically } from './io.js';
