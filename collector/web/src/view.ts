/** A page of the dashboard: draws itself into `root`, returns what stops its timers and streams. */
export type View = (root: HTMLElement) => () => void;
