import { IDLE_MIN_BYTES } from './upload-body';

/**
 * Watches a body arrive while the server reads it: when less than IDLE_MIN_BYTES arrive in one idle period
 * although the reader was waiting for bytes the whole period (not held up by storage), `onStall` is called
 * once. The multipart API's UploadBody makes the same check inline.
 */
export class StallWatch {
  private arrived = 0;
  private heldUp = false;
  private holding = 0;
  private readonly timer: NodeJS.Timeout;

  /** `heldUp`: whether the reader is held up by the server right now (e.g. a paused pipe). */
  constructor(
    idleSeconds: number,
    private readonly onStall: () => void,
    private readonly heldUpNow: () => boolean = () => false,
  ) {
    this.timer = setInterval(() => this.check(), idleSeconds * 1000);
    this.timer.unref();
  }

  arrive(bytes: number): void {
    this.arrived += bytes;
  }

  /** The reader waits for the server (storage slower than the client): not a stall while this runs. */
  async hold<T>(work: Promise<T>): Promise<T> {
    this.holding += 1;
    this.heldUp = true;
    try {
      return await work;
    } finally {
      this.holding -= 1;
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private check(): void {
    const arrived = this.arrived;
    const heldUp = this.heldUp || this.holding > 0 || this.heldUpNow();
    this.arrived = 0;
    this.heldUp = false;
    if (heldUp || arrived >= IDLE_MIN_BYTES) return;
    this.stop();
    this.onStall();
  }
}
