import type { ListedKind, ObjectKind, StoreBackend } from '../../../../layers/kloset/core/store-backend.js';

/** A store connector that fails its writes on demand, to test what a failing disk does. */
export class FailingStore implements StoreBackend {
  /** writes of these kinds fail (with `code`) once `after` writes of them have succeeded */
  failing?: { kinds: ObjectKind[]; after: number; code: string };
  private written = 0;

  constructor(private readonly inner: StoreBackend) {}

  get location(): string {
    return this.inner.location;
  }

  probe() {
    return this.inner.probe();
  }

  prepare(): Promise<void> {
    return this.inner.prepare();
  }

  async put(kind: ObjectKind, name: string, parts: readonly Buffer[]): Promise<void> {
    if (this.failing?.kinds.includes(kind) && this.written++ >= this.failing.after) {
      throw Object.assign(new Error(`${this.failing.code}: simulated`), { code: this.failing.code });
    }
    return this.inner.put(kind, name, parts);
  }

  get(kind: ObjectKind, name: string): Promise<Buffer> {
    return this.inner.get(kind, name);
  }

  getRange(kind: ObjectKind, name: string, offset: number, length: number): Promise<Buffer> {
    return this.inner.getRange(kind, name, offset, length);
  }

  stat(kind: ObjectKind, name: string): Promise<number | undefined> {
    return this.inner.stat(kind, name);
  }

  list(kind: ListedKind) {
    return this.inner.list(kind);
  }

  delete(kind: ObjectKind, name: string): Promise<void> {
    return this.inner.delete(kind, name);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
