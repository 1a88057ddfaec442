/**
 * The functional API (Keras `Model(inputs, outputs)`, tfjs `tf.model`): a model is the graph of
 * layer applications between symbolic inputs (`input()`) and outputs. It replays the graph on real
 * tensors, shares layers (and their weights) wherever the graph applies them, and is itself a
 * Layer, so models nest. A model of a trained model's intermediate output shares its weights: the
 * activation maps of the article's interpretability section are `model({ inputs: m.inputs,
 * outputs: m.getLayer('conv2d_1').output }).predict(x)`.
 *
 * Training, summary and saving are Model's: several inputs and outputs take name-keyed or
 * ordered data, per-output losses, loss weights and metrics.
 */
import type { Tensor } from '@axon/tensor';
import { type LayerOutputHook, Model, type SummaryRow, formatShapes } from './model.js';
import { Sequential } from './sequential.js';
import {
  InputLayer,
  type Layer,
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
export class Functional extends Model {
  static override className = 'Functional';
  /** The symbolic inputs, in order. */
  readonly inputs: SymbolicTensor[];
  /** The symbolic outputs, in order. */
  readonly outputs: SymbolicTensor[];
  private readonly singleOutput: boolean;
  /** The layer applications to replay, each after those it reads from. */
  private readonly nodes: LayerNode[];

  /** @throws Error if an input is not from input(), or an output cannot be computed from the inputs. */
  constructor(args: FunctionalArgs) {
    checkOptions('model', args, ['inputs', 'outputs', 'name']);
    super({ name: args.name });
    this.singleOutput = !Array.isArray(args.outputs);
    this.inputs = toList(args.inputs);
    this.outputs = toList(args.outputs);
    [...this.inputs, ...this.outputs].forEach((t, i) => {
      if (!isSymbolic(t))
        throw new Error(
          `model: ${i < this.inputs.length ? 'inputs' : 'outputs'} must be symbolic tensors (from input() and layer.apply), got ${typeof t}`,
        );
    });
    if (this.inputs.length === 0 || this.outputs.length === 0) {
      throw new Error(
        `model: needs at least one input and one output, got ${this.inputs.length} input(s) and ${this.outputs.length} output(s)`,
      );
    }
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
  override get layers(): Layer[] {
    const seen = new Set<Layer>();
    for (const t of this.inputs) seen.add(t.node.layer as Layer);
    for (const node of this.nodes) seen.add(node.layer as Layer);
    return [...seen];
  }

  override computeOutputShape(): Shape | Shape[] {
    const shapes = this.outputs.map((t) => [...t.shape]);
    return this.singleOutput ? shapes[0]! : shapes;
  }

  /** The input layers' names, in order. */
  override get inputNames(): string[] {
    return this.inputs.map((t) => (t.node.layer as Layer).name);
  }

  /** The names of the layers producing the outputs (suffixed `_<k>` where one layer gives several). */
  override get outputNames(): string[] {
    const names = this.outputs.map((t) => (t.node.layer as Layer).name);
    return names.map((n, k) => (names.indexOf(n) === names.lastIndexOf(n) ? n : `${n}_${k}`));
  }

  /** Each input's batch shape. */
  override get batchInputShapes(): Shape[] {
    return this.inputs.map((t) => [...t.shape]);
  }

  /** Each output's batch shape (a functional model is built when made). */
  override outputShapesFor(_inputs: Tensor[]): Shape[] {
    return this.outputs.map((t) => [...t.shape]);
  }

  /** `input 'name'`. */
  override describeInput(index: number): string {
    return `input '${this.inputNames[index]}'`;
  }

  protected override requireBuilt(_method: string): void {
    // Built when made: every layer was built from the symbolic inputs' shapes.
  }

  /** Whether outputs come as a list: the model was made with an array of outputs. */
  protected override get returnsList(): boolean {
    return !this.singleOutput;
  }

  /**
   * Replays the graph on real tensors (one per input, in order): every node after those it reads
   * from, masks flowing along single-input nodes as in Sequential. Each node's outputs pass
   * through `onLayerOutput` when given ({@link Model.forward}).
   *
   * @throws Error if the count or a shape of the inputs does not match the model's inputs.
   */
  override forward(given: Tensor[], training: boolean, onLayerOutput?: LayerOutputHook): Tensor[] {
    if (given.length !== this.inputs.length) {
      throw new Error(`Model ${this.name} expects ${this.inputs.length} input(s), got ${given.length}`);
    }
    const values = new Map<number, Tensor>();
    const masks = new Map<number, Tensor | null>();
    this.inputs.forEach((t, i) => {
      const x = given[i]!;
      if (x.rank !== t.rank || t.shape.some((d, k) => d !== null && d !== x.shape[k])) {
        throw new Error(`Model ${this.name}: input ${i} (${t.name}) expects shape ${formatShape(t.shape)}, got ${formatShape(x.shape)}`);
      }
      values.set(t.id, x);
    });
    for (const node of this.nodes) {
      const args = node.inputs.map((t) => values.get(t.id)!);
      const layer = node.layer as Layer;
      const input = node.inputsAsList ? args : args[0]!;
      const mask = node.inputsAsList ? null : (masks.get(node.inputs[0]!.id) ?? null);
      const out = layer.apply(input, { ...node.kwargs, training, mask });
      const outMask = node.inputsAsList ? null : layer.computeMask(input, mask);
      toList(out).forEach((y, k) => {
        values.set(node.outputs[k]!.id, onLayerOutput ? onLayerOutput(layer, y, input) : y);
        masks.set(node.outputs[k]!.id, outMask);
      });
    }
    return this.outputs.map((t) => values.get(t.id)!);
  }

  /** The nodes of `layer` that belong to this model (its input node for an InputLayer), in order. */
  private nodesOf(layer: Layer): LayerNode[] {
    const mine = new Set<LayerNode>([...this.nodes, ...this.inputs.map((t) => t.node)]);
    return layer.inboundNodes.filter((n) => mine.has(n));
  }

  private reference(t: SymbolicTensor): [string, number, number] {
    const layer = t.node.layer as Layer;
    return [layer.name, this.nodesOf(layer).indexOf(t.node) + (hasOwnNode(layer) ? 1 : 0), t.outputIndex];
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
      // Node 0 of a nested model is its own construction (see hasOwnNode): applications count from 1.
      outputsOf.set(name, hasOwnNode(layer) ? [[]] : []);
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

  /** One row per layer: its output shapes and the tensors it reads (`layer[node][output]`, as Keras prints). */
  protected override summaryRows(): SummaryRow[] {
    return this.layers.map((layer) => {
      const nodes = this.nodesOf(layer);
      const shapes = nodes.flatMap((n) => n.outputs.map((t) => [...t.shape]));
      const connectedTo = nodes.flatMap((n) =>
        n.inputs.map((t) => {
          const [name, node, index] = this.reference(t);
          return `${name}[${node}][${index}]`;
        }),
      );
      return { layer, outputShape: formatShapes(shapes), connectedTo };
    });
  }
}
registerLayer(Functional);
// Keras 2 and tfjs-layers save functional models as 'Model' too.
registerLayer(
  class Model extends Functional {
    static override className = 'Model';
  },
);

/**
 * Whether a saved graph numbers a layer's applications from 1: Keras and tfjs count a nested model
 * built on its own inputs (a functional model, a Sequential that knows its input shape) as
 * applied once already, by its construction, and write its first application in another model as
 * node 1. Axon records no such node, so it offsets the index on save and load.
 */
function hasOwnNode(layer: Layer): boolean {
  return layer instanceof Functional || (layer instanceof Sequential && layer.inputShape !== null);
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
