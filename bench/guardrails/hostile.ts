/**
 * Hostile inputs for the PII and injection scanners, shared by the bench (speed) and the specs (the scan must
 * finish, with the right findings, at any size). Each maker returns about `size` characters; `cards` is how many
 * card numbers a correct scan finds in it (all other entities: none).
 */
export interface HostileInput {
  readonly make: (size: number) => string;
  readonly cards?: (size: number) => number;
  /** Checked by the injection guardrail rather than the PII one. */
  readonly injection?: boolean;
}

export const HOSTILE: Readonly<Record<string, HostileInput>> = {
  'one digit run': { make: (n) => '4'.repeat(n) },
  'digits and single spaces': { make: (n) => '1 '.repeat(n / 2) },
  'digits and dashes (card-like)': { make: (n) => '4111-1111-1111-111 '.repeat(n / 19) },
  'digit pairs and dashes (12-12-…)': { make: (n) => '12-'.repeat(n / 3) },
  'card groups': { make: (n) => '4111 1111 1111 1111 '.repeat(n / 20), cards: (n) => Math.floor(n / 20) },
  'digits and zero-width spaces': { make: (n) => '4\u200b'.repeat(n / 2) },
  'digits and line breaks': { make: (n) => '1\r\n'.repeat(n / 3) },
  'digits and 17-unit invisible gaps': { make: (n) => `4${'\u200b'.repeat(17)}`.repeat(n / 18) },
  '@ floods': { make: (n) => 'a@'.repeat(n / 2) },
  '64-char local parts': { make: (n) => `${'a'.repeat(64)}@`.repeat(n / 65) },
  'long domain runs': { make: (n) => `x@${'a.'.repeat(200)} `.repeat(n / 403) },
  'colons (IPv6-like)': { make: (n) => 'a:'.repeat(n / 2) },
  'dotted numbers': { make: (n) => '1.'.repeat(n / 2) },
  '+ prefixes': { make: (n) => '+1 '.repeat(n / 3) },
  'IBAN starts': { make: (n) => 'GB82 '.repeat(n / 5) },
  'injection word floods': { make: (n) => 'ignore all the previous '.repeat(n / 24), injection: true },
};
