/**
 * What happened in the registry, told after it is committed. Indexers (supply chain, usage,
 * replication) subscribe here; a subscriber that fails or is slow never fails the push or pull
 * that caused the event — its error is reported to the `onError` hook and the request goes on.
 */
import type { RequestContext } from './http.ts';

/** Who made the request an event is about, as usage telemetry records it. */
export interface ClientInfo {
  /** `user:alice`, `robot:ci`, `oidc:…` or `anonymous`. */
  readonly identity: string;
  readonly address?: string;
  readonly userAgent?: string;
}

export function clientOf(ctx: RequestContext): ClientInfo {
  const userAgent = ctx.req.headers['user-agent'];
  const address = ctx.req.socket.remoteAddress;
  return { identity: ctx.access?.requester.subject ?? 'anonymous', ...(address ? { address } : {}), ...(userAgent ? { userAgent } : {}) };
}

export type RegistryEvent =
  | {
    readonly kind: 'manifest-pushed';
    readonly repository: string;
    readonly digest: string;
    readonly mediaType: string;
    readonly artifactType?: string;
    readonly subject?: string;
    readonly tag?: string;
    readonly annotations?: Readonly<Record<string, string>>;
    /** The manifest exactly as pushed. */
    readonly content: Uint8Array;
    readonly client?: ClientInfo;
  }
  | { readonly kind: 'manifest-deleted'; readonly repository: string; readonly digest: string }
  | { readonly kind: 'tag-deleted'; readonly repository: string; readonly tag: string }
  | { readonly kind: 'blob-committed'; readonly repository: string; readonly digest: string; readonly size: number; readonly client?: ClientInfo }
  /** A manifest or blob was served to a GET (HEAD requests are not pulls); `bytes` is what was sent. */
  | {
    readonly kind: 'content-pulled';
    readonly repository: string;
    readonly digest: string;
    readonly target: 'manifest' | 'blob';
    /** The tag asked for, when the manifest was asked for by tag. */
    readonly tag?: string;
    readonly bytes: number;
    readonly client: ClientInfo;
  }
  | { readonly kind: 'blob-unlinked'; readonly repository: string; readonly digest: string };

export type RegistryEventListener = (event: RegistryEvent) => void | Promise<void>;

export class RegistryEvents {
  readonly #listeners = new Set<RegistryEventListener>();
  readonly #onError: (error: unknown, event: RegistryEvent) => void;

  constructor(onError: (error: unknown, event: RegistryEvent) => void = () => undefined) {
    this.#onError = onError;
  }

  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: RegistryEventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Tells every listener, without waiting for asynchronous ones. */
  emit(event: RegistryEvent): void {
    for (const listener of this.#listeners) {
      try {
        const pending = listener(event);
        if (pending) pending.catch((error: unknown) => this.#onError(error, event));
      } catch (error) {
        this.#onError(error, event);
      }
    }
  }
}
