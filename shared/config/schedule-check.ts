import { Cron } from 'croner';

/** Throws, in the library's own words, for a cron expression or an IANA time zone that cannot be used. */
export function checkSchedule(schedule: { readonly cron: string; readonly timezone: string }): void {
  new Intl.DateTimeFormat('en', { timeZone: schedule.timezone });
  new Cron(schedule.cron, { timezone: schedule.timezone, paused: true });
}
