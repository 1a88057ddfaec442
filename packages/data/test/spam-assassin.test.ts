import { describe, expect, it } from 'vitest';
import { emailText, loadSpamAssassin, SPAM_ASSASSIN_GROUPS } from '../src/index.js';

const labelsOf = (t: { labels: { dataSync(): ArrayLike<number> } }): number[] => Array.from(t.labels.dataSync());
const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

describe('loadSpamAssassin', () => {
  const data = loadSpamAssassin();

  it('splits the 6046 e-mails 80/20, stratified: 4837 train, 1209 test', () => {
    const { train, test } = data;
    expect(train.texts.length).toBe(4837);
    expect(test.texts.length).toBe(1209);
    expect(train.labels.shape).toEqual([4837]);
    expect(train.labels.dtype).toBe('int32');
    expect(test.labels.dtype).toBe('int32');
    // 1896 spam: 379 held out; 4150 ham: 830 held out.
    expect(sum(labelsOf(train))).toBe(1517);
    expect(sum(labelsOf(test))).toBe(379);
    expect(train.ids.length).toBe(4837);
    const total = Object.values(SPAM_ASSASSIN_GROUPS).reduce((n, g) => n + g.count, 0);
    expect(total).toBe(6046);
    // Labels follow the groups.
    [train, test].forEach((split) => {
      const labels = labelsOf(split);
      split.ids.forEach((id, i) => expect(labels[i]).toBe(id.startsWith('spam') ? 1 : 0));
    });
    // Each split is shuffled: spam is spread through it, not grouped.
    expect(sum(labelsOf(train).slice(0, 500))).toBeGreaterThan(100);
  });

  it('has no overlap between train and test, and covers the corpus', () => {
    const trainIds = new Set(data.train.ids);
    expect(trainIds.size).toBe(4837);
    expect(data.test.ids.filter((id) => trainIds.has(id))).toEqual([]);
    expect(new Set([...data.train.ids, ...data.test.ids]).size).toBe(6046);
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const again = loadSpamAssassin({ testLimit: 50, trainLimit: 50 });
    expect(again.test.ids).toEqual(data.test.ids.slice(0, 50));
    expect(again.train.ids).toEqual(data.train.ids.slice(0, 50));
    expect(again.train.texts).toEqual(data.train.texts.slice(0, 50));
    const other = loadSpamAssassin({ seed: 1 });
    expect(other.test.ids).not.toEqual(data.test.ids);
    expect(sum(labelsOf(other.test))).toBe(379);
    const half = loadSpamAssassin({ testFraction: 0.5 });
    expect(half.test.texts.length).toBe(2075 + 948);
  });

  it('turns an e-mail into subject + body, other headers dropped', () => {
    expect(emailText('From: a@b\r\nSubject: Hello\r\n  there\r\nTo: c@d\r\n\r\nBody\r\nline\r\n')).toBe('Hello there\n\nBody\nline\n');
    expect(emailText('From: a@b\n\nNo subject')).toBe('\n\nNo subject');
    const text = data.train.texts[0]!;
    expect(text).not.toMatch(/^Received:/m);
    expect(text).not.toMatch(/^Return-Path:/m);
    const raw = loadSpamAssassin({ headers: true, trainLimit: 1, testLimit: 1 });
    expect(raw.train.texts[0]).toMatch(/^Received:/m);
  });

  it('refuses bad options', () => {
    expect(() => loadSpamAssassin({ testFraction: 1 })).toThrow(/testFraction must be in \(0, 1\), got 1/);
    expect(() => loadSpamAssassin({ trainLimit: 0 })).toThrow(/trainLimit must be a positive integer/);
    expect(() => loadSpamAssassin({ seed: 0.5 })).toThrow(/seed must be an integer/);
    expect(() => loadSpamAssassin({ limit: 3 } as never)).toThrow(/unknown option 'limit'/);
  });
});
