import { describe, expect, it } from 'vitest';
import { LOG_BODY_MASKS, LogTemplateMiner, logTokens, maskLogBody, WILDCARD } from '../../src/detect/log-templates.js';

describe('maskLogBody / logTokens', () => {
  it('gives what applying every mask in order gives (the skipped masks would change nothing)', () => {
    const all = (body: string): string => LOG_BODY_MASKS.reduce((s, [re, placeholder]) => s.replace(re, placeholder), body);
    const bodies = [
      'plain words only',
      'order 12345678 accepted, total 42.50 EUR',
      'GET /api/checkout/00001234 200 in 35 ms',
      'user signed in from 10.0.3.17:8080',
      'peer fe80:0:0:0:202:b3ff:fe1e:8329 closed',
      'see https://example.com/a/b?q=1 and "quoted \\" text" and \'single\' and `tick`',
      'id 123e4567-e89b-12d3-a456-426614174000 and hash deadbeef1234 and 0xFF',
      'C:\\Windows\\system32\\x.dll failed',
      'a-b c.d e:f g/h no digits at all',
      'abcdefab without digits, ABCDEF12 with',
      '<STR> <URL> <IP> placeholders already here 1.2.3.4',
      '',
    ];
    for (const body of bodies) expect(maskLogBody(body)).toBe(all(body));
  });

  it('masks numbers, hex ids, uuids, IPs, paths, URLs and quoted strings', () => {
    expect(maskLogBody('GET https://api.example.com/v1/x?id=3 from 10.1.2.3:8080 trace 5b8efff7-9803-8103-d269-b633813fc60c')).toBe('GET <URL> from <IP> trace <UUID>');
    expect(maskLogBody('open /var/lib/app/data.db and C:\\tmp\\x.log failed: "no such file"')).toBe('open <PATH> and <PATH> failed: <STR>');
    expect(maskLogBody('ptr 0x7ffe12ab span deadbeef12345678 word deadbeef')).toBe('ptr <HEX> span <HEX> word deadbeef');
    expect(maskLogBody("peer fe80:0:0:0:1:2:3:4 said 'hi there'")).toBe('peer <IP> said <STR>');
    expect(logTokens('took 35ms, retries=3; v2 attempt:4 OrderServiceImpl#361 12:30:01.5', 64)).toEqual(['took', '<NUM>ms', 'retries=<NUM>', 'v<NUM>', 'attempt:<NUM>', 'OrderServiceImpl#<NUM>', '<NUM>']);
    expect(logTokens('a b c d e', 3)).toEqual(['a', 'b', 'c']);
  });

  it('stays fast on hostile input (no catastrophic backtracking)', () => {
    // Would take minutes with nested quantifiers; asserting the result keeps the test about behaviour.
    // Only the first maxTokens * 64 characters are looked at.
    expect(logTokens(`C:\\${'a'.repeat(20_000)}!`, 64)).toEqual(['<PATH>']);
    expect(logTokens(`"${'\\"'.repeat(20_000)}`, 64)).toHaveLength(1);
    expect(logTokens('1.'.repeat(20_000), 64)).toHaveLength(1);
  });
});

