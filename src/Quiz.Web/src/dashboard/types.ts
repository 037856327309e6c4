// The dashboard's shapes (docs/web-api.md), generated from the server's OpenAPI document with the rest.
export type { ChildRow, DailyReport, DayStats, DemandView, LiveJoinsView, ReportRow, SurveyResults, SurveyTexts, UnitsView } from "../shared/types";
