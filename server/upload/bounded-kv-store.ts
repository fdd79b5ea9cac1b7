import type { KvStore } from '@tus/utils';

/**
 * s3-store's cache of upload descriptions (`.info`), holding at most `max` of them: the least recently used goes
 * (it is read again from S3 when its upload is asked about). @tus/utils' MemoryKvStore keeps every one until its
 * upload completes or is removed by this process, so uploads that went on in another process, or were removed
 * there, would stay in this one's memory for good.
 */
export class BoundedKvStore<V> implements KvStore<V> {
  private readonly data = new Map<string, V>();

  constructor(private readonly max: number) {}

  async get(key: string): Promise<V | undefined> {
    const value = this.data.get(key);
    if (value !== undefined) {
      // Most recently used last.
      this.data.delete(key);
      this.data.set(key, value);
    }
    return value;
  }

  async set(key: string, value: V): Promise<void> {
    this.data.delete(key);
    this.data.set(key, value);
    for (const oldest of this.data.keys()) {
      if (this.data.size <= this.max) break;
      this.data.delete(oldest);
    }
  }

  async delete(key: string): Promise<void> {
    this.data.delete(key);
  }

  async list(): Promise<string[]> {
    return [...this.data.keys()];
  }
}
