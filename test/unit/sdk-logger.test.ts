import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sdkLogLine } from '../../server/matrix/sdk-logger.ts';

describe('sdkLogLine (what of matrix-js-sdk and its Rust crypto reaches the backend log)', () => {
  it('keeps only the first line of a Rust crypto event: the fields and spans below it carry key material', () => {
    const event = [
      'WARN matrix_sdk_crypto::olm::account: Failed to decrypt a pre-key message with the corresponding session',
      '    session_id="hRSWccjQrfHVb1p5XaE/FWf80Ia6KUhouGXzH1XZTDo"',
      '    in matrix_sdk_crypto::olm::account::decrypt_olm_v1 with sender_key="curve25519:H3iFT7xzNXkXeM3ISVnGFdaFOBmhPMOvHO8gglKQWj0"',
      '    PreKey(PreKeyMessage { session_keys: SessionKeys { identity_key: "H3iF", base_key: "fCp1", one_time_key: "9Nz/" } })',
    ].join('\n');
    assert.equal(sdkLogLine(event), 'WARN matrix_sdk_crypto::olm::account: Failed to decrypt a pre-key message with the corresponding session');
  });

  it("leaves the JavaScript SDK's own lines whole (a stack trace says where a request failed)", () => {
    const line = 'Error checking for active key backup ConnectionError: fetch failed\n    at MatrixHttpApi.requestOtherUrl (fetch.ts:325:19)';
    assert.equal(sdkLogLine(line), line);
    assert.equal(sdkLogLine('Got', 3, 'events'), 'Got 3 events');
  });
});
