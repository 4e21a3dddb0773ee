/**
 * Variable bindings of a body (or a function call) being evaluated.
 *
 * Bodies bind and unbind the same few vars over and over (`some c in containers` binds `c`
 * once per element), and function calls bind their parameters call after call. So each var
 * gets a slot, created on its first binding and kept when the var is unbound (its value is
 * then undefined, which reads exactly like an absent var): re-binding writes the slot, and a
 * loop can hold on to the slot and bind through it without any lookup. The slots form a short
 * list searched linearly: a body has a handful of vars, and a list costs one small object per
 * var where a Map would allocate a hash table. Envs that grow large get a Map index as well.
 */
import type { Value } from '../value.ts';

/** One var's binding: undefined while the var is unbound. */
export interface Slot {
  readonly name: string;
  value: Value | undefined;
  readonly next: Slot | undefined;
}

/** Beyond this many vars, lookups go through a Map rather than along the list. */
const MAX_LISTED = 16;

export class Env {
  private slots: Slot | undefined = undefined;
  private count = 0;
  private index: Map<string, Slot> | undefined = undefined;

  constructor(bindings?: Iterable<[string, Value]>) {
    if (bindings) for (const [name, value] of bindings) this.set(name, value);
  }

  get(name: string): Value | undefined {
    return this.find(name)?.value;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  set(name: string, value: Value): void {
    this.slot(name).value = value;
  }

  /** Unbinds a var. */
  delete(name: string): void {
    const slot = this.find(name);
    if (slot) slot.value = undefined;
  }

  /** The var's slot, created (unbound) on first use. */
  slot(name: string): Slot {
    const found = this.find(name);
    if (found) return found;
    const slot: Slot = { name, value: undefined, next: this.slots };
    this.slots = slot;
    if (++this.count > MAX_LISTED) {
      if (!this.index) {
        this.index = new Map();
        for (let s = slot.next; s !== undefined; s = s.next) this.index.set(s.name, s);
      }
      this.index.set(name, slot);
    }
    return slot;
  }

  private find(name: string): Slot | undefined {
    if (this.index) return this.index.get(name);
    for (let slot = this.slots; slot !== undefined; slot = slot.next) {
      if (slot.name === name) return slot;
    }
    return undefined;
  }
}
