/**
 * The element's source messages, read from its code: every `msg(...)` call under `widget/` with its id
 * and English text. Tests compare each locale's catalogue against this list, so a message added to the
 * code but not to a catalogue fails them.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

export interface SourceMessage {
  readonly id: string;
  readonly english: string;
  /** How many `${…}` expressions the English has (a `str` template). */
  readonly expressions: number;
  readonly file: string;
}

const WIDGET = path.resolve(import.meta.dirname, '../../widget');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'locales' ? [] : sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** A `msg(` call: the English (a '…' or "…" string, or a str`…` template), then `{ id: '…' }`. */
const CALL = /\bmsg\(\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|str`([^`]*)`)\s*,\s*\{\s*id:\s*'([^']+)',?\s*\}\s*,?\s*\)/g;

export function sourceMessages(): { messages: Map<string, SourceMessage>; problems: string[] } {
  const messages = new Map<string, SourceMessage>();
  const problems: string[] = [];
  for (const file of sourceFiles(WIDGET)) {
    const code = readFileSync(file, 'utf8');
    const calls = code.match(/(?<![`\w])msg\(/g)?.length ?? 0;
    let found = 0;
    for (const match of code.matchAll(CALL)) {
      found += 1;
      const [, single, double, template, id] = match;
      const english = (single ?? double ?? template ?? '').replace(/\\(.)/g, '$1');
      const expressions = template === undefined ? 0 : (template.match(/\$\{/g)?.length ?? 0);
      const relative = path.relative(WIDGET, file);
      const before = messages.get(id!);
      if (before && before.english !== english) problems.push(`${id}: two different English texts (${before.file}, ${relative})`);
      messages.set(id!, { id: id!, english, expressions, file: relative });
    }
    if (found !== calls)
      problems.push(`${path.relative(WIDGET, file)}: ${calls - found} msg() call(s) without an explicit { id } or not in the catalogue's form`);
  }
  return { messages, problems };
}
