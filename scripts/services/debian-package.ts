/**
 * The services that come from Debian (Chromium, espeak-ng, PostgreSQL, nginx): found where the package
 * puts them, else installed with apt-get when running as root (the first run only), with progress lines
 * and an error that names the service and says how to install it by hand.
 */
import { progress } from './paths.ts';
import { ServiceError, runCommand } from './process.ts';

export interface DebianPackage {
  /** The name in progress lines and errors, e.g. "PostgreSQL". */
  readonly service: string;
  /** The Debian package, e.g. "postgresql". */
  readonly pkg: string;
  /** Where the installed package is (a binary or a folder), or undefined when it is not installed. */
  find(): string | undefined;
  /** Said after the apt-get command when not root, e.g. "or set CHROME_PATH". */
  readonly otherwise?: string;
}

/** What `find()` returns once the package is there, installing it first when it is missing. */
export async function installDebianPackage({ service, pkg, find, otherwise }: DebianPackage): Promise<string> {
  const found = find();
  if (found) return found;
  const tag = service.toLowerCase();
  if (process.getuid?.() !== 0) {
    throw new ServiceError(`${service} is not installed: run "sudo apt-get install -y ${pkg}"${otherwise ? `, ${otherwise}` : ''}`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const show = (line: string) => {
    if (/^(Get:|Setting up|E:)/.test(line)) progress(tag, line.trim());
  };
  // Another install may hold dpkg's lock for a while (two test files installing at once): wait for it.
  const apt = (...args: string[]) => runCommand('apt-get', ['-o', 'DPkg::Lock::Timeout=600', ...args], show, { env });
  try {
    progress(tag, `apt-get install -y ${pkg} (first run only)…`);
    try {
      await apt('install', '-y', '--no-install-recommends', pkg);
    } catch {
      // The package lists may be missing or stale on a fresh machine.
      progress(tag, 'apt-get update…');
      await apt('update');
      await apt('install', '-y', '--no-install-recommends', pkg);
    }
  } catch (error) {
    throw new ServiceError(`${service} could not be installed with apt-get: ${(error as Error).message}`);
  }
  const installed = find();
  if (!installed) throw new ServiceError(`${service}: apt-get installed ${pkg} but its files are not where Debian puts them`);
  return installed;
}
