/**
 * The functional API (Keras `Model(inputs, outputs)`, tfjs `tf.model`): a model is the graph of
 * layer applications between symbolic inputs (`input()`) and outputs. It replays the graph on real
 * tensors, shares layers (and their weights) wherever the graph applies them, and is itself a
 * Layer, so models nest. A model of a trained model's intermediate output shares its weights: the
 * activation maps of the article's interpretability section are `model({ inputs: m.inputs,
 * outputs: m.getLayer('conv2d_1').output }).predict(x)`.
 *
 * Training: for a model of one input and one output, compile/fit/evaluate run Sequential's
 * training loop over this model as its only layer (the loop will move into its own module, shared
 * by both, with the multi-input/multi-output losses). Saving functional models is still to come.
 */
import { type Tensor, type Variable, concat, noGrad, scope, slice } from '@axon/tensor';
import { type CompileArgs, type EvaluateArgs, type FitArgs, Sequential } from './sequential.js';
import type { History, Logs } from './callbacks.js';
import { type LoadWeightsArgs, readWeightsInto, writeWeights } from './weights-file.js';
import {
  type CallKwargs,
  InputLayer,
  Layer,
  deserializeLayer,
  symbolicInputOf,
  type LayerNode,
  type Shape,
  type SymbolicTensor,
  checkOptions,
  formatShape,
  isSymbolic,
  registerLayer,
} from '@axon/layers';

/** `[layer name, node index, output index, kwargs]`: one input of a node, as Keras and tfjs save it. */
type NodeInput = [string, number, number, Record<string, unknown>];

/** A layer of a saved functional model: its config and how it was applied (`inbound_nodes`). */
interface SavedLayer {
  className: string;
  config: Record<string, unknown>;
  name: string;
  inboundNodes: NodeInput[][];
}

/** Arguments of {@link model}. */
export interface FunctionalArgs {
  /** The model's inputs: symbolic tensors made by `input()`. */
  inputs: SymbolicTensor | SymbolicTensor[];
  /** The model's outputs: symbolic tensors computed from the inputs by applying layers. */
  outputs: SymbolicTensor | SymbolicTensor[];
  /** The model's name (default `model_<n>`). */
  name?: string;
}

const toList = <T>(x: T | T[]): T[] => (Array.isArray(x) ? x : [x]);

/**
 * A model defined by its graph (Keras `Functional`). Make one with {@link model}.
 */
export class Functional extends Layer {
  static override className = 'Functional';
  /** The symbolic inputs, in order. */
  readonly inputs: SymbolicTensor[];
  /** The symbolic outputs, in order. */
  readonly outputs: SymbolicTensor[];
  private readonly singleInput: boolean;
  private readonly singleOutput: boolean;
  /** The layer applications to replay, each after those it reads from. */
  private readonly nodes: LayerNode[];
  /** The training loop's host, made by compile (one input and one output). */
  private trainer: Sequential | null = null;

  /** @throws Error if an input is not from input(), or an output cannot be computed from the inputs. */
  constructor(args: FunctionalArgs) {
    checkOptions('model', args, ['inputs', 'outputs', 'name']);
    super({ name: args.name });
    this.singleInput = !Array.isArray(args.inputs);
    this.singleOutput = !Array.isArray(args.outputs);
    this.inputs = toList(args.inputs);
    this.outputs = toList(args.outputs);
    [...this.inputs, ...this.outputs].forEach((t, i) => {
      if (!isSymbolic(t))
        throw new Error(
          `model: ${i < this.inputs.length ? 'inputs' : 'outputs'} must be symbolic tensors (from input() and layer.apply), got ${typeof t}`,
        );
    });
    this.inputs.forEach((t, i) => {
      if (!(t.node.layer instanceof InputLayer))
        throw new Error(`model: inputs[${i}] (${t.name}) must come from input(), not from a layer's output`);
    });
    this.nodes = this.orderNodes();
    this.built = true;
  }

