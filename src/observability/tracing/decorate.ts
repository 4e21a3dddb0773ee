/**
 * Child spans around the methods of a service instance. The instance's own methods are replaced
 * (not a wrapper object handed out instead) because the same instance is already held by the
 * upload service, the handlers and the other extensions: decorating it reaches every holder.
 * A call made outside any request span (start-up, timers) runs undecorated.
 */
import type { AsyncLocalStorage } from 'node:async_hooks';
import { SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api';

export interface TraceOptions {
  readonly tracer: Tracer;
  /** Where the request's span context is found, and where the child's is set while it runs. */
  readonly active: AsyncLocalStorage<Context>;
  /** Span names are `<prefix>.<method>`. */
  readonly prefix: string;
  readonly kind?: SpanKind;
  readonly attributes?: Attributes;
  /** Attributes taken from a call's arguments. */
  readonly describe?: (args: readonly unknown[]) => Attributes;
}

export function traceMethods(target: object, methods: readonly string[], options: TraceOptions): void {
  const { tracer, active, prefix, kind = SpanKind.INTERNAL, attributes = {}, describe } = options;
  const methodsOf = target as Record<string, unknown>;
  for (const method of methods) {
    const original = methodsOf[method];
    if (typeof original !== 'function') continue;
    methodsOf[method] = function traced(this: unknown, ...args: unknown[]): unknown {
      const parent = active.getStore();
      if (!parent) return original.apply(this, args);
      const span = tracer.startSpan(`${prefix}.${method}`, { kind, attributes: describe ? { ...attributes, ...describe(args) } : attributes }, parent);
      let result: unknown;
      try {
        result = active.run(trace.setSpan(parent, span), () => original.apply(this, args));
      } catch (error) {
        fail(span, error);
        throw error;
      }
      if (result instanceof Promise) {
        return result.then((value: unknown) => {
          span.end();
          return value;
        }, (error: unknown) => {
          fail(span, error);
          throw error;
        });
      }
      span.end();
      return result;
    };
  }
}

function fail(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  span.end();
}
