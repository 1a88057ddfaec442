/**
 * @axon/recurrent: SimpleRNN, GRU and LSTM layers (Keras semantics and weight
 * layout), their cells, the generic RNN layer, StackedRNNCells,
 * Bidirectional, TimeDistributed and Masking. Importing the package registers
 * every class with the @axon/layers registry, so @axon/models can load them.
 */
export {
  RNNCell,
  SimpleRNNCell,
  GRUCell,
  LSTMCell,
  StackedRNNCells,
  simpleRNNCell,
  gruCell,
  lstmCell,
  stackedRNNCells,
  type SequenceOptions,
  type SimpleRNNCellArgs,
  type GRUCellArgs,
  type LSTMCellArgs,
  type StackedRNNCellsArgs,
} from './cells.js';
export {
  RNN,
  SimpleRNN,
  GRU,
  LSTM,
  rnn,
  simpleRNN,
  gru,
  lstm,
  type BaseRNNArgs,
  type RNNArgs,
  type RNNCallKwargs,
  type SimpleRNNArgs,
  type GRUArgs,
  type LSTMArgs,
} from './rnn.js';
export {
  Bidirectional,
  TimeDistributed,
  bidirectional,
  timeDistributed,
  type BidirectionalArgs,
  type TimeDistributedArgs,
  type MergeMode,
} from './wrappers.js';
export { Masking, masking, type MaskingArgs } from './masking.js';
export { activationOption, type RecurrentActivation } from './options.js';
