/**
 * The frozen copy of a hook's arguments that a background hook receives, so that it can read what the run saw when
 * its phase ended but can change nothing the run (or a later run) uses.
 *
 * Copy rules, applied recursively (one snapshot preserves shared references and cycles):
 * - primitives: as they are;
 * - plain objects (prototype `Object.prototype` or `null`) and arrays: copied and frozen (own enumerable keys;
 *   getters are read once and become data; values under symbol keys are shared, not copied: run data is JSON);
 *   one that is already frozen all the way down (a finished run in `session.runs`) is shared, as it cannot change;
 * - `Map` and `Set`: copied (keys and values by these rules) into a `Map`/`Set` whose mutators throw;
 * - `Date`, `RegExp`, typed arrays, `ArrayBuffer`, `DataView`: copied, not frozen (the engine cannot freeze their
 *   contents), so a hook editing one edits only its own copy;
 * - anything else — functions, class instances (private fields cannot be copied, and a method-less copy would break
 *   `instanceof` and the methods), promises, errors, `AbortSignal`, `WeakMap`: passed **by reference and not
 *   frozen** (freezing would change the live object under the run).
 * `agent` and `dependencies` are always by reference: they are services, not run data.
 * Cost: proportional to the data copied, session history (`session.runs`) included; the engine takes one
 * snapshot per phase and shares it between that phase's background hooks.
 */
import type { HookArgs, PostHookArgs, PreHookArgs, RunContext } from '../types.ts';

/**
 * Originals → copies, so shared references and cycles survive. A snapshot usually meets a dozen objects: two
 * arrays and indexOf beat a Map there (no identity hashes to create); past 32 entries it switches to a Map.
 */
class Seen {
  private readonly originals: object[] = [];
  private readonly copies: unknown[] = [];
  private map: Map<object, unknown> | undefined;

  get(original: object): unknown {
    if (this.map !== undefined) return this.map.get(original);
    const i = this.originals.indexOf(original);
    return i < 0 ? undefined : this.copies[i];
  }

  set(original: object, copy: unknown): void {
    if (this.map !== undefined) {
      this.map.set(original, copy);
      return;
    }
    this.originals.push(original);
    this.copies.push(copy);
    if (this.originals.length > 32) this.map = new Map(this.originals.map((o, i) => [o, this.copies[i]]));
  }
}

export function snapshotArgs(args: PreHookArgs): PreHookArgs;
export function snapshotArgs(args: PostHookArgs): PostHookArgs;
export function snapshotArgs(args: HookArgs): HookArgs;
export function snapshotArgs(args: HookArgs): HookArgs {
  const seen = new Seen();
  // `agent` and `dependencies` may also be reachable from run data; seeding keeps them by reference there too.
  seen.set(args.agent, args.agent);
  if (isObject(args.dependencies)) seen.set(args.dependencies, args.dependencies);
  const snapshot = {
    phase: args.phase,
    runInput: copy(args.runInput, seen),
    agent: args.agent,
    session: copy(args.session, seen),
    sessionState: copy(args.sessionState, seen),
    dependencies: args.dependencies,
    metadata: copy(args.metadata, seen),
    userId: args.userId,
    debugMode: args.debugMode,
    signal: args.signal,
    runContext: contextView(args.runContext, seen),
  } as HookArgs;
  if (args.phase === 'post') (snapshot as PostHookArgs).runOutput = copy(args.runOutput, seen);
  return Object.freeze(snapshot);
}

/** A frozen copy of a value under the rules above; exported for executors that snapshot other data. */
export function frozenCopy<T>(value: T): T {
  return copy(value, new Seen());
}

/**
 * The run context as a frozen copy: its data (input, output, session, sessionState, the per-run `state`, metadata,
 * and fields that middleware added; the engine's own state is under a symbol and not copied) copied by the same
 * rules and sharing identity with the arguments (`runContext.sessionState === sessionState`); `agent`, `dependencies` and `signal` by reference.
 * The signal never fires for a background hook: only runs that succeeded flush their jobs, after the run ended.
 */
function contextView(ctx: RunContext, seen: Seen): RunContext {
  const existing = seen.get(ctx);
  if (existing !== undefined) return existing as RunContext;
  const view: Record<string, unknown> = {};
  seen.set(ctx, view);
  view.runId = ctx.runId;
  view.input = copy(ctx.input, seen);
  view.output = copy(ctx.output, seen);
  view.session = copy(ctx.session, seen);
  view.sessionState = copy(ctx.sessionState, seen);
  view.state = copy(ctx.state, seen);
  view.metadata = copy(ctx.metadata, seen);
  view.userId = ctx.userId;
  view.debugMode = ctx.debugMode;
  // Fields that middleware added (for-in skips symbol keys, where the engine keeps its own state).
  for (const key in ctx) {
    if (!CONTEXT_KEYS.has(key)) view[key] = copy((ctx as unknown as Record<string, unknown>)[key], seen);
  }
  view.agent = ctx.agent;
  view.dependencies = ctx.dependencies;
  view.signal = ctx.signal;
  return Object.freeze(view) as unknown as RunContext;
}

