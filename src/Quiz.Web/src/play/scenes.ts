import { reactive } from "vue";
import type { Campaign, PlayErrorCode, Scene, Stage } from "../shared/types";
import { currentStage } from "../shared/campaigns";

// Scenes (2024: campus, workplace, city, countryside) and roles (2025: four people) are picked by
// the player for each round, one a day: StartRound's `scene` in docs/protocol.md. The page only
// proposes them from the campaign's definition and the phone's date; the server decides which
// stage is open and which scene today's is, so its refusals correct what the page offers.

/** localStorage key prefix, + campaign id: the scene last chosen, so the next round starts with it. */
const LAST = "quiz.scene.";

export const scenes = reactive({
  /** The scene picked for the next round (an id of the offered stage's scenes). */
  chosen: null as string | null,
  /** Today's scene as the server named it when it refused another one (`scene-taken`). */
  taken: null as string | null,
  /**
   * Set when the server contradicts the phone's clock (a phone whose date is wrong): the id of
   * the stage whose scenes the server asked for, or "" when it said the stage has none.
   */
  stageOverride: null as string | null,
});

/** The stage whose scenes the page offers, or null when the round needs no scene. */
export function sceneStage(campaign: Campaign | null): Stage | null {
  if (!campaign) return null;
  if (scenes.stageOverride !== null) return campaign.stages.find(s => s.id === scenes.stageOverride && s.scenes?.length) ?? null;
  const stage = currentStage(campaign);
  return stage?.scenes?.length ? stage : null;
}

export function offeredScenes(campaign: Campaign | null): Scene[] {
  return sceneStage(campaign)?.scenes ?? [];
}

/** The scene's name from the campaign (any stage), else its id. */
export function sceneName(campaign: Campaign | null, id: string | null, stageId?: string): string {
  if (!id) return "";
  const stages = campaign?.stages ?? [];
  const ordered = stageId ? [...stages.filter(s => s.id === stageId), ...stages] : stages;
  for (const stage of ordered) {
    const scene = stage.scenes?.find(s => s.id === id);
    if (scene) return scene.name;
  }
  return id;
}

/** Picks up the last scene chosen for this campaign on this phone, if the stage still offers it. */
export function restoreChoice(campaign: Campaign | null) {
  if (!campaign) return;
  let last: string | null = null;
  try { last = localStorage.getItem(LAST + campaign.id); } catch { /* private mode */ }
  const offered = offeredScenes(campaign);
  if (scenes.chosen && offered.some(s => s.id === scenes.chosen)) return;
  scenes.chosen = offered.some(s => s.id === last) ? last : null;
}

export function choose(campaign: Campaign | null, id: string | null) {
  scenes.chosen = id;
  if (!campaign || !id) return;
  try { localStorage.setItem(LAST + campaign.id, id); } catch { /* private mode */ }
}

/**
 * Reads a scene refusal from the server and adjusts what the page offers. The hub's error text is
 * English for client writers (docs/protocol.md section 5): the page never shows it, only the scene
 * ids it names, with its own words in the player's language.
 */
export function sceneRefusal(campaign: Campaign | null, code: PlayErrorCode, text: string): { scene: string | null } | null {
  switch (code) {
    case "scene-taken": {
      // "today's scene is 'city'; another scene can be played on another day"
      const named = /scene is '([^']+)'/.exec(text)?.[1] ?? null;
      // Offer today's scene from whichever stage has it, even if the phone's date said otherwise.
      const stage = campaign?.stages.find(s => s.scenes?.some(x => x.id === named));
      const taken = stage ? named : null;
      scenes.taken = taken;
      if (stage && sceneStage(campaign)?.id !== stage.id) scenes.stageOverride = stage.id;
      return { scene: taken };
    }
    case "scene-required": {
      // "pick a scene: campus, workplace, city, countryside": the stage open on the server's clock.
      const ids = (/pick a scene: (.*)$/.exec(text)?.[1] ?? "").split(",").map(s => s.trim()).filter(Boolean);
      const stage = campaign?.stages.find(s => s.scenes?.length && ids.every(id => s.scenes!.some(x => x.id === id)))
        ?? campaign?.stages.find(s => s.scenes?.length);
      if (stage) scenes.stageOverride = stage.id;
      scenes.chosen = null;
      return { scene: null };
    }
    case "unknown-scene":
      // Either the campaign was changed since the page loaded it, or the open stage has no scenes.
      if (/has no scenes/.test(text)) scenes.stageOverride = "";
      scenes.chosen = null;
      return { scene: null };
    default:
      return null;
  }
}

/** A round started: today's scene is this one. */
export function started(campaign: Campaign | null, scene: string | null) {
  scenes.taken = null;
  if (scene) choose(campaign, scene);
}
