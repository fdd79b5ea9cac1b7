import { Schema, type Connection, type Model, type Types } from 'mongoose';
import type { MaskStyle } from './protection';

/**
 * A protected clip's face track: where faces are, frame by frame, in the clean master's upright, constant-rate
 * picture (the times are that picture's frame times, so the masking pass draws on exactly the frames that were
 * analysed, VFR sources included). One document per clip, `_id` = the submission's id. The worker writes it
 * from the detector; moderators add, move and remove masks on the review page. Boxes are fractions of the frame
 * (0–1), so the same track serves the master, the preview and every release shape.
 */

export interface MaskBox {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** A detection (or a moderator's box) at one moment of the clip. */
export interface TrackKey {
  t: number;
  box: MaskBox;
}

/**
 * One face over time: covered from `start` to `end` (seconds), its box interpolated between keys and held
 * at the first and last key outside them. A moderator's mask is one box held over its range.
 */
export interface FaceMask {
  id: string;
  source: 'detector' | 'moderator';
  start: number;
  end: number;
  keys: TrackKey[];
}

export interface TrackSettings {
  /** Detections per second (a divisor of the frame rate: every n-th frame of the master's picture). */
  detectFps: number;
  /** The master picture's constant frame rate. */
  frameFps: number;
  /** Each side of a box grows by this fraction of the box's size (hair, ears, a turned head). */
  margin: number;
  /** Seconds a mask stays before its first and after its last detection. */
  holdSeconds: number;
  /** A face not seen again within this many seconds ends its mask (a new one starts when it returns). */
  maxGapSeconds: number;
}

export interface FaceTrack {
  _id: Types.ObjectId;
  detector: { name: string; version: string; settings: Record<string, number | boolean | string> };
  settings: TrackSettings;
  /** The analysed picture's size (the master's, upright). */
  width: number;
  height: number;
  durationSeconds: number;
  style: MaskStyle;
  masks: FaceMask[];
  /** Frames analysed, and in how many a face was found (for the moderator and the bench). */
  framesAnalysed: number;
  framesWithFaces: number;
  /** Bumped by every save (the worker's and each moderator's): a save names the version it edited. */
  version: number;
  /** The version the protected preview shows (the worker's render after a save); behind `version` while it renders. */
  renderedVersion: number;
  /** A save waits for its render (set by a save, cleared by the render of the latest version): the reconciler's look-up. */
  renderPending?: boolean;
  editedBy: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export const DEFAULT_TRACK_SETTINGS: Omit<TrackSettings, 'detectFps' | 'frameFps'> = {
  margin: 0.5,
  holdSeconds: 0.5,
  maxGapSeconds: 0.6,
};

const boxSchema = new Schema<MaskBox>({ x: Number, y: Number, w: Number, h: Number }, { _id: false });

export const faceTrackSchema = new Schema<FaceTrack>(
  {
    _id: { type: Schema.Types.ObjectId, required: true },
    detector: { type: Schema.Types.Mixed, required: true },
    settings: { type: Schema.Types.Mixed, required: true },
    width: { type: Number, required: true },
    height: { type: Number, required: true },
    durationSeconds: { type: Number, required: true },
    style: { type: String, enum: ['solid', 'pixelate'], default: 'solid' },
    masks: {
      type: [
        new Schema<FaceMask>(
          {
            id: { type: String, required: true },
            source: { type: String, enum: ['detector', 'moderator'], required: true },
            start: { type: Number, required: true },
            end: { type: Number, required: true },
            keys: { type: [new Schema<TrackKey>({ t: Number, box: boxSchema }, { _id: false })], default: [] },
          },
          { _id: false },
        ),
      ],
      default: [],
    },
    framesAnalysed: { type: Number, default: 0 },
    framesWithFaces: { type: Number, default: 0 },
    version: { type: Number, default: 1 },
    renderedVersion: { type: Number, default: 0 },
    renderPending: { type: Boolean, default: false },
    editedBy: { type: String, default: null },
  },
  { timestamps: true, collection: 'face_tracks', strict: 'throw' },
);

// The reconciler: saves whose render job was lost.
faceTrackSchema.index({ renderPending: 1, updatedAt: 1 });

export type FaceTrackModel = Model<FaceTrack>;

export function faceTrackModel(connection: Connection): FaceTrackModel {
  return connection.model<FaceTrack>('FaceTrack', faceTrackSchema);
}
