/**
 * The injected logger. Each state transition of the core logs exactly one stable, human-readable line
 * (e.g. "1 became leader at term 2") so logs can be compared across runs and asserted in tests.
 */
export interface RaftLogger {
  /** Frequent, low-value events (rejected appends, ignored messages). */
  debug(line: string): void;
  /** State transitions: role changes, elections, snapshots, membership changes. */
  info(line: string): void;
  /** Refused requests and suspicious inputs that are still legal. */
  warn(line: string): void;
}

/** A logger that discards everything: the default, because the core never prints on its own. */
export const silentLogger: RaftLogger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
};
