export { parseIdx, readIdx, encodeIdx, isGzip, type IdxArray } from './idx.js';
export {
  loadFashionMnist,
  loadIdxImageDataset,
  loadImageSplit,
  fashionMnistDir,
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_DEFAULT_DIR,
  FASHION_MNIST_ENV,
  type ImageDataset,
  type ImageSplit,
  type LoadOptions,
} from './fashion-mnist.js';
export {
  loadSpamAssassin,
  emailText,
  SPAM_ASSASSIN_GROUPS,
  type SpamAssassinOptions,
  type SpamAssassinGroup,
  type TextDataset,
  type TextSplit,
} from './spam-assassin.js';
export {
  Dataset,
  array,
  fromGenerator,
  fromIterable,
  fromTensors,
  zip,
  type BatchOptions,
  type ElementOf,
  type InputsAndTargets,
  type ShuffleOptions,
  type Sliced,
  type TrainingBatch,
  type WorkerMapOptions,
} from './dataset.js';
export type { Batched, Element, NumberArray } from './element.js';
export {
  csv,
  idx,
  imageFolder,
  ImageFolderDataset,
  type CsvColumnType,
  type CsvOptions,
  type CsvRow,
  type IdxOptions,
  type ImageElement,
  type ImageFile,
  type ImageFolderOptions,
} from './sources.js';
