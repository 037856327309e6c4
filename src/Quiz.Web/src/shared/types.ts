// Shapes of the server's JSON (docs/protocol.md and docs/web-api.md), camelCase.

export interface Region { code: string; name: string; level: string; hasChildren: boolean; headcountBase: number }
export interface Organisation { code: string; name: string; type: string; regionCode: string }

export interface Stage {
  id: string; name: string; startDay: string; endDay: string; opensAt?: string | null; closesAt?: string | null;
  questionsPerRound: number; roundSeconds: number | null; questionSeconds: number | null;
  attemptsPerDay: number; aggregation: "best" | "best-of-day-summed" | "best-per-scene-summed" | "sum"; showAnswers: boolean;
  points?: { single: number; multiple: number; trueFalse: number };
  multipleScoring?: string; pools?: Record<string, string[]>; difficulty?: Record<string, number>;
  scenes?: Scene[];
  /** false (2025's roles): any scene any time; absent = one scene a day (2024). */
  oneScenePerDay?: boolean;
  /** 2025: each scene (role) is a ladder per person (protocol.md, Finish). */
  ladder?: boolean;
  perfectRoundScore?: number | null;
  /** false (2025): no personal ranks anywhere; totals and prize tiers instead. Absent = true. */
  personalRanking?: boolean;
  bonusPoints?: { profile: number; invitation: number; learningTask: number };
  invitationAttempts?: number;
  prizes?: { id: string; name: string; minScore: number; minPoints: number }[];
  /** The daily learning task's items, day n of the stage showing item n. */
  learning?: { title: string; text: string }[];
  tieBreak?: string; spreadCategories?: boolean; minAnswerMs?: number;
}
/** A scene the participant picks for a round (StartRound's `scene`), one a day. */
export interface Scene { id: string; name: string; pool: string[] }
/** What the registration form asks for when it names the campaign (docs/web-api.md, "Campaign definitions"). */
export interface RegistrationRules { regionLevel: "county" | "city" | "province"; track: "required" | "none" }
export interface Campaign { id: string; name: string; description: string | null; organiser?: string | null; utcOffset: string; registration?: RegistrationRules; headcountBase?: "residents" | "target"; stages: Stage[] }

export interface Participant {
  participantId: number; nickname: string; mobileMasked: string; track: string;
  region: { code: string; name: string }[]; organisation: { code: string; name: string; type: string } | null;
}

export interface QuestionView { position: number; questionId: string; type: "single" | "multiple" | "truefalse"; stem: string; options: string[] }
export interface AnswerResult { position: number; correct: boolean; late: boolean; key: number[] | null; explanation: string | null }
export interface GivenAnswer { position: number; choices: number[]; result: AnswerResult | null }
export interface RoundView {
  roundId: string; campaignId: string; stageId: string; questions: QuestionView[];
  startedAt: string; deadline: string; serverNow: string; questionSeconds: number | null;
  showAnswers: boolean; attemptsLeft: number; answers: GivenAnswer[]; scene: string | null;
}
export interface ReviewedQuestion { position: number; chosen: number[]; key: number[]; correct: boolean; explanation: string; source: string }
export interface RoundResult {
  roundId: string; score: number; maxScore: number; correct: number; questionCount: number; durationMs: number; autoFinished: boolean;
  nationalRank: number | null; unitRank: number | null; organisationRank: number | null; rankPending: boolean; attemptsLeft: number;
  review: ReviewedQuestion[];
  /** The played scene's ladder after this round (stages with ladders), else null. */
  ladder?: LadderState | null;
}
export interface LadderState { scene: string; step: number; rescued: boolean }

/** GET /api/campaigns/{c}/{stage}/me (protocol.md section 7). */
export interface StageTotals {
  campaignId: string; stageId: string; score: number; rounds: number;
  points: { profile: number; invitations: number; learningTasks: number; total: number };
  invitedFriends: number; learnedToday: boolean;
  ladder: { scene: string; name: string; step: number; rescued: boolean }[];
  prizes: { id: string; name: string; minScore: number; minPoints: number; reached: boolean }[];
  /** The best single round's score; null before the first round. */
  bestRound: number | null;
  /** Starts left today as StartRound counts them; null when today is not a day of the stage. */
  attemptsLeftToday: number | null;
}
export interface LearningItem { day: string; title: string; text: string; done: boolean; points: number }
export interface Invitation { code: string; link: string }

export interface Standing { rank: number; score: number; durationMs: number; boardSize: number }
export interface BoardEntry { rank: number; participantId: number; nickname: string; region: string | null; score: number; durationMs: number }
export interface UnitRow {
  code: string; name: string; level: string; parentCode: string | null;
  participants: number; headcount: number; participationRate: number; rounds: number; points: number; averagePoints: number;
  siblingRank: number | null; nationalRank: number | null;
  todayParticipants?: number; todayRounds?: number; todayPoints?: number;
}
export interface MyStanding {
  national: Standing | null; unit: Standing | null; organisation: Standing | null;
  around: BoardEntry[]; myUnit: UnitRow | null; size: number;
}

export interface Account { name: string; role: "admin" | "unit-staff"; unitCode: string | null; unitName: string | null }
