/**
 * Speech for the local OpenAI-compatible server: Debian's `espeak-ng`, installed with apt-get when
 * missing (as Chromium is), so the demo and the tests hear a real synthesised voice offline.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { installDebianPackage } from './debian-package.ts';

const DEBIAN_ESPEAK = '/usr/bin/espeak-ng';

export async function espeakVersion(binary: string): Promise<string> {
  const { stdout } = await promisify(execFile)(binary, ['--version']);
  return stdout.trim().split('\n')[0]!;
}

export function installEspeak(): Promise<string> {
  return installDebianPackage({ service: 'espeak-ng', pkg: 'espeak-ng', find: () => (existsSync(DEBIAN_ESPEAK) ? DEBIAN_ESPEAK : undefined) });
}
