// Browser tests: real headless Chromium (Debian's, or CHROME_PATH), TypeScript through esbuild.
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { chromeLauncher } from '@web/test-runner-chrome';
import { base58 } from '@scure/base';
import * as eciesjs from 'eciesjs';
import { readFileSync } from 'node:fs';

/** The Chromium flags the project uses everywhere (scripts/services/chromium-flags.json). */
const flags = JSON.parse(readFileSync(new URL('./scripts/services/chromium-flags.json', import.meta.url), 'utf8'));

/** Commands the browser tests run in Node: ECIES by the independent `eciesjs` implementation. */
const eciesCommands = {
  name: 'ecies-commands',
  executeCommand({ command, payload }) {
    if (command === 'node-ecies-keypair') {
      const secret = new eciesjs.PrivateKey();
      return { privateKey: Buffer.from(secret.secret).toString('hex'), publicKey: base58.encode(secret.publicKey.toBytes(true)) };
    }
    if (command === 'node-ecies-decrypt') {
      const plaintext = eciesjs.decrypt(Buffer.from(payload.privateKey, 'hex'), base58.decode(payload.ciphertext));
      return new TextDecoder().decode(plaintext);
    }
    if (command === 'node-ecies-encrypt') {
      const publicKey = base58.decode(payload.publicKey);
      return base58.encode(eciesjs.encrypt(publicKey, new TextEncoder().encode(payload.plaintext)));
    }
    return undefined;
  },
};

/**
 * `prefers-contrast`, which the stock emulate-media command cannot set (puppeteer refuses the feature):
 * straight through the DevTools protocol.
 */
const contrastCommand = {
  name: 'emulate-contrast',
  async executeCommand({ command, payload, session }) {
    if (command !== 'emulate-contrast') return undefined;
    const page = session.browser.getPage(session.id);
    const cdp = await page.createCDPSession();
    await cdp.send('Emulation.setEmulatedMedia', { features: [{ name: 'prefers-contrast', value: payload.contrast }] });
    return true;
  },
};

export default {
  files: ['test/browser/**/*.test.ts'],
  nodeResolve: true,
  concurrency: 1,
  testFramework: { config: { timeout: 20000 } },
  plugins: [esbuildPlugin({ ts: true, target: 'es2022' }), eciesCommands, contrastCommand],
  // The fixtures answer other origins too (CORS), as the oracle's origin answers the element's files.
  middleware: [
    async (ctx, next) => {
      await next();
      if (ctx.path.startsWith('/test/browser/fixtures/')) ctx.set('Access-Control-Allow-Origin', '*');
    },
  ],
  browsers: [
    chromeLauncher({
      launchOptions: {
        executablePath: process.env.CHROME_PATH ?? '/usr/bin/chromium',
        headless: true,
        // Audio runs without a real click (the lobby's level meter reads a tone from the fake microphone).
        args: [...flags, '--autoplay-policy=no-user-gesture-required'],
      },
    }),
  ],
};
