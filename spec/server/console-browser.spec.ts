/**
 * The run console in a real headless browser: Debian's chromium driven by playwright-core (browsers cannot be
 * downloaded here). Loads /console from a live server with auth (the `?key=` exchange), makes a passing run and a
 * blocked one, and asserts what a person sees: the rows and their statuses, the blocking hook, the timeline's bars
 * and their colours, and the trigger label. Screenshots go to spec/.output/console/ (git-ignored).
 *
 * Without chromium the spec is skipped, except under CI=true, where a missing chromium fails it.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { z } from 'zod';
import { Agent, CheckTrigger, InputCheckError, hook, tool, type ChatMessage, type PreHookArgs } from 'hookchain';
import { OfflineModel } from 'hookchain/testing';
import { post, serve } from './kit.ts';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const CI = process.env['CI'] === 'true';
const OUT = new URL('../.output/console/', import.meta.url);
const SECRET = 'my password is hunter2';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function shopAgent(): Agent {
  const getOrder = tool({
    name: 'get_order',
    description: 'Look up an order',
    parameters: z.object({ orderId: z.string() }),
    execute: async ({ orderId }) => (await sleep(15), { orderId, status: 'shipped' }),
  });
  const reply = (messages: ChatMessage[]) => {
    const last = messages.at(-1);
    if (last?.role === 'tool') return 'Order 1001 has shipped.';
    return { content: '', toolCalls: [{ name: 'get_order', arguments: { orderId: '1001' } }] };
  };
  return new Agent({
    name: 'shop',
    model: new OfflineModel({ reply }),
    tools: [getOrder],
    preHooks: [
      hook({ name: 'count_words' })(() => sleep(10)),
      hook({ name: 'flaky_lookup', failOpen: true })(async () => {
        await sleep(10);
        throw new TypeError('lookup service down');
      }),
      hook({ name: 'no_secrets' })(async ({ runInput }: PreHookArgs) => {
        await sleep(10);
        if (String(runInput.inputContent).includes('password')) {
          throw new InputCheckError('secrets are not allowed', { checkTrigger: CheckTrigger.INPUT_NOT_ALLOWED });
        }
      }),
    ],
    postHooks: [hook({ name: 'polite' })(() => sleep(5)), hook({ name: 'audit_log', runInBackground: true })(() => sleep(20))],
  });
}

describe.skipIf(!HAVE_CHROMIUM && !CI)(`the run console in headless chromium (${CHROMIUM})`, () => {
  let browser: Browser;

  beforeAll(async () => {
    if (!HAVE_CHROMIUM) throw new Error(`CI=true and no chromium at ${CHROMIUM}: install it (apt-get install -y chromium)`);
    mkdirSync(OUT, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  }, 60_000);
  afterAll(async () => browser?.close());

  const colourOf = (page: Page, selector: string) =>
    page
      .locator(selector)
      .first()
      .evaluate((node) => node.ownerDocument.defaultView!.getComputedStyle(node).backgroundColor);

  it('lists a passing and a blocked run live, and draws the blocked run and the passing run as coloured bars', async () => {
    const agent = shopAgent();
    const { url } = await serve({ agents: [agent], console: true, apiKeys: { 'sk-ops': { userId: 'ops' } } });
    const page = await browser.newPage({ viewport: { width: 1280, height: 560 } });
    // Without the key the page is refused; with ?key= once, the cookie carries the session.
    expect((await page.goto(`${url}/console`))!.status()).toBe(401);
    expect((await page.goto(`${url}/console?key=sk-ops`))!.status()).toBe(200);
    expect(page.url()).toBe(`${url}/console`);
    await page.locator('#live.on').waitFor({ timeout: 10_000 });
    expect(await page.locator('tr.run').count()).toBe(0);

    // The runs start after the page is open: the list fills in over SSE.
    const auth = { authorization: 'Bearer sk-ops' };
    expect((await post(`${url}/agents/shop/runs`, { input: 'Where is order 1001?' }, auth)).status).toBe(200);
    expect((await post(`${url}/agents/shop/runs`, { input: SECRET }, auth)).status).toBe(400);
    await agent.drain();
    const blockedRow = page.locator('tr.run[data-status="blocked"]');
    const passedRow = page.locator('tr.run[data-status="completed"]');
    await blockedRow.waitFor({ timeout: 10_000 });
    await passedRow.waitFor({ timeout: 10_000 });
    expect(await page.locator('tr.run').count()).toBe(2);
    expect(await blockedRow.locator('.status').textContent()).toBe('blocked');
    expect(await blockedRow.locator('.agent').textContent()).toBe('shop');
    expect(await blockedRow.locator('.blocked-by').textContent()).toBe('no_secrets · input_not_allowed');
    expect(await passedRow.locator('.status').textContent()).toBe('completed');
    expect(await passedRow.locator('.blocked-by').textContent()).toBe('');
    expect(await passedRow.locator('.duration').textContent()).toMatch(/\d+(\.\d+)? (ms|s)$/);
    expect(await colourOf(page, 'tr.run[data-status="blocked"] .status')).toBe('rgb(217, 48, 37)');
    await page.screenshot({ path: new URL('list.png', OUT).pathname });

    // The blocked run: the pre-hooks up to the one that blocked; it is red and labelled with the trigger.
    await blockedRow.click();
    await page.locator('.lane[data-kind="pre_hook"] .bar.blocked').waitFor({ timeout: 10_000 });
    const lanes = async () =>
      page
        .locator('.lane')
        .evaluateAll((nodes) =>
          nodes.map((n) => [
            n.getAttribute('data-kind'),
            n.querySelector('.name')!.lastChild!.textContent,
            n.querySelector('.bar')!.getAttribute('data-outcome'),
          ]),
        );
    expect(await lanes()).toEqual([
      ['run', 'run', 'blocked'],
      ['pre_hook', 'count_words', 'passed'],
      ['pre_hook', 'flaky_lookup', 'failed_open'],
      ['pre_hook', 'no_secrets', 'blocked'],
    ]);
    expect(await colourOf(page, '.bar.blocked')).toBe('rgb(217, 48, 37)');
    expect(await colourOf(page, '.bar.passed')).toBe('rgb(46, 158, 68)');
    expect(await colourOf(page, '.bar.failed_open')).toBe('rgb(242, 169, 0)');
    const trigger = page.locator('.lane[data-kind="pre_hook"] .trigger.blocked');
    expect(await trigger.textContent()).toBe('input_not_allowed');
    expect(await trigger.isVisible()).toBe(true);
    // Readable: in white where it sits on the red bar, in red beside it.
    const bar = (await page.locator('.lane[data-kind="pre_hook"] .bar.blocked').boundingBox())!;
    const label = (await trigger.boundingBox())!;
    expect(bar.width).toBeGreaterThan(2);
    const onBar = label.x < bar.x + bar.width && label.x + label.width > bar.x;
    expect(await trigger.evaluate((node) => node.ownerDocument.defaultView!.getComputedStyle(node).color)).toBe(
      onBar ? 'rgb(255, 255, 255)' : 'rgb(217, 48, 37)',
    );
    await page.screenshot({ path: new URL('blocked-run.png', OUT).pathname });

    // The passing run: hooks, the model twice around the tool call, post-hooks and the background hook after it.
    await passedRow.click();
    await page.locator('.lane[data-kind="background"] .bar.passed').waitFor({ timeout: 10_000 });
    const kinds = (await lanes()).map(([kind, , outcome]) => `${kind}:${outcome}`);
    expect(kinds).toEqual([
      'run:passed',
      'pre_hook:passed',
      'pre_hook:failed_open',
      'pre_hook:passed',
      'model:passed',
      'tool:passed',
      'model:passed',
      'post_hook:passed',
      'background:passed',
    ]);
    expect(await page.locator('.trigger').count()).toBe(0);
    // Bars sit on one time axis: the background hook starts after the run's last post-hook.
    const box = async (kind: string) => (await page.locator(`.lane[data-kind="${kind}"] .bar`).last().boundingBox())!;
    expect((await box('background')).x).toBeGreaterThanOrEqual((await box('post_hook')).x);
    expect((await box('tool')).x).toBeGreaterThan((await box('model')).x - 1000);
    await page.screenshot({ path: new URL('passing-run.png', OUT).pathname });

    // Nothing a person sees quotes the input, the answer or the verdict's message.
    const text = await page.locator('body').innerText();
    for (const secret of ['hunter2', 'Order 1001 has shipped', 'secrets are not allowed', 'lookup service down']) {
      expect(text).not.toContain(secret);
    }
    await page.close();
  }, 60_000);
});
