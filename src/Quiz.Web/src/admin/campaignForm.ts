import type { CampaignDefinition as Campaign, StageDefinition as Stage, RegistrationRules, SurveyDefinition } from "../shared/types";
import { t } from "./messages";

// The campaign form's model: a definition with every field present (the server's defaults where
// the JSON leaves one out, Campaign.cs and Stage.cs), so each input has something to bind to and
// the JSON view and the form show the same definition.

type Filled<T, K extends keyof T> = T & { [P in K]-?: Exclude<T[P], undefined> };
export type FormStage = Filled<Stage, "opensAt" | "closesAt" | "points" | "multipleScoring" | "pools" | "difficulty" | "scenes" | "oneScenePerDay"
  | "ladder" | "perfectRoundScore" | "personalRanking" | "bonusPoints" | "invitationAttempts" | "prizes" | "learning" | "tieBreak"
  | "spreadCategories" | "minAnswerMs">;
type SurveyQuestionDefinition = SurveyDefinition["questions"][number];
type SurveyOptionDefinition = NonNullable<SurveyQuestionDefinition["options"]>[number];
export type FormSurveyQuestion = Omit<SurveyQuestionDefinition, "kind" | "required" | "options"> & {
  kind: "single" | "multiple" | "text"; required: boolean; options: (SurveyOptionDefinition & { category: string | null })[];
};
export type FormSurvey = Omit<SurveyDefinition, "intro" | "questions"> & { intro: string | null; questions: FormSurveyQuestion[] };
export type FormCampaign = Omit<Campaign, "stages" | "registration" | "headcountBase" | "organiser" | "survey"> & {
  organiser: string | null; registration: RegistrationRules; headcountBase: "residents" | "target"; stages: FormStage[]; survey: FormSurvey | null;
};

/** In the server's order (Tracks.All), so pools read the same in the form and in the JSON. */
export const tracks = ["elderly", "student", "workplace", "countryside", "city", "general"] as const;
export const aggregations = ["best", "best-of-day-summed", "best-per-scene-summed", "sum"] as const;

const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

export function stageWithDefaults(s: Partial<Stage>): FormStage {
  return {
    ...(s as Stage),
    opensAt: s.opensAt ?? null,
    closesAt: s.closesAt ?? null,
    questionsPerRound: s.questionsPerRound ?? 5,
    roundSeconds: s.roundSeconds ?? null,
    questionSeconds: s.questionSeconds ?? null,
    attemptsPerDay: s.attemptsPerDay ?? 3,
    points: { single: 1, multiple: 1, trueFalse: 1, ...s.points },
    multipleScoring: s.multipleScoring ?? "all-or-nothing",
    aggregation: s.aggregation ?? "best",
    tieBreak: s.tieBreak ?? "duration-then-finish",
    pools: s.pools ?? {},
    scenes: s.scenes ?? [],
    oneScenePerDay: s.oneScenePerDay ?? true,
    ladder: s.ladder ?? false,
    perfectRoundScore: s.perfectRoundScore ?? null,
    personalRanking: s.personalRanking ?? true,
    bonusPoints: { profile: 0, invitation: 0, learningTask: 0, ...s.bonusPoints },
    invitationAttempts: s.invitationAttempts ?? 0,
    learning: s.learning ?? [],
    prizes: s.prizes ?? [],
    difficulty: s.difficulty ?? {},
    spreadCategories: s.spreadCategories ?? true,
    showAnswers: s.showAnswers ?? true,
    minAnswerMs: s.minAnswerMs ?? 800,
  };
}

/** A definition as the server sends it, or as an expert typed it, made whole for the form. */
export function withDefaults(c: Campaign): FormCampaign {
  const source = copy(c);
  return {
    ...source,
    description: source.description ?? "",
    organiser: source.organiser ?? null,
    utcOffset: source.utcOffset ?? "+08:00",
    headcountBase: source.headcountBase ?? "residents",
    registration: { regionLevel: "county", track: "required", ...source.registration },
    stages: (source.stages ?? []).map(stageWithDefaults),
    survey: source.survey ? surveyWithDefaults(source.survey) : null,
  };
}

