import { Types } from 'mongoose';
import { CHECKLIST, checklistSensitive, reasonText } from '../../server/services/review.service';
import type { Campaign } from '../../shared/models/campaign.model';
import { decodeCursor, encodeCursor } from '../../shared/submissions/review-queue';

describe('review rules (pure)', () => {
  const allClear = Object.fromEntries(CHECKLIST.map((item) => [item, 'clear']));

  test.each(CHECKLIST.map((item) => [item]))('when "%s" is present, then the clip is sensitive; when it is unanswered, then the checklist is incomplete', (item) => {
    expect(checklistSensitive({ ...allClear, [item]: 'present' })).toEqual({ complete: true, sensitive: true, present: [item] });
    expect(checklistSensitive({ ...allClear, [item]: undefined }).complete).toBe(false);
    expect(checklistSensitive({ ...allClear, [item]: 'maybe' }).complete).toBe(false);
  });

  test('when every item is "none seen", then the checklist is complete and the clip not sensitive', () => {
    expect(checklistSensitive(allClear)).toEqual({ complete: true, sensitive: false, present: [] });
  });

  const campaign = {
    languages: ['be', 'ru', 'en'],
    rejectionReasons: [{ id: 'off_topic', texts: [{ language: 'ru', text: 'ru text' }, { language: 'be', text: 'be text' }, { language: 'en', text: 'en text' }] }],
  } as unknown as Campaign;

  test.each([
    [['be', 'en'], 'be text'],
    [['uk', 'ru'], 'ru text'],
    [['de', 'fr'], 'be text'],
  ])('when the contributor speaks %j, then the reason comes as %s', (languages, expected) => {
    expect(reasonText(campaign, 'off_topic', languages)).toBe(expected);
  });

  test('when the template is unknown, then there is no reason text', () => {
    expect(reasonText(campaign, 'nope', ['be'])).toBeNull();
  });

  test('when a cursor is encoded and decoded, then it gives back the same place', () => {
    const entry = { enteredAt: new Date('2026-11-30T10:00:00.123Z'), _id: new Types.ObjectId() };
    expect(decodeCursor(encodeCursor(entry))).toEqual({ enteredAt: entry.enteredAt, id: entry._id });
  });
});
