import { AppError } from '../../shared/errors';

/** Less than this in one idle period, while the server is ready for more, is a stalled (or trickling) upload. */
export const IDLE_MIN_BYTES = 1024;

export function uploadStalled(idleSeconds: number): AppError {
  return new AppError(
    'upload_stalled',
    408,
    `The upload stalled: almost nothing arrived for ${idleSeconds} seconds. Please try again on a steadier connection.`,
  );
}

/**
 * Watches a body arrive while the server reads it: when less than IDLE_MIN_BYTES arrive in one idle period
 * although the reader was waiting for bytes the whole period (not held up by storage), `onStall` is called
 * once with `upload_stalled` (408). The one stall check of every upload route: the multipart API's body
 * (UploadBody), a tus PATCH (TusS3Store) and a tus subtitle PUT.
 */
export class StallWatch {
  private arrived = 0;
  private heldUp = false;
  private holding = 0;
  private readonly timer: NodeJS.Timeout;

  /** `heldUpNow`: whether the reader is held up by the server right now (a paused pipe, back-pressure, the body ended). */
  constructor(
    private readonly idleSeconds: number,
    private readonly onStall: (error: AppError) => void,
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
    this.onStall(uploadStalled(this.idleSeconds));
  }
}
