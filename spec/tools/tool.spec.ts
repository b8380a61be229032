/** tool({ ... }): definitions checked at construction, and parse() as the model's arguments meet the schema. */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { z as zm } from 'zod/mini';
import { HookchainConfigError, tool, type Tool } from 'hookchain';
import { checkToolList, isTool } from '../../lib/tools/tool.ts';

const execute = () => 'ok';
const orderTool = () =>
  tool({
    name: 'get_order',
    description: 'Look up an order by its id',
    parameters: z.object({ orderId: z.string(), qty: z.number().int().min(1).default(1) }),
    execute: ({ orderId, qty }) => ({ orderId, qty }),
  });
const jsonTool = (extra: Record<string, unknown> = {}) =>
  tool({
    name: 'refund',
    description: 'Refund an order',
    parameters: {
      type: 'object',
      properties: { orderId: { type: 'string' }, amount: { type: 'number', minimum: 0 } },
      required: ['orderId', 'amount'],
      additionalProperties: false,
      ...extra,
    },
    execute,
  });

describe('tool() with a zod schema', () => {
  it('exposes the definition, with the JSON Schema of what the model may send (defaults optional, no $schema)', () => {
    const t = orderTool();
    expect(t.name).toBe('get_order');
    expect(t.description).toBe('Look up an order by its id');
    expect(t.requiresApproval).toBe(false);
    expect(t.timeoutMs).toBeUndefined();
    expect(t.jsonSchema).toEqual({
      type: 'object',
      properties: { orderId: { type: 'string' }, qty: { type: 'integer', minimum: 1, default: 1, maximum: Number.MAX_SAFE_INTEGER } },
      required: ['orderId'],
    });
    expect(Object.isFrozen(t)).toBe(true);
    expect(Object.isFrozen(t.jsonSchema['properties'])).toBe(true);
    expect(isTool(t)).toBe(true);
  });

  it('parses valid arguments into the schema output (defaults filled in)', () => {
    expect(orderTool().parse('{"orderId":"A-17"}')).toEqual({ ok: true, args: { orderId: 'A-17', qty: 1 } });
    expect(orderTool().parse('{"orderId":"A-17","qty":3}')).toEqual({ ok: true, args: { orderId: 'A-17', qty: 3 } });
  });

  it('reports invalid JSON naming the tool', () => {
    const result = orderTool().parse('{"orderId": "A-1');
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toMatch(/^Tool "get_order": the arguments are not valid JSON \(.+\); send one JSON object/);
  });

  it('reports every schema mismatch with its path', () => {
    const result = orderTool().parse('{"orderId":17,"qty":0}');
    expect(result.ok).toBe(false);
    const error = !result.ok ? result.error : '';
    expect(error).toMatch(/^Tool "get_order": the arguments do not match the tool's parameters: /);
    expect(error).toMatch(/orderId: Invalid input: expected string, received number/);
    expect(error).toMatch(/qty: Too small/);
  });

  it('treats an empty argument string as {} (some compatible servers send it for a call without arguments)', () => {
    const none = tool({ name: 'now', description: 'The time', parameters: z.object({}), execute });
    expect(none.parse('')).toEqual({ ok: true, args: {} });
    expect(orderTool().parse('')).toMatchObject({ ok: false, error: expect.stringMatching(/orderId: Invalid input/) });
  });

  it('rejects a non-object JSON value and a non-string input without throwing', () => {
    expect(orderTool().parse('[1]')).toMatchObject({ ok: false, error: expect.stringMatching(/expected object, received array/) });
    expect(orderTool().parse(42 as unknown as string)).toEqual({
      ok: false,
      error: 'Tool "get_order": the arguments must be a JSON string, got number 42',
    });
  });

  it('types execute and parse from the schema', () => {
    const t = orderTool();
    const result = t.parse('{"orderId":"x"}');
    if (result.ok) {
      const id: string = result.args.orderId;
      // @ts-expect-error qty is a number
      const wrong: string = result.args.qty;
      expect([id, wrong]).toEqual(['x', 1]);
    }
    const list: Tool[] = [t, jsonTool()];
    expect(list).toHaveLength(2);
  });

  it('accepts a zod/mini schema, converting it through zod core', () => {
    const t = tool({ name: 'mini', description: 'd', parameters: zm.object({ a: zm.string() }), execute });
    expect(t.jsonSchema).toMatchObject({ type: 'object', properties: { a: { type: 'string' } }, required: ['a'] });
    expect(t.parse('{"a":1}')).toMatchObject({ ok: false, error: expect.stringMatching(/a: Invalid input/) });
  });

  it('keeps requiresApproval and timeoutMs as given', () => {
    const check = (args: { orderId: string }) => args.orderId.startsWith('VIP');
    const t = tool({
      name: 'x',
      description: 'd',
      parameters: z.object({ orderId: z.string() }),
      execute,
      requiresApproval: check,
      timeoutMs: 500,
    });
    expect(t.requiresApproval).toBe(check);
    expect(t.timeoutMs).toBe(500);
    expect(tool({ name: 'y', description: 'd', parameters: z.object({}), execute, requiresApproval: true }).requiresApproval).toBe(true);
  });
});

describe('tool() with a JSON Schema', () => {
  it('sends the schema as given and validates with it', () => {
    const t = jsonTool();
    expect(t.jsonSchema).toEqual({
      type: 'object',
      properties: { orderId: { type: 'string' }, amount: { type: 'number', minimum: 0 } },
      required: ['orderId', 'amount'],
      additionalProperties: false,
    });
    expect(t.parse('{"orderId":"A","amount":5}')).toEqual({ ok: true, args: { orderId: 'A', amount: 5 } });
  });

  it('reports all mismatches at once, naming paths and extra properties', () => {
    const result = jsonTool().parse('{"amount":-1,"note":"x"}');
    expect(result.ok).toBe(false);
    const error = !result.ok ? result.error : '';
    expect(error).toMatch(/^Tool "refund": the arguments do not match the tool's parameters: /);
    expect(error).toContain("must have required property 'orderId'");
    expect(error).toContain('must NOT have additional properties ("note")');
    expect(error).toContain('amount: must be >= 0');
  });

  it('reports invalid JSON naming the tool', () => {
    expect(jsonTool().parse('not json')).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^Tool "refund": the arguments are not valid JSON/),
    });
  });

  it('copies the schema: editing the original later changes neither the model schema nor validation', () => {
    const schema = { type: 'object' as const, properties: { a: { type: 'string' } }, required: ['a'] };
    const t = tool({ name: 'copy', description: 'd', parameters: schema, execute });
    schema.required.pop();
    (schema.properties.a as { type: string }).type = 'number';
    expect(t.jsonSchema).toEqual({ type: 'object', properties: { a: { type: 'string' } }, required: ['a'] });
    expect(t.parse('{}').ok).toBe(false);
    expect(t.parse('{"a":1}').ok).toBe(false);
  });

  it('validates a draft 2020-12 schema with the 2020-12 validator, and strips $schema from what the model sees', () => {
    // dependentRequired exists only since 2019-09: a draft-07 validator would ignore it and accept {"a":"x"}.
    const parameters = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object' as const,
      properties: { a: { type: 'string' }, b: { type: 'string' } },
      dependentRequired: { a: ['b'] },
    };
    const t = tool({ name: 'draft', description: 'd', parameters, execute });
    expect(t.jsonSchema).not.toHaveProperty('$schema');
    expect(t.parse('{"a":"x"}')).toMatchObject({
      ok: false,
      error: expect.stringContaining('must have property b when property a is present'),
    });
    expect(t.parse('{"a":"x","b":"y"}').ok).toBe(true);
    const draft7 = tool({ name: 'draft7', description: 'd', parameters: { ...parameters, $schema: undefined }, execute });
    expect(draft7.parse('{"a":"x"}').ok).toBe(true);
  });

  it('lets two tools share an $id (each has its own validator)', () => {
    const a = jsonTool({ $id: 'https://example.com/args' });
    const b = jsonTool({ $id: 'https://example.com/args' });
    expect(a.parse('{"orderId":"A","amount":1}').ok && b.parse('{"orderId":"A","amount":1}').ok).toBe(true);
  });
});

