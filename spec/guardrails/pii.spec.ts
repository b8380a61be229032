import { describe, expect, it } from 'vitest';
import { CheckTrigger, HookchainConfigError, InputCheckError, OutputCheckError } from '../../lib/errors.ts';
import { PIIDetectionGuardrail } from '../../lib/guardrails/pii.ts';
import type { ChatMessage } from '../../lib/types.ts';
import { contentOf, postArgs, preArgs } from './helpers.ts';

const detect = new PIIDetectionGuardrail();
const types = (text: string) => detect.scan(text).map((f) => f.type);
const values = (text: string) => detect.scan(text).map((f) => text.slice(f.start, f.end));

function masked(text: string, options: ConstructorParameters<typeof PIIDetectionGuardrail>[0] = {}): unknown {
  const args = preArgs(text);
  new PIIDetectionGuardrail({ maskPii: true, ...options }).check(args);
  return contentOf(args);
}

describe('PIIDetectionGuardrail entities', () => {
  it('SSN: dashes, dots and spaces; the SSA never-issued ranges are not SSNs', () => {
    expect(values('ssn 078-05-1123, 078.05.1123 and 078 05 1123')).toEqual(['078-05-1123', '078.05.1123', '078 05 1123']);
    for (const bad of [
      '000-12-3456',
      '666-12-3456',
      '900-12-3456',
      '999-12-3456',
      '123-00-4567',
      '123-45-0000',
      '693-09.4444',
      '1123-45-67890',
    ]) {
      expect(types(`id ${bad} end`), bad).toEqual([]);
    }
  });

  it('cards: Luhn-checked, 13–19 digits, spaces or dashes, found inside longer digit runs', () => {
    expect(values('4111 1111 1111 1111 / 4111-1111-1111-1111 / 4111111111111111')).toEqual([
      '4111 1111 1111 1111',
      '4111-1111-1111-1111',
      '4111111111111111',
    ]);
    expect(values('amex 371449635398431, diners 30569309025904, 19 digits 4131034282458809939')).toEqual([
      '371449635398431',
      '30569309025904',
      '4131034282458809939',
    ]);
    expect(values('ref 0004111111111111111 end')).toEqual(['4111111111111111']);
    expect(values('4111 1111 1111 1111 2024')).toEqual(['4111 1111 1111 1111']);
    expect(values('4012888888881881 4012-8888-8888-1881 4012 8888 8888 1881')).toEqual([
      '4012888888881881',
      '4012-8888-8888-1881',
      '4012 8888 8888 1881',
    ]);
    for (const bad of [
      '4111 1111 1111 1112',
      '4012-8888-8888-1882',
      '36168002586008',
      '1748503543012',
      '4111-1111 1111-1111',
      '7111111111111114',
    ]) {
      expect(types(`card ${bad}`), bad).not.toContain('CREDIT_CARD');
    }
  });

  it('email: plain, subaddressed, punycode; a trailing full stop is not part of it', () => {
    expect(values('write to Jane.Roe+tag@mail.example.co.uk.')).toEqual(['Jane.Roe+tag@mail.example.co.uk']);
    expect(values('a@xn--d1acufc.xn--p1ai')).toEqual(['a@xn--d1acufc.xn--p1ai']);
    for (const bad of ['info@presidio.', 'hello-world here', 'user@localhost', '@example.com', `${'a'.repeat(65)}@example.com`, 'a@b.c']) {
      expect(types(bad), bad).toEqual([]);
    }
  });

  it("phone: Agno's four US forms, parentheses, +1, extensions and international numbers", () => {
    const forms = [
      '555-123-4567',
      '555.987.6543',
      '5551234567',
      '555 123 4567',
      '(555) 123-4567',
      '+1 415 555 0132',
      '1-800-555-0199',
      '345-899-3560x4587',
    ];
    for (const form of forms) expect(values(`call ${form} now`), form).toEqual([form]);
    for (const intl of [
      '+44 20 7946 0958',
      '+33 1 42 68 53 00',
      '+55 11 98456 5666',
      '+49 30 1234567',
      '+46 (0)8 928 571 38',
      '0044 20 7946 0958',
    ]) {
      expect(values(`call ${intl} now`), intl).toEqual([intl]);
    }
    expect(values('+44 20 7946 0958 2024')).toEqual(['+44 20 7946 0958']);
    for (const bad of ['555-123-45678', '12-555-123-4567', 'ab5551234567', '+999 1234', '+12345', 'v1.555.123.4567.2']) {
      expect(types(bad), bad).not.toContain('PHONE');
    }
  });

  it('IP addresses: IPv4 with CIDR, IPv6 in every form; versions, times and code are not addresses', () => {
    const good = [
      '192.168.0.1',
      '10.0.0.0/8',
      '0.0.0.0',
      '2001:db8::1',
      '::1',
      'fe80::1%eth0',
      '::ffff:192.0.2.1',
      '2001:0db8:85a3:0000:0000:8a2e:0370:7334',
      '0:0:0:0:0:FFFF:129.144.52.38',
      '2001:db8::/32',
    ];
    for (const ip of good) expect(values(`addr ${ip} ok`), ip).toEqual([ip]);
    expect(values('IP: 192.168.1.1. Next')).toEqual(['192.168.1.1']);
    const bad = [
      '256.1.1.1',
      '192.168.1',
      '1.2.3.4.5',
      '03.93.92.16',
      'std::cout',
      'Time 12:34:56',
      'aa:bb:cc:dd:ee:ff',
      '2001::db8::1',
      'fe80::1text',
      'text192.168.1.1',
      '::',
    ];
    for (const b of bad) expect(types(b), b).toEqual([]);
  });

  it('IBAN: country length and mod-97 checked, grouped or compact, any case', () => {
    expect(values('pay GB82 WEST 1234 5698 7654 32 today')).toEqual(['GB82 WEST 1234 5698 7654 32']);
    expect(values('DE89370400440532013000 and gb42nawi04454264788619')).toEqual(['DE89370400440532013000', 'gb42nawi04454264788619']);
    for (const bad of ['GB82 WEST 1234 5698 7654 33', 'GB82WEST123456987654', 'XX82WEST12345698765432', 'DE89370400440532013000X']) {
      expect(types(bad), bad).toEqual([]);
    }
  });

  it('clean text passes untouched', () => {
    const text = 'I ordered 3 items on 2024-03-05 at 10:45 for $12.99, version 1.2.3, see section 4.1.';
    expect(types(text)).toEqual([]);
    const args = preArgs(text);
    detect.check(args);
    expect(contentOf(args)).toBe(text);
  });
});

