/// <reference types="mocha" />
import { expect } from '@open-wc/testing';
import { CHROMIUM_WITHOUT_SHIMS, loadWebRtcShims, needsWebRtcShims } from '../../widget/webrtc-shims.ts';

const brands = (...list: [string, string][]) => ({ userAgentData: { brands: list.map(([brand, version]) => ({ brand, version })) } });

// Loading the real adapter is tested end to end, in the built element (test/e2e/call.test.ts): this
// dev server does not serve its CommonJS dependency (`sdp`) as a module.
describe("webrtc-adapter's shims: loaded by every browser but a recent Chromium", () => {
  it('a recent Chromium (Chrome, Edge, Opera: each names its Chromium) loads none', () => {
    expect(needsWebRtcShims(brands(['Google Chrome', '156'], ['Not?A_Brand', '99'], ['Chromium', '156']))).to.equal(false);
    expect(needsWebRtcShims(brands(['Microsoft Edge', '150'], ['Chromium', '150']))).to.equal(false);
    expect(needsWebRtcShims(brands(['Chromium', String(CHROMIUM_WITHOUT_SHIMS)]))).to.equal(false);
  });

  it('an older Chromium, a browser without client hints (Firefox, Safari, any browser on iOS) or an odd brand list loads them', () => {
    expect(needsWebRtcShims(brands(['Google Chrome', '148'], ['Chromium', '148']))).to.equal(true);
    expect(needsWebRtcShims({})).to.equal(true);
    expect(needsWebRtcShims({ userAgentData: undefined })).to.equal(true);
    expect(needsWebRtcShims({ userAgentData: {} })).to.equal(true);
    expect(needsWebRtcShims(brands(['Google Chrome', '156']))).to.equal(true, 'no Chromium named');
    expect(needsWebRtcShims(brands(['Chromium', 'x']))).to.equal(true, 'no version');
  });

  it('this Chromium (the test browser) is one that needs none', async () => {
    expect(needsWebRtcShims(navigator as never)).to.equal(false);
    expect(await loadWebRtcShims()).to.equal(undefined);
  });
});