export function surveyWithDefaults(s: SurveyDefinition): FormSurvey {
  return {
    ...s,
    intro: s.intro ?? null,
    questions: (s.questions ?? []).map(q => ({
      ...q, kind: q.kind ?? "single", required: q.required ?? true, options: (q.options ?? []).map(o => ({ ...o, category: o.category ?? null })),
    })),
  };
}

/** A survey to start from: what the sample campaigns ask, shortened. */
export function newSurvey(): FormSurvey {
  return surveyWithDefaults({
    title: "问卷调查：您想学什么",
    questions: [
      { id: "topics", text: "您最想了解哪些骗局？", kind: "multiple",
        options: [{ id: "illegal-fundraising", text: "非法集资", category: "features" }, { id: "pension-fraud", text: "养老诈骗", category: "pension" }] },
      { id: "wishes", text: "您还想了解什么？", kind: "text", required: false },
    ],
  });
}

export function newCampaign(): FormCampaign {
  const today = new Date().toISOString().slice(0, 10);
  return withDefaults({
    id: "new-campaign", name: "新活动", description: "", utcOffset: "+08:00",
    stages: [{ id: "main", name: "正式赛", startDay: today, endDay: today, questionsPerRound: 5, roundSeconds: 120, questionSeconds: null,
      attemptsPerDay: 3, aggregation: "best", showAnswers: true, difficulty: { "1": 2, "2": 2, "3": 1 } }],
  });
}

const blank = (v: unknown) => v === null || v === undefined || v === "";
const orNull = <T>(v: T) => (blank(v) ? null : v);

/** What is sent and what the JSON view shows: empty boxes are "none" (a limit left out, an any-mix difficulty), not 0. */
export function normalised(c: FormCampaign): FormCampaign {
  return {
    ...c,
    organiser: blank(c.organiser) ? null : c.organiser,
    survey: c.survey && {
      ...c.survey,
      intro: blank(c.survey.intro) ? null : c.survey.intro,
      questions: c.survey.questions.map(q => ({
        ...q, options: q.kind === "text" ? [] : q.options.map(o => ({ ...o, category: blank(o.category) ? null : o.category })),
      })),
    },
    stages: c.stages.map(s => {
      const counts = ["1", "2", "3"].map(k => s.difficulty[k] as unknown);
      return {
        ...s,
        opensAt: orNull(s.opensAt),
        closesAt: orNull(s.closesAt),
        roundSeconds: orNull(s.roundSeconds),
        questionSeconds: orNull(s.questionSeconds),
        perfectRoundScore: orNull(s.perfectRoundScore),
        // All three empty = any mix; an empty one beside others = none of that difficulty.
        difficulty: counts.every(blank) ? {} : Object.fromEntries(counts.map((n, i) => [String(i + 1), blank(n) ? 0 : (n as number)])),
      };
    }),
  };
}

/** RankScore.MaxScore: a round's score has 14 bits in the rank encoding. */
const maxRoundScore = 16383;
const idPattern = /^[a-z0-9-]{1,40}$/;
const timePattern = /^(([01]\d|2[0-3]):[0-5]\d|24:00)$/;
const whole = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v);
const within = (v: unknown, min: number, max: number) => whole(v) && v >= min && v <= max;

/**
 * The server's rules (Campaign.Validate, Stage.Validate), checked here to say what is wrong in the
 * page's language, next to the field. Keys are the inputs' ids ("name", "s0-closesAt", "s1-scene0-name").
 */
