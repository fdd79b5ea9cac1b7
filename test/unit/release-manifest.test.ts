import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GENERATOR_VERSION, RELEASE_ASSERTION, releaseManifest, type ReleaseFacts } from '../../shared/provenance/release-manifest';
import { signedRenders } from '../../worker/handlers/release-submission.handler';

const FACTS: ReleaseFacts = {
  campaign: 'Trade unionism is not extremism',
  releaseId: '0123456789abcdef01234567',
  fileName: 'vertical-be.mp4',
  kind: 'video',
  captionLanguage: 'be',
  language: 'be',
  published: '2026-12-07',
  shape: 'vertical',
  watermark: true,
  endCard: true,
  faceMasking: false,
  voiceDisguised: false,
  pictureReplaced: false,
  creditedOrganisation: null,
};

const descriptions = (facts: ReleaseFacts) => (releaseManifest(facts).assertions[0]!.data.actions as { action: string; description: string }[]).map((a) => `${a.action}: ${a.description}`);

describe('the manifest of a release file', () => {
  test('when a captioned vertical render is signed, then its actions say each thing done, in order, and its release assertion names the campaign, release, languages and day', () => {
    expect(descriptions(FACTS)).toEqual([
      expect.stringMatching(/^c2pa\.opened: /),
      'c2pa.transcoded: Re-encoded as H.264 video and AAC sound, loudness levelled',
      'c2pa.cropped: Cropped to the vertical shape for social media',
      'c2pa.edited: Captions in "be" burned into the picture',
      'c2pa.edited: The campaign\'s logo placed in a corner',
      'c2pa.edited: The campaign\'s end card added at the end',
    ]);
    const manifest = releaseManifest(FACTS);
    expect(manifest.assertions[1]).toEqual({ label: RELEASE_ASSERTION, data: { campaign: FACTS.campaign, releaseId: FACTS.releaseId, language: 'be', captionLanguage: 'be', shape: 'vertical', published: '2026-12-07' } });
    expect(manifest.ingredients).toEqual([{ title: 'master.mp4', format: 'video/mp4', relationship: 'parentOf', instance_id: expect.any(String) }]);
    expect(manifest.claim_generator_info).toEqual([{ name: 'solidarity-clips', version: GENERATOR_VERSION }]);
  });

  test('when identity protection was applied, then the manifest says faces were covered or the picture replaced and the voice disguised; a poster never claims sound or captions', () => {
    expect(descriptions({ ...FACTS, faceMasking: true, voiceDisguised: true })).toEqual(expect.arrayContaining(['c2pa.edited: Faces covered to protect the contributor\'s identity', 'c2pa.edited: The voice disguised to protect the contributor\'s identity']));
    expect(descriptions({ ...FACTS, pictureReplaced: true, voiceDisguised: true }).join('\n')).toMatch(/picture replaced by the campaign's card/);
    const poster = descriptions({ ...FACTS, kind: 'poster', fileName: 'poster-vertical.jpg', voiceDisguised: true, captionLanguage: null });
    expect(poster.join('\n')).not.toMatch(/voice|Captions|end card/);
    expect(releaseManifest({ ...FACTS, kind: 'poster' }).format).toBe('image/jpeg');
  });

  test('when the consent grants credit, then the organisation is named; otherwise no field can carry it', () => {
    expect(releaseManifest({ ...FACTS, creditedOrganisation: 'Belarusian Congress of Democratic Trade Unions' }).assertions[1]!.data.credit).toBe('Belarusian Congress of Democratic Trade Unions');
    expect(JSON.stringify(releaseManifest(FACTS))).not.toMatch(/credit/);
  });

  test('the claim generator\'s version is package.json\'s', () => {
    expect(GENERATOR_VERSION).toBe((JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version);
  });

  test('when a release set is described for signing, then each render and poster has its shape and caption language, and an output it does not know is refused', () => {
    const renders = { source: 'a', 'source-be': 'b', 'poster-source': 'c', square: 'd', 'square-be': 'e', 'poster-square': 'f', vertical: 'g', 'vertical-be': 'h', 'poster-vertical': 'i' };
    expect(signedRenders(renders, ['be'])['vertical-be']).toEqual({ shape: 'vertical', captionLanguage: 'be', kind: 'video' });
    expect(signedRenders(renders, ['be'])['poster-square']).toEqual({ shape: 'square', captionLanguage: null, kind: 'poster' });
    expect(() => signedRenders({ ...renders, 'vertical-uk': 'x' }, ['be'])).toThrow(/vertical-uk/);
  });
});
