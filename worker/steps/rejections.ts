/**
 * A clip that cannot become a preview, for a reason the contributor can act on. Not retried: the
 * handler records it as the submission's rejection (state `rejected`).
 */
export class MediaRejection extends Error {
  constructor(
    readonly code: string,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'MediaRejection';
  }
}
