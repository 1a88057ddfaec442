/**
 * Crash-safe directory writes. A model directory is written to a temporary
 * sibling `.<name>.tmp-<pid>-<hex>`, every file and the directory fsynced, then
 * renamed into place; an existing directory is first renamed aside to
 * `.<name>.old-<pid>-<hex>` (the same suffix) and removed only after the new one
 * is in place. A crash between the two renames leaves no directory under the
 * target name, so every save and load first runs `recoverInterruptedSave`,
 * which puts the interrupted save's model (new or old) back under the name and
 * removes the leftovers of dead processes. A crash at any step therefore leaves
 * the old model or the new one, never a mix and never nothing.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
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

/** Runs a step whose failure must not be reported as the save's (the new model is already in place). */
function warnOnFailure(what: string, step: () => void): void {
  try {
    step();
  } catch (e) {
    console.warn(`Axon save: could not ${what}: ${(e as Error).message} (the next save or load of this path retries)`);
  }
}

/** A leftover of a save: its temporary directory or the previous model it renamed aside. */
interface SaveLeftover {
  path: string;
  kind: 'tmp' | 'old';
  pid: number;
  /** `<pid>-<hex>`, shared by the tmp and old directories of one save. */
  suffix: string;
}

function saveLeftovers(parent: string, name: string): SaveLeftover[] {
  let entries: string[];
  try {
    entries = readdirSync(parent);
  } catch {
    return []; // no parent directory: nothing was ever saved here
  }
  const prefix = `.${name}.`;
  const leftovers: SaveLeftover[] = [];
  for (const entry of entries) {
    const match = entry.startsWith(prefix) ? /^(tmp|old)-((\d+)-[0-9a-f]{8})$/.exec(entry.slice(prefix.length)) : null;
    if (match) leftovers.push({ path: join(parent, entry), kind: match[1] as 'tmp' | 'old', pid: Number(match[3]), suffix: match[2]! });
  }
  return leftovers;
}

/**
 * Whether another live process may still be using its leftovers (a concurrent save). This
 * process's own ones are never in use: saves are synchronous, so none runs while we recover.
 */
function isOtherLiveProcess(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // alive, owned by another user
  }
}

/**
 * Repairs what an interrupted save (killed, or a power loss) left next to `target`. When the
 * target is missing but a save had renamed the previous model aside, the model is put back: the
 * save's new one when its temporary directory exists (it was complete, fsynced before the
 * rename), else the old one. Then the leftovers of dead processes (and of this one) are removed;
 * those of other live processes are left alone, as their save may be running. Never throws: a
 * step that fails is reported with console.warn and retried by the next save or load.
 * Called by every save and load of a model or weights directory.
 */
export function recoverInterruptedSave(target: string): void {
  const dir = resolve(localPath(target));
  const parent = dirname(dir);
  const leftovers = saveLeftovers(parent, basename(dir)).filter((l) => !isOtherLiveProcess(l.pid));
  if (leftovers.length === 0) return;
  const asideOld = leftovers.filter((l) => l.kind === 'old');
  if (!existsSync(dir) && asideOld.length > 0) {
    warnOnFailure(`restore ${dir} from its interrupted save`, () => {
      const newest = asideOld.reduce((a, b) => (statSync(b.path).ctimeMs > statSync(a.path).ctimeMs ? b : a));
      const complete = leftovers.find((l) => l.kind === 'tmp' && l.suffix === newest.suffix);
      renameSync((complete ?? newest).path, dir);
      fsyncPath(parent);
    });
  }
  // Until a model is back under the name, every copy aside is kept.
  if (!existsSync(dir) && asideOld.some((l) => existsSync(l.path))) return;
  for (const leftover of leftovers) {
    if (existsSync(leftover.path)) warnOnFailure(`remove ${leftover.path}`, () => rmSync(leftover.path, { recursive: true, force: true }));
  }
}

function checkReplaceable(dir: string, marker: string): void {
  if (!existsSync(dir)) return;
  if (!lstatSync(dir).isDirectory()) throw new Error(`Cannot save to ${dir}: it exists and is not a directory`);
  const entries = readdirSync(dir);
  if (entries.length > 0 && !entries.includes(marker)) {
    throw new Error(
      `Cannot save to ${dir}: the directory is not empty and holds no ${marker}, so it is not a saved model; refusing to replace it`,
    );
  }
}

/**
 * Writes `files` as the directory `target`, atomically replacing a previous
 * model there. `marker` is a file name an existing directory must contain to
 * be replaced (so a typo never wipes an unrelated non-empty directory).
 * Model.save uses it; a `file://` prefix is accepted. The leftovers of an
 * interrupted earlier save are repaired first (`recoverInterruptedSave`).
 * Once the new directory is in place the call succeeds: an old copy that cannot
 * be removed is left (with a warning) for the next save to remove.
 *
 * @throws Error if target exists and is not a directory, or is a non-empty directory without
 *   `marker`, or a file system operation fails before the new directory is in place (the old one
 *   then stays, and the temporary directory is removed).
 */
export function writeDirectoryAtomically(target: string, files: readonly OutputFile[], marker: string): void {
  const dir = resolve(localPath(target));
  const parent = dirname(dir);
  const name = basename(dir);
  mkdirSync(parent, { recursive: true });
  recoverInterruptedSave(dir);
  checkReplaceable(dir, marker);
  const suffix = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const temp = join(parent, `.${name}.tmp-${suffix}`);
  const old = existsSync(dir) ? join(parent, `.${name}.old-${suffix}`) : null;
  mkdirSync(temp);
  try {
    for (const file of files) writeFileDurably(join(temp, file.name), file.data);
    fsyncPath(temp);
    if (old) renameSync(dir, old);
    renameSync(temp, dir);
  } catch (e) {
    // Roll back: the old model back under its name (if this fails, recoverInterruptedSave will).
    if (old && existsSync(old) && !existsSync(dir)) warnOnFailure(`move ${old} back to ${dir}`, () => renameSync(old, dir));
    warnOnFailure(`remove ${temp}`, () => rmSync(temp, { recursive: true, force: true }));
    throw e;
  }
  // The new model is in place: from here on, nothing may report the save as failed.
  warnOnFailure(`fsync ${parent}`, () => fsyncPath(parent));
  if (old) warnOnFailure(`remove the previous model ${old}`, () => rmSync(old, { recursive: true, force: true }));
}
