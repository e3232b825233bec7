/**
 * The notes a report prints beside a profile's settings, from core/weaknesses.ts's one list: the
 * weak settings it chose, apart from what its secure defaults leave open by design (entries marked
 * `advice`, e.g. `client.verify: ca` trusting every root the client trusts — the rogue-root premise).
 * The README says the defaults are secure; a report that filed a default under "weak settings"
 * would contradict it, so the two lists are shown under different headings. Notes explain
 * results; they never decide one.
 */
import { WEAK_SETTINGS, type Weakness } from '../core/weaknesses.ts';
import type { Profile } from '../core/profile.ts';

/** A profile's notes: weak settings it chose, and what its (secure) settings leave open by design. */
export interface SettingNotes {
  weak: Weakness[];
  leftOpen: Weakness[];
}

/**
 * The notes of `settings`, each list in core/weaknesses.ts order.
 * @returns empty lists when the settings come from another version and lack fields the rules read
 */
export function settingNotes(settings: Profile): SettingNotes {
  const weak: Weakness[] = [];
  const leftOpen: Weakness[] = [];
  for (const w of WEAK_SETTINGS) {
    let applies = false;
    try {
      applies = !!w.inProfile?.(settings);
    } catch {
      applies = false; // results from another version may lack fields the rule reads
    }
    if (!applies) continue;
    const note = { setting: w.setting, weakness: w.weakness, fix: w.fix, lab: w.lab, attacks: w.attacks };
    (w.advice ? leftOpen : weak).push(note);
  }
  return { weak, leftOpen };
}
