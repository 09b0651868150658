/** The browser for tests: `CHROME_PATH`, else Debian's `chromium`, installed with apt-get when missing. */
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { progress } from './paths.ts';
import { ServiceError, runCommand } from './process.ts';

const DEBIAN_CHROMIUM = '/usr/bin/chromium';

/** Flags that work on this kind of machine (headless, no sandbox as root, no network chatter, fake media). */
export const CHROMIUM_FLAGS: readonly string[] = JSON.parse(readFileSync(new URL('./chromium-flags.json', import.meta.url), 'utf8')) as string[];

export async function chromiumVersion(binary: string): Promise<string> {
  const { stdout } = await promisify(execFile)(binary, ['--version']);
  return stdout.trim();
}

export async function installChromium(): Promise<string> {
  const override = process.env.CHROME_PATH;
  if (override) {
    try {
      accessSync(override, constants.X_OK);
    } catch {
      throw new ServiceError(`Chromium: CHROME_PATH=${override} is not an executable file`);
    }
    return override;
  }
  if (existsSync(DEBIAN_CHROMIUM)) return DEBIAN_CHROMIUM;
  if (process.getuid?.() !== 0) {
    throw new ServiceError('Chromium is not installed: run "sudo apt-get install -y chromium", or set CHROME_PATH to a Chromium or Chrome binary');
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const show = (line: string) => {
    if (/^(Get:|Setting up|Unpacking chromium|E:)/.test(line)) progress('chromium', line.trim());
  };
  try {
    progress('chromium', 'apt-get update…');
    await runCommand('apt-get', ['update'], show, { env });
    progress('chromium', 'apt-get install -y chromium (first run only)…');
    await runCommand('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], show, { env });
  } catch (error) {
    throw new ServiceError(`Chromium could not be installed with apt-get: ${(error as Error).message}`);
  }
  if (!existsSync(DEBIAN_CHROMIUM)) throw new ServiceError(`Chromium: apt-get finished but ${DEBIAN_CHROMIUM} is missing`);
  progress('chromium', `installed ${await chromiumVersion(DEBIAN_CHROMIUM)}`);
  return DEBIAN_CHROMIUM;
}