export function validate(c: FormCampaign): Record<string, string> {
  const e: Record<string, string> = {};
  const range = (key: string, v: unknown, min: number, max: number) => { if (!within(v, min, max)) e[key] = t("v_range", { min, max }); };
  if (!idPattern.test(c.id ?? "")) e.id = t("v_id");
  if (!c.name?.trim() || c.name.length > 100) e.name = t("v_name");
  if ((c.organiser ?? "").length > 100) e.organiser = t("v_max", { max: 100 });
  if (!/^[+-]?\d{2}:\d{2}$/.test(c.utcOffset ?? "")) e.utcOffset = t("v_offset");
  if (!c.stages.length) e.stages = t("v_oneStage");
  if (c.survey) validateSurvey(c.survey, e);
  const stageIds = c.stages.map(s => s.id);
  c.stages.forEach((s, i) => {
    const f = (name: string) => `s${i}-${name}`;
    if (!idPattern.test(s.id ?? "")) e[f("id")] = t("v_id");
    else if (stageIds.indexOf(s.id) !== i) e[f("id")] = t("v_twice");
    if (!s.name?.trim()) e[f("name")] = t("v_required");
    if (!s.startDay) e[f("startDay")] = t("v_required");
    if (!s.endDay) e[f("endDay")] = t("v_required");
    else if (s.startDay && s.endDay < s.startDay) e[f("endDay")] = t("v_endBeforeStart");
    if (s.opensAt && !timePattern.test(s.opensAt)) e[f("opensAt")] = t("v_time");
    if (s.closesAt && !timePattern.test(s.closesAt)) e[f("closesAt")] = t("v_time");
    else if (s.startDay && s.startDay === s.endDay && s.closesAt && (s.opensAt ?? "00:00") >= s.closesAt) e[f("closesAt")] = t("v_closesAfterOpens");
    range(f("questionsPerRound"), s.questionsPerRound, 1, 50);
    if (!blank(s.roundSeconds)) range(f("roundSeconds"), s.roundSeconds, 10, 3600);
    if (!blank(s.questionSeconds)) range(f("questionSeconds"), s.questionSeconds, 3, 600);
    if (blank(s.roundSeconds) && blank(s.questionSeconds)) e[f("roundSeconds")] = t("v_oneLimit");
    range(f("attemptsPerDay"), s.attemptsPerDay, 1, 100);
    for (const k of ["single", "multiple", "trueFalse"] as const) range(f(`points-${k}`), s.points[k], 0, 1000);
    const most = Math.max(s.points.single, s.points.multiple, s.points.trueFalse);
    if (!e[f("points-single")] && !e[f("points-multiple")] && !e[f("points-trueFalse")] && whole(s.questionsPerRound) && s.questionsPerRound * most > maxRoundScore)
      e[f("points-single")] = t("v_roundMax", { max: maxRoundScore });
    if (!blank(s.perfectRoundScore)) range(f("perfectRoundScore"), s.perfectRoundScore, 0, maxRoundScore);
    for (const k of ["profile", "invitation", "learningTask"] as const) range(f(`bonus-${k}`), s.bonusPoints[k], 0, 1000);
    range(f("invitationAttempts"), s.invitationAttempts, 0, 10);
    range(f("minAnswerMs"), s.minAnswerMs, 0, 60000);
    const counts = ["1", "2", "3"].map(k => s.difficulty[k] as unknown);
    if (!counts.every(blank)) {
      const numbers = counts.map(n => (blank(n) ? 0 : n));
      if (numbers.some(n => !whole(n) || n < 0)) e[f("difficulty")] = t("v_difficultyWhole");
      else {
        const sum = (numbers as number[]).reduce((a, b) => a + b, 0);
        if (sum !== s.questionsPerRound) e[f("difficulty")] = t("v_difficultySum", { sum, n: s.questionsPerRound });
      }
    }
    Object.entries(s.pools).forEach(([track, pool]) => { if (!pool.length) e[f(`pool-${track}`)] = t("v_pool"); });
    const sceneIds = s.scenes.map(x => x.id);
    s.scenes.forEach((x, j) => {
      if (!idPattern.test(x.id ?? "")) e[f(`scene${j}-id`)] = t("v_id");
      else if (sceneIds.indexOf(x.id) !== j) e[f(`scene${j}-id`)] = t("v_twice");
      if (!x.name?.trim() || x.name.length > 40) e[f(`scene${j}-name`)] = t("v_chars", { max: 40 });
      if (!x.pool.length) e[f(`scene${j}-pool`)] = t("v_pool");
    });
    if (s.aggregation === "best-per-scene-summed" && !s.scenes.length) e[f("aggregation")] = t("v_needsScenes");
    if (s.ladder && !s.scenes.length) e[f("ladder")] = t("v_needsScenes");
    s.learning.forEach((x, j) => {
      if (!x.title?.trim() || x.title.length > 100) e[f(`learning${j}-title`)] = t("v_chars", { max: 100 });
      if (!x.text?.trim() || x.text.length > 4000) e[f(`learning${j}-text`)] = t("v_chars", { max: 4000 });
    });
    if (whole(s.bonusPoints.learningTask) && s.bonusPoints.learningTask > 0 && !s.learning.length) e[f("bonus-learningTask")] = t("v_needsLearning");
    const prizeIds = s.prizes.map(x => x.id);
    s.prizes.forEach((x, j) => {
      if (!idPattern.test(x.id ?? "")) e[f(`prize${j}-id`)] = t("v_id");
      else if (prizeIds.indexOf(x.id) !== j) e[f(`prize${j}-id`)] = t("v_twice");
      if (!x.name?.trim() || x.name.length > 60) e[f(`prize${j}-name`)] = t("v_chars", { max: 60 });
      if (!whole(x.minScore) || x.minScore < 0) e[f(`prize${j}-minScore`)] = t("v_whole0");
      if (!whole(x.minPoints) || x.minPoints < 0) e[f(`prize${j}-minPoints`)] = t("v_whole0");
    });
  });
  return e;
}

