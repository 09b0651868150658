/** `POST /livekit/webhook`: signed LiveKit events; the end of a room, or the user leaving it, ends the call. */
import { API_ROUTES } from '../../protocol/api/index.ts';
import type { WebhookAnswer } from '../../protocol/api/index.ts';
import type { Router } from '../router.ts';
import type { CallService } from '../call-service.ts';

export function livekitWebhookRoutes(router: Router, calls: CallService): void {
  router.serve(API_ROUTES.livekitWebhook, async (ctx) => {
    // The signature covers the body's bytes as sent: the raw body, not the parsed one.
    const raw = (ctx.request as { rawBody?: string }).rawBody ?? '';
    ctx.body = (await calls.receiveLiveKitEvent(raw, ctx.get('authorization') || undefined)) satisfies WebhookAnswer;
  });
}
