import type { Campaign, Stage, StageTotals } from "../shared/types";
import { http } from "../shared/http";

// What a 2025-style stage counts besides a round's score: ladders per role, flowers, points,
// prize tiers instead of personal ranks, the daily learning task and invitations. The server
// counts all of it (docs/protocol.md section 7); the page only asks and shows.

export function stageOf(campaign: Campaign | null, stageId: string | null | undefined): Stage | null {
  return campaign?.stages.find(s => s.id === stageId) ?? null;
}

/** Persons are ranked on this stage (the default); false on 2025's, where no personal rank is shown. */
export function ranked(stage: Stage | null): boolean {
  return stage?.personalRanking !== false;
}

/** The stage has totals worth showing to the person: ladders, prizes or bonus points. */
export function hasTotals(stage: Stage | null): boolean {
  if (!stage) return false;
  const bonus = stage.bonusPoints;
  return !!stage.ladder || !ranked(stage) || (stage.prizes?.length ?? 0) > 0
    || !!bonus && bonus.profile + bonus.invitation + bonus.learningTask > 0;
}

/** The stage rewarding invitations, if any stage of the campaign does. */
export function invitationStage(campaign: Campaign | null): Stage | null {
  return campaign?.stages.find(s => (s.bonusPoints?.invitation ?? 0) > 0 || (s.invitationAttempts ?? 0) > 0) ?? null;
}

export function stagePath(campaignId: string, stageId: string): string {
  return `/api/campaigns/${encodeURIComponent(campaignId)}/${encodeURIComponent(stageId)}`;
}

export function loadTotals(token: string, campaignId: string, stageId: string): Promise<StageTotals> {
  return http<StageTotals>(`${stagePath(campaignId, stageId)}/me`, { bearer: token });
}

/** The `invite` parameter of the link a friend shared (`/?invite=K7QW3MZP`), if the page was opened from one. */
export function inviteFromAddress(): string | null {
  const code = new URLSearchParams(location.search).get("invite")?.trim() ?? "";
  return code ? code.slice(0, 32) : null;
}

/** Drops `invite` from the address once used or refused, so a reload does not offer it again. */
export function forgetInviteInAddress() {
  const url = new URL(location.href);
  if (!url.searchParams.has("invite")) return;
  url.searchParams.delete("invite");
  history.replaceState(history.state, "", url.pathname + url.search + url.hash);
}