describe('tool() rejects a bad definition at construction', () => {
  const base = { name: 'get_order', description: 'd', parameters: z.object({ a: z.string() }), execute };
  const rows: [string, unknown, RegExp][] = [
    ['not an object', 'get_order', /^tool\(\): options must be an object like \{ name \}, got the string "get_order"/],
    ['missing name', { ...base, name: undefined }, /^tool\(\): option "name" is required; it must be 1 to 64 letters/],
    [
      'name with a space',
      { ...base, name: 'get order' },
      /^tool\("get order"\): option "name" must be 1 to 64 letters, digits, '_' or '-'/,
    ],
    ['name too long', { ...base, name: 'a'.repeat(65) }, /option "name" must be 1 to 64 letters/],
    ['name with a dot', { ...base, name: 'orders.get' }, /option "name" must be/],
    ['empty description', { ...base, description: '  ' }, /^tool\("get_order"\): option "description" must be a non-empty string/],
    [
      'missing execute',
      { ...base, execute: undefined },
      /^tool\("get_order"\): option "execute" is required; it must be a function \(args, \{ runContext, signal, callId \}\)/,
    ],
    ['execute not a function', { ...base, execute: 'run' }, /option "execute" must be a function/],
    ['missing parameters', { ...base, parameters: undefined }, /option "parameters" is required; it must be a zod object schema/],
    [
      'parameters a string',
      { ...base, parameters: 'object' },
      /option "parameters" must be a zod object schema .* or a JSON Schema object/,
    ],
    [
      'zod non-object schema',
      { ...base, parameters: z.string() },
      /option "parameters" must be an object schema such as z\.object.*got a zod string schema/,
    ],
    ['zod array schema', { ...base, parameters: z.array(z.string()) }, /got a zod array schema/],
    [
      'zod schema JSON Schema cannot express',
      { ...base, parameters: z.object({ at: z.date() }) },
      /cannot be expressed as JSON Schema for the model/,
    ],
    [
      'JSON Schema without type object',
      { ...base, parameters: { type: 'array', items: {} } },
      /must be a JSON Schema with type: 'object'.*got type the string "array"/,
    ],
    [
      'JSON Schema with no type',
      { ...base, parameters: { properties: {} } },
      /must be a JSON Schema with type: 'object'.*got type undefined/,
    ],
    [
      'invalid JSON Schema',
      { ...base, parameters: { type: 'object', properties: { a: { type: 'strin' } } } },
      /option "parameters" is not a valid JSON Schema \(.*\); fix the schema/,
    ],
    ['JSON Schema with a function', { ...base, parameters: { type: 'object', default: () => 1 } }, /must be plain JSON data/],
    [
      'requiresApproval a string',
      { ...base, requiresApproval: 'yes' },
      /option "requiresApproval" must be true, false, or a function \(args, runContext\)/,
    ],
    ['timeoutMs zero', { ...base, timeoutMs: 0 }, /option "timeoutMs" must be a whole number of milliseconds/],
    ['timeoutMs fractional', { ...base, timeoutMs: 1.5 }, /option "timeoutMs" must be a whole number/],
    [
      'unknown option',
      { ...base, handler: execute },
      /^tool\("get_order"\): unknown option "handler"; known options are name, description, parameters, execute, requiresApproval, timeoutMs/,
    ],
    [
      'zod 3 style schema',
      { ...base, parameters: { _zod: undefined, safeParse: () => ({}) } },
      /looks like a zod schema but has no safeParse or _zod\.def; pass a zod 4 schema/,
    ],
  ];
  it.each(rows)('%s', (_label, definition, message) => {
    let error: unknown;
    try {
      tool(definition as Parameters<typeof tool>[0]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(HookchainConfigError);
    expect((error as Error).message).toMatch(message);
  });
});

describe('checkToolList', () => {
  it('returns a frozen copy of a valid list, and [] for undefined', () => {
    const tools = [orderTool(), jsonTool()];
    const checked = checkToolList(tools, 'Agent "support"');
    expect(checked).toEqual(tools);
    expect(checked).not.toBe(tools);
    expect(Object.isFrozen(checked)).toBe(true);
    expect(checkToolList(undefined, 'Agent "support"')).toEqual([]);
  });

  it('rejects duplicate names, naming both positions', () => {
    expect(() => checkToolList([orderTool(), jsonTool(), orderTool()], 'Agent "support"')).toThrow(
      new HookchainConfigError(
        'INVALID_OPTION',
        'Agent "support": tools[0] and tools[2] are both named "get_order"; the model calls tools by name, so rename one',
      ),
    );
  });

  it('rejects a non-tool item, even one shaped like a tool', () => {
    const { name, description, jsonSchema, parse } = orderTool();
    const lookalike = { name, description, jsonSchema, parse, execute, requiresApproval: false, timeoutMs: undefined };
    expect(() => checkToolList([orderTool(), lookalike], 'Agent "a"')).toThrow(
      /^Agent "a": tools\[1\] is not a tool \(got an object \(Object\)\); build it with tool\(\{ name, description, parameters, execute \}\)$/,
    );
    expect(() => checkToolList([null], 'Agent "a"')).toThrow(/tools\[0\] is not a tool \(got null\)/);
  });

  it('rejects a list that is not an array', () => {
    expect(() => checkToolList(orderTool(), 'Agent "a"')).toThrow(
      /^Agent "a": option "tools" must be an array of tools built with tool\(\{ \.\.\. \}\), got an object/,
    );
  });

  it('recognises a tool by its Symbol.for brand (another copy of hookchain)', () => {
    const foreign = Object.defineProperty({ name: 'x' }, Symbol.for('hookchain.tool'), { value: true });
    expect(isTool(foreign)).toBe(true);
  });
});