/** Survey.Validate's rules; keys "sv-title", "sv-q0-text", "sv-q0-o1-id" as SurveyForm's inputs. */
function validateSurvey(s: FormSurvey, e: Record<string, string>) {
  if (!s.title?.trim() || s.title.length > 60) e["sv-title"] = t("v_chars", { max: 60 });
  if ((s.intro ?? "").length > 200) e["sv-intro"] = t("v_max", { max: 200 });
  if (!s.questions.length || s.questions.length > 5) e["sv-questions"] = t("v_surveyQuestions");
  const ids = s.questions.map(q => q.id);
  s.questions.forEach((q, j) => {
    if (!idPattern.test(q.id ?? "")) e[`sv-q${j}-id`] = t("v_id");
    else if (ids.indexOf(q.id) !== j) e[`sv-q${j}-id`] = t("v_twice");
    if (!q.text?.trim() || q.text.length > 100) e[`sv-q${j}-text`] = t("v_chars", { max: 100 });
    if (q.kind === "text") return;
    if (q.options.length < 2 || q.options.length > 12) e[`sv-q${j}-options`] = t("v_surveyOptions");
    const optionIds = q.options.map(o => o.id);
    const texts = q.options.map(o => o.text);
    q.options.forEach((o, m) => {
      if (!idPattern.test(o.id ?? "")) e[`sv-q${j}-o${m}-id`] = t("v_id");
      else if (optionIds.indexOf(o.id) !== m) e[`sv-q${j}-o${m}-id`] = t("v_twice");
      if (!o.text?.trim() || o.text.length > 40) e[`sv-q${j}-o${m}-text`] = t("v_chars", { max: 40 });
      else if (texts.indexOf(o.text) !== m) e[`sv-q${j}-o${m}-text`] = t("v_textTwice");
      if (!blank(o.category) && !idPattern.test(o.category ?? "")) e[`sv-q${j}-o${m}-category`] = t("v_id");
    });
  });
}

/** Stage dates must not overlap: said once, on the later stage's first day. */
export function overlaps(c: FormCampaign): Record<string, string> {
  const e: Record<string, string> = {};
  const ordered = c.stages.map((s, i) => ({ s, i })).filter(x => x.s.startDay && x.s.endDay).sort((a, b) => a.s.startDay.localeCompare(b.s.startDay));
  for (let k = 1; k < ordered.length; k++)
    if (ordered[k].s.startDay <= ordered[k - 1].s.endDay) e[`s${ordered[k].i}-startDay`] = t("v_overlap", { other: ordered[k - 1].s.name || ordered[k - 1].s.id });
  return e;
}
