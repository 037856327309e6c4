import { formatNumber } from "../shared/i18n";

// Participation rates are a few millionths of a province's adults: shown per 10,000 people with two
// decimals (as the export writes them), never as 0.000% or in exponent notation.

export const perTenThousand = (rate: number) => rate * 10_000;

export function formatRate(rate: number | null | undefined): string {
  if (rate === null || rate === undefined || Number.isNaN(rate)) return "—";
  const value = perTenThousand(rate);
  if (value > 0 && value < 0.01) return "<0.01";
  return formatNumber(value, 2);
}