describe('LogTemplateMiner', () => {
  it('groups lines that differ only in variables into one template with a stable id', () => {
    const m = new LogTemplateMiner();
    const a = m.add('cart', 'Connected to 10.0.0.12:5432 in 35 ms');
    const b = m.add('cart', 'Connected to 10.0.0.13:5432 in 12 ms');
    expect(a).toEqual({ templateId: 'cart#1', template: 'Connected to <IP> in <NUM> ms', created: true });
    expect(b).toEqual({ templateId: 'cart#1', template: 'Connected to <IP> in <NUM> ms', created: false });
  });

  it('hands out one match per template text: a returned match never changes when the template is generalised later', () => {
    const m = new LogTemplateMiner();
    m.add('cart', 'checkout step alpha done');
    const first = m.add('cart', 'checkout step alpha done');
    expect(m.add('cart', 'checkout step alpha done')).toBe(first);
    const widened = m.add('cart', 'checkout step beta done');
    expect(widened).toEqual({ templateId: first.templateId, template: 'checkout step <*> done', created: false });
    expect(first).toEqual({ templateId: first.templateId, template: 'checkout step alpha done', created: false });
    expect(m.add('cart', 'checkout step gamma done')).toBe(widened);
  });

  it('turns differing words into <*> once lines are similar enough, and keeps dissimilar lines apart', () => {
    const m = new LogTemplateMiner({ similarity: 0.5 });
    m.add('s', 'user alice opened the basket page');
    const merged = m.add('s', 'user bob opened the basket page');
    expect(merged.template).toBe(`user ${WILDCARD} opened the basket page`);
    expect(merged.created).toBe(false);
    const other = m.add('s', 'user carol closed her account forever now');
    expect(other.created).toBe(true);
    expect(m.templateCount('s')).toBe(2);
    expect(m.templateText('s', merged.templateId)).toBe(`user ${WILDCARD} opened the basket page`);
  });

  it('routes by the first tokens, ignoring variables, so a leading number does not split a template', () => {
    const m = new LogTemplateMiner();
    const a = m.add('s', '42 items shipped to warehouse');
    const b = m.add('s', '7 items shipped to warehouse');
    expect(b.templateId).toBe(a.templateId);
    const c = m.add('s', 'Shipping failed for order');
    expect(c.templateId).not.toBe(a.templateId);
  });

  it('keeps lines apart whose exception class differs, however similar the rest', () => {
    const m = new LogTemplateMiner({ similarity: 0.5 });
    const base = 'Servlet.service() threw exception [Request processing failed; nested exception is';
    const a = m.add('s', `${base} java.lang.IllegalStateException: No instances available]`);
    const b = m.add('s', `${base} java.lang.IllegalStateException: No servers available]`);
    const c = m.add('s', `${base} java.lang.NullPointerException: No instances available]`);
    expect(b.templateId).toBe(a.templateId);
    expect(c.templateId).not.toBe(a.templateId);
    expect(c.created).toBe(true);
  });

  it('keeps templates per service: the same text in two services is two templates', () => {
    const m = new LogTemplateMiner();
    expect(m.add('a', 'started').templateId).not.toBe(m.add('b', 'started').templateId);
    expect(m.serviceCount).toBe(2);
  });

  it('bounds templates per service (least recently matched evicted, counted) and services', () => {
    const m = new LogTemplateMiner({ maxTemplatesPerService: 3, maxServices: 2 });
    const first = m.add('s', 'alpha one');
    m.add('s', 'beta two words');
    m.add('s', 'gamma three words here');
    // Touch the first so the second becomes the oldest.
    m.add('s', 'alpha one');
    m.add('s', 'delta four words here now');
    expect(m.templateCount('s')).toBe(3);
    expect(m.evictedTemplates).toBe(1);
    expect(m.add('s', 'alpha one').templateId).toBe(first.templateId);
    expect(m.add('s', 'beta two words').created).toBe(true);
    for (let i = 0; i < 1000; i++) m.add('s', `junk${'x'.repeat(i % 50)} ${String.fromCharCode(97 + (i % 26))}${i % 7 === 0 ? 'q' : ''} z`);
    expect(m.templateCount('s')).toBe(3);
    m.add('t', 'x');
    m.add('u', 'y');
    expect(m.serviceCount).toBe(2);
    expect(m.evictedServices).toBe(1);
    expect(m.templateCount('s')).toBe(0);
  });

  it('limits the children of a tree node, sending the overflow to a shared <*> child', () => {
    const m = new LogTemplateMiner({ maxChildren: 2, similarity: 0.6 });
    m.add('s', 'aa done well');
    m.add('s', 'bb done well');
    const c = m.add('s', 'cc done well');
    const d = m.add('s', 'dd done well');
    // cc and dd share the overflow child and are similar enough to merge.
    expect(d.templateId).toBe(c.templateId);
    expect(d.template).toBe(`${WILDCARD} done well`);
  });
});
