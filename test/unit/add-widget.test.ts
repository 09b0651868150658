import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { layoutEventContent, widgetEventContent, widgetUrlTemplate } from '../../scripts/add-widget.ts';
import { main } from '../../scripts/cli.ts';

const SETUP = { pageUrl: 'https://oracle.example/widget/page/index.html', backendUrl: 'https://oracle.example', callType: 'video' as const };

describe('add-widget: the widget as integration managers add it', () => {
  it("a URL template with Element's variables in the fragment, and no $parentUrl (Element puts parentUrl in the query itself)", () => {
    const url = widgetUrlTemplate(SETUP);
    assert.equal(
      url,
      'https://oracle.example/widget/page/index.html#?widgetId=$matrix_widget_id&userId=$matrix_user_id&roomId=$matrix_room_id' +
        '&theme=$org.matrix.msc2873.client_theme&language=$org.matrix.msc2873.client_language&backendUrl=https%3A%2F%2Foracle.example&callType=video',
    );
    assert.ok(!url.includes('parentUrl'));
    assert.equal(widgetUrlTemplate({ ...SETUP, pageUrl: `${SETUP.pageUrl}#old`, callType: undefined }).endsWith('callType=audio'), true);
  });

  it('the state event names the widget and waits for the frame to load; the layout puts it in the right-hand panel', () => {
    const content = widgetEventContent(SETUP, '@admin:example.org');
    assert.deepEqual(
      { id: content.id, type: content.type, name: content.name, creatorUserId: content.creatorUserId, waitForIframeLoad: content.waitForIframeLoad },
      { id: 'oracle-call', type: 'm.custom', name: 'Oracle call', creatorUserId: '@admin:example.org', waitForIframeLoad: true },
    );
    assert.deepEqual(layoutEventContent('oracle-call'), { widgets: { 'oracle-call': { container: 'right', index: 0 } } });
  });

  it('the command refuses missing arguments and a missing token, naming each', async () => {
    const writes: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    const token = process.env.MATRIX_ACCESS_TOKEN;
    delete process.env.MATRIX_ACCESS_TOKEN;
    process.stderr.write = ((chunk: string) => (writes.push(String(chunk)), true)) as typeof process.stderr.write;
    try {
      assert.equal(await main(['add-widget', '--room', '#alias:example.org', '--call-type', 'fax']), 2);
    } finally {
      process.stderr.write = write;
      if (token !== undefined) process.env.MATRIX_ACCESS_TOKEN = token;
    }
    const text = writes.join('');
    for (const expected of [
      '--homeserver is required',
      '--widget-url is required',
      '--backend-url is required',
      'MATRIX_ACCESS_TOKEN',
      '--call-type must be audio or video',
      '--room must be a room ID',
    ]) {
      assert.ok(text.includes(expected), `says "${expected}"`);
    }
  });
});
