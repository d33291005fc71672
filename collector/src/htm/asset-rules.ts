import type { AssetFields } from '../store/device-asset.js';

/**
 * Rules on a device's maintenance-program fields that a schema alone cannot
 * express (HTM-NOTES 1): CMS requires the manufacturer's schedule for imaging
 * and radiologic equipment and for medical lasers, so those may not be put on
 * an alternative equipment maintenance (AEM) program; an AEM entry needs its
 * reason, risk factors and approver; life support is high-risk by definition.
 */

/** Device types (as births report them) that must follow the manufacturer's schedule. */
const OEM_ONLY =
  /(^|[^a-z])(mri|mr|ct|x-?ray|xray|radiograph\w*|fluoroscop\w*|mammograph\w*|angiograph\w*|pet|spect|gamma-camera|nuclear-medicine|linac|linear-accelerator|ultrasound|imaging|laser)([^a-z]|$)/i;

export function mustFollowManufacturer(deviceType: string | null): boolean {
  return deviceType !== null && OEM_ONLY.test(deviceType);
}

/** The fields of a device's maintenance program that must agree with each other. */
export type ProgramFields = Pick<AssetFields, 'highRisk' | 'lifeSupport' | 'scheduleSource' | 'aemReason' | 'aemRiskFactors' | 'aemApprover'>;

/** The first problem with the device's fields after an edit, naming the field; null if none. */
export function programProblem(deviceType: string | null, f: ProgramFields): { field: string; message: string } | null {
  if (f.lifeSupport && !f.highRisk) return { field: 'highRisk', message: 'life-support equipment is high-risk: set highRisk to true as well' };
  if (f.scheduleSource !== 'aem') return null;
  if (mustFollowManufacturer(deviceType)) {
    return {
      field: 'scheduleSource',
      message: `a device of type "${deviceType}" (imaging, radiologic or laser) must follow the manufacturer's schedule; AEM is not allowed (CMS S&C 14-07)`,
    };
  }
  if (!f.aemReason) return { field: 'aemReason', message: 'an AEM schedule needs the reason it is safe to deviate from the manufacturer' };
  if (!f.aemRiskFactors?.length) return { field: 'aemRiskFactors', message: 'an AEM schedule needs the risk factors it was assessed on' };
  if (!f.aemApprover) return { field: 'aemApprover', message: 'an AEM schedule needs the qualified person who approved it' };
  return null;
}
