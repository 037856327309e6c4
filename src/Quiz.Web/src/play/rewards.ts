import type { Campaign, Stage, StageTotals } from "../shared/types";
import { http } from "../shared/http";

// What a 2025-style stage counts besides a round's score: ladders per role, flowers, points,
// prize tiers instead of personal ranks. The server
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

export function stagePath(campaignId: string, stageId: string): string {
  return `/api/campaigns/${encodeURIComponent(campaignId)}/${encodeURIComponent(stageId)}`;
}

export function loadTotals(token: string, campaignId: string, stageId: string): Promise<StageTotals> {
  return http<StageTotals>(`${stagePath(campaignId, stageId)}/me`, { bearer: token });
}