  /** The nodes between the inputs and the outputs, in an order where every node follows those it reads from. */
  private orderNodes(): LayerNode[] {
    const given = new Set(this.inputs.map((t) => t.id));
    const order: LayerNode[] = [];
    const done = new Set<LayerNode>();
    const visiting = new Set<LayerNode>();
    const visit = (t: SymbolicTensor, path: string): void => {
      if (given.has(t.id)) return;
      const node = t.node;
      if (done.has(node)) return;
      if (node.layer instanceof InputLayer) {
        throw new Error(`model: output ${path} depends on ${t.name}, which is not among the model's inputs`);
      }
      if (visiting.has(node)) throw new Error(`model: the graph has a cycle through layer ${node.layer.name}`);
      visiting.add(node);
      for (const input of node.inputs) visit(input, path);
      visiting.delete(node);
      done.add(node);
      order.push(node);
    };
    this.outputs.forEach((t) => visit(t, t.name));
    return order;
  }

  /** Every layer of the graph, once, in execution order (the input layers first), as Keras' `model.layers`. */
  get layers(): Layer[] {
    const seen = new Set<Layer>();
    for (const t of this.inputs) seen.add(t.node.layer as Layer);
    for (const node of this.nodes) seen.add(node.layer as Layer);
    return [...seen];
  }

  /**
   * A layer by name, or by index in {@link layers} (Keras `get_layer`).
   *
   * @throws Error naming the layers there are when none matches.
   */
  getLayer(nameOrIndex: string | number): Layer {
    const layers = this.layers;
    const found = typeof nameOrIndex === 'number' ? layers[nameOrIndex] : layers.find((l) => l.name === nameOrIndex);
    if (!found) {
      throw new Error(
        `getLayer: model ${this.name} has no layer ${JSON.stringify(nameOrIndex)}; its layers: ${layers.map((l) => l.name).join(', ')}`,
      );
    }
    return found;
  }

  override get trainableWeights(): Variable[] {
    return this.trainable ? unique(this.layers.flatMap((l) => l.trainableWeights)) : [];
  }

  override get nonTrainableWeights(): Variable[] {
    const all = unique(this.layers.flatMap((l) => l.weights));
    const trainable = new Set(this.trainableWeights);
    return all.filter((w) => !trainable.has(w));
  }

  override regularizationLosses(): Tensor[] {
    return this.layers.flatMap((l) => l.regularizationLosses());
  }

  override computeOutputShape(): Shape | Shape[] {
    const shapes = this.outputs.map((t) => [...t.shape]);
    return this.singleOutput ? shapes[0]! : shapes;
  }

  /** Runs the graph on real tensors (one per input, in order). */
  override call(inputs: Tensor | Tensor[], kwargs: CallKwargs = {}): Tensor | Tensor[] {
    const given = toList(inputs);
    if (given.length !== this.inputs.length) {
      throw new Error(`Model ${this.name} expects ${this.inputs.length} input(s), got ${given.length}`);
    }
    const values = new Map<number, Tensor>();
    this.inputs.forEach((t, i) => {
      const x = given[i]!;
      if (x.rank !== t.rank || t.shape.some((d, k) => d !== null && d !== x.shape[k])) {
        throw new Error(`Model ${this.name}: input ${i} (${t.name}) expects shape ${formatShape(t.shape)}, got ${formatShape(x.shape)}`);
      }
      values.set(t.id, x);
    });
    const training = kwargs.training ?? false;
    for (const node of this.nodes) {
      const args = node.inputs.map((t) => values.get(t.id)!);
      const out = (node.layer as Layer).apply(node.inputsAsList ? args : args[0]!, { ...node.kwargs, training });
      toList(out).forEach((y, k) => values.set(node.outputs[k]!.id, y));
    }
    const results = this.outputs.map((t) => values.get(t.id)!);
    return this.singleOutput ? results[0]! : results;
  }

