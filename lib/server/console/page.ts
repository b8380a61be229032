/**
 * The run console's page: one HTML document with its CSS and JS inline (no build step, no dependencies). It lists
 * the recent runs from `/console/events` (SSE) and draws the selected run's timeline from `/console/runs/:runId`.
 * Every value is written with `textContent`, never as HTML.
 */
import { createHash } from 'node:crypto';

/** The page. */
export const CONSOLE_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>hookchain · run console</title>
<style>
  :root { --passed: #2e9e44; --blocked: #d93025; --failed_open: #f2a900; --error: #7f1d1d; --running: #9e9e9e; --shadow: #8e44ad;
    font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328; background: #f6f8fa; }
  body { margin: 0; }
  header { display: flex; gap: 12px; align-items: baseline; padding: 10px 16px; background: #24292f; color: #fff; }
  header h1 { font-size: 16px; margin: 0; }
  header .live { font-size: 12px; color: #8b949e; }
  header .live.on { color: #7ee787; }
  main { display: grid; grid-template-columns: minmax(440px, 1fr) 2fr; gap: 16px; padding: 16px; }
  section { background: #fff; border: 1px solid #d0d7de; border-radius: 6px; padding: 12px; min-width: 0; }
  h2 { font-size: 14px; margin: 0 0 8px; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid #eaeef2; white-space: nowrap; }
  th { font-weight: 600; color: #57606a; font-size: 12px; }
  tr.run { cursor: pointer; }
  tr.run:hover { background: #f3f4f6; }
  tr.run.selected { background: #ddf4ff; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  td.blocked-by { white-space: normal; overflow-wrap: anywhere; }
  .status { display: inline-block; padding: 0 8px; border-radius: 10px; font-size: 12px; color: #fff; background: var(--running); }
  .status.completed, .status.paused { background: var(--passed); }
  .status.blocked { background: var(--blocked); }
  .status.error, .status.cancelled { background: var(--error); }
  .empty { color: #57606a; }
  .timeline { position: relative; }
  .axis, .lane { display: grid; grid-template-columns: 180px 1fr; align-items: center; }
  .axis .scale { position: relative; height: 18px; border-bottom: 1px solid #d0d7de; font-size: 11px; color: #57606a; }
  .axis .tick { position: absolute; bottom: 2px; transform: translateX(-50%); white-space: nowrap; }
  .axis .tick:first-child { transform: none; }
  .axis .tick:last-child { transform: translateX(-100%); }
  .lane { height: 24px; }
  .lane .name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; font-size: 12px; padding-right: 8px; }
  .lane .name .kind { color: #57606a; }
  .lane .track { position: relative; height: 100%; border-left: 1px solid #eaeef2; }
  .bar { position: absolute; top: 4px; height: 16px; min-width: 3px; border-radius: 3px; box-sizing: border-box; }
  .bar.passed { background: var(--passed); }
  .bar.blocked { background: var(--blocked); }
  .bar.failed_open { background: var(--failed_open); }
  .bar.error { background: var(--error); }
  .bar.running { background: var(--running); }
  .bar.shadow { outline: 2px solid var(--shadow); outline-offset: 1px; }
  .trigger { position: absolute; top: 4px; font-size: 11px; line-height: 16px; padding-left: 6px; white-space: nowrap; font-weight: 600; }
  .trigger.blocked { color: var(--blocked); }
  .trigger.shadow { color: var(--shadow); }
  .trigger.inside { color: #fff; transform: translateX(-100%); padding: 0 6px 0 0; }
  .legend { display: flex; gap: 12px; margin-top: 10px; font-size: 12px; color: #57606a; flex-wrap: wrap; }
  .legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; vertical-align: -1px; }
  .meta { font-size: 12px; color: #57606a; margin-bottom: 8px; }
</style>
</head>
<body>
<header><h1>hookchain · run console</h1><span class="live" id="live">connecting…</span></header>
<main>
  <section>
    <h2>Recent runs</h2>
    <table id="runs">
      <thead><tr><th>started</th><th>agent</th><th>status</th><th>duration</th><th>blocked by</th></tr></thead>
      <tbody></tbody>
    </table>
    <p class="empty" id="no-runs">No runs yet.</p>
  </section>
  <section>
    <h2 id="timeline-title">Timeline</h2>
    <div class="meta" id="timeline-meta">Select a run.</div>
    <div class="timeline" id="timeline"></div>
    <div class="legend">
      <span><i style="background:var(--passed)"></i>passed</span><span><i style="background:var(--blocked)"></i>blocked</span>
      <span><i style="background:var(--failed_open)"></i>failed open</span><span><i style="background:var(--error)"></i>error</span>
      <span><i style="background:var(--running)"></i>running</span><span><i style="outline:2px solid var(--shadow)"></i>shadow verdict</span>
    </div>
  </section>
</main>
<script>
(() => {
  const runs = new Map();
  let selected = location.hash.slice(1) || undefined;
  let pending;
  const el = (tag, attrs, text) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  };
  const ms = (v) => (v >= 1000 ? (v / 1000).toFixed(2) + ' s' : (v === 0 ? 0 : v < 10 ? v.toFixed(1) : Math.round(v)) + ' ms');
  const KIND = { run: 'run', pre_hook: 'pre-hook', post_hook: 'post-hook', model: 'model', tool: 'tool', background: 'background' };

  function renderRuns() {
    const body = document.querySelector('#runs tbody');
    const rows = [...runs.values()].sort((a, b) => b.startedAt - a.startedAt);
    body.replaceChildren(...rows.map((r) => {
      const tr = el('tr', { class: 'run' + (r.runId === selected ? ' selected' : ''), 'data-run-id': r.runId, 'data-status': r.status });
      tr.append(el('td', {}, new Date(r.startedAt).toLocaleTimeString([], { hour12: false })), el('td', { class: 'agent' }, r.agentName || r.agentId));
      const status = el('td'); status.append(el('span', { class: 'status ' + r.status }, r.status)); tr.append(status);
      tr.append(el('td', { class: 'num duration' }, r.status === 'running' ? '…' : ms(r.durationMs)));
      const by = r.blockedBy ? [r.blockedBy.hookName, r.blockedBy.checkTrigger].filter(Boolean).join(' · ') : '';
      tr.append(el('td', { class: 'blocked-by' }, by));
      tr.addEventListener('click', () => select(r.runId));
      return tr;
    }));
    document.getElementById('no-runs').hidden = rows.length > 0;
  }

  function select(runId) {
    selected = runId;
    history.replaceState(null, '', '#' + runId);
    renderRuns();
    loadRun();
  }

  async function loadRun() {
    if (selected === undefined) return;
    const runId = selected;
    const res = await fetch('/console/runs/' + encodeURIComponent(runId), { credentials: 'same-origin' });
    if (runId !== selected) return;
    if (!res.ok) { document.getElementById('timeline-meta').textContent = 'This run is no longer recorded.'; document.getElementById('timeline').replaceChildren(); return; }
    renderTimeline(await res.json());
  }

  function renderTimeline(run) {
    document.getElementById('timeline-title').textContent = 'Timeline · ' + (run.agentName || run.agentId);
    const meta = [run.status, ms(run.durationMs), run.runId];
    if (run.dropped > 0) meta.push(run.dropped + ' events not kept');
    document.getElementById('timeline-meta').textContent = meta.join(' · ');
    const end = Math.max(1, run.durationMs, ...run.bars.map((b) => (b.end === null || b.end === undefined ? b.start : b.end)));
    const pct = (v) => (100 * v) / end;
    const axis = el('div', { class: 'axis' }); axis.append(el('div'));
    const scale = el('div', { class: 'scale' });
    for (let i = 0; i <= 4; i++) { const t = el('span', { class: 'tick' }, ms((end * i) / 4)); t.style.left = (25 * i) + '%'; scale.append(t); }
    axis.append(scale);
    const lanes = run.bars.map((b) => {
      const lane = el('div', { class: 'lane', 'data-kind': b.kind });
      const name = el('div', { class: 'name', title: b.label }); name.append(el('span', { class: 'kind' }, KIND[b.kind] + ' '), b.label);
      const track = el('div', { class: 'track' });
      const stop = b.end === null || b.end === undefined ? run.durationMs : b.end;
      const bar = el('div', { class: 'bar ' + b.outcome + (b.shadow ? ' shadow' : ''), 'data-outcome': b.outcome, title: KIND[b.kind] + ' ' + b.label + ': ' + b.outcome.replace('_', ' ') + ' (' + ms(stop - b.start) + ')' });
      bar.style.left = pct(b.start) + '%';
      bar.style.width = Math.max(0, pct(stop - b.start)) + '%';
      track.append(bar);
      if (b.checkTrigger) {
        // After the bar when there is room; else inside its end, in white.
        const inside = pct(stop) > 70 && pct(stop - b.start) > 25 && !b.shadow;
        const label = el('span', { class: 'trigger ' + (b.outcome === 'blocked' ? 'blocked' : 'shadow') + (inside ? ' inside' : '') }, b.checkTrigger);
        label.style.left = inside ? pct(stop) + '%' : 'min(calc(' + pct(stop) + '% + 2px), calc(100% - 12em))';
        track.append(label);
      }
      lane.append(name, track);
      return lane;
    });
    document.getElementById('timeline').replaceChildren(axis, ...lanes);
  }

  function connect() {
    const live = document.getElementById('live');
    const source = new EventSource('/console/events');
    source.addEventListener('open', () => { live.textContent = 'live'; live.className = 'live on'; });
    source.addEventListener('error', () => { live.textContent = 'reconnecting…'; live.className = 'live'; });
    source.addEventListener('runs', (e) => {
      runs.clear();
      for (const r of JSON.parse(e.data)) runs.set(r.runId, r);
      renderRuns();
      if (selected !== undefined) loadRun();
    });
    source.addEventListener('run', (e) => {
      const r = JSON.parse(e.data);
      runs.set(r.runId, r);
      for (const old of runs.keys()) { if (runs.size <= 1000) break; if (old !== selected) runs.delete(old); }
      renderRuns();
      if (r.runId === selected && pending === undefined) pending = setTimeout(() => { pending = undefined; loadRun(); }, 100);
    });
  }
  connect();
})();
</script>
</body>
</html>
`;

/** The page's `Content-Security-Policy`: its one inline script by hash, inline styles, and requests to itself only. */
export const CONSOLE_CSP = ((): string => {
  const script = /<script>([\s\S]*)<\/script>/.exec(CONSOLE_PAGE)![1]!;
  const hash = createHash('sha256').update(script, 'utf8').digest('base64');
  return `default-src 'none'; script-src 'sha256-${hash}'; style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;
})();