describe('PIIDetectionGuardrail verdicts', () => {
  it('detect mode on input: InputCheckError PII_DETECTED with every type and where, never the value', () => {
    const text = 'SSN 123-45-6789, card 4111 1111 1111 1111, mail a@b.io, phone 555-123-4567, ip 10.0.0.1, iban DE89370400440532013000';
    let error: unknown;
    try {
      detect.check(preArgs(text));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InputCheckError);
    const err = error as InputCheckError;
    expect(err.checkTrigger).toBe(CheckTrigger.PII_DETECTED);
    expect(err.additionalData!['detectedPii']).toEqual(['SSN', 'CREDIT_CARD', 'EMAIL', 'PHONE', 'IP_ADDRESS', 'IBAN']);
    expect(err.additionalData!['findings']).toEqual(expect.arrayContaining([{ type: 'SSN', start: 4, end: 15 }]));
    const payload = JSON.stringify(err.additionalData) + err.message;
    for (const secret of ['123-45-6789', '4111', 'a@b.io', '555-123-4567', '10.0.0.1', 'DE89']) expect(payload).not.toContain(secret);
  });

  it('as a post-hook it checks the output and throws OutputCheckError', () => {
    expect(() => detect.check(postArgs('your card is 4111111111111111'))).toThrow(OutputCheckError);
    expect(() => detect.check(postArgs('all fine'))).not.toThrow();
    expect(() => detect.check(postArgs(undefined))).not.toThrow();
  });

  it('message arrays: findings name the message and part', () => {
    const messages: ChatMessage[] = [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'hi' },
          { type: 'text', text: 'mail me: x@y.org' },
        ],
      },
    ];
    try {
      detect.check(preArgs(messages));
      expect.unreachable();
    } catch (e) {
      expect((e as InputCheckError).additionalData!['findings']).toEqual([
        { type: 'EMAIL', start: 9, end: 16, messageIndex: 0, partIndex: 1 },
      ]);
    }
  });

  it('checks every message of the input, system and developer too, and any part with a text field (issue #9)', () => {
    const inputs: unknown[][] = [
      [{ role: 'system', content: 'card 4111 1111 1111 1111' }],
      [{ role: 'developer', content: [{ type: 'text', text: 'card 4111 1111 1111 1111' }] }],
      [{ role: 'user', content: [{ type: 'input_text', text: 'card 4111 1111 1111 1111' }] }],
      [
        {
          role: 'user',
          content: [
            { type: 'image_url', image_url: { url: 'x' } },
            { type: 'output_text', text: 'card 4111 1111 1111 1111' },
          ],
        },
      ],
    ];
    for (const messages of inputs) {
      const error = verdictOf(() => detect.check(preArgs(messages as ChatMessage[])));
      expect(error, JSON.stringify(messages)).toBeInstanceOf(InputCheckError);
      expect(error.additionalData!['detectedPii']).toEqual(['CREDIT_CARD']);
    }
  });
});