  /**
   * The outputs for x in batches of `batchSize` (default 32), in inference mode, without gradients.
   *
   * @throws Error for an unknown option or inputs of the wrong shape.
   */
  predict(x: Tensor | Tensor[], args: { batchSize?: number } = {}): Tensor | Tensor[] {
    checkOptions('predict', args, ['batchSize']);
    const xs = toList(x);
    const n = xs[0]!.shape[0]!;
    const batchSize = args.batchSize ?? 32;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`predict: batchSize must be a positive integer, got ${batchSize}`);
    const parts: Tensor[][] = this.outputs.map(() => []);
    noGrad(() => {
      for (let start = 0; start < n; start += batchSize) {
        const size = Math.min(batchSize, n - start);
        const out = scope(`prediction batch of ${this.name}`, () =>
          toList(
            this.call(xs.length === 1 && this.singleInput ? slice(xs[0]!, start, size) : xs.map((t) => slice(t, start, size)), {
              training: false,
            }),
          ),
        );
        out.forEach((y, k) => parts[k]!.push(y));
      }
    });
    const results = parts.map((p) => (p.length === 1 ? p[0]! : concat(p, 0)));
    return this.singleOutput ? results[0]! : results;
  }

  /**
   * Keras `compile`: the optimizer, loss and metrics for fit/evaluate (see Sequential.compile).
   *
   * @throws Error for a model of several inputs or outputs (not supported yet), or as Sequential.compile does.
   */
  compile(args: CompileArgs): void {
    if (!this.singleInput || !this.singleOutput || this.inputs.length !== 1 || this.outputs.length !== 1) {
      throw new Error(
        `compile: model ${this.name} has ${this.inputs.length} input(s) and ${this.outputs.length} output(s); training functional models of several inputs or outputs is not supported yet`,
      );
    }
    const trainer = new Sequential({ layers: [this], name: this.name });
    trainer.compile(args);
    this.trainer = trainer;
  }

  private requireTrainer(method: string): Sequential {
    if (!this.trainer) throw new Error(`${method}: model ${this.name} is not compiled; call compile({ optimizer, loss }) first`);
    return this.trainer;
  }

  /** Keras `fit` (see Sequential.fit): trains on x/y in batches, with validation, callbacks and the progress bar. */
  async fit(x: Tensor, y: Tensor, args: FitArgs = {}): Promise<History> {
    return this.requireTrainer('fit').fit(x, y, args);
  }

  /** Keras `evaluate` (see Sequential.evaluate). */
  evaluate(x: Tensor, y: Tensor, args: EvaluateArgs = {}): number | number[] | Logs {
    return this.requireTrainer('evaluate').evaluate(x, y, args);
  }

  /** The nodes of `layer` that belong to this model (its input node for an InputLayer), in order. */
  private nodesOf(layer: Layer): LayerNode[] {
    const mine = new Set<LayerNode>([...this.nodes, ...this.inputs.map((t) => t.node)]);
    return layer.inboundNodes.filter((n) => mine.has(n));
  }

  private reference(t: SymbolicTensor): [string, number, number] {
    const layer = t.node.layer as Layer;
    return [layer.name, this.nodesOf(layer).indexOf(t.node), t.outputIndex];
  }

  /**
   * The graph as Keras and TensorFlow.js save a functional model (camelCase here; snake_case in a
   * file): every layer's config with its `inboundNodes`, and the `inputLayers` / `outputLayers`.
   */
  override getConfig(): Record<string, unknown> {
    const layers: SavedLayer[] = this.layers.map((layer) => ({
      className: layer.getClassName(),
      config: layer.getConfig(),
      name: layer.name,
      inboundNodes:
        layer instanceof InputLayer
          ? []
          : this.nodesOf(layer).map((node) => node.inputs.map((t) => [...this.reference(t), {}] as NodeInput)),
    }));
    return {
      name: this.name,
      layers,
      inputLayers: this.inputs.map((t) => this.reference(t)),
      outputLayers: this.outputs.map((t) => this.reference(t)),
    };
  }

  /**
   * Rebuilds a model from {@link getConfig}'s form (or Keras' and tfjs' snake_case one): makes each
   * layer from its config, then replays the saved applications in dependency order.
   *
   * @throws Error naming the layer or node that refers to something missing.
   */
  static override fromConfig<T extends Layer>(this: new (args: never) => T, config: Record<string, unknown>): T {
    const pick = (o: Record<string, unknown>, camel: string, snake: string): unknown => o[camel] ?? o[snake];
    const saved = (pick(config, 'layers', 'layers') as Record<string, unknown>[] | undefined) ?? [];
    const layers = new Map<string, Layer>();
    const outputsOf = new Map<string, SymbolicTensor[][]>();
    const pending: { layer: Layer; inputs: NodeInput[] }[] = [];
    for (const entry of saved) {
      const className = pick(entry, 'className', 'class_name') as string;
      const layerConfig = (entry.config ?? {}) as Record<string, unknown>;
      const layer = deserializeLayer({ className, config: layerConfig });
      const name = (entry.name as string | undefined) ?? layer.name;
      layers.set(name, layer);
      outputsOf.set(name, []);
      if (layer instanceof InputLayer) outputsOf.get(name)!.push([symbolicInputOf(layer)]);
      const nodes = (pick(entry, 'inboundNodes', 'inbound_nodes') as NodeInput[][] | undefined) ?? [];
      for (const inputs of nodes) pending.push({ layer, inputs });
    }
    const resolve = ([name, node, index]: NodeInput | [string, number, number]): SymbolicTensor | undefined =>
      outputsOf.get(name)?.[node]?.[index];
    // Replay in dependency order: a node runs once all it reads exists (Keras does the same).
    while (pending.length > 0) {
      const ready = pending.findIndex((p) => p.inputs.every((i) => resolve(i) !== undefined));
      if (ready < 0) {
        const stuck = pending[0]!;
        throw new Error(
          `model config: layer ${stuck.layer.name} reads ${JSON.stringify(stuck.inputs.map((i) => i.slice(0, 3)))}, which no layer produces`,
        );
      }
      const { layer, inputs } = pending.splice(ready, 1)[0]!;
      const args = inputs.map((i) => resolve(i)!);
      const out = layer.apply(args.length === 1 ? args[0]! : args);
      outputsOf.get(layer.name)!.push(Array.isArray(out) ? out : [out]);
    }
    const ends = (key: string, snake: string) =>
      ((pick(config, key, snake) as [string, number, number][] | undefined) ?? []).map((ref) => {
        const t = resolve(ref);
        if (!t) throw new Error(`model config: ${snake} refers to ${JSON.stringify(ref)}, which no layer produces`);
        return t;
      });
    const inputs = ends('inputLayers', 'input_layers');
    const outputs = ends('outputLayers', 'output_layers');
    return new Functional({
      inputs: inputs.length === 1 ? inputs[0]! : inputs,
      outputs: outputs.length === 1 ? outputs[0]! : outputs,
      ...(typeof config.name === 'string' ? { name: config.name } : {}),
    }) as unknown as T;
  }

  /** Writes the weights of every layer, by layer name (see Sequential.saveWeights for the format). */
  async saveWeights(path: string): Promise<void> {
    writeWeights(this, path);
  }

  /**
   * Loads weights written by saveWeights (of this or a Sequential/functional model with the same
   * layer names), matching layers by name and weights by name and shape.
   *
   * @throws Error naming the layer and weight that do not match (see Sequential.loadWeights).
   */
  async loadWeights(path: string, args: LoadWeightsArgs = {}): Promise<void> {
    readWeightsInto(this, path, args);
  }

  /** The layers and their output shapes, one line each, with the layers each reads from. */
  summary(printFn: (line: string) => void = console.log): void {
    printFn(`Model: ${this.name}`);
    for (const layer of this.layers) {
      const node = layer.inboundNodes.find((n) => this.nodes.includes(n) || this.inputs.some((t) => t.node === n));
      const from = node && node.inputs.length > 0 ? ` ← ${node.inputs.map((t) => t.name).join(', ')}` : '';
      const shape = node ? node.outputs.map((t) => formatShape(t.shape)).join(', ') : '';
      printFn(`  ${layer.name} (${layer.getClassName()}) ${shape}${from}`);
    }
    printFn(`Total params: ${this.weights.reduce((n, w) => n + w.size, 0)}`);
  }
}
registerLayer(Functional);
// Keras 2 and tfjs-layers save functional models as 'Model' too.
registerLayer(
  class Model extends Functional {
    static override className = 'Model';
  },
);

function unique<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

/**
 * A model from its graph (Keras `Model(inputs, outputs)`, tfjs `tf.model`).
 *
 * @example
 * ```ts
 * const x = input({ shape: [28, 28, 1] });
 * const features = conv2d({ filters: 8, kernelSize: 3, activation: 'relu', name: 'features' }).apply(x);
 * const y = dense({ units: 10, activation: 'softmax' }).apply(flatten().apply(features));
 * const classifier = model({ inputs: x, outputs: y });
 * const maps = model({ inputs: classifier.inputs, outputs: classifier.getLayer('features').output }); // shares the weights
 * ```
 */
export function model(args: FunctionalArgs): Functional {
  return new Functional(args);
}
