/**
 * Where the element's collaborators come from: what the page set on it, else the real ones — the HTTP
 * backend client from `backend-url`, LiveKit's media sessions (loaded when a call starts), and the
 * Matrix transport: `.transport`, else the page's matrix-js-sdk client, else the widget API when the
 * page runs as a widget. Each mode's module is loaded only when that mode is used.
 */
import { HttpBackendClient } from './backend-client.ts';
import type { BackendClient } from './backend-client.ts';
import type { CallServices } from './call-controller.ts';
import { defaultE2EEWorker } from './e2ee-worker.ts';
import { CallError, CallErrorReason } from './errors.ts';
import type { MediaSessionFactory } from './media-session.ts';
import type { MatrixClientLike } from './transport/matrix-client-transport.ts';
import type { MatrixTransport } from './transport/matrix-transport.ts';
import { loadWebRtcShims } from './webrtc-shims.ts';

/** The element's settings the services read (read at each call, so later changes count). */
export interface ServiceSettings {
  readonly backendUrl: string;
  readonly matrixRoomId: string;
  readonly backendClient: BackendClient | undefined;
  readonly mediaSessions: MediaSessionFactory | undefined;
  readonly e2eeWorker: (() => Worker) | undefined;
  readonly transport: MatrixTransport | undefined;
  readonly matrixClient: MatrixClientLike | undefined;
}

export class ElementServices implements CallServices {
  /** The widget API connection is made once per element and kept (the host knows the widget by it). */
  #widget: Promise<MatrixTransport> | undefined;
  #backend: { readonly url: string; readonly client: BackendClient } | undefined;
  #clientTransport: { readonly client: MatrixClientLike; readonly transport: MatrixTransport } | undefined;

  constructor(private readonly settings: ServiceSettings) {}

  /**
   * The same client while `backend-url` stays the same (and the same transport while the Matrix client
   * does): the person's session is kept for them, and one for another backend or user is not reused.
   */
  backend(): BackendClient {
    if (this.settings.backendClient) return this.settings.backendClient;
    const url = this.settings.backendUrl;
    if (!url) throw new CallError(CallErrorReason.NotConfigured, 'backend-url is not set');
    if (this.#backend?.url !== url) this.#backend = { url, client: new HttpBackendClient(url) };
    return this.#backend.client;
  }

  async mediaSessions(): Promise<MediaSessionFactory> {
    if (this.settings.mediaSessions) return this.settings.mediaSessions;
    // The shims first: they patch WebRTC's classes, as they did when LiveKit ran them itself.
    await loadWebRtcShims();
    const { LiveKitMediaSessionFactory } = await import('./livekit-media-session.ts');
    const createWorker = this.settings.e2eeWorker ?? defaultE2EEWorker();
    return new LiveKitMediaSessionFactory(createWorker ? { createWorker } : {});
  }

  async transport(): Promise<MatrixTransport> {
    if (this.settings.transport) return this.settings.transport;
    const client = this.settings.matrixClient;
    if (client) {
      const { MatrixClientTransport } = await import('./transport/matrix-client-transport.ts');
      if (this.#clientTransport?.client !== client) this.#clientTransport = { client, transport: new MatrixClientTransport(client) };
      return this.#clientTransport.transport;
    }
    this.#widget ??= this.#connectWidget();
    try {
      return await this.#widget;
    } catch (error) {
      this.#widget = undefined;
      throw error;
    }
  }

  async #connectWidget(): Promise<MatrixTransport> {
    const { connectWidgetApi, widgetParamsFrom } = await import('./transport/widget-api-transport.ts');
    const params = widgetParamsFrom(window.location);
    if (!params) {
      throw new CallError(CallErrorReason.NotConfigured, 'no Matrix connection: set .matrixClient or .transport, or run the page as a widget');
    }
    return connectWidgetApi(params, this.settings.matrixRoomId || undefined);
  }
}
