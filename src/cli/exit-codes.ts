/**
 * Exit statuses of the teardown command (documented in docs/exit-status.md). A damaged capture is not a crash:
 * everything decoded before the damage is printed, then the status says the answer may be incomplete, as tshark
 * and tcpdump also fail on a cut-short file.
 */
export const EXIT = {
  /** Every capture was read to its end. */
  ok: 0,
  /** An internal error (a bug): the message asks for a report. */
  internal: 1,
  /** The command line was wrong (unknown option, bad value, no such connection id). */
  usage: 2,
  /** A capture was damaged or could not be read: what was decoded before the damage was still reported. */
  damaged: 3,
} as const;
