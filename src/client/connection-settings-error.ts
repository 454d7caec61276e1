// The error for connection settings that cannot work (a missing URL, a CA file that is not there, a
// secret that cannot be read): one line naming the setting and the fix, never a password.

import { PulseAnalyticsError } from "../support/errors";

/** Raised for connection settings that cannot work; the message names the setting and the fix. */
export class ConnectionSettingsError extends PulseAnalyticsError {}
