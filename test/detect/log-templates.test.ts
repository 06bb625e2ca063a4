import { describe, expect, it } from 'vitest';
import { LOG_BODY_MASKS, LogTemplateMiner, logTokens, maskLogBody, WILDCARD } from '../../src/detect/log-templates.js';
import { BodyShapes } from '../../src/receive/body-shapes.js';

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
    expect(logTokens('took 35ms, retries=3; v2 attempt:4 m:0 12:30:01.5 x y OrderServiceImpl#361', 64)).toEqual(['took', '<NUM>ms', 'retries=<NUM>', 'v<NUM>', 'attempt:<NUM>', 'm:<NUM>', '<NUM>', 'x', 'y', 'OrderServiceImpl#<NUM>']);
    expect(logTokens('a b c d e', 3)).toEqual(['a', 'b', 'c']);
  });

  it('keeps the code location of a line\'s header as written (class#line, package.Class:line, file.ext:line), and says where it is', () => {
    const span = { start: 0, end: 0 };
    const body = '18:04:08.639 INFO  t.s.TravelServiceImpl#457 TraceID: e2a262c186885b3dc068adcb0a63ea6f [getTickets][calculate time：16]';
    expect(logTokens(body, 64, span).slice(0, 3)).toEqual(['<NUM>', 'INFO', 't.s.TravelServiceImpl#457']);
    expect(body.slice(span.start, span.end)).toBe('t.s.TravelServiceImpl#457');
    expect(logTokens('2023-01-29 10:00:01,5 [main] INFO  c.e.shop.OrderService:88 - placed 3', 64)).toContain('c.e.shop.OrderService:88');
    expect(logTokens('12:00:01 WARN  [nio-1] OrderServiceImpl#361 - late', 64)).toContain('OrderServiceImpl#361');
    expect(logTokens('WARNING 2023-01-29 app.py:42 cache miss for 7', 64)).toEqual(['WARNING', '<NUM>-<NUM>-<NUM>', 'app.py:42', 'cache', 'miss', 'for', '<NUM>']);
    expect(logTokens('E1207 10:00:00.1 handler.go:88: bad 5', 64)).toContain('handler.go:88:');
    expect(logTokens('ERROR at shop.Order.place(Order.java:57) failed', 64)).toContain('shop.Order.place(Order.java:57)');
    // Values that look alike are not locations: a lower-case or unqualified name with a colon, an
    // id after '#' in a word, a location inside a quoted string, and any past the header.
    for (const line of ['y: 2023 m:0 d:29 time:16', 'took Foo:12 ms', 'issue #42 closed', 'said "Foo.java:12"', 'a b c d e f g h Foo.java:12']) {
      const at = { start: 1, end: 1 };
      expect(logTokens(line, 64, at).some((t) => /\d/.test(t))).toBe(false);
      expect(at).toEqual({ start: 0, end: 0 });
    }
  });

  it('stays fast on hostile input (no catastrophic backtracking)', () => {
    // Would take minutes with nested quantifiers; asserting the result keeps the test about behaviour.
    // Only the first maxTokens * 64 characters are looked at.
    expect(logTokens(`C:\\${'a'.repeat(20_000)}!`, 64)).toEqual(['<PATH>']);
    expect(logTokens(`"${'\\"'.repeat(20_000)}`, 64)).toHaveLength(1);
    expect(logTokens('1.'.repeat(20_000), 64)).toHaveLength(1);
    // Header tokens that nearly look like code locations (the location scan is bounded too).
    for (const token of [`x${'#1'.repeat(20_000)}`, `${'A.'.repeat(20_000)}#1x`, `${'-a.'.repeat(20_000)}`, `${'$-'.repeat(20_000)}.java:`]) {
      const tokens = logTokens(`${token} tail`, 64);
      expect(tokens.some((t) => /\d/.test(t))).toBe(false);
    }
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

  it('keeps two statements of one class apart when their text differs only in the line number, and never wildcards a location', () => {
    // Train Ticket's TravelServiceImpl writes the same text at lines 451 and 457 (Nezha data).
    const m = new LogTemplateMiner();
    const line = (n: number, t: number, trace: string): string =>
      `18:04:08.639 INFO  t.s.TravelServiceImpl#${n} TraceID: ${trace} SpanID: 846664456773a428 [getTickets][Calculate distance][calculate time：${t}  time: Sat May 04 07:16:00 CST 2013]`;
    const a = m.add('travel', line(451, 0, 'e2a262c186885b3dc068adcb0a63ea6f'));
    const b = m.add('travel', line(457, 16, 'e2a262c186885b3dc068adcb0a63ea6f'));
    expect(b.templateId).not.toBe(a.templateId);
    expect(b.created).toBe(true);
    expect(m.add('travel', line(451, 7, '343da24a73cf5c42a48a3a46f1f15a12')).templateId).toBe(a.templateId);
    expect(m.add('travel', line(457, 9, '343da24a73cf5c42a48a3a46f1f15a12')).templateId).toBe(b.templateId);
    // A line without a location never joins a template with one in that place, however similar.
    const bare = m.add('travel', line(457, 9, '343da24a73cf5c42a48a3a46f1f15a12').replace('t.s.TravelServiceImpl#457', 'something'));
    expect([a.templateId, b.templateId]).not.toContain(bare.templateId);
    expect(m.templateText('travel', a.templateId)).toContain('t.s.TravelServiceImpl#451');
  });

  it('gives bodies of one shape but another code location their own template when shape ids are given (the shape cache)', () => {
    const m = new LogTemplateMiner();
    const shapes = new BodyShapes();
    const at451 = '10:00:00.001 INFO  t.s.TravelServiceImpl#451 [getTickets][calculate time：0]';
    const at457 = '10:00:00.001 INFO  t.s.TravelServiceImpl#457 [getTickets][calculate time：6]';
    const at459 = '10:00:00.001 INFO  t.s.TravelServiceImpl#459 [getTickets][calculate time：9]';
    expect(shapes.ofString(at451)).toBe(shapes.ofString(at457));
    const ids = new Set<string>();
    for (let i = 0; i < 6; i++) {
      for (const body of [at451, at457, at459]) {
        const got = m.add('travel', body, shapes.ofString(body));
        expect(got.template).toContain(body.slice(19, 44));
        ids.add(got.templateId);
      }
    }
    expect(ids.size).toBe(3);
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
