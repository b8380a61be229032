/**
 * What a session may hold: exactly what JSON stores and reads back unchanged. Every store checks with this before
 * it writes, so all stores refuse the same values with the same error, and the memory store never keeps what SQLite
 * (or any JSON store) would lose or change. The run engine calls `assertStorable` right after the pre-hooks, before
 * the model is paid for.
 *
 * Refused, with `SessionStoreError` `UNSERIALIZABLE` naming the JSON path: cycles; nesting deeper than
 * `MAX_STORABLE_DEPTH`; functions, Symbols, BigInts; NaN and ±Infinity (JSON writes null);
 * `undefined` or a hole in an array (JSON writes null); any object that is not a plain object or an array — Date
 * (JSON writes a string), Map and Set (JSON writes {}), class instances (JSON drops the class).
 * Allowed and normalised as JSON does: a property whose value is `undefined` is left out (it reads back as
 * `undefined` either way); so are properties keyed by a Symbol (not data; finding them would cost more than the
 * rest of the check); an object reached twice is stored twice (identity is not kept).
 *
 * The walk is iterative (no recursion to overflow) and visits each place JSON would write once, so it costs about
 * what `JSON.stringify` costs (≈ 1.3×; about 2 µs for a dozen values). `MAX_STORABLE_VALUES` bounds it, so a few
 * shared arrays that JSON would expand exponentially fail fast instead of hanging the process.
 */
import { SessionStoreError } from './errors.ts';

/** Objects and arrays nested inside each other, the outermost counting 1. Far beyond real state; far below a stack overflow. */
export const MAX_STORABLE_DEPTH = 1_000;
/** Values written (every object, array and primitive, a shared one once per place). */
export const MAX_STORABLE_VALUES = 1_000_000;

const FIX = 'Keep only JSON data in a session: strings, finite numbers, booleans, null, arrays and plain objects';

/**
 * Throws `SessionStoreError` (`UNSERIALIZABLE`, with `sessionId` and `jsonPath`) when `value` cannot be stored as JSON
 * and read back unchanged; `path` names the value in the message, e.g. `'sessionState'`.
 *
 * @example
 * assertStorable(session.sessionState, 'sessionState', session.sessionId);
 */
export function assertStorable(value: unknown, path: string, sessionId?: string): void {
  walk(value, path, sessionId, false);
}

/** A copy of `value` as JSON would read it back, after the same checks, in the same one pass. */
export function storableCopy<T>(value: T, path: string, sessionId?: string): T {
  return walk(value, path, sessionId, true) as T;
}

/**
 * A copy of data that passed the check (a store's own kept state): plain objects, arrays and primitives only, at
 * most MAX_STORABLE_DEPTH deep, so recursion is safe here and cheaper than the checking walk.
 */
export function copyStoredData<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(copyStoredData) as T;
  const out: Container = {};
  for (const key of Object.keys(value)) {
    const child = copyStoredData((value as Container)[key]);
    if (key === '__proto__') Object.defineProperty(out, key, { value: child, enumerable: true, writable: true, configurable: true });
    else out[key] = child;
  }
  return out as T;
}

type Key = string | number;
type Container = Record<Key, unknown>;