function verdictOf(run: () => void): InputCheckError {
  try {
    run();
  } catch (e) {
    return e as InputCheckError;
  }
  throw new Error('expected a verdict');
}

describe('PIIDetectionGuardrail masking', () => {
  it('replaces each value with the same number of asterisks, in one pass', () => {
    expect(masked('SSN 123-45-6789, card 4111-1111-1111-1111, mail jo@ex.com, call (555) 123-4567.')).toBe(
      'SSN ***********, card *******************, mail *********, call **************.',
    );
  });

  it('typed placeholders on request', () => {
    expect(masked('mail jo@ex.com or call +44 20 7946 0958, ip 2001:db8::1', { mask: 'placeholder' })).toBe(
      'mail <EMAIL> or call <PHONE>, ip <IP_ADDRESS>',
    );
  });

  it('keeps the shape of chat messages: roles, names, image parts and unchanged objects stay as they were', () => {
    const image = { type: 'image_url' as const, image_url: { url: 'https://img.example/4111111111111111.png' } };
    const system: ChatMessage = { role: 'system', content: 'Escalate to 555-123-4567' };
    const user: ChatMessage = { role: 'user', name: 'jo', content: [{ type: 'text', text: 'card 4111111111111111' }, image] };
    const other = { type: 'input_text', text: 'iban DE89370400440532013000', cache: true };
    const history: ChatMessage = {
      role: 'assistant',
      content: ['Noted: jo@ex.com', other].map((p) => (typeof p === 'string' ? { type: 'text', text: p } : p)) as never,
    };
    const messages = [system, user, history];
    const args = preArgs(messages);
    new PIIDetectionGuardrail({ maskPii: true }).check(args);
    expect(contentOf(args)).toBe(messages);
    expect(messages).toEqual([
      { role: 'system', content: 'Escalate to ************' },
      { role: 'user', name: 'jo', content: [{ type: 'text', text: 'card ****************' }, image] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Noted: *********' },
          { type: 'input_text', text: 'iban **********************', cache: true },
        ],
      },
    ]);
    expect(messages[1]!.content[1]).toBe(image);
    expect(messages[2]!.content[1]).toBe(other);
  });

  it('masks output as a post-hook', () => {
    const args = postArgs('reach me at jo@ex.com');
    new PIIDetectionGuardrail({ maskPii: true }).check(args);
    expect(contentOf(args)).toBe('reach me at *********');
  });

  it('entities limits what is looked for', () => {
    expect(masked('jo@ex.com 555-123-4567', { entities: ['EMAIL'] })).toBe('********* 555-123-4567');
  });
});

