// The server's JSON under the names the pages use. Every shape is generated from the server's
// OpenAPI document (openapi.json → api.gen.ts, `npm run generate`; README, "Develop"), never
// written here, so a change on the server that a page does not follow fails the typecheck.
import type { components } from "./api.gen";

type Schemas = components["schemas"];

/**
 * What the server sends. It writes every property of its records, null where there is nothing;
 * the document marks a property optional when a request may leave it out (a stage's defaults in a
 * campaign file), which an answer never does.
 */
export type Sent<T> = T extends readonly (infer U)[] ? Sent<U>[] : T extends object ? { [K in keyof T]-?: Sent<T[K]> } : T;

// Units (docs/protocol.md, section 1)
export type Region = Sent<Schemas["RegionView"]>;
export type RegionDetail = Sent<Schemas["RegionDetail"]>;
export type Organisation = Sent<Schemas["OrganisationView"]>;

// Campaigns (docs/web-api.md, "Campaign definitions")
export type Campaign = Sent<Schemas["Campaign"]>;
export type Stage = Sent<Schemas["Stage"]>;
/** A campaign as its file and the admin's editor hold it: what a stage leaves out, the server fills with its default. */
export type CampaignDefinition = Schemas["Campaign"];
export type StageDefinition = Schemas["Stage"];
export type SurveyDefinition = Schemas["Survey"];
/** A scene the participant picks for a round (StartRound's `scene`). */
export type Scene = Sent<Schemas["Scene"]>;
/** What the registration form asks for when it names the campaign. */
export type RegistrationRules = Sent<Schemas["RegistrationRules"]>;

// Participants (docs/protocol.md, section 2)
export type Participant = Sent<Schemas["ParticipantView"]>;
export type VerificationSent = Sent<Schemas["VerificationSent"]>;
export type Registered = Sent<Schemas["Registered"]>;

// The play hub's messages (docs/protocol.md, section 4) and its error codes (section 5)
export type RoundView = Sent<Schemas["RoundView"]>;
export type QuestionView = RoundView["questions"][number];
export type GivenAnswer = RoundView["answers"][number];
export type AnswerResult = Sent<Schemas["AnswerResult"]>;
export type RoundResult = Sent<Schemas["RoundResult"]>;
export type ReviewedQuestion = RoundResult["review"][number];
export type LadderState = NonNullable<RoundResult["ladder"]>;
export type PlayErrorCode = Schemas["PlayErrorCode"];

// Totals, learning task, invitations (docs/protocol.md, section 7)
export type StageTotals = Sent<Schemas["Totals"]>;
export type LearningItem = Sent<Schemas["LearningView"]>;
export type Learned = Sent<Schemas["Learned"]>;
export type Invitation = Sent<Schemas["InvitationView"]>;

// Surveys (docs/web-api.md, "Surveys")
export type SurveyView = Sent<Schemas["SurveyView"]>;
export type SurveyResults = Sent<Schemas["SurveyResults"]>;
export type DemandView = Sent<Schemas["DemandView"]>;
export type SurveyTexts = Sent<Schemas["SurveyTexts"]>;

// Rankings
export type Standing = Sent<Schemas["Standing"]>;
export type BoardEntry = Sent<Schemas["Entry"]>;
export type UnitRow = Sent<Schemas["UnitRow"]>;
export type MyStanding = Sent<Schemas["MyRanks"]>;

// Dashboard (docs/web-api.md)
export type ChildRow = Sent<Schemas["ChildRow"]>;
export type UnitsView = Sent<Schemas["UnitsView"]>;
export type LiveJoinsView = Sent<Schemas["LiveJoinsView"]>;
/** A circular the server issued on its schedule (docs/web-api.md, "Circulars on the schedule"). */
export type IssuedCircular = Sent<Schemas["IssuedCircular"]>;
export type UnitsChanged = Sent<Schemas["UnitsChanged"]>; // what /hubs/dashboard pushes
export type DayStats = Sent<Schemas["DayStats"]>;
export type ReportRow = Sent<Schemas["ReportRow"]>;
export type DailyReport = Sent<Schemas["DailyReport"]>;

// Staff and the admin console
/** The signed-in staff member (`/api/accounts/me`). */
export type Account = Sent<Schemas["StaffView"]>;
/** An account as the admin's list shows it (`/api/admin/accounts`). */
export type StaffAccount = Sent<Schemas["AccountView"]>;
export type ImportReport = Sent<Schemas["ImportReport"]>;
export type UnitsImportResult = Sent<Schemas["ImportResult"]>;
export type AdminQuestion = Sent<Schemas["QuestionView"]>;
export type QuestionStats = Sent<Schemas["QuestionStats"]>;
export type FlaggedRound = Sent<Schemas["FlaggedRound"]>;
export type RebuildReport = Sent<Schemas["RebuildReport"]>;
export type ReconcileReport = Sent<Schemas["ReconcileReport"]>;
