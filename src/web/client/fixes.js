import { h, fill, jaegerTraceHref, link } from './dom.js';
import { ago } from './format.js';

// Healing runs: each job with its four stages and what they produced.

const STAGES = [['fix.generate', 'fix'], ['validation.run', 'validate'], ['deployment.deploy', 'deploy'], ['learning.track', 'learn']];

/** The class of each stage chip: done, running, waiting, failed or not reached (''). */
export function stageStates(f) {
  const cur = f.stage ? STAGES.findIndex((s) => s[0] === f.stage) : STAGES.length;
  return STAGES.map((_s, i) => {
    if (f.state === 'succeeded' || i < cur) return 'succeeded';
    if (i > cur) return '';
    if (f.state === 'running') return 'running';
    if (f.state === 'queued') return 'waiting';
    return 'failed';
  });
}

export function renderFixes(root, fixes, info) {
  if (fixes.length === 0) {
    fill(root, h('p', { class: 'empty' }, 'No healing runs yet.'));
    return;
  }
  fill(root, fixes.slice(0, 20).map((f) => {
    const states = stageStates(f);
    const meta = [];
    if (f.validation && f.validation.tests) meta.push('tests ' + f.validation.tests.passed + ' passed, ' + f.validation.tests.failed + ' failed');
    else if (f.validation) meta.push('validation ' + (f.validation.passed ? 'passed' : 'failed'));
    if (f.validation && f.validation.proof === 'unverified') meta.push(h('span', { class: 'verdict worse' }, 'unverified: not auto-merged'));
    if (f.validation && f.validation.proof === 'proven') meta.push('proven: reproduction red on base, green on patch');
    if (f.deployment) meta.push([String(f.deployment.decision), f.deployment.branch ? [' ', h('code', null, String(f.deployment.branch))] : null, f.deployment.mergeSha ? [' merge ', h('code', null, String(f.deployment.mergeSha).slice(0, 10))] : null]);
    if (f.deployment && f.deployment.url) meta.push(link(f.deployment.url, 'pull request'));
    if (f.verdict) meta.push(['verdict ', h('span', { class: 'verdict ' + f.verdict }, String(f.verdict))]);
    if (f.error && f.state !== 'succeeded') meta.push(h('span', { class: 'muted' }, String(f.error).slice(0, 160)));
    const trace = jaegerTraceHref(info.jaegerUrl, f.traceId);
    if (trace) meta.push(h('a', { href: trace, target: '_blank' }, 'trace'));
    const title = f.fix ? [h('b', null, String(f.fix.kind)), ' ', String(f.fix.title)] : [h('b', null, String(f.handler || f.service)), ' ', h('span', { class: 'muted' }, 'no fix yet')];
    return h('div', { class: 'fix', dataset: { job: f.id, state: f.state } }, title,
      h('div', { class: 'stages' }, STAGES.map((s, i) => h('span', { class: 'stage ' + states[i], dataset: { stage: s[0] } }, s[1])),
        h('span', { class: 'muted' }, '\u00a0' + String(f.handler || '') + ' · ' + String(f.state) + ' · ' + ago(f.updatedMs))),
      meta.length ? h('div', { class: 'meta' }, meta.flatMap((m, i) => (i ? [' · ', m] : [m]))) : null);
  }));
}
