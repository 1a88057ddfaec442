/**
 * fit()'s `verbose: 1` output. On a terminal: Keras' progress bar, redrawn in
 * place, with ETA and running loss and metrics. Elsewhere (a log file, CI):
 * one line per epoch, so logs stay readable.
 */
import { Callback, type Logs } from './callbacks.js';

/** The subset of a writable stream the logger needs (process.stdout by default). */
export interface OutputStream {
  /** Writes text as is (no newline added). */
  write(text: string): unknown;
  /** true for a terminal: the progress bar is then redrawn in place; else one line per epoch. */
  isTTY?: boolean;
  /** The terminal's width; lines in progress are cut to it (default 200). */
  columns?: number;
}

export function formatDuration(seconds: number): string {
  if (seconds >= 3600)
    return `${Math.floor(seconds / 3600)}:${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}:${String(Math.floor(seconds % 60)).padStart(2, '0')}`;
  if (seconds >= 60) return `${Math.floor(seconds / 60)}:${String(Math.floor(seconds % 60)).padStart(2, '0')}`;
  return `${Math.round(seconds)}s`;
}

function formatValue(v: number): string {
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e4) ? v.toExponential(4) : v.toFixed(4);
}

export function formatLogs(logs: Logs, keys?: readonly string[]): string {
  return (keys ?? Object.keys(logs))
    .filter((k) => logs[k] !== undefined && k !== 'batch' && k !== 'size')
    .map((k) => ` - ${k}: ${formatValue(logs[k]!)}`)
    .join('');
}

/**
 * fit's progress output with `verbose: 1` (added by fit itself; Keras' ProgbarLogger): on a
 * terminal, a progress bar per epoch redrawn at most ~10 times a second with ETA, running loss and
 * metrics; elsewhere one line per epoch with its time, ms/step and logs.
 */
export class ProgbarLogger extends Callback {
  private epochStart = 0;
  private lastDraw = 0;
  private seen = 0;
  /** When the last batch ended: ms/step counts training only, the epoch time includes validation. */
  private lastBatchEnd = 0;
  private epochs = 0;
  /** Batches per epoch, or null while unknown (a dataset's first pass): shown as `n/Unknown`, as Keras does. */
  private steps: number | null = 0;

  /**
   * @param stream - Where to write; default process.stdout.
   * @param now - The clock in milliseconds (tests pass a fake one); default performance.now.
   */
  constructor(
    private readonly stream: OutputStream = process.stdout,
    private readonly now: () => number = () => performance.now(),
  ) {
    super();
  }

  private get tty(): boolean {
    return this.stream.isTTY === true;
  }

  override onTrainBegin(): void {
    this.epochs = this.params?.epochs ?? 0;
  }

  override onEpochBegin(epoch: number): void {
    // Read every epoch: fit learns a dataset's batch count at the end of its first pass.
    this.steps = this.params ? this.params.steps : 0;
    this.epochStart = this.now();
    this.lastDraw = 0;
    this.seen = 0;
    if (this.tty) this.stream.write(`Epoch ${epoch + 1}/${this.epochs}\n`);
  }

  override onBatchEnd(batch: number, logs: Logs = {}): void {
    this.seen = batch + 1;
    const t = this.now();
    this.lastBatchEnd = t;
    if (!this.tty) return;
    // Redraw at most ~10 times a second; always draw the last batch.
    const left = this.steps === null ? null : this.steps - this.seen;
    if ((left === null || left > 0) && t - this.lastDraw < 100) return;
    this.lastDraw = t;
    const elapsed = (t - this.epochStart) / 1000;
    const eta = left !== null && left > 0 ? ` - ETA: ${formatDuration((elapsed / this.seen) * left)}` : ` - ${formatDuration(elapsed)}`;
    this.draw(`${this.bar()}${eta}${formatLogs(logs)}`);
  }

  private bar(): string {
    if (this.steps === null) return `${this.seen}/Unknown`;
    const width = 30;
    const digits = String(this.steps).length;
    const done = this.steps ? Math.floor((width * this.seen) / this.steps) : width;
    const arrow = done >= width ? '='.repeat(width) : `${'='.repeat(Math.max(done - 1, 0))}>${'.'.repeat(width - Math.max(done, 1))}`;
    return `${String(this.seen).padStart(digits)}/${this.steps} [${arrow}]`;
  }

  /** Redraws the current line; in-progress lines are cut to the terminal width so `\r` can overwrite them. */
  private draw(line: string, truncate = true): void {
    const columns = this.stream.columns ?? 200;
    const text = truncate && line.length > columns - 1 ? line.slice(0, columns - 1) : line;
    this.stream.write(`\r${text}\x1b[K`);
  }

  override onEpochEnd(epoch: number, logs: Logs = {}): void {
    const elapsed = (this.now() - this.epochStart) / 1000;
    const perStep = this.seen ? ((this.lastBatchEnd - this.epochStart) / this.seen).toFixed(0) : '0';
    const timing = ` - ${formatDuration(elapsed)} ${perStep}ms/step`;
    if (this.tty) {
      // The final line of an epoch is printed whole (it may wrap): it carries the validation results.
      this.draw(`${this.bar()}${timing}${formatLogs(logs)}`, false);
      this.stream.write('\n');
    } else {
      this.stream.write(
        `Epoch ${epoch + 1}/${this.epochs} - ${this.seen}/${this.steps ?? 'Unknown'} batches${timing}${formatLogs(logs)}\n`,
      );
    }
  }
}
