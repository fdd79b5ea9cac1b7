import type { Request } from 'express';
import type { StorageEngine } from 'multer';
import { AppError, isAppError, storageUnavailable } from '../../shared/errors';
import type { ObjectStorage } from '../../shared/storage/object-storage';
import { InspectStream } from './inspect-stream';
import { SNIFF_BYTES } from './sniff';

/**
 * A multer storage engine that streams each file part straight into an S3 (multipart) upload:
 * never held whole in memory, never written to local disk. The first bytes are checked before the
 * upload starts; size and SHA-256 are computed on the way.
 */

export interface UploadTarget {
  key: string;
  maxBytes: number;
  tooLarge(): AppError;
  /** Checks the first bytes and returns the content type to store; throws an AppError to refuse. */
  inspectHead(head: Buffer): { contentType: string };
}

export interface StoredUpload {
  fieldname: string;
  key: string;
  bytes: number;
  sha256: string;
  contentType: string;
}

type MulterFile = Express.Multer.File & { stored?: StoredUpload };


export function uploadAborted(): AppError {
  return new AppError('upload_aborted', 400, 'The upload was interrupted before it finished. Please try again.');
}

export function s3StorageEngine(options: {
  storage: ObjectStorage;
  /** Decides where a file part goes and how it is checked; throws an AppError to refuse the part. */
  targetFor(req: Request, fieldname: string): Promise<UploadTarget>;
}): StorageEngine {
  // A refused part is answered once multer has removed the other parts stored for the request (never a
  // half-stored clip), without waiting for the rest of the body: see upload-body.ts.
  const { storage } = options;

  async function store(req: Request, file: MulterFile): Promise<StoredUpload> {
    const target = await options.targetFor(req, file.fieldname);
    const inspect = new InspectStream({
      headBytes: SNIFF_BYTES,
      maxBytes: target.maxBytes,
      tooLarge: target.tooLarge,
      inspectHead: target.inspectHead,
    });
    let refusal: Error | undefined;
    inspect.on('error', (error) => {
      refusal ??= error;
    });
    const onClose = () => {
      if (!req.readableEnded) inspect.destroy(uploadAborted());
    };
    req.once('close', onClose);
    file.stream.once('error', (error) => inspect.destroy(error));
    file.stream.pipe(inspect);

    try {
      const { contentType } = await inspect.inspection;
      await storage.upload(target.key, inspect, contentType);
      return { fieldname: file.fieldname, key: target.key, bytes: inspect.bytesSeen, sha256: inspect.digest(), contentType };
    } catch (error) {
      inspect.destroy();
      file.stream.resume(); // let busboy finish the part; multer drains the rest of the request
      const cause = refusal ?? error;
      if (isAppError(cause)) throw cause;
      if (req.destroyed && !req.readableEnded) throw uploadAborted();
      throw storageUnavailable(cause);
    } finally {
      req.off('close', onClose);
    }
  }

  return {
    _handleFile(req, file, callback) {
      store(req, file as MulterFile).then(
        (stored) => callback(null, { size: stored.bytes, stored } as Partial<Express.Multer.File>),
        (error: unknown) => callback(error as Error),
      );
    },
    _removeFile(_req, file, callback) {
      const stored = (file as MulterFile).stored;
      if (!stored) {
        callback(null);
        return;
      }
      storage.remove(stored.key).then(
        () => callback(null),
        (error: unknown) => callback(error as Error),
      );
    },
  };
}

export function storedUploads(files: unknown): StoredUpload[] {
  const byField = (files ?? {}) as Record<string, MulterFile[]>;
  return Object.values(byField)
    .flat()
    .map((file) => file.stored)
    .filter((stored): stored is StoredUpload => stored !== undefined);
}
