/**
 * The one list of target variants (an attack played against a student's own app), and why the
 * other attacks have none. Adding a variant: write it in attacks/targets/ and list it here.
 */
import type { Target } from '../../core/target.ts';
import type { TargetAttack } from './types.ts';
import { targetServerScan } from './server-scan.ts';
import { targetGallery } from './gallery.ts';
import { targetRobustness } from './robustness.ts';
import { targetRobustnessLongLine } from './robustness-long-line.ts';
import { targetRobustnessStalledReader } from './robustness-stalled-reader.ts';
import { targetRobustnessSlowloris } from './robustness-slowloris.ts';
import { targetDowngradeFallback } from './fallback.ts';
import { targetDowngradeStarttls } from './starttls-strip.ts';
import { targetReplay, targetRetroDecrypt, targetTamper } from './on-path.ts';
import { targetMitmPassive, targetMitmRogueCa, targetMitmSelfSigned, targetMitmWrongHost } from './mitm.ts';

/** Every target variant, by attack id. */
export const TARGET_ATTACKS: readonly TargetAttack[] = [targetMitmPassive, targetMitmSelfSigned, targetMitmWrongHost, targetMitmRogueCa, targetReplay, targetTamper, targetRetroDecrypt, targetDowngradeFallback, targetDowngradeStarttls];

/**
 * Attacks with no target variant, and why: they act on secchat's own wire protocol or account
 * database, which a student's app does not share. Shown as the reason of their n/a cells.
 */
export const NO_TARGET_VARIANT: Readonly<Record<string, (t: Target) => string>> = {
  'replay-login': () => "replays secchat's own login frame; a target's login format is its own",
  'password-crack': () => "cracks secchat's own account database; a target's password storage is not visible to secchat",
  'downgrade-cipher': () => "rewrites secchat's secure-channel offer; a target has no secchat channel",
  'downgrade-suite': () => "a target variant of the TLS cipher-suite downgrade is not built yet",
};

/**
 * Columns a matrix gains when it has target rows, beyond the default attacks: probes of a
 * student's own app, and opt-in attacks (mitm-gallery) whose profile variant then runs in the
 * profile rows. Each has a title and description.
 */
export const TARGET_ONLY_ATTACKS: readonly TargetAttack[] = [targetGallery, targetServerScan, targetRobustness, targetRobustnessLongLine, targetRobustnessStalledReader, targetRobustnessSlowloris];

/** The target variant of `id`, or undefined. */
export function targetAttack(id: string): TargetAttack | undefined {
  return TARGET_ATTACKS.find((a) => a.id === id) ?? TARGET_ONLY_ATTACKS.find((a) => a.id === id);
}
