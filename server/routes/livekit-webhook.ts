/** `POST /livekit/webhook`: signed LiveKit events; the end of a room, or the user leaving it, ends the call. */
import type { Router } from '../router.ts';
import type { CallService } from '../call-service.ts';
import type { LiveKitGateway } from '../livekit.ts';
import type { CallStore } from '../store/call-store.ts';

export function livekitWebhookRoutes(router: Router, livekit: LiveKitGateway, calls: CallService, store: CallStore): void {
  router.post('/livekit/webhook', { browsers: false }, async (ctx) => {
    const raw = (ctx.request as { rawBody?: string }).rawBody ?? '';
    const event = await livekit.receiveWebhook(raw, ctx.get('authorization') || undefined);
    const roomName = event.room?.name;
    if (roomName && event.event === 'room_finished') {
      await calls.endByRoom(roomName, 'livekit');
    } else if (roomName && event.event === 'participant_left') {
      const call = await store.findByRoomName(roomName);
      if (call && event.participant?.identity === call.userId) await calls.endByRoom(roomName, 'user_left');
    }
    ctx.body = { received: event.event };
  });
}
