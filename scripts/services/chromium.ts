/** The browser for tests: `CHROME_PATH`, else Debian's `chromium`, installed with apt-get when missing. */
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { installDebianPackage } from './debian-package.ts';
import { ServiceError } from './process.ts';

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
  return installDebianPackage({
    service: 'Chromium',
    pkg: 'chromium',
    find: () => (existsSync(DEBIAN_CHROMIUM) ? DEBIAN_CHROMIUM : undefined),
    otherwise: 'or set CHROME_PATH to a Chromium or Chrome binary',
  });
}
