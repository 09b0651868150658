/**
 * Driving real Element Web (`../shared/element-web`, or `ELEMENT_WEB_DIR`) as a person does: sign in,
 * dismiss the first-run prompts, open a room, open the oracle widget from the room's info, answer
 * Element's dialogs. Names are the ones Element 1.12.7 shows (headless Chromium, English).
 */
import path from 'node:path';
import type { Frame, Locator, Page } from 'playwright-core';
import { ARTIFACTS } from './e2e.ts';

/** Element's first-run prompts and release announcements, by the button that makes each go away. */
const PROMPT_BUTTONS = ['Dismiss', 'OK', 'Next', 'Done', 'Got it', 'Later', 'Not now'];

/** Clicks away whatever first-run prompt or announcement Element shows now (none is an error). */
export async function dismissPrompts(page: Page, rounds = 6): Promise<void> {
  for (let round = 0; round < rounds; round += 1) {
    // A dialog is answered on purpose by the caller, never clicked away here.
    if ((await page.locator('.mx_Dialog').count()) > 0) return;
    let clicked = false;
    for (const name of PROMPT_BUTTONS) {
      const button = page.getByRole('button', { name, exact: true });
      if ((await button.count()) > 0 && (await button.first().isVisible())) {
        // A prompt that animates away or is re-rendered while clicked is looked at again next round,
        // rather than waited on for the whole action timeout.
        await button
          .first()
          .click({ timeout: 3_000 })
          .catch(() => {});
        clicked = true;
      }
    }
    if (!clicked) return;
    await page.waitForTimeout(400);
  }
}

/**
 * Signs in on Element's login page with a user name and password (a new device of that user). When the
 * user already has a cross-signing identity (an earlier Element device set one up), Element asks to
 * confirm it first; the person verifies later, as Element offers.
 */
export async function signIn(page: Page, elementUrl: string, user: { localpart: string; password: string }): Promise<void> {
  await page.goto(`${elementUrl}#/login`);
  await page.getByLabel('Username').fill(user.localpart, { timeout: 60_000 });
  await page.getByLabel('Password', { exact: true }).fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  // The home page once the first sync is done, or first the question about the identity.
  const home = page.getByRole('heading', { name: /Welcome/ });
  const confirmIdentity = page.getByRole('heading', { name: 'Confirm your identity' });
  try {
    await home.or(confirmIdentity).first().waitFor({ timeout: 60_000 });
    if (await confirmIdentity.isVisible()) {
      await page.getByRole('button', { name: 'Skip verification for now' }).click({ timeout: 10_000 });
      await page.getByRole('button', { name: "I'll verify later" }).click({ timeout: 10_000 });
      await home.waitFor({ timeout: 60_000 });
    }
  } catch (error) {
    await page.screenshot({ path: path.join(ARTIFACTS, 'element-signin-failed.png') }).catch(() => {});
    throw error;
  }
}

export async function openRoom(page: Page, roomName: string): Promise<void> {
  await dismissPrompts(page);
  await page
    .getByRole('option', { name: new RegExp(roomName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) })
    .first()
    .click();
  await page.getByRole('heading', { name: roomName, exact: false }).first().waitFor({ timeout: 20_000 });
}

function rightPanel(page: Page): Locator {
  return page.locator('.mx_RightPanel');
}

/** Room info → Extensions → the widget: Element opens it as a card in the right-hand panel. */
export async function openWidget(page: Page, widgetName: string): Promise<void> {
  await dismissPrompts(page);
  await page.getByRole('button', { name: 'Room info' }).last().click();
  await rightPanel(page).getByText('Extensions', { exact: true }).click();
  await rightPanel(page).getByText(widgetName, { exact: true }).click();
}

/** Closes the widget's card (the right-hand panel's close button). */
export async function closeWidget(page: Page): Promise<void> {
  await rightPanel(page).getByRole('button', { name: 'Close' }).click();
  await rightPanel(page)
    .waitFor({ state: 'detached', timeout: 10_000 })
    .catch(() => {});
}

/** The widget's frame (the newest one on its origin). */
export async function widgetFrame(page: Page, widgetOrigin: string, timeoutMs = 20_000): Promise<Frame> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const frame = page
      .frames()
      .filter((f) => f.url().startsWith(widgetOrigin) && !f.isDetached())
      .at(-1);
    if (
      frame &&
      (await frame
        .locator('oracle-call')
        .count()
        .catch(() => 0)) > 0
    )
      return frame;
    if (Date.now() > deadline) throw new Error(`no widget frame from ${widgetOrigin} in Element`);
    await page.waitForTimeout(200);
  }
}

/** Element's dialog with that title, once it shows. */
export function dialog(page: Page, title: string | RegExp): Locator {
  return page.locator('.mx_Dialog').filter({ has: page.getByRole('heading', { name: title }) });
}

export const CAPABILITIES_DIALOG = 'Approve widget permissions';
export const OPENID_DIALOG = 'Allow this widget to verify your identity';