describe('PIIDetectionGuardrail custom patterns', () => {
  it('accepts strings and RegExps, mixed, with no false positives', () => {
    const g = new PIIDetectionGuardrail({ customPatterns: { EMPLOYEE_ID: 'EMP-\\d{6}', TICKET: /tkt_[a-z0-9]{8}/i } });
    expect(g.scan('by EMP-123456 re TKT_ab12cd34').map((f) => f.type)).toEqual(['EMPLOYEE_ID', 'TICKET']);
    expect(g.scan('EMP-12345 and tkt_short')).toEqual([]);
    expect(() => g.check(preArgs('EMP-000001'))).toThrow(
      expect.objectContaining({ additionalData: expect.objectContaining({ detectedPii: ['EMPLOYEE_ID'] }) }),
    );
    expect(masked('id EMP-123456', { customPatterns: { EMPLOYEE_ID: /EMP-\d{6}/ }, mask: 'placeholder' })).toBe('id <EMPLOYEE_ID>');
  });

  it('a RegExp with the y or g flag still finds every match', () => {
    const g = new PIIDetectionGuardrail({ maskPii: true, entities: [], customPatterns: { X: /x\d/y } });
    expect(g['scanner'].mask('x1 x2 x3', 'asterisk')).toBe('** ** **');
  });

  it('fails at construction, naming the pattern, for bad patterns and options', () => {
    const bad: [unknown, RegExp][] = [
      [{ customPatterns: { BROKEN: '([a-z' } }, /customPatterns\["BROKEN"\] is not a valid regular expression/],
      [{ customPatterns: { NUM: 42 } }, /customPatterns\["NUM"\] must be a string or a RegExp, got number/],
      [{ customPatterns: { EMPTY: 'a*' } }, /customPatterns\["EMPTY"\] matches the empty string/],
      [{ customPatterns: { EMAIL: 'x' } }, /reuses a built-in entity name/],
      [{ customPatterns: ['x'] }, /"customPatterns" must be an object/],
      [{ entities: ['NAME'] }, /unknown entity "NAME"/],
      [{ mask: 'hash' }, /option "mask" must be one of "asterisk", "placeholder"/],
      [{ maskPII: true }, /unknown option "maskPII"/],
      [{ entities: [] }, /nothing would be checked/],
    ];
    for (const [options, message] of bad) {
      expect(() => new PIIDetectionGuardrail(options as never)).toThrow(HookchainConfigError);
      expect(() => new PIIDetectionGuardrail(options as never)).toThrow(message);
    }
  });
});

describe('PIIDetectionGuardrail on disguised numbers (issue #9)', () => {
  it('digits split by zero-width characters, line breaks or other spaces are found, spanning the original text', () => {
    const disguised = [
      ['card 4111\u200b1111\u200b1111\u200b1111 end', 'CREDIT_CARD'],
      ['card 4111\n1111\n1111\n1111 end', 'CREDIT_CARD'],
      ['card 4111\r\n1111\r\n1111\r\n1111 end', 'CREDIT_CARD'],
      ['card 4\u200d1\u20601\u00ad1 1111\u00a01111\t1111 end', 'CREDIT_CARD'],
      ['card 4111\u{E0020}1111 \n 1111 1111 end', 'CREDIT_CARD'],
      ['ssn 078-\u200b05-\u200b1123 end', 'SSN'],
      ['ssn 078\n05\n1123 end', 'SSN'],
      ['call 555\n123\n4567 now', 'PHONE'],
      ['call 555\u200b-123\u200b-4567 now', 'PHONE'],
      ['mail jo\u200b@ex\u200b.com now', 'EMAIL'],
    ];
    for (const [text, type] of disguised) {
      const start = text!.indexOf(' ') + 1;
      const end = text!.lastIndexOf(' ');
      expect(detect.scan(text!), JSON.stringify(text)).toEqual([{ type, start, end }]);
      expect(masked(text!), JSON.stringify(text)).toBe(text!.slice(0, start) + '*'.repeat(end - start) + text!.slice(end));
      expect(masked(text!, { mask: 'placeholder' })).toBe(`${text!.slice(0, start)}<${type}>${text!.slice(end)}`);
    }
  });

  it('a gap longer than 16 units still separates, and blank lines between digits stay apart from spaces', () => {
    expect(types(`card 4111${'\u200b'.repeat(17)}1111 1111 1111 end`)).toEqual([]);
    expect(types('card 4111  1111  1111  1111 end')).toEqual([]);
    expect(values('4111 1111 1111 1111\n\nnext: 2024')).toEqual(['4111 1111 1111 1111']);
  });

  it('single line breaks and a long gap in one text: the breaks fold, the long gap still separates', () => {
    // Single-unit breaks fold in place; a long gap in the same text makes the fold start over without that
    // shortcut, and both must give the same findings.
    const text = `call 555\n123\n4567, card 4111${'\u200b'.repeat(17)}1111 1111 1111, ssn 078\t05\t1123 end`;
    expect(types(text)).toEqual(['PHONE', 'SSN']);
    expect(masked(text)).toBe(`call ************, card 4111${'\u200b'.repeat(17)}1111 1111 1111, ssn *********** end`);
  });
});