const CONTEXT_KEYS = new Set([
  'runId',
  'input',
  'output',
  'session',
  'sessionState',
  'state',
  'metadata',
  'userId',
  'debugMode',
  'agent',
  'dependencies',
  'signal',
]);

function copy<T>(value: T, seen: Seen): T {
  if (value === null || typeof value !== 'object') return value;
  const known = seen.get(value);
  if (known !== undefined) return known as T;
  if (Object.isFrozen(value) && isDeepFrozen(value)) return value;
  if (Array.isArray(value)) {
    const out: unknown[] = value.slice();
    seen.set(value, out);
    for (let i = 0; i < out.length; i++) {
      const item = out[i];
      if (item !== null && typeof item === 'object') out[i] = copy(item, seen);
    }
    return Object.freeze(out) as T;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return copyBuiltin(value, seen);
  // Spread then for-in: V8 clones an unfrozen shape in one step, ~2× cheaper than copying key by key.
  const source = value as Record<string, unknown>;
  const out: Record<string, unknown> =
    proto === null ? Object.assign(Object.create(null) as Record<string, unknown>, source) : { ...source };
  seen.set(value, out);
  for (const key in out) {
    const item = out[key];
    if (item !== null && typeof item === 'object') out[key] = copy(item, seen);
  }
  return Object.freeze(out) as T;
}

/**
 * Plain objects and arrays that are frozen all the way down cannot change, so they are shared instead of copied:
 * finished runs in `session.runs` are such records. Verified roots are remembered (one WeakSet entry per record,
 * not per node, to keep the GC's weak-table work small).
 */
const verifiedDeepFrozen = new WeakSet<object>();

function isDeepFrozen(root: object): boolean {
  if (verifiedDeepFrozen.has(root)) return true;
  if (!walkFrozen(root, 0)) return false;
  verifiedDeepFrozen.add(root);
  return true;
}

function walkFrozen(node: object, depth: number): boolean {
  // Deeper than any run record (or a frozen cycle): give up and copy; the copy handles cycles, this walk need not.
  if (depth > 64 || !Object.isFrozen(node)) return false;
  if (depth > 0 && verifiedDeepFrozen.has(node)) return true;
  const proto: unknown = Object.getPrototypeOf(node);
  // A frozen Map, Date or class instance still has mutable internals.
  if (!Array.isArray(node) && proto !== Object.prototype && proto !== null) return false;
  for (const key in node) {
    const child = (node as Record<string, unknown>)[key];
    if (child !== null && typeof child === 'object' && !walkFrozen(child, depth + 1)) return false;
  }
  return true;
}

function copyBuiltin<T extends object>(value: T, seen: Seen): T {
  let out: unknown = value;
  if (value instanceof Map) {
    const map = new ReadonlyMap();
    seen.set(value, map);
    for (const [k, v] of value) Map.prototype.set.call(map, copy(k, seen), copy(v, seen));
    out = Object.freeze(map);
  } else if (value instanceof Set) {
    const set = new ReadonlySet();
    seen.set(value, set);
    for (const v of value) Set.prototype.add.call(set, copy(v, seen));
    out = Object.freeze(set);
  } else if (value instanceof Date) {
    out = new Date(value.getTime());
  } else if (value instanceof RegExp) {
    out = new RegExp(value.source, value.flags);
  } else if (value instanceof DataView) {
    out = new DataView(value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength));
  } else if (ArrayBuffer.isView(value)) {
    // %TypedArray%.prototype.slice always copies; Buffer#slice would return a view onto the live bytes.
    out = typedArraySlice.call(value);
  } else if (value instanceof ArrayBuffer) {
    out = value.slice(0);
  }
  // By reference (the default above): a class instance or other live object we must not copy or freeze.
  seen.set(value, out);
  return out as T;
}

const typedArraySlice = (Object.getPrototypeOf(Uint8Array.prototype) as Uint8Array).slice;

function readOnly(what: string): never {
  throw new TypeError(`${what}: a background hook's arguments are a frozen snapshot; copy the collection to change it`);
}

class ReadonlyMap<K, V> extends Map<K, V> {
  override set(): this {
    return readOnly('Map#set');
  }
  override delete(): boolean {
    return readOnly('Map#delete');
  }
  override clear(): void {
    readOnly('Map#clear');
  }
}

class ReadonlySet<T> extends Set<T> {
  override add(): this {
    return readOnly('Set#add');
  }
  override delete(): boolean {
    return readOnly('Set#delete');
  }
  override clear(): void {
    readOnly('Set#clear');
  }
}

function isObject(value: unknown): value is object {
  return (value !== null && typeof value === 'object') || typeof value === 'function';
}
