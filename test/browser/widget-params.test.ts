/// <reference types="mocha" />
import { expect } from '@open-wc/testing';
import { parseWidgetPage, widgetParam, widgetParamsFrom, widgetTheme } from '../../widget/transport/widget-params.ts';

const ROOM = '!room:example.org';
const BACKEND = encodeURIComponent('https://oracle.example');

/** The URL as Element 1.12 makes it from a template in the fragment: widgetId and parentUrl added to the query. */
function elementUrl(fragment: string, query = `?widgetId=w1&parentUrl=${encodeURIComponent('https://app.element.io/')}`) {
  return { search: query, hash: `#?${fragment}` };
}

function problems(location: { search: string; hash: string }): readonly string[] {
  const parsed = parseWidgetPage(location);
  return parsed.ok ? [] : parsed.problems;
}

describe('widget parameters (the widget page inside Element and other hosts)', () => {
  it("reads Element's URL: widgetId and parentUrl from the query, the template's values from the fragment", () => {
    const parsed = parseWidgetPage(
      elementUrl(`userId=%40alice%3Aexample.org&roomId=${encodeURIComponent(ROOM)}&backendUrl=${BACKEND}&callType=video&theme=light&language=de`),
    );
    expect(parsed).to.deep.equal({
      ok: true,
      params: {
        widget: { widgetId: 'w1', parentUrl: 'https://app.element.io/', roomId: ROOM, userId: '@alice:example.org' },
        backendUrl: 'https://oracle.example',
        callType: 'video',
        theme: 'light',
        language: 'de',
      },
    });
  });

  it("treats template variables nobody filled in as absent, and then takes the query's value", () => {
    // The README's old URL: Element does not fill $parentUrl, but puts parentUrl in the query.
    const location = elementUrl(
      `widgetId=$matrix_widget_id&parentUrl=$parentUrl&userId=$matrix_user_id&roomId=${encodeURIComponent(ROOM)}&backendUrl=${BACKEND}&theme=$org.matrix.msc2873.client_theme&language=$org.matrix.msc2873.client_language`,
    );
    expect(widgetParam(location, 'parentUrl')).to.equal('https://app.element.io/');
    expect(widgetParam(location, 'widgetId')).to.equal('w1');
    const parsed = parseWidgetPage(location);
    expect(parsed.ok).to.equal(true);
    if (!parsed.ok) return;
    expect(parsed.params.widget).to.deep.equal({ widgetId: 'w1', parentUrl: 'https://app.element.io/', roomId: ROOM });
    expect(parsed.params.theme).to.equal(undefined);
    expect(parsed.params.language).to.equal(undefined);
    // An unfilled placeholder with no query value behind it is missing, not a value.
    expect(widgetParamsFrom({ search: '', hash: '#?widgetId=w1&parentUrl=$parentUrl' })).to.equal(undefined);
    expect(problems({ search: '', hash: `#?widgetId=w1&parentUrl=$parentUrl&roomId=$matrix_room_id&backendUrl=${BACKEND}` })).to.have.length(2);
  });

  it('prefers the fragment over the query when both have a real value', () => {
    const location = { search: '?widgetId=fromQuery&parentUrl=https%3A%2F%2Fq.org', hash: '#widgetId=fromFragment&parentUrl=https%3A%2F%2Ff.org' };
    expect(widgetParamsFrom(location)).to.deep.equal({ widgetId: 'fromFragment', parentUrl: 'https://f.org' });
    expect(widgetParam({ search: '?a=1', hash: '#/?a=2' }, 'a')).to.equal('2');
    expect(widgetParam({ search: '?a=1', hash: '#?a=' }, 'a')).to.equal('1', 'an empty fragment value is absent');
  });

  it('names every missing or malformed parameter', () => {
    expect(problems({ search: '', hash: '' })).to.have.length(3);
    expect(problems({ search: '', hash: '' }).join(' '))
      .to.match(/widgetId and parentUrl/)
      .and.match(/roomId/)
      .and.match(/backendUrl/);
    const bad = problems(elementUrl(`roomId=not-a-room&backendUrl=ftp%3A%2F%2Fx&callType=fax`, '?widgetId=w1&parentUrl=nonsense'));
    expect(bad).to.have.length(4);
    expect(bad.join(' '))
      .to.match(/parentUrl is not a web address/)
      .and.match(/not a Matrix room ID/)
      .and.match(/not an http\(s\) address/)
      .and.match(/audio or video/);
  });

  it("maps Element's theme names to the two schemes, and ignores a language that is no tag", () => {
    expect(['light', 'light-high-contrast', 'dark', 'custom-dark-blue', 'custom-sunset', undefined].map(widgetTheme)).to.deep.equal([
      'light',
      'light',
      'dark',
      'dark',
      undefined,
      undefined,
    ]);
    const parsed = parseWidgetPage(elementUrl(`roomId=${encodeURIComponent(ROOM)}&backendUrl=${BACKEND}&language=en_GB`));
    expect(parsed.ok && parsed.params.language).to.equal('en-GB');
    const junk = parseWidgetPage(elementUrl(`roomId=${encodeURIComponent(ROOM)}&backendUrl=${BACKEND}&language=%3Cscript%3E`));
    expect(junk.ok && junk.params.language).to.equal(undefined);
  });
});
