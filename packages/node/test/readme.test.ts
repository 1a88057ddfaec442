/**
 * Every code block of every README in the repository stays true:
 * - ```js / ```ts blocks run verbatim, each in its own Node process from an empty directory (types
 *   stripped by TypeScript's transpiler; imports resolve to the workspace's built packages);
 * - ```json blocks parse;
 * - ```sh blocks pass `bash -n`; every `pnpm <script>` they name exists (at the root, or in the
 *   `--filter`ed package); every `node <file>` (also under `mpirun`) names a file of the built
 *   workspace; and the lines marked as short runs (`--limit`) run verbatim from the repository root
 *   (mpirun ones where mpirun exists);
 * - ```text blocks are output or diagrams shown to the reader, not code.
 * A block without one of these languages fails the test, so nothing is skipped by accident.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));
// Inside this package, so that bare imports resolve through its node_modules to the workspace packages.
const scratch = fileURLToPath(new URL('../.readme-blocks', import.meta.url));

interface Block {
  file: string;
  line: number;
  lang: string;
  code: string;
}

function readmes(): string[] {
  const found = ['README.md', 'benchmarks/README.md'];
  for (const dir of ['packages', 'examples']) {
    for (const name of readdirSync(join(root, dir))) {
      for (const rel of [join(dir, name, 'README.md'), join(dir, name, 'native', 'README.md')]) {
        if (existsSync(join(root, rel))) found.push(rel);
      }
    }
  }
  return found.filter((f) => existsSync(join(root, f)));
}

function blocksOf(file: string): Block[] {
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && l.startsWith('```'));
    blocks.push({ file, line: i + 1, lang: open[1] ?? '', code: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return blocks;
}

const all = readmes().flatMap(blocksOf);
const rootScripts = Object.keys(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts);
const packageScripts = new Map<string, string[]>();
for (const dir of ['packages', 'examples', '.']) {
  const base = dir === '.' ? [join(root, 'benchmarks')] : readdirSync(join(root, dir)).map((n) => join(root, dir, n));
  for (const d of base) {
    const p = join(d, 'package.json');
    if (existsSync(p)) {
      const pkg = JSON.parse(readFileSync(p, 'utf8'));
      packageScripts.set(pkg.name, Object.keys(pkg.scripts ?? {}));
    }
  }
}

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const hasMpirun = spawnSync('mpirun', ['--version']).status === 0;
const mpirunAsRoot = { OMPI_ALLOW_RUN_AS_ROOT: '1', OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: '1', OMPI_MCA_rmaps_base_oversubscribe: '1' };

describe('README code blocks', () => {
  it('finds the blocks (the root README example among them)', () => {
    expect(all.some((b) => b.file === 'README.md' && b.lang === 'js' && b.code.includes("from '@axon/node'"))).toBe(true);
    expect(all.filter((b) => b.lang === 'ts' || b.lang === 'js').length).toBeGreaterThan(8);
  });

  for (const block of all) {
    const name = `${block.file}:${block.line} (${block.lang || 'no language'})`;
    if (block.lang === 'ts' || block.lang === 'js') {
      it(`${name} runs`, () => {
        mkdirSync(scratch, { recursive: true });
        const js = ts.transpileModule(block.code, {
          compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
        }).outputText;
        const script = join(scratch, `${block.file.replaceAll('/', '_')}-${block.line}.mjs`);
        writeFileSync(script, js);
        const cwd = mkdtempSync(join(tmpdir(), 'axon-readme-'));
        try {
          const r = spawnSync(process.execPath, [script], {
            cwd,
            encoding: 'utf8',
            timeout: 110_000,
            env: { ...process.env, AXON_BACKEND: undefined },
          });
          expect(r.status, `${name} exited ${r.status}:\n${r.stdout}\n${r.stderr}`).toBe(0);
        } finally {
          rmSync(cwd, { recursive: true, force: true });
        }
      });
    } else if (block.lang === 'json') {
      it(`${name} parses`, () => {
        expect(() => JSON.parse(block.code)).not.toThrow();
      });
    } else if (block.lang === 'sh') {
      it(`${name} names scripts and files that exist`, () => {
        const syntax = spawnSync('bash', ['-n'], { input: block.code, encoding: 'utf8' });
        expect(syntax.status, syntax.stderr).toBe(0);
        for (const raw of block.code.split('\n')) {
          const line = raw.replace(/#.*$/, '').trim();
          for (const command of line.split('&&').map((c) => c.trim().replace(/^([A-Z_]+=\S+\s+)+/, ''))) {
            const words = command.split(/\s+/);
            if (words[0] === 'pnpm') {
              const filter = words.indexOf('--filter');
              const script = words.find((w, k) => k > 0 && !w.startsWith('-') && words[k - 1] !== '--filter' && w !== 'run');
              if (!script || ['install', 'add', 'i'].includes(script)) continue;
              const known = filter >= 0 ? packageScripts.get(words[filter + 1]!) : rootScripts;
              expect(known, `${name}: no package ${words[filter + 1]}`).toBeDefined();
              expect(known, `${name}: \`${command}\` names no script`).toContain(script);
            } else if (words[0] === 'node' || (words[0] === 'mpirun' && words.includes('node'))) {
              const file = words[words.indexOf('node') + 1]!;
              expect(existsSync(join(root, file)), `${name}: ${file} does not exist (after pnpm build)`).toBe(true);
              if (command.includes('--limit') && (words[0] === 'node' || hasMpirun)) {
                // mpirun refuses root unless told; CI runs as root. One thread per rank.
                const r = spawnSync(words[0]!, words.slice(1), {
                  cwd: root,
                  encoding: 'utf8',
                  timeout: 110_000,
                  env: { ...process.env, ...mpirunAsRoot },
                });
                expect(r.status, `${name}: \`${command}\` exited ${r.status}:\n${r.stdout}\n${r.stderr}`).toBe(0);
              }
            }
          }
        }
      });
    } else if (block.lang !== 'text') {
      it(`${name} has a language this test knows`, () => {
        expect.fail(
          `${name}: a fenced block without js/ts/json/sh is neither run nor checked; give it one (text, for output shown to the reader)`,
        );
      });
    }
  }
});
