/** What the demo server tells its pages (`/demo-config.json`): local demo accounts only. */
export interface DemoConfig {
  readonly backendUrl: string;
  readonly homeserverUrl: string;
  readonly userId: string;
  /**
   * The demo user's password: each browser logs in with it once and keeps the device it gets (see
   * `matrix-session.ts`). Served only because these are local accounts made for the demo.
   */
  readonly password: string;
  readonly roomId: string;
  /** Where the widget page is served (another origin, as a real widget would be). */
  readonly widgetUrl: string;
}

export async function loadDemoConfig(): Promise<DemoConfig> {
  const response = await fetch('/demo-config.json');
  if (!response.ok) throw new Error(`the demo server answered ${response.status} for /demo-config.json`);
  return (await response.json()) as DemoConfig;
}
