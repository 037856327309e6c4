import { http, query } from "../shared/http";
import type { Organisation, RegionDetail } from "../shared/types";

// A unit's poster links to the phone page with ?unit=<code> (a region or an organisation): the
// sign-up form then starts with that unit chosen, so people scanning a county's poster count for it.

export interface UnitPreset {
  /** Region codes from the province down, as the region picker offers them. */
  regions: string[];
  organisation: Organisation | null;
}

async function regionPath(code: string): Promise<string[] | null> {
  const detail = await http<RegionDetail>(`/api/units/regions/${encodeURIComponent(code)}`).catch(() => null);
  if (!detail) return null;
  const codes = detail.path.map(r => r.code);
  return codes[codes.length - 1] === detail.code ? codes : [...codes, detail.code];
}

export async function unitFromAddress(): Promise<UnitPreset | null> {
  const code = new URLSearchParams(location.search).get("unit")?.trim();
  if (!code) return null;
  const regions = await regionPath(code);
  if (regions) return { regions, organisation: null };
  const found = await http<Organisation[]>(`/api/units/organisations${query({ q: code, limit: 5 })}`).catch(() => []);
  const organisation = found.find(o => o.code === code);
  if (!organisation) return null;
  return { regions: (await regionPath(organisation.regionCode)) ?? [], organisation };
}
