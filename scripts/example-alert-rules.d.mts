/** Types of example-alert-rules.mjs, for the tests that create these rules. */
export interface ExampleAlertRule {
  name: string;
  scope: { model: string };
  metric: string;
  condition: Record<string, unknown>;
  priority: 'high';
  text: string;
}
export function lineOcclusionRule(o: { limitMmHg?: number; sustainedSeconds: number }): ExampleAlertRule;
export function heliumBoilOffRule(o: { limitPercentPerHour: number; windowSeconds: number }): ExampleAlertRule;
