import type { Campaign, Stage } from "./types";

/** Today's date (yyyy-MM-dd) in the campaign's own time zone (China Standard Time unless it says otherwise). */
export function campaignToday(campaign: Campaign, now = Date.now()): string {
  const match = /^([+-]?)(\d{2}):(\d{2})$/.exec(campaign.utcOffset ?? "+08:00");
  const minutes = match ? (match[1] === "-" ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3])) : 480;
  return new Date(now + minutes * 60_000).toISOString().slice(0, 10);
}

/** The stage open today, else the latest one that has started, else the first. */
export function currentStage(campaign: Campaign, now = Date.now()): Stage | null {
  const today = campaignToday(campaign, now);
  const open = campaign.stages.find(s => s.startDay <= today && today <= s.endDay);
  if (open) return open;
  const started = campaign.stages.filter(s => s.startDay <= today).sort((a, b) => b.startDay.localeCompare(a.startDay));
  return started[0] ?? campaign.stages[0] ?? null;
}

export function isOpen(campaign: Campaign, now = Date.now()): boolean {
  const today = campaignToday(campaign, now);
  return campaign.stages.some(s => s.startDay <= today && today <= s.endDay);
}

/** The campaign a page shows: the one named in ?c=, else one open today, else the latest. */
export function pickCampaign(campaigns: Campaign[], wanted: string | null, now = Date.now()): Campaign | null {
  if (wanted) {
    const named = campaigns.find(c => c.id === wanted);
    if (named) return named;
  }
  const open = campaigns.filter(c => isOpen(c, now));
  if (open.length) return open[0];
  const byEnd = [...campaigns].sort((a, b) => lastDay(b).localeCompare(lastDay(a)));
  return byEnd[0] ?? null;
}

function lastDay(c: Campaign): string {
  return c.stages.reduce((max, s) => (s.endDay > max ? s.endDay : max), "");
}
