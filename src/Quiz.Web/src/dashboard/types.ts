// The dashboard's shapes from docs/web-api.md.

export interface ChildRow {
  code: string; name: string; level: string; participants: number; headcount: number; participationRate: number;
  rounds: number; points: number; averagePoints: number; siblingRank: number;
  todayParticipants: number; todayRounds: number; todayPoints: number;
  /** Whether the page can open it (a province or city with regions below). */
  hasChildren: boolean;
}
export interface UnitsView { unit: ChildRow | null; children: ChildRow[]; today: string; updatedAt: string }
export interface DayStats { day: string; newParticipants: number; participants: number; rounds: number; points: number }
export interface ReportRow {
  code: string; name: string; headcount: number; newParticipants: number; participants: number; participationRate: number; rounds: number; points: number;
}
export interface DailyReport { unit: string | null; unitName: string; day: string; totals: ReportRow; children: ReportRow[]; topMovers: ReportRow[] }
