/**
 * Speech for the local OpenAI-compatible server: Debian's `espeak-ng`, installed with apt-get when
 * missing (as Chromium is), so the demo and the tests hear a real synthesised voice offline.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { progress } from './paths.ts';
import { ServiceError, runCommand } from './process.ts';

const DEBIAN_ESPEAK = '/usr/bin/espeak-ng';

export async function espeakVersion(binary: string): Promise<string> {
  const { stdout } = await promisify(execFile)(binary, ['--version']);
  return stdout.trim().split('\n')[0]!;
}

export async function installEspeak(): Promise<string> {
  if (existsSync(DEBIAN_ESPEAK)) return DEBIAN_ESPEAK;
  if (process.getuid?.() !== 0) {
    throw new ServiceError('espeak-ng is not installed: run "sudo apt-get install -y espeak-ng"');
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const show = (line: string) => {
    if (/^(Get:|Setting up espeak|E:)/.test(line)) progress('espeak-ng', line.trim());
  };
  // Another install (Chromium's) may hold dpkg's lock for a while: wait for it rather than fail.
  const lock = ['-o', 'DPkg::Lock::Timeout=600'];
  try {
    progress('espeak-ng', 'apt-get install -y espeak-ng (first run only)…');
    try {
      await runCommand('apt-get', [...lock, 'install', '-y', '--no-install-recommends', 'espeak-ng'], show, { env });
    } catch {
      progress('espeak-ng', 'apt-get update…');
      await runCommand('apt-get', [...lock, 'update'], show, { env });
      await runCommand('apt-get', [...lock, 'install', '-y', '--no-install-recommends', 'espeak-ng'], show, { env });
    }
  } catch (error) {
    throw new ServiceError(`espeak-ng could not be installed with apt-get: ${(error as Error).message}`);
  }
  if (!existsSync(DEBIAN_ESPEAK)) throw new ServiceError(`espeak-ng: apt-get finished but ${DEBIAN_ESPEAK} is missing`);
  progress('espeak-ng', `installed ${await espeakVersion(DEBIAN_ESPEAK)}`);
  return DEBIAN_ESPEAK;
}
