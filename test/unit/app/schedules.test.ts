import { describe, expect, it } from 'vitest';
import { scheduleAt } from '../../../shared/app/schedules.ts';
import type { FleetSchedule } from '../../../shared/domain/fleet.ts';

const WORKDAY: FleetSchedule = { cron: '* 8-17 * * 1-5', timezone: 'Europe/Berlin', minInstances: 3 };
const LUNCH: FleetSchedule = { cron: '* 12 * * 1-5', timezone: 'Europe/Berlin', idleBuffer: 2 };

describe('scheduleAt', () => {
  it.each([
    ['08:30 in Berlin on a Friday in winter (07:30 UTC)', '2026-11-27T07:30:00Z', WORKDAY],
    ['07:59 in Berlin', '2026-11-27T06:59:00Z', undefined],
    ['18:00 in Berlin', '2026-11-27T17:00:00Z', undefined],
    ['a Saturday', '2026-11-28T09:00:00Z', undefined],
    ['08:30 in Berlin in summer (06:30 UTC, daylight saving)', '2026-07-01T06:30:00Z', WORKDAY],
    ['noon in Berlin: the later schedule wins', '2026-11-27T11:15:00Z', LUNCH],
  ])('%s', (_, at, expected) => {
    expect(scheduleAt({ schedules: [WORKDAY, LUNCH] }, Date.parse(at))).toEqual(expected);
  });

  it('is none for a fleet without schedules', () => {
    expect(scheduleAt({}, Date.parse('2026-11-27T07:30:00Z'))).toBeUndefined();
  });
});