describe('PIIDetectionGuardrail regions: national phone formats', () => {
  const phones = (regions: string[], text: string) =>
    new PIIDetectionGuardrail({ regions })
      .scan(text)
      .filter((f) => f.type === 'PHONE')
      .map((f) => text.slice(f.start, f.end));

  it('validates the option: an array of regions libphonenumber-js supports, the bad one named', () => {
    expect(new PIIDetectionGuardrail({ regions: ['GB', 'DE'] }).regions).toEqual(['GB', 'DE']);
    expect(new PIIDetectionGuardrail({ regions: [] }).regions).toEqual([]);
    for (const [bad, named] of [
      [['GB', 'XX'], '"XX"'],
      [['gb'], '"gb"'],
      [['GBR'], '"GBR"'],
      [[1], '1'],
    ] as const) {
      expect(() => new PIIDetectionGuardrail({ regions: bad as never }), JSON.stringify(bad)).toThrow(HookchainConfigError);
      expect(() => new PIIDetectionGuardrail({ regions: bad as never })).toThrow(`unsupported region ${named}`);
    }
    expect(() => new PIIDetectionGuardrail({ regions: 'GB' as never })).toThrow(/option "regions" must be an array of ISO 3166/);
  });

  it('defaults to the region of the process locale, or US', () => {
    const locale = new Intl.Locale(Intl.DateTimeFormat().resolvedOptions().locale).region;
    expect(new PIIDetectionGuardrail().regions).toEqual([locale ?? 'US']);
  });

  it('masks a national number with a phone word or phone formatting', () => {
    expect(phones(['GB'], 'Call me on 020 7946 0958 tomorrow')).toEqual(['020 7946 0958']);
    expect(phones(['GB'], 'Mobile: 07911 123456')).toEqual(['07911 123456']);
    expect(phones(['GB'], 'it is (020) 7946 0958')).toEqual(['(020) 7946 0958']);
    expect(phones(['NL'], 'bel 06-10446904 als het kan')).toEqual(['06-10446904']);
    expect(phones(['FR'], 'au 01.42.68.53.00 ou')).toEqual(['01.42.68.53.00']);
    expect(phones(['BE'], 'at 0490 75 40 81')).toEqual(['0490 75 40 81']);
    expect(masked('Phone: 020 7946 0958.', { regions: ['GB'] })).toBe('Phone: *************.');
  });

  it('keeps order numbers, amounts, ids, dates and zip-like digits without phone context out', () => {
    for (const text of [
      'order 20794609 shipped',
      'Order #020 7946 0958',
      'invoice 0207 946 0958',
      'total 1 234 567 units',
      'it costs $ 020 7946 0958',
      'zip 90210',
      'meet on 2024-05-12 10:30',
      'ids 12345678 and 87654321',
      'version 4.10.2',
      'the 5 items at 12 each',
    ]) {
      expect(phones(['GB', 'DE', 'NL', 'FR', 'US'], text), text).toEqual([]);
    }
  });

  it('a number is judged by the regions given: valid in one, not in another', () => {
    expect(phones(['GB'], 'Phone: 020 7946 0958')).toEqual(['020 7946 0958']);
    expect(phones(['FR'], 'Phone: 020 7946 0958')).toEqual([]);
    expect(phones(['FR'], 'Phone: 01 42 68 53 00')).toEqual(['01 42 68 53 00']);
    expect(phones([], 'Phone: 020 7946 0958')).toEqual([]);
    // International numbers do not depend on regions.
    expect(phones([], 'call +44 20 7946 0958 now')).toEqual(['+44 20 7946 0958']);
  });
});