function walk(root: unknown, rootPath: string, sessionId: string | undefined, copying: boolean): unknown {
  if (root === null || typeof root !== 'object') {
    const problem = primitiveProblem(root);
    return problem === undefined ? root : fail(rootPath, [], sessionId, problem);
  }
  // Containers still to visit, as parallel arrays (no object per entry); `into` is the copy to fill. Primitives
  // are checked (and copied) where they are found, so only objects and arrays go through the stack.
  const values: object[] = [root];
  const keys: Key[] = [''];
  const depths: number[] = [0];
  const into: (Container | undefined)[] = [undefined];
  // The containers around the current one (outermost first) and the keys leading to it; trail[d] is valid for d
  // below the current depth (deeper entries are stale, never read). A Set of `around` only once it is long.
  const around: object[] = [];
  let inside: Set<object> | undefined;
  const trail: Key[] = [];
  let result: unknown;
  let count = 1; // values met so far: the root, then each container's children as it is opened
  while (values.length > 0) {
    const value = values.pop()!;
    const key = keys.pop()!;
    const depth = depths.pop()!;
    const target = into.pop();
    while (around.length > depth) {
      const left = around.pop()!;
      inside?.delete(left);
    }
    if (depth > 0) trail[depth - 1] = key;
    if (inside !== undefined ? inside.has(value) : around.includes(value)) {
      fail(
        rootPath,
        trail.slice(0, depth),
        sessionId,
        `it is a cycle (it contains itself: it is ${jsonPath(rootPath, trail.slice(0, around.indexOf(value)))} again); store an id instead of the object`,
      );
    }
    if (depth >= MAX_STORABLE_DEPTH)
      fail(rootPath, trail.slice(0, depth), sessionId, `nesting deeper than ${MAX_STORABLE_DEPTH} levels; flatten it`);
    around.push(value);
    if (inside !== undefined) inside.add(value);
    else if (around.length > 16) inside = new Set(around);
    let out: Container | undefined;
    let names: readonly Key[] | undefined; // undefined for an array: its keys are 0..length-1
    if (Array.isArray(value)) {
      if (copying) out = new Array<unknown>(value.length) as unknown as Container;
    } else {
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) fail(rootPath, trail.slice(0, depth), sessionId, instanceProblem(value));
      if (copying) out = {};
      names = Object.keys(value);
    }
    const size = names === undefined ? (value as unknown[]).length : names.length;
    if ((count += size) > MAX_STORABLE_VALUES) {
      fail(
        rootPath,
        trail.slice(0, depth),
        sessionId,
        `the session holds more than ${MAX_STORABLE_VALUES} values (an object reached twice is written twice)`,
      );
    }
    const start = values.length;
    for (let i = 0; i < size; i++) {
      const childKey = names === undefined ? i : names[i]!;
      const child = (value as Container)[childKey];
      if (child !== null && typeof child === 'object') {
        values.push(child);
        keys.push(childKey);
        depths.push(depth + 1);
        into.push(out);
        if (out !== undefined) put(out, childKey, null); // holds the key's place, so the copy keeps the key order
        continue;
      }
      // A property left undefined is left out, as JSON does; it reads back as undefined all the same.
      if (child === undefined && names !== undefined) continue;
      const problem = primitiveProblem(child);
      if (problem !== undefined) fail(rootPath, [...trail.slice(0, depth), childKey], sessionId, problem);
      if (out !== undefined) put(out, childKey, child);
    }
    // The stack pops the last pushed first: reversed, the children are visited (and reported) in key order.
    reverse(values, start);
    reverse(keys, start);
    reverse(depths, start);
    reverse(into, start);
    if (!copying) continue;
    if (target === undefined) result = out;
    else put(target, key, out);
  }
  return result;
}

function reverse(list: unknown[], from: number): void {
  for (let i = from, j = list.length - 1; i < j; i++, j--) {
    const t = list[i];
    list[i] = list[j];
    list[j] = t;
  }
}

// A "__proto__" key (JSON.parse makes one) must stay data, not replace the copy's prototype.
function put(target: Container, key: Key, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

function primitiveProblem(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'object':
      return undefined; // null
    case 'number':
      return Number.isFinite(value) ? undefined : `it is ${String(value)}, which JSON writes as null; store null or a finite number`;
    case 'undefined':
      return 'it is undefined, which JSON writes as null in an array (or drops); store null, or remove the item';
    case 'bigint':
      return `it is a BigInt (${String(value)}n); store String(value), or Number(value) if it is small enough`;
    case 'symbol':
      return `it is a Symbol (${String(value)}); store a string instead`;
    case 'function':
      return `it is a function${value.name ? ` (${value.name})` : ''}; keep functions in dependencies, not in session data`;
    default:
      return undefined;
  }
}

function instanceProblem(value: object): string {
  if (value instanceof Date) return 'it is a Date, which JSON turns into a string; store date.toISOString() or date.getTime()';
  if (value instanceof Map) return 'it is a Map, which JSON writes as {}; store Object.fromEntries(map) or [...map]';
  if (value instanceof Set) return 'it is a Set, which JSON writes as {}; store [...set]';
  const name = (value.constructor as { name?: unknown } | undefined)?.name;
  return `it is an instance of ${typeof name === 'string' && name !== '' ? name : 'a class'}, which JSON writes without its class or methods; store a plain object`;
}

// Not a closure inside walk(): capturing walk's locals would make every access to them slower.
function fail(rootPath: string, trail: readonly Key[], sessionId: string | undefined, what: string): never {
  const at = jsonPath(rootPath, trail);
  throw new SessionStoreError(
    'UNSERIALIZABLE',
    `${sessionId === undefined ? '' : `session "${sessionId}": `}${shorten(rootPath, trail)} cannot be stored as JSON: ${what}. ${FIX}`,
    {
      ...(sessionId === undefined ? {} : { sessionId }),
      jsonPath: at,
    },
  );
}

/** A path short enough for a message: a value 1,000 levels down is named by its first and last steps. */
function shorten(root: string, trail: readonly Key[]): string {
  if (trail.length <= 12) return jsonPath(root, trail);
  return `${jsonPath(root, trail.slice(0, 6))}…(${trail.length - 9} more)…${jsonPath('', trail.slice(-3))}`;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** `sessionState.cart[3]["my key"]`: how the value is reached in JavaScript. */
function jsonPath(root: string, trail: readonly Key[]): string {
  let path = root;
  for (const key of trail) path += typeof key === 'number' ? `[${key}]` : IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
  return path;
}
