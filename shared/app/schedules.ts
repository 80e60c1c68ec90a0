import { Cron } from 'croner';
import type { Fleet, FleetSchedule } from '../domain/fleet.ts';

/**
 * Time-of-day schedules: a cron expression read as a set of minutes (`* 8-17 * * 1-5` = weekdays 08:00–17:59) in an
 * IANA time zone, daylight saving included. Compiled once per cold start, evaluated each cycle at the cycle's time.
 */
const compiled = new Map<string, Cron>();

function matcher(schedule: FleetSchedule): Cron {
  const key = `${schedule.timezone} ${schedule.cron}`;
  let cron = compiled.get(key);
  if (cron === undefined) {
    // `paused`: only ever asked whether a moment matches, never run.
    cron = new Cron(schedule.cron, { timezone: schedule.timezone, paused: true });
    compiled.set(key, cron);
  }
  return cron;
}

/** The schedule in force at `now` (epoch ms): the last of the fleet's schedules whose cron matches that minute. */
export function scheduleAt(fleet: Pick<Fleet, 'schedules'>, now: number): FleetSchedule | undefined {
  const at = new Date(now);
  return fleet.schedules?.findLast((schedule) => matcher(schedule).match(at));
}
