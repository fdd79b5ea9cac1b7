import { Types } from 'mongoose';
import type { Database } from '../db';
import { AppError } from '../errors';
import type { Submission } from '../submissions/submission.model';
import type { FaceTrack } from './face-track';
import { isProtected } from './protection';

/**
 * Whether a clip's approval must wait: protected, but its protected outputs are not made yet, or the preview
 * still shows an older version of the masks. Returns the refusal, or null.
 */
export async function protectionPending(db: Database, submission: Pick<Submission, '_id' | 'protection' | 'outputs'>): Promise<AppError | null> {
  if (!isProtected(submission.protection)) return null;
  if (!submission.outputs.protectedMaster) return new AppError('protection_rendering', 409, 'The protected version of this clip is still being made. Approve it once the protected preview is ready.');
  if (!submission.protection?.face || submission.protection.card) return null;
  const track = await db.faceTracks.findById(new Types.ObjectId(submission._id)).select({ version: 1, renderedVersion: 1 }).lean<Pick<FaceTrack, 'version' | 'renderedVersion'>>();
  if (!track) return new AppError('protection_rendering', 409, 'The faces of this clip are still being found.');
  if (track.renderedVersion < track.version) return new AppError('protection_rendering', 409, 'The protected preview is being drawn again with the latest masks. Watch it again before approving.');
  return null;
}

