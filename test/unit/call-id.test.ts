import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtocolError, formatCallId, generateRoomName, parseCallId, ROOM_NAME_PATTERN } from '../../protocol/index.ts';

const HASHED = '$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg';
const STANDARD_B64 = '$acR1l0raoZnm60CBwAVgqbZqoO/mYU81xysh1u7XcJk';

function rejects(callId: unknown, fragment: RegExp): void {
  assert.throws(
    () => parseCallId(callId),
    (error: unknown) => error instanceof ProtocolError && error.reason === 'invalid_call_id' && fragment.test(error.message),
  );
}

describe('parseCallId', () => {
  it('splits a url-safe base64 event ID and a room name', () => {
    assert.deepEqual(parseCallId(`${HASHED}@call-abcdefgh`), { eventId: HASHED, roomName: 'call-abcdefgh' });
  });

  it('accepts standard base64 and the legacy $local:server form', () => {
    assert.equal(parseCallId(`${STANDARD_B64}@room_1234`).eventId, STANDARD_B64);
    assert.deepEqual(parseCallId('$1234abcd:matrix.example.org@room-5678'), {
      eventId: '$1234abcd:matrix.example.org',
      roomName: 'room-5678',
    });
    assert.equal(parseCallId('$abc:localhost:8448@room-5678').eventId, '$abc:localhost:8448');
  });

  it('splits at the first @ only, so a second @ makes the room name invalid', () => {
    rejects(`${HASHED}@room-1234@extra`, /after "@"/);
  });

  it('rejects what is not a callId, saying which part is wrong', () => {
    rejects(undefined, /non-empty string/);
    rejects('', /non-empty string/);
    rejects(42, /non-empty string/);
    rejects('no-at-sign-here', /missing "@"/);
    rejects('@room-1234', /before "@"/);
    rejects('Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg@room-1234', /before "@"/);
    rejects('$short@room-1234', /before "@"/);
    rejects(`${HASHED}x@room-1234`, /before "@"/);
    rejects('$abc:bad host@room-1234', /before "@"/);
    rejects(`${HASHED}@`, /after "@"/);
    rejects(`${HASHED}@short`, /after "@"/);
    rejects(`${HASHED}@${'a'.repeat(65)}`, /after "@"/);
    rejects(`${HASHED}@room.with.dots`, /after "@"/);
    rejects(`${HASHED}@room/../../x`, /after "@"/);
    rejects(`${HASHED}@room 1234`, /after "@"/);
  });

  it('accepts room names of exactly 8 and 64 characters', () => {
    assert.equal(parseCallId(`${HASHED}@${'a'.repeat(8)}`).roomName, 'aaaaaaaa');
    assert.equal(parseCallId(`${HASHED}@${'Z'.repeat(64)}`).roomName.length, 64);
  });
});

describe('formatCallId', () => {
  it('round-trips through parseCallId', () => {
    const roomName = generateRoomName();
    assert.deepEqual(parseCallId(formatCallId({ eventId: HASHED, roomName })), { eventId: HASHED, roomName });
  });

  it('refuses bad parts', () => {
    assert.throws(() => formatCallId({ eventId: 'nope', roomName: 'room-1234' }), { reason: 'invalid_event_id' });
    assert.throws(() => formatCallId({ eventId: HASHED, roomName: 'x' }), { reason: 'invalid_room_name' });
  });
});

describe('generateRoomName', () => {
  it('makes valid, distinct names', () => {
    const names = new Set(Array.from({ length: 200 }, generateRoomName));
    assert.equal(names.size, 200);
    for (const name of names) {
      assert.match(name, ROOM_NAME_PATTERN);
      // `call-` and the unpadded url-safe base64 of 16 random bytes.
      assert.match(name, /^call-[A-Za-z0-9_-]{22}$/);
      assert.equal(Buffer.from(name.slice(5), 'base64url').length, 16);
    }
    // 4,400 characters: both url-safe ones turn up (each 1 in 32), so "+" and "/" were replaced.
    const all = [...names].map((name) => name.slice(5)).join('');
    assert.ok(all.includes('-') && all.includes('_'));
  });
});
