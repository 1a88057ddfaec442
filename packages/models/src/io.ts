/**
 * Crash-safe directory writes. A model directory is written to a temporary
 * sibling, every file and the directory fsynced, then renamed into place; an
 * existing directory is first renamed aside and removed only after the new
 * one is in place. A crash therefore leaves either the old model, the new
 * one, or (between the two renames) the old one under `.<name>.old-*` —
 * never a half-written model under the target name.
 */
import { closeSync, existsSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';

export interface OutputFile {
  name: string;
  data: Uint8Array | string;
}

/** Strips a tfjs-style `file://` scheme. */
export function localPath(path: string): string {
  if (typeof path !== 'string' || path === '') throw new Error(`Expected a directory path, got ${JSON.stringify(path)}`);
  return path.startsWith('file://') ? path.slice('file://'.length) : path;
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function writeFileDurably(path: string, data: Uint8Array | string): void {
  const fd = openSync(path, 'wx');
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let offset = 0;
    while (offset < bytes.byteLength) offset += writeSync(fd, bytes, offset, bytes.byteLength - offset);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes `files` as the directory `target`, atomically replacing a previous
 * model there. `marker` is a file name an existing directory must contain to
 * be replaced (so a typo never wipes an unrelated non-empty directory).
 * Model.save uses it; a `file://` prefix is accepted.
 *
 * @throws Error if target exists and is not a directory, or is a non-empty directory without
 *   `marker`, or a file system operation fails (the temporary directory is then removed).
 */
export function writeDirectoryAtomically(target: string, files: readonly OutputFile[], marker: string): void {
  const dir = resolve(localPath(target));
  const parent = dirname(dir);
  const name = basename(dir);
  mkdirSync(parent, { recursive: true });
  if (existsSync(dir)) {
    const stat = lstatSync(dir);
    if (!stat.isDirectory()) throw new Error(`Cannot save to ${dir}: it exists and is not a directory`);
    const entries = readdirSync(dir);
    if (entries.length > 0 && !entries.includes(marker)) {
      throw new Error(
        `Cannot save to ${dir}: the directory is not empty and holds no ${marker}, so it is not a saved model; refusing to replace it`,
      );
    }
  }
  const suffix = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const temp = join(parent, `.${name}.tmp-${suffix}`);
  mkdirSync(temp);
  try {
    for (const file of files) writeFileDurably(join(temp, file.name), file.data);
    fsyncPath(temp);
  } catch (e) {
    rmSync(temp, { recursive: true, force: true });
    throw e;
  }
  let old: string | null = null;
  if (existsSync(dir)) {
    old = join(parent, `.${name}.old-${suffix}`);
    renameSync(dir, old);
  }
  try {
    renameSync(temp, dir);
  } catch (e) {
    if (old) renameSync(old, dir);
    rmSync(temp, { recursive: true, force: true });
    throw e;
  }
  fsyncPath(parent);
  if (old) rmSync(old, { recursive: true, force: true });
}
