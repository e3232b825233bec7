/**
 * The one list of attacks. Adding an attack: write a plugin in attacks/plugins/ implementing
 * the Attack interface (attacks/types.ts) and list it here; nothing else needs to know about it.
 */
import { ERROR_CODES, UsageError } from '../core/errors.ts';
import { mitmGallery, mitmPassive, mitmRogueCa, mitmSelfSigned, mitmWrongHost } from './plugins/mitm.ts';
import { retroDecrypt } from './plugins/retro-decrypt.ts';
import { tamper } from './plugins/tamper.ts';
import { replay, replayLogin } from './plugins/replay.ts';
import { downgradeCipher, downgradeFallback, downgradeStarttls } from './plugins/downgrade.ts';
import { downgradeSuite } from './plugins/downgrade-suite.ts';
import { passwordCrack } from './plugins/password-crack.ts';
import { serverScan } from './plugins/server-scan.ts';
import type { Attack } from './types.ts';

/** Every attack, in report order. */
export const ATTACKS: readonly Attack[] = [mitmPassive, mitmSelfSigned, mitmWrongHost, mitmRogueCa, replay, replayLogin, downgradeFallback, downgradeStarttls, downgradeCipher, downgradeSuite, tamper, passwordCrack, retroDecrypt, serverScan];

/**
 * Attacks run only when asked for (`--attacks mitm-gallery`), not in the default matrix: each cell
 * plays several conversations (one per gallery certificate), which the demo's time budget cannot
 * carry for every preset.
 */
export const OPT_IN_ATTACKS: readonly Attack[] = [mitmGallery];

/**
 * Looks up an attack by id.
 * @throws UsageError SECCHAT_ERR_USAGE listing the known ids
 */
export function getAttack(id: string): Attack {
  const a = ATTACKS.find((x) => x.id === id) ?? OPT_IN_ATTACKS.find((x) => x.id === id);
  if (!a) throw new UsageError(ERROR_CODES.USAGE, `unknown attack "${id}"; known: ${[...ATTACKS, ...OPT_IN_ATTACKS].map((x) => x.id).join(', ')}`);
  return a;
}
