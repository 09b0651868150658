/**
 * The element's message catalogue: every message in the code has an explicit id, and every locale's
 * catalogue has exactly those ids, each with the same expressions as the English (none lost, none
 * invented) and its own words.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TARGET_LOCALES } from '../../widget/i18n/localize.ts';
import { sourceMessages } from '../helpers/messages.ts';

const { messages, problems } = sourceMessages();

type Template = string | { strTag: true; strings: readonly string[]; values: readonly number[] };

describe('message catalogue', () => {
  it('every msg() in widget/ has an explicit id and one English text', () => {
    assert.deepEqual(problems, []);
    assert.ok(messages.size > 60, `only ${messages.size} messages found: is the extraction broken?`);
  });

  for (const locale of TARGET_LOCALES) {
    describe(locale, () => {
      it('has every message of the code, and no other', async () => {
        const { templates } = (await import(`../../widget/i18n/locales/${locale}.ts`)) as { templates: Record<string, Template> };
        const missing = [...messages.keys()].filter((id) => !(id in templates));
        const extra = Object.keys(templates).filter((id) => !messages.has(id));
        assert.deepEqual(missing, [], `${locale} lacks messages`);
        assert.deepEqual(extra, [], `${locale} has messages the code no longer uses`);
      });

      it('keeps each message’s expressions and translates its words', async () => {
        const { templates } = (await import(`../../widget/i18n/locales/${locale}.ts`)) as { templates: Record<string, Template> };
        for (const message of messages.values()) {
          const template = templates[message.id]!;
          const values = typeof template === 'string' ? [] : [...template.values].sort();
          assert.deepEqual(
            values,
            Array.from({ length: message.expressions }, (_, i) => i),
            `${locale} ${message.id}: expressions`,
          );
          const text = typeof template === 'string' ? template : template.strings.join('');
          if (/[a-z]{3}/i.test(message.english)) assert.notEqual(text, message.english, `${locale} ${message.id} is still English`);
          assert.ok(text.trim() !== '' || message.expressions > 0, `${locale} ${message.id} is empty`);
        }
      });
    });
  }
});
