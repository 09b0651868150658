/**
 * webrtc-adapter's browser shims, loaded only by the browsers they can change something for.
 *
 * livekit-client bundles webrtc-adapter and runs it as its module loads. Most of it is for Firefox and
 * Safari, and for Chromium versions long gone: from Chromium 149 on, every one of its Chrome shims
 * returns at once (a version gate or a feature check), yet they are 8–9 KB gzipped of every call. So
 * the build leaves that start-up call out of LiveKit's chunk (`manualPureFunctions` in vite.config.ts;
 * the shims are then dead code and go too), and the element runs the same adapter itself, from its own
 * chunk, before it loads LiveKit, on every browser that is not a recent Chromium (Chrome, Edge, Opera,
 * Brave and Samsung Internet name their Chromium in `navigator.userAgentData`; Firefox, Safari and any
 * browser on iOS have no such list, and load the shims as before).
 */

/** The first Chromium for which webrtc-adapter 9's Chrome shims all do nothing (its last fix, for `send`, ends at 149). */
export const CHROMIUM_WITHOUT_SHIMS = 149;

interface UserAgentBrand {
  readonly brand: string;
  readonly version: string;
}

/** What the check reads of `navigator` (User-Agent Client Hints; only in secure contexts). */
export interface NavigatorBrands {
  readonly userAgentData?: { readonly brands?: readonly UserAgentBrand[] } | undefined;
}

/** Whether this browser may need webrtc-adapter's shims: anything but a Chromium from {@link CHROMIUM_WITHOUT_SHIMS} on. */
export function needsWebRtcShims(nav: NavigatorBrands): boolean {
  const chromium = nav.userAgentData?.brands?.find((entry) => entry.brand === 'Chromium');
  return !(chromium && Number.parseInt(chromium.version, 10) >= CHROMIUM_WITHOUT_SHIMS);
}

let loaded: Promise<string | undefined> | undefined;

/**
 * Runs webrtc-adapter in this page once, where it is needed; resolves to the browser it shimmed for
 * (`undefined` where none was needed). Call it before LiveKit's module loads, as LiveKit itself did.
 */
export function loadWebRtcShims(nav: NavigatorBrands = navigator as NavigatorBrands): Promise<string | undefined> {
  if (!needsWebRtcShims(nav)) return Promise.resolve(undefined);
  loaded ??= import('webrtc-adapter').then(
    (adapter) => adapter.default.browserDetails.browser,
    (error: unknown) => {
      loaded = undefined;
      throw error;
    },
  );
  return loaded;
}
